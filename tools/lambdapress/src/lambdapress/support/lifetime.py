"""How a lambdapress process ends: on a signal, and when its parent (or itself) is killed.

Four rules keep a stopped command from leaving anything behind:

1. **Every command installs its own SIGINT and SIGTERM handlers** (`signal_handlers()`), so it
   never relies on the disposition it inherited: a process started in the background by a
   non-interactive shell inherits SIGINT as *ignored*, and Python then installs no
   KeyboardInterrupt handler at all. The handler raises `Interrupted` (a KeyboardInterrupt
   carrying the signal) in the main thread, so every `with` and `finally` on the way out runs
   (servers close, workers are killed, temporary folders are removed); the CLI then exits with
   the shell's convention, 128 + the signal number (130 for SIGINT, 143 for SIGTERM). Before
   raising, the handler sends SIGTERM to the process's direct children, so a child run from a
   background thread (the bundler's `uv`, a bytecode compiler) cannot keep the exit waiting.
   Further signals during that clean-up are ignored: the clean-up is what they asked for.
2. **Children die with their parent even when the parent is SIGKILLed**, which runs no handler
   at all. `bound_popen()` starts a child that the kernel terminates when we die: on Linux with
   `prctl(PR_SET_PDEATHSIG, SIGTERM)` in the child before `exec`. The kernel sends that signal
   when the *thread* that forked the child exits, not the process, and the emulator starts
   workers from short-lived request threads; so children are forked from one long-lived
   spawner thread that ends only with the process. Elsewhere (macOS has no PDEATHSIG) a small
   watchdog process holds the read end of a pipe whose write end only we hold: when we die the
   pipe reaches end-of-file and the watchdog terminates the child.
3. **A command can also stop with its own parent** when that parent asks for it by setting
   `LAMBDAPRESS_STOP_WITH_PARENT` to its process id (`stop_with_parent()`): nox does, for the
   `serve` and `index` sessions, because nox forwards Ctrl-C to its child but dies on a SIGTERM
   without a word, which would leave `lambdapress index serve` and its pypiserver running.
4. **Child processes started in their own session** (emulator workers) are outside any
   terminal's process group, so a Ctrl-C never reaches them: their owner kills them explicitly.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from types import FrameType
from typing import Any, Literal

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
STOP_WITH_PARENT = "LAMBDAPRESS_STOP_WITH_PARENT"
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>

Method = Literal["pdeathsig", "watchdog"]


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived: unwind everything, then exit with `exit_code`."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        """The signal's name (SIGINT, SIGTERM)."""
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process ended by a signal: 128 + its number."""
        return 128 + self.signum


@contextlib.contextmanager
def signal_handlers() -> Iterator[None]:
    """SIGINT and SIGTERM raise `Interrupted` in the main thread while the block runs.

    The previous handlers come back afterwards (the CLI is also called in-process by tests).
    Outside the main thread Python cannot install handlers, and this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired: list[int] = []

    def interrupt(signum: int, frame: FrameType | None) -> None:
        if fired:  # already unwinding: let the clean-up finish
            return
        fired.append(signum)
        terminate_children()
        raise Interrupted(signum)

    previous = {signum: signal.signal(signum, interrupt) for signum in STOP_SIGNALS}
    relay = _MainThreadRelay(fired)
    try:
        yield
    finally:
        relay.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class _MainThreadRelay:
    """Makes sure the main thread notices a signal even when another thread received it.

    The kernel delivers a process's signal to any thread that does not block it. Python runs
    the handler in the main thread, but only once that thread runs bytecode again: blocked in
    a long wait (serve's sleep, a `Popen.wait()`, a pool's result), it would not, until the wait
    ends by itself. Python's own handler writes each signal's number to the wakeup fd, from
    whichever thread received it; this thread reads it and sends the signal again, to the main
    thread itself (`pthread_kill`), whose wait then breaks off so the handler runs.
    """

    def __init__(self, fired: list[int]) -> None:
        self._fired = fired
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)
        self._main = threading.main_thread().ident
        self._previous_fd = signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
        self._thread = threading.Thread(target=self._run, name="lambdapress-signals", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            data = os.read(self._read, 1)
            if not data or data == b"\0":
                return
            stop = data[0] in STOP_SIGNALS
            if stop and not self._fired and self._main is not None:  # else: handled already
                with contextlib.suppress(OSError):
                    signal.pthread_kill(self._main, data[0])

    def close(self) -> None:
        signal.set_wakeup_fd(self._previous_fd)
        with contextlib.suppress(OSError):
            os.write(self._write, b"\0")
        self._thread.join()
        os.close(self._read)
        os.close(self._write)


def stop_with_parent() -> None:
    """Receive SIGTERM when the parent named by `$LAMBDAPRESS_STOP_WITH_PARENT` dies.

    Called once the handlers are installed, so that SIGTERM unwinds the command like any other.
    The variable is removed from the environment: it speaks of our parent, not our children's.
    """
    value = os.environ.pop(STOP_WITH_PARENT, "")
    if not value.strip().isdigit():
        return
    parent = int(value)
    if sys.platform.startswith("linux"):
        _libc().prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    else:
        threading.Thread(
            target=_watch_parent, args=(parent,), name="lambdapress-parent", daemon=True
        ).start()
    if os.getppid() != parent:  # it died before we asked: the kernel will not tell us
        os.kill(os.getpid(), signal.SIGTERM)


def _watch_parent(parent: int) -> None:
    """Elsewhere than Linux: an orphan is adopted by another process, so its parent id changes."""
    while os.getppid() == parent:
        threading.Event().wait(0.5)
    os.kill(os.getpid(), signal.SIGTERM)


def children_of(pid: int) -> list[int]:
    """The direct children of `pid` (Linux; elsewhere an empty list)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in task.read_text().split()]
    return found


def descendants(pid: int) -> list[int]:
    """Every process below `pid`: its children, theirs, and so on (Linux)."""
    found: list[int] = []
    for child in children_of(pid):
        found += [child, *descendants(child)]
    return found


def running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie waiting to be reaped is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # no /proc (macOS), or the process is gone
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def terminate_children() -> None:
    """SIGTERM every direct child of this process, best effort (Linux only)."""
    for child in children_of(os.getpid()):
        with contextlib.suppress(OSError):
            os.kill(child, signal.SIGTERM)


# -- children bound to our lifetime ----------------------------------------------------------
def default_method() -> Method:
    """How children die with their parent here: the kernel's PDEATHSIG on Linux."""
    return "pdeathsig" if sys.platform.startswith("linux") else "watchdog"


def bound_popen(
    command: list[str],
    *,
    method: Method | None = None,
    prepare: Callable[[], None] | None = None,
    **options: Any,
) -> subprocess.Popen[bytes]:
    """`subprocess.Popen(command, **options)` for a child that cannot outlive this process.

    `method` is for tests; by default PDEATHSIG on Linux, a watchdog process elsewhere. With the
    watchdog, call `release(process)` once the child has been waited for. `prepare` runs in the
    child just before exec (the emulator sets up a worker's mount namespace there); an
    exception it raises fails the start (`subprocess.SubprocessError`).
    """
    chosen = method or default_method()
    if chosen == "pdeathsig":
        return _spawner().popen(command, options, prepare)
    process: subprocess.Popen[bytes] = subprocess.Popen(command, preexec_fn=prepare, **options)
    _watchdogs[process.pid] = _start_watchdog(process.pid)
    return process


def release(process: subprocess.Popen[bytes]) -> None:
    """Stop the watchdog of a child that was waited for (nothing to do with PDEATHSIG)."""
    watchdog = _watchdogs.pop(process.pid, None)
    if watchdog is None:
        return
    assert watchdog.stdin is not None
    with contextlib.suppress(OSError):
        watchdog.stdin.write(b"q")
        watchdog.stdin.close()
    watchdog.wait()


def stop_bound(process: subprocess.Popen[bytes], *, timeout: float = 10.0) -> None:
    """Terminate a `bound_popen` child, kill it after `timeout` seconds, wait, then release it.

    The one way servers started by lambdapress (pypiserver, moto) are stopped, so none is left
    running or waited for twice.
    """
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    release(process)


def _die_with_parent(parent: int) -> Callable[[], None]:
    """Build the `preexec_fn` run in the child between fork and exec.

    It asks the kernel for SIGTERM when the forking thread ends; if the parent is already gone,
    it ends now (the kernel would never send the signal). Only a prepared foreign call runs in
    the child: nothing imports, locks or allocates outside Python's own heap there.
    """
    prctl = _libc().prctl

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return preexec


_libc_handle: ctypes.CDLL | None = None


def _libc() -> ctypes.CDLL:
    global _libc_handle
    if _libc_handle is None:
        _libc_handle = ctypes.CDLL(None, use_errno=True)
    return _libc_handle


class _Spawner:
    """One thread, alive as long as the process, that forks every bound child (see rule 2)."""

    def __init__(self) -> None:
        self._requests: queue.SimpleQueue[
            tuple[
                list[str],
                dict[str, Any],
                Callable[[], None] | None,
                Future[subprocess.Popen[bytes]],
            ]
        ] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="lambdapress-spawner", daemon=True)
        self._thread.start()

    def popen(
        self, command: list[str], options: dict[str, Any], prepare: Callable[[], None] | None
    ) -> subprocess.Popen[bytes]:
        future: Future[subprocess.Popen[bytes]] = Future()
        self._requests.put((command, options, prepare, future))
        return future.result()

    def _run(self) -> None:
        die_with_parent = _die_with_parent(os.getpid())
        while True:
            command, options, prepare, future = self._requests.get()
            preexec = die_with_parent if prepare is None else _chain(die_with_parent, prepare)
            try:
                process: subprocess.Popen[bytes] = subprocess.Popen(
                    command, preexec_fn=preexec, **options
                )
            except BaseException as exc:  # handed to the caller, raised there
                future.set_exception(exc)
            else:
                future.set_result(process)


def _chain(first: Callable[[], None], then: Callable[[], None]) -> Callable[[], None]:
    def both() -> None:
        first()
        then()

    return both


_spawner_lock = threading.Lock()
_spawner_instance: _Spawner | None = None


def _spawner() -> _Spawner:
    global _spawner_instance
    with _spawner_lock:
        if _spawner_instance is None or not _spawner_instance._thread.is_alive():
            _spawner_instance = _Spawner()
        return _spawner_instance


# The watchdog waits for end-of-file on stdin (we died) or "q" (we stopped the child ourselves),
# checking every half second whether the child is gone on its own.
_WATCHDOG = """
import os, select, signal, sys
pid = int(sys.argv[1])
while True:
    ready, _, _ = select.select([0], [], [], 0.5)
    if ready:
        if os.read(0, 1) == b"":
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
        sys.exit(0)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit(0)
    except OSError:
        pass
"""

_watchdogs: dict[int, subprocess.Popen[bytes]] = {}


def _start_watchdog(pid: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-I", "-S", "-c", _WATCHDOG, str(pid)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C in the terminal must not end it before the child
    )
