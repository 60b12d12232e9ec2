"""One server per state folder: a lock held for the server's whole life, and who holds it.

`db`, `index serve` and `serve` each keep state in a folder of their own (a data folder, a
folder of packages, ports that the workspace's tools look for). Two starts at once used to
race: both saw no running server, both started one in the same folder, and neither served.
Each now takes `<folder>/<name>.lock` with `fcntl.flock` before it touches anything, and keeps
it until it has stopped:

- the kernel releases a flock when its holder dies, even by SIGKILL, so a start after a crash
  never finds a stale lock: the lock file's old content (the dead holder's pid) is just
  overwritten;
- the holder writes its pid, and once it serves, where it serves (`describe`), into the lock
  file, so a second start can name it: the second start never waits, it reads that and either
  attaches to the running server or refuses, as each command chooses (see the README);
- the descriptor is not inherited by the servers a command starts (Python opens files
  close-on-exec), so a PostgreSQL left behind cannot hold the lock of a `db` that is gone.

Writes to the lock file go through the locked descriptor (truncate, write), never by rename:
replacing the file would give the next start a different file, and two holders.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from lambdapress.support.lifetime import running

SUFFIX = ".lock"
SETTLE = 1.0
"""Seconds a start waits for a holder that has the lock but has not written its pid yet."""


@dataclass(frozen=True)
class Holder:
    """The process that holds a server's lock, as it described itself.

    `pid` is None while the holder is between taking the lock and writing its pid (or when
    what it wrote cannot be read); `details` is what it said about where it serves.
    """

    pid: int | None
    details: dict[str, str] = field(default_factory=dict)

    @property
    def alive(self) -> bool:
        """Whether the recorded pid is a live process."""
        return self.pid is not None and running(self.pid)

    def stop_hint(self) -> str:
        """How to stop it: Ctrl-C where it runs, or a SIGTERM to its pid."""
        if self.pid is None:
            return "wait for the other start to finish, or stop it (Ctrl-C in its terminal)"
        return f"Ctrl-C in its terminal, or `kill {self.pid}`"


class ServerLock:
    """A held server lock; `release()` (or leaving the `with` block) gives it up."""

    def __init__(self, path: Path, descriptor: int) -> None:
        self.path = path
        self._descriptor: int | None = descriptor

    def describe(self, **details: str) -> None:
        """Record the pid and where the server is, for a second start to read."""
        if self._descriptor is None:
            return
        payload = json.dumps({"pid": os.getpid(), **details}, sort_keys=True).encode()
        os.ftruncate(self._descriptor, 0)
        os.pwrite(self._descriptor, payload + b"\n", 0)

    def release(self) -> None:
        """Give the lock up (the file stays: removing it would race with the next start)."""
        if self._descriptor is None:
            return
        descriptor, self._descriptor = self._descriptor, None
        with contextlib.suppress(OSError):
            os.ftruncate(descriptor, 0)
        os.close(descriptor)  # closing the last descriptor of the file releases the flock

    def __enter__(self) -> ServerLock:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def lock_path(folder: Path, name: str) -> Path:
    """The lock file of the server called `name` whose state lives in `folder`."""
    return folder / f"{name}{SUFFIX}"


def acquire(folder: Path, name: str) -> ServerLock | Holder:
    """Take the lock of `name` in `folder` (created if need be), or say who holds it.

    Never waits for the server: a lock held by another process returns its `Holder`, after
    at most `SETTLE` seconds for a holder that has just taken it to write its pid.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = lock_path(folder, name)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        deadline = time.monotonic() + SETTLE
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                found = _read_holder(descriptor)
                if found.alive or time.monotonic() > deadline:
                    os.close(descriptor)
                    return found
                time.sleep(0.05)
    except BaseException:
        os.close(descriptor)
        raise
    lock = ServerLock(path, descriptor)
    lock.describe()  # the pid at once: a start that comes next can name us
    return lock


def peek(folder: Path, name: str) -> Holder:
    """What the lock file of `name` says now, without taking the lock.

    For a second start that waits for the holder to say where it serves.
    """
    try:
        descriptor = os.open(lock_path(folder, name), os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return Holder(pid=None)
    try:
        return _read_holder(descriptor)
    finally:
        os.close(descriptor)


def _read_holder(descriptor: int) -> Holder:
    """What the holder wrote into the lock file (a pid, details), as far as it can be read."""
    try:
        data = json.loads(os.pread(descriptor, 64 * 1024, 0) or b"{}")
    except (OSError, ValueError, RecursionError):  # unreadable, or not what a holder writes
        return Holder(pid=None)
    if not isinstance(data, dict):
        return Holder(pid=None)
    pid = data.pop("pid", None)
    details = {str(k): str(v) for k, v in data.items()}
    return Holder(pid=pid if isinstance(pid, int) and pid > 0 else None, details=details)
