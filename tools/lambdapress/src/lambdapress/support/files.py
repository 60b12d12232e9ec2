"""Writing files and folders so that no reader ever sees half of one.

Every file lambdapress writes for someone else to read (zips, the manifest, cache objects, a
pyproject it edits) goes through here: the bytes go to a uniquely named temporary file next to
the destination, then one `rename` puts them in place. Readers see the old file or the new one;
two concurrent runs never share a temporary name; a run killed half-way leaves a hidden
`.<name>-XXXX` file behind at worst, which `sweep_temporaries` removes on the next run.

`tempfile.mkstemp` creates files with mode 0600 whatever the umask; artifacts and manifests are
meant to be read by other users and tools (a CI uploader, a container build), so the final file
gets the mode an ordinary `open()` would have given it (0666 less the umask).
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

if sys.platform != "win32":
    import fcntl

# Temporary names start with this, so a sweep can tell them from real files.
TEMPORARY_PREFIX = ".lambdapress-tmp-"
# A temporary this old belongs to a run that died, even when other runs are going on.
STALE_AFTER = 3600.0

_umask_lock = threading.Lock()
_umask: int | None = None


def umask() -> int:
    """The process umask, read once (reading it means setting it, so never concurrently)."""
    global _umask
    with _umask_lock:
        if _umask is None:
            current = os.umask(0o022)
            os.umask(current)
            _umask = current
        return _umask


def file_mode() -> int:
    """The mode `open(path, "w")` gives a new file: 0666 less the umask."""
    return 0o666 & ~umask()


def temporary_path(destination: Path, *, folder: bool = False) -> Path:
    """A new, uniquely named file (or folder) next to `destination`, for a later rename."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    prefix = f"{TEMPORARY_PREFIX}{destination.name}-"
    if folder:
        return Path(tempfile.mkdtemp(prefix=prefix, dir=destination.parent))
    fd, name = tempfile.mkstemp(prefix=prefix, dir=destination.parent)
    os.close(fd)
    return Path(name)


@contextmanager
def replacing(destination: Path, *, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `destination` in one rename.

    The file gets `mode` (default: what `open()` would give); until then it is private to this
    user (0600), so a secret is never readable by others, not even half-written.
    On any exception (or KeyboardInterrupt) the temporary file is removed and `destination`
    is left as it was.
    """
    temporary = temporary_path(destination)
    try:
        yield temporary
        temporary.chmod(file_mode() if mode is None else mode)
        temporary.replace(destination)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_bytes(destination: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write `data` to `destination` atomically (with `mode`, see `replacing`)."""
    with replacing(destination, mode=mode) as temporary:
        temporary.write_bytes(data)


def write_text(destination: Path, text: str) -> None:
    """Write `text` (UTF-8, newlines as given) to `destination` atomically."""
    write_bytes(destination, text.encode("utf-8"))


def copy_file(source: Path, destination: Path) -> None:
    """Copy `source` to `destination` atomically."""
    with replacing(destination) as temporary:
        shutil.copyfile(source, temporary)


def link_or_copy(source: Path, destination: Path, mode: int) -> bool:
    """Put `source`'s bytes at `destination` atomically, with `mode`: a hard link, else a copy.

    True when linked. A hard link is the same inode as `source`, so it has `source`'s mode:
    it is made only when that is `mode` (a cache object written under another umask is
    copied instead), and callers link read-only cache objects, so editing the link in place is
    refused rather than changing the cache. The copy (another filesystem, one without hard
    links) gets `mode` too. As with `replacing`, readers see the old file or the new one, and
    a failure leaves `destination` as it was.
    """
    temporary = temporary_path(destination)
    try:
        temporary.unlink()
        linked = False
        if stat.S_IMODE(source.stat().st_mode) == mode:
            try:
                os.link(source, temporary)
                linked = True
            except OSError as error:
                if error.errno not in _NO_LINK:
                    raise
        if not linked:
            shutil.copyfile(source, temporary)
            temporary.chmod(mode)
        temporary.replace(destination)
    finally:
        # Renaming a link onto another link of the same inode does nothing: drop it then.
        temporary.unlink(missing_ok=True)
    return linked


# Why `os.link` fails where a copy works: another device, a filesystem without hard links
# (FAT, some network mounts), too many links to one inode, or linking not permitted there.
_NO_LINK = frozenset(
    {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EACCES}
)


@contextmanager
def staged_folder(destination: Path) -> Iterator[Path]:
    """Yield an empty temporary folder; on success it becomes `destination` in one rename.

    Meant for caches: when `destination` already exists by then (another run finished the
    same work first), that copy is kept and this one is discarded, so concurrent runs agree.
    On any exception the temporary folder is removed.
    """
    staging = temporary_path(destination, folder=True)
    try:
        yield staging
        if not destination.exists():
            try:
                staging.rename(destination)
            except OSError:
                if not destination.exists():  # not a lost race: a real failure
                    raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def temporary_folder(next_to: Path) -> Iterator[Path]:
    """Yield a new scratch folder next to `next_to`, removed when the block ends, however it ends.

    Next to it, so a sweep of that folder finds it after a kill.
    """
    scratch = temporary_path(next_to, folder=True)
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def discard(path: Path) -> None:
    """Remove a file or folder as one step for its readers.

    It is renamed to a temporary name first (a reader sees it whole or not at all), then
    deleted. Missing is fine: a concurrent run may have discarded it first.
    """
    if not path.exists() and not path.is_symlink():
        return
    graveyard = temporary_path(path, folder=True)
    try:
        try:
            path.rename(graveyard / "discarded")
        except FileNotFoundError:
            return
    finally:
        shutil.rmtree(graveyard, ignore_errors=True)


@contextmanager
def claim(folder: Path, sweep: Callable[[float], object]) -> Iterator[None]:
    """Hold a shared claim on `folder` while writing into it, after sweeping what dead runs left.

    Every writer holds a shared `flock` on the folder itself (no lock file to leave behind;
    the kernel drops the lock of a killed process). A run that can take it exclusively knows
    no other run is writing there, so every temporary it finds belongs to a run that was
    killed: `sweep(0)` removes them all at once. Otherwise `sweep(STALE_AFTER)` removes only
    old ones, sparing the work in progress of concurrent runs. Where `flock` does not exist,
    temporaries are swept by age only.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if sys.platform == "win32":
        sweep(STALE_AFTER)
        yield
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fcntl.flock(descriptor, fcntl.LOCK_SH)
            sweep(STALE_AFTER)
        else:
            sweep(0.0)
            fcntl.flock(descriptor, fcntl.LOCK_SH)  # let concurrent runs in again
        yield
    finally:
        os.close(descriptor)


@contextmanager
def locked_folder(folder: Path, *, exclusive: bool = False, wait: bool = True) -> Iterator[bool]:
    """Hold a `flock` on `folder` itself for the block; yields whether it is held.

    Shared by readers of a cache entry, exclusive for whoever removes it, so an entry is never
    removed under a reader. Yields False when the folder does not exist, when it was renamed
    away or replaced while this waited (a remover got there first: the lock is on what is no
    longer the entry), or, with `wait=False`, when another process holds a conflicting lock.
    The kernel drops the lock of a killed process, so nothing is left behind. Where `flock`
    does not exist, it yields whether the folder exists, unlocked.
    """
    if sys.platform == "win32":
        yield folder.is_dir()
        return
    try:
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except (FileNotFoundError, NotADirectoryError):
        yield False
        return
    try:
        held = True
        flags = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        try:
            fcntl.flock(descriptor, flags if wait else flags | fcntl.LOCK_NB)
        except BlockingIOError:
            held = False
        if held:
            opened = os.fstat(descriptor)
            try:
                current = folder.stat()
            except FileNotFoundError:
                held = False
            else:
                held = (current.st_dev, current.st_ino) == (opened.st_dev, opened.st_ino)
        yield held
    finally:
        os.close(descriptor)


_CLEAN: dict[Path, int] = {}  # folder -> its mtime when this process found no temporary in it
_CLEAN_LOCK = threading.Lock()


def sweep_temporaries(folder: Path, older_than: float = STALE_AFTER) -> int:
    """Remove temporaries left in `folder` (not below it) by runs that were killed.

    Only names carrying `TEMPORARY_PREFIX` and older than `older_than` seconds are touched, so
    a concurrent run's work in progress survives. Returns how many were removed.

    Every run sweeps every folder of its cache (`package` twice: to plan, then to build), so a
    folder this process found without temporaries is listed again only once its mtime moved
    (adding or removing a name moves it). A temporary made in the same clock tick as that
    mtime was read, after the folder was listed, is a live run's: the next process sweeps it.
    """
    try:
        listed_at = folder.stat().st_mtime_ns
    except (FileNotFoundError, NotADirectoryError):
        return 0
    with _CLEAN_LOCK:
        if _CLEAN.get(folder) == listed_at:
            return 0
    cutoff = time.time() - older_than
    removed = 0
    try:  # names only (no Path per entry): a cache folder holds thousands
        with os.scandir(folder) as entries:
            found = [entry.name for entry in entries if entry.name.startswith(TEMPORARY_PREFIX)]
    except (FileNotFoundError, NotADirectoryError):
        return 0
    if not found:
        with _CLEAN_LOCK:
            _CLEAN[folder] = listed_at
    for name in found:
        path = folder / name
        try:
            if older_than > 0 and path.lstat().st_mtime > cutoff:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed += 1
        except FileNotFoundError:
            continue
    return removed


CACHE_FOLDER = Path(".cache", "lambdapress")
"""lambdapress's folder in a repository (ignored by git), relative to its root."""


def cache_folder(root: Path) -> Path:
    """Where lambdapress keeps what it can rebuild: wheels, zips, the runtime client, builds.

    `$LAMBDAPRESS_CACHE` when set (CI caches, tests), else `<root>/.cache/lambdapress`, which
    the repository ignores.
    """
    configured = os.environ.get("LAMBDAPRESS_CACHE")
    return Path(configured) if configured else root / CACHE_FOLDER
