"""A worker's file system as a Lambda container sees it: a read-only code folder, a private /tmp.

On Lambda the task root (`/var/task`) and the runtime (`/var/runtime`) are read-only, and each
container has a `/tmp` of its own, of the function's ephemeral storage size (512 MB by
default). A worker that shared the host's `/tmp` (tens of GB, and other programs' files) or
could write next to its own modules would let code pass locally that fails on Lambda.

On Linux each worker therefore starts in a mount namespace of its own, set up between fork and
exec (so no extra process, and nothing the handler could undo: a worker that is not root has
no privilege left once it runs):

1. `unshare(CLONE_NEWNS)`: as root; otherwise `CLONE_NEWUSER | CLONE_NEWNS`, mapping the user
   to itself, so the worker runs as the same user without any capability;
2. every mount becomes private, so nothing below propagates back to the host;
3. a tmpfs of exactly the function's ephemeral storage size is mounted on `/tmp` (writing past
   it fails with ENOSPC, `[Errno 28] No space left on device`, as on Lambda);
4. the task root, the runtime client and the interpreter are bind-mounted read-only (EROFS,
   `[Errno 30] Read-only file system`); those that lie under `/tmp` (the emulator's own
   folders usually do) are opened before the tmpfs hides them and bind-mounted back from the
   open descriptor, at the same path;
5. the working directory is entered again, so that it is the read-only mount.

Where that is refused (macOS, a container without user namespaces) `probe()` says why, and the
emulator falls back to what Python itself can enforce (see `worker_boot`), with a warning.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

IsolationChoice = Literal["auto", "namespaces", "python"]
"""`auto`: mount namespaces when this machine allows them, else Python-level checks."""

TMP = Path("/tmp")  # noqa: S108 - Lambda's path, the one handlers write to

# From <sched.h> and <sys/mount.h>.
_CLONE_NEWNS = 0x00020000
_CLONE_NEWUSER = 0x10000000
_MS_RDONLY = 0x1
_MS_NOSUID = 0x2
_MS_NODEV = 0x4
_MS_NOEXEC = 0x8
_MS_REMOUNT = 0x20
_MS_NOATIME = 0x400
_MS_NODIRATIME = 0x800
_MS_BIND = 0x1000
_MS_REC = 0x4000
_MS_PRIVATE = 0x40000
_MS_RELATIME = 0x200000
# statvfs's ST_* flags have the MS_* values; a bind mount inside a user namespace must keep
# these (the kernel locks them), so the read-only remount repeats them.
_PATH_FLAGS = getattr(os, "O_PATH", 0) | os.O_DIRECTORY | os.O_CLOEXEC
_KEPT_FLAGS = _MS_NOSUID | _MS_NODEV | _MS_NOEXEC | _MS_NOATIME | _MS_NODIRATIME | _MS_RELATIME


@dataclass(frozen=True)
class Isolation:
    """How this machine isolates workers: mount namespaces, or Python-level checks only."""

    method: Literal["namespaces", "python"]
    user_namespace: bool = False
    """Whether a user namespace is needed too (not root, or root without CAP_SYS_ADMIN)."""
    reason: str | None = None
    """Why namespaces are not used (for the warning); None when they are."""

    @property
    def namespaces(self) -> bool:
        """Whether workers get a private mount namespace."""
        return self.method == "namespaces"


@dataclass(frozen=True)
class MountPlan:
    """What one worker's mount namespace looks like; `preexec()` carries it out in the child."""

    tmp_mb: int
    read_only: tuple[Path, ...]
    """Folders the worker sees read-only: task root, runtime client, interpreter."""
    workdir: Path
    user_namespace: bool = False

    def preexec(self) -> Callable[[], None]:
        """The function run in the child between fork and exec (see the module docstring).

        Everything it needs is computed here, in the parent: the child only makes system calls.
        """
        return _preexec(self, report=None)


def plan_for(
    isolation: Isolation, tmp_mb: int, read_only: list[Path], workdir: Path
) -> MountPlan | None:
    """The mount plan of a worker, or None when workers are not isolated by namespaces."""
    if not isolation.namespaces:
        return None
    return MountPlan(
        tmp_mb=tmp_mb,
        read_only=_outermost(read_only),
        workdir=Path(os.path.realpath(workdir)),
        user_namespace=isolation.user_namespace,
    )


def _outermost(paths: list[Path]) -> tuple[Path, ...]:
    """Real paths, without those inside another of them (a read-only parent covers them).

    A folder holding /tmp itself (`/`) is left out: it would hide the private /tmp.
    """
    tmp = Path(os.path.realpath(TMP))
    real = sorted({Path(os.path.realpath(path)) for path in paths}, key=lambda p: len(p.parts))
    real = [path for path in real if not tmp.is_relative_to(path)]
    kept: list[Path] = []
    for path in real:
        if not any(path.is_relative_to(parent) for parent in kept):
            kept.append(path)
    return tuple(kept)


_libc: ctypes.CDLL | None = None


def _preexec(plan: MountPlan, report: int | None) -> Callable[[], None]:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    unshare, mount = _libc.unshare, _libc.mount
    tmp = os.path.realpath(TMP)
    uid, gid = os.getuid(), os.getgid()
    flags = _CLONE_NEWNS | (_CLONE_NEWUSER if plan.user_namespace else 0)
    tmpfs_options = f"size={plan.tmp_mb}m,mode=1777".encode()
    mounts = [
        (str(path), str(path).encode(), path.is_relative_to(tmp), _kept_flags(path))
        for path in plan.read_only
    ]
    workdir = str(plan.workdir)
    tmp_bytes = tmp.encode()

    def check(result: int, what: str) -> None:
        if result != 0:
            number = ctypes.get_errno()
            raise OSError(number, f"{what}: {os.strerror(number)}")

    def write(path: str, data: bytes) -> None:
        fd = os.open(path, os.O_WRONLY)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    def setup() -> None:
        check(unshare(flags), "unshare")
        if plan.user_namespace:
            write("/proc/self/setgroups", b"deny")
            write("/proc/self/uid_map", f"{uid} {uid} 1".encode())
            write("/proc/self/gid_map", f"{gid} {gid} 1".encode())
        check(mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None), "making mounts private")
        hidden = {text: os.open(text, _PATH_FLAGS) for text, _, under, _ in mounts if under}
        check(
            mount(b"tmpfs", tmp_bytes, b"tmpfs", _MS_NOSUID | _MS_NODEV, tmpfs_options),
            f"mounting a tmpfs on {tmp}",
        )
        for text, raw, under, kept in mounts:
            if under:
                os.makedirs(text, exist_ok=True)  # noqa: PTH103 - system calls only, in the child
                source = f"/proc/self/fd/{hidden[text]}".encode()
                check(mount(source, raw, None, _MS_BIND | _MS_REC, None), f"binding {text}")
                os.close(hidden[text])
            else:
                check(mount(raw, raw, None, _MS_BIND | _MS_REC, None), f"binding {text}")
            remount = _MS_REMOUNT | _MS_BIND | _MS_RDONLY | kept
            check(mount(None, raw, None, remount, None), f"making {text} read-only")
        os.chdir(workdir)

    if report is None:
        return setup

    def setup_reporting() -> None:
        try:
            setup()
        except OSError as error:
            os.write(report, str(error.strerror or error).encode())
            raise

    return setup_reporting


def _kept_flags(path: Path) -> int:
    try:
        return os.statvfs(path).f_flag & _KEPT_FLAGS
    except OSError:
        return 0


_probed: dict[IsolationChoice, Isolation] = {}
_probe_lock = threading.Lock()


def probe(choice: IsolationChoice = "auto") -> Isolation:
    """How workers can be isolated on this machine (tried once per process and choice).

    `namespaces` fails with the reason when the machine refuses them; `python` never tries.
    """
    with _probe_lock:
        if choice not in _probed:
            _probed[choice] = _probe(choice)
        return _probed[choice]


def _probe(choice: IsolationChoice) -> Isolation:
    if choice == "python":
        return Isolation("python", reason="Python-level isolation was chosen explicitly")
    if not sys.platform.startswith("linux"):
        return Isolation("python", reason=f"{sys.platform} has no mount namespaces")
    tries = [False, True] if os.geteuid() == 0 else [True]
    reasons: list[str] = []
    for user_namespace in tries:
        problem = _try(user_namespace)
        if problem is None:
            return Isolation("namespaces", user_namespace=user_namespace)
        reasons.append(problem)
    return Isolation("python", reason="; ".join(reasons))


def _try(user_namespace: bool) -> str | None:
    """Set up a real worker's namespace around a trivial program; None if it worked."""
    what = "a user and mount namespace" if user_namespace else "a mount namespace"
    program = shutil.which("true") or sys.executable
    read, write = os.pipe()
    try:
        with tempfile.TemporaryDirectory(prefix="lambdapress-probe-") as folder:
            plan = MountPlan(1, (Path(folder).resolve(),), Path(folder).resolve(), user_namespace)
            try:
                subprocess.run(
                    [program],
                    preexec_fn=_preexec(plan, write),
                    pass_fds=(write,),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    check=True,
                    timeout=30,
                )
            except (OSError, subprocess.SubprocessError) as error:
                os.close(write)
                write = -1
                with os.fdopen(read, "rb") as pipe:
                    read = -1
                    said = pipe.read().decode(errors="replace")
                return f"{what} was refused ({said or error})"
        return None
    finally:
        for fd in (read, write):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
