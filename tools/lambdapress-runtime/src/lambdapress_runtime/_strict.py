"""Strict mode: find threads an invocation started and left running.

Lambda freezes the process as soon as the handler returns; a non-daemon thread still working
then runs in bursts during later invocations (or never finishes), which is why strict mode
reports it at the end of the invocation that started it. Daemon threads are left alone: they
are background machinery by declaration (an SDK's connection reaper, a metrics flusher).
"""

from __future__ import annotations

import os

# `typing` and `collections.abc` are for type checkers only: importing them costs a cold start
# milliseconds (see README, "Import time"), so they are read under TYPE_CHECKING, set False here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from threading import Thread

STRICT_ENV = "LAMBDAPRESS_STRICT"

# A thread that is finishing as the handler returns (it has sent its result and is unwinding)
# is not a leak: each leftover gets this long to end before it is reported.
_GRACE_SECONDS = 0.05


def enabled() -> bool:
    """Whether `LAMBDAPRESS_STRICT=1`; read at each invocation so tests can switch it."""
    return os.environ.get(STRICT_ENV) == "1"


def snapshot_threads() -> frozenset[Thread]:
    """The threads alive when an invocation starts: those are not its own.

    `threading` is imported here, in strict mode only: a bare runtime does not need it.
    """
    import threading

    return frozenset(threading.enumerate())


def new_threads(before: frozenset[Thread]) -> tuple[str, ...]:
    """Names of non-daemon threads started since `before` that are still alive."""
    import threading

    leftovers = [
        thread
        for thread in threading.enumerate()
        if thread not in before and not thread.daemon and thread is not threading.current_thread()
    ]
    for thread in leftovers:
        thread.join(_GRACE_SECONDS)
    return tuple(thread.name for thread in leftovers if thread.is_alive())
