"""Strict mode: find work an invocation started and left running.

Lambda freezes the process as soon as the handler returns; a non-daemon thread still working
then runs in bursts during later invocations (or never finishes), which is why strict mode
reports it at the end of the invocation that started it. What is reported:

- a non-daemon thread started during the invocation that is still alive;
- a task the invocation submitted to a thread pool (`concurrent.futures.ThreadPoolExecutor`,
  also asyncio's default executor) that is still running, on any of the pool's threads.

What is not: daemon threads (background machinery by declaration: an SDK's connection reaper,
a metrics flusher), threads that were running before the invocation began, and a pool's
worker threads waiting for their next task. A pool kept for the container's life (created at
import, or on first use) starts its threads lazily, during an invocation, and keeps them: idle,
they do nothing while the container is frozen. A pool made and dropped inside the handler
needs no shutdown either: collected, its idle threads end by themselves.

A pool's threads are those `concurrent.futures.thread` keeps a work queue for. One is busy
when its stack (read with `sys._current_frames()`, the view debuggers and `faulthandler` use)
is in a work item's `run`, and it is running the invocation's task when that `run` call began
after the invocation did; a task still waiting in the queue counts as the invocation's too.
"""

from __future__ import annotations

import os
import sys

# `typing` and `collections.abc` are for type checkers only: importing them costs a cold start
# milliseconds (see README, "Import time"), so they are read under TYPE_CHECKING, set False here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from threading import Thread
    from types import CodeType, FrameType
    from typing import Any

STRICT_ENV = "LAMBDAPRESS_STRICT"

# A thread or task that is finishing as the handler returns (it has sent its result and is
# unwinding) is not a leak: the leftovers get this long, together, to end before they are
# reported.
_GRACE_SECONDS = 0.05
_POLL_SECONDS = 0.005


def enabled() -> bool:
    """Whether `LAMBDAPRESS_STRICT=1`; read at each invocation so tests can switch it."""
    return os.environ.get(STRICT_ENV) == "1"


class Snapshot:
    """The threads alive when an invocation starts, and the pool task each one was running."""

    def __init__(self, threads: frozenset[Thread], tasks: dict[Thread, FrameType]) -> None:
        self.threads = threads
        self.tasks = tasks


class Leftovers:
    """What an invocation left running: thread names, and names of threads running its tasks."""

    def __init__(self, threads: tuple[str, ...], tasks: tuple[str, ...]) -> None:
        self.threads = threads
        self.tasks = tasks


def snapshot_threads() -> Snapshot:
    """The threads alive as an invocation starts: those, and their current tasks, are not its.

    `threading` is imported here, in strict mode only: a bare runtime does not need it.
    """
    import threading

    threads = frozenset(threading.enumerate())
    return Snapshot(threads, _pool_tasks(threads)[1])


def leftovers(before: Snapshot) -> Leftovers:
    """What the invocation started and left running (see the module docstring).

    Waits up to a short grace period, together, for what is about to end.
    """
    import time

    deadline = time.monotonic() + _GRACE_SECONDS
    while True:
        threads, tasks = _leftovers(before)
        remaining = deadline - time.monotonic()
        if not (threads or tasks) or remaining <= 0:
            return Leftovers(
                tuple(thread.name for thread in threads), tuple(thread.name for thread in tasks)
            )
        if threads:
            threads[0].join(remaining)
        else:
            time.sleep(min(_POLL_SECONDS, remaining))


def _leftovers(before: Snapshot) -> tuple[list[Thread], list[Thread]]:
    import threading

    current = threading.current_thread()
    alive = [t for t in threading.enumerate() if not t.daemon and t is not current]
    pools = _pools()
    workers, tasks = _pool_tasks(alive, pools)
    started = [t for t in alive if t not in before.threads and t not in workers]
    running = [t for t, task in tasks.items() if before.tasks.get(t) is not task]
    # A task submitted just now may still wait in its pool's queue for an idle thread.
    waiting = [t for t in workers if t not in tasks and _queued(pools, t)]
    return started, running + waiting


def _current_frames() -> dict[int, FrameType]:
    """`sys._current_frames()`, with the cyclic garbage collector paused while it runs.

    It holds the interpreter's thread-list lock while it allocates frame objects; a collection
    started by one of those allocations that frees a thread-local (`threading.local`: any
    container's, an SDK's) takes the same lock again, and the process hangs for good
    (CPython gh-106883, fixed by the same pause in later releases; 3.11.7 still has it).
    """
    import gc

    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        return sys._current_frames()
    finally:
        if paused:
            gc.enable()


def _pool_tasks(
    threads: Iterable[Thread], pools: Pools | None = None
) -> tuple[set[Thread], dict[Thread, FrameType]]:
    """Which of `threads` are pool workers, and the task (its `run` frame) of the busy ones."""
    pools = _pools() if pools is None else pools
    if pools is None:  # concurrent.futures.thread was never imported: there is no pool
        return set(), {}
    frames = _current_frames()
    workers: set[Thread] = set()
    tasks: dict[Thread, FrameType] = {}
    for thread in threads:
        if thread not in pools.queues:
            continue
        workers.add(thread)
        frame = frames.get(thread.ident) if thread.ident is not None else None
        while frame is not None and frame.f_code is not pools.worker_code:
            if frame.f_code is pools.run_code:
                tasks[thread] = frame
                break
            frame = frame.f_back
    return workers, tasks


def _queued(pools: Pools | None, thread: Thread) -> bool:
    """Whether the pool of `thread` has work waiting for a thread to take it."""
    queue = pools.queues.get(thread) if pools is not None else None
    return queue is not None and queue.qsize() > 0


class Pools:
    """What `concurrent.futures.thread` knows of its pools: each worker thread's work queue,
    and the code of the worker loop and of a work item's `run`."""

    def __init__(
        self, queues: Mapping[Thread, Any], worker_code: CodeType, run_code: CodeType
    ) -> None:
        self.queues = queues
        self.worker_code = worker_code
        self.run_code = run_code


def _pools() -> Pools | None:
    """The thread pools' state, if pools are in use (None: never imported, or unknown layout)."""
    module = sys.modules.get("concurrent.futures.thread")
    if module is None:
        return None
    try:
        return Pools(module._threads_queues, module._worker.__code__, module._WorkItem.run.__code__)
    except AttributeError:  # another Python's layout: every thread counts as a plain thread
        return None
