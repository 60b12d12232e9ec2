"""The user-level cache of prepared wheels: installed for a target and compiled, once per machine.

A clean project build used to spend most of its time installing and compiling third-party
wheels that another project, or the previous CI run, had already installed and compiled for the
same target. A prepared wheel depends only on the wheel's bytes, the target and how its bytecode
is compiled, so it is kept once per machine, outside every project: `$LAMBDAPRESS_CACHE_DIR`,
else `$XDG_CACHE_HOME/lambdapress`, else `~/.cache/lambdapress`, under
`wheels/v<FORMAT_VERSION>/<name>-<version>-<key digest>/`.

An entry is named by the digest of its `PreparedKey`: the sha256 of the locked wheel that is
installed (uv is told that hash alone, so it installs that wheel and no other), the target's
Python version and uv platform, the variant (as installed, or bytecode only with or without
docstrings), how its bytecode was compiled, the layout of an installed folder
(`wheels.LAYOUT_VERSION`) and, for a bytecode-only folder, the layout of what is derived from it
(`_sourceless.BYTECODE_ONLY_LAYOUT`). Anything that changes an entry's bytes changes its name,
so an entry is never updated in place: it is written whole or not at all.

- Filling: an entry is prepared in a temporary folder next to it, its record (every file's
  sha256, and its key) written last, then renamed into place (`integrity.staged_install`). Two
  builds filling the same entry both prepare it; the first rename wins and the other build
  throws its copy away and takes the winner's.
- Taking: a project's wheel folder (in its own cache, `support.files.cache_folder`) is made of
  hard links to an entry's files (copies across filesystems), with the same record, so zips
  are byte for byte the same whether the entry was just filled or taken. The entry is checked
  against its record first, every file hashed; a damaged entry (or one whose record is
  missing, unreadable or for another key) is thrown away and prepared again, and the reason
  returned for one warning. A project's folder, once linked, no longer needs the entry.
- Use and pruning: a take holds a shared `flock` on the entry and marks it used (its folder's
  mtime). `prune_cache` removes entries unused for a number of days, or all of them; it takes
  each entry's lock exclusively without waiting, so an entry a build is reading is kept, and a
  build that was waiting for a pruned entry finds it gone and prepares it again.

Only wheels the lock names by hash are kept here. A source built by lambdapress (git, a path)
or a published wheel a pin names has no locked hash: it stays in the project's cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

from lambdapress.bundle.bytecode import TREE_OPTIONS, bytecode_only_options
from lambdapress.bundle.lock import LockedPackage, WheelFile
from lambdapress.bundle.targets import Target
from lambdapress.errors import BundleError
from lambdapress.support import files
from lambdapress.support.integrity import (
    COMPLETE_MARK,
    folder_problem,
    is_mark,
    read_mark,
    staged_install,
)

ENVIRONMENT = "LAMBDAPRESS_CACHE_DIR"
FORMAT_VERSION = 1
"""Bumped when the entries' naming or record changes: a new format gets a new folder."""
UNUSED_DAYS = 30
"""`prune_cache`'s default: entries no build has taken for this many days go."""
_DAY = 24 * 3600.0

Variant = Literal["installed", "bytecode", "bytecode-nodocstrings"]


@dataclass(frozen=True)
class CacheLocation:
    """Where the user-level cache is, and which rule chose it (for `cache info`)."""

    folder: Path
    chosen_by: str
    """In words: `set by $LAMBDAPRESS_CACHE_DIR`."""


def locate(environ: Mapping[str, str] | None = None, home: Path | None = None) -> CacheLocation:
    """The user-level cache folder, and which rule chose it.

    `$LAMBDAPRESS_CACHE_DIR`, else `$XDG_CACHE_HOME/lambdapress`, else `~/.cache/lambdapress`.
    An empty variable counts as unset, and so does a relative `XDG_CACHE_HOME` (the XDG spec
    says to ignore it); a relative `LAMBDAPRESS_CACHE_DIR` is taken from the current folder.
    """
    env = os.environ if environ is None else environ
    configured = env.get(ENVIRONMENT, "")
    if configured:
        return CacheLocation(Path(configured).absolute(), f"set by ${ENVIRONMENT}")
    xdg = env.get("XDG_CACHE_HOME", "")
    if xdg and Path(xdg).is_absolute():
        return CacheLocation(Path(xdg) / "lambdapress", "under $XDG_CACHE_HOME")
    base = home if home is not None else Path.home()
    return CacheLocation(base / ".cache" / "lambdapress", "the default: neither variable is set")


def user_cache_folder() -> Path:
    """The user-level cache folder for this process's environment (see `locate`)."""
    return locate().folder


class PreparedKey(BaseModel):
    """Everything that decides a prepared wheel's bytes; its digest names the entry."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    """The distribution's canonical name (for people: the wheel's hash already decides it)."""
    version: str
    wheel: str
    """The locked wheel's hash, `sha256:...`: exactly the wheel that is installed."""
    python: str
    """The target's Python version, `3.12`."""
    platform: str
    """uv's `--python-platform` for the target, `aarch64-manylinux_2_34`."""
    variant: Variant
    bytecode: str
    """How its bytecode was compiled ("" when no interpreter of the target's version was
    found, and none was)."""
    layout: int
    """What an installed folder holds (`wheels.LAYOUT_VERSION`: what is stripped, and how)."""
    derived: int | None = None
    """For a bytecode-only folder, what it holds beyond the installed folder's files
    (`_sourceless.BYTECODE_ONLY_LAYOUT`); None for an installed folder."""

    @model_serializer(mode="wrap")
    def _unset_left_out(self, handler: SerializerFunctionWrapHandler) -> Any:
        """The key's fields, less `derived` when it is None.

        So an installed entry keeps the name and record that a lambdapress before the field
        gave it: two versions sharing a cache share its installed entries.
        """
        data = handler(self)
        if self.derived is None and isinstance(data, dict):
            data.pop("derived", None)
        return data

    @property
    def digest(self) -> str:
        """The sha256 of the key and the cache's format."""
        encoded = f"{FORMAT_VERSION}\0{self.model_dump_json()}".encode()
        return hashlib.sha256(encoded).hexdigest()

    @property
    def entry_name(self) -> str:
        """The entry's folder name: readable, and unique by the key's digest."""
        return f"{self.name}-{self.version}-{self.digest[:24]}"

    @property
    def target(self) -> str:
        """The target, for people: `3.12 aarch64-manylinux_2_34`."""
        return f"{self.python} {self.platform}"


class PreparedRecord(BaseModel):
    """An entry's record, written last: its key and each file's sha256."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: PreparedKey
    files: dict[str, str]  # relative POSIX path -> sha256


class EntryInfo(BaseModel):
    """One entry as `cache info` and `cache prune` see it (nothing hashed)."""

    model_config = ConfigDict(frozen=True)

    path: Path
    key: PreparedKey | None
    """None when its record is missing or unreadable (the next take replaces it)."""
    files: int
    size: int
    """Bytes of its files (hard links shared with projects' folders counted once here)."""
    last_used: float
    """When a build last took or prepared it (seconds since the epoch)."""


class CacheInfo(BaseModel):
    """What the user-level cache holds: where it is, and each entry."""

    model_config = ConfigDict(frozen=True)

    folder: Path
    chosen_by: str
    entries: tuple[EntryInfo, ...]
    """Sorted by distribution, version, target and variant."""
    disk_size: int
    """Bytes of every entry's files, each file counted once: a bytecode-only entry shares its
    data files and extensions with the installed one (hard links)."""

    @property
    def size(self) -> int:
        """Bytes of every entry's files, as each entry counts them."""
        return sum(entry.size for entry in self.entries)


class PruneResult(BaseModel):
    """What `prune_cache` removed, and what it kept because a build was reading it."""

    model_config = ConfigDict(frozen=True)

    folder: Path
    removed: tuple[EntryInfo, ...]
    in_use: tuple[EntryInfo, ...]
    kept: int
    """Entries used recently enough to stay."""

    @property
    def freed(self) -> int:
        """Bytes of the removed entries' files (those no project links to are freed)."""
        return sum(entry.size for entry in self.removed)


class _Missing:
    """`_take` found no entry (or it was removed while it waited for it)."""


_MISSING = _Missing()
Mark = Callable[[dict[str, str]], BaseModel]
"""Makes the record of a project's folder from its files' digests."""


class WheelCache:
    """The prepared wheels of one user-level cache folder, shared by every build on the machine.

    Safe across threads and processes: all state is on disk, under `flock`s and renames.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root / "wheels" / f"v{FORMAT_VERSION}"
        self._writable: bool | None = None
        self._lock = threading.Lock()

    def entry(self, key: PreparedKey) -> Path:
        """The folder of `key`'s entry (which may not exist)."""
        return self.folder / key.entry_name

    def has(self, key: PreparedKey) -> bool:
        """Whether `key`'s entry is there with its record (nothing is hashed)."""
        record = read_mark(self.entry(key), PreparedRecord)
        return record is not None and record.key == key

    def writable(self) -> bool:
        """Whether entries can be written here (asked once).

        A read-only home is not an error: builds then install into their projects' caches as
        they did before there was a user-level cache.
        """
        with self._lock:
            if self._writable is None:
                try:
                    self.folder.mkdir(parents=True, exist_ok=True)
                    self._writable = os.access(self.folder, os.W_OK | os.X_OK)
                except OSError:
                    self._writable = False
            return self._writable

    def provide(
        self,
        key: PreparedKey,
        destination: Path,
        *,
        fill: Callable[[Path], None],
        mark: Mark,
        on_fill: Callable[[], None] | None = None,
    ) -> str | None:
        """Make `destination` the prepared folder of `key`, preparing the entry first if needed.

        `fill(staging)` prepares the entry's files into an empty folder (`on_fill` hears of it
        first); `mark(digests)` is the record `destination` gets. Returns why an entry was
        thrown away and prepared again, for a warning; None when nothing was wrong.
        """
        entry = self.entry(key)
        repaired: str | None = None
        for _attempt in range(3):
            taken = self._take(key, entry, destination, mark)
            if taken is None:
                return repaired
            if isinstance(taken, str):
                repaired = f"{taken}, in the user-level wheel cache at {entry}"
                self._discard(entry)
            if on_fill is not None:
                on_fill()
            with files.claim(self.folder, self.sweep):

                def record(digests: dict[str, str]) -> PreparedRecord:
                    return PreparedRecord(key=key, files=digests)

                with staged_install(entry, record) as staging:
                    fill(staging)
        raise BundleError(
            f"the user-level wheel cache entry {entry} was damaged again right after it was "
            "prepared",
            path=entry,
            hint=f"something else is writing into {self.folder}; stop it, or point "
            f"{ENVIRONMENT} at a folder of its own",
        )

    def sweep(self, older_than: float) -> None:
        """Remove what killed builds left: half-prepared entries and half-removed ones."""
        files.sweep_temporaries(self.folder, older_than)

    def _take(
        self, key: PreparedKey, entry: Path, destination: Path, mark: Mark
    ) -> str | _Missing | None:
        """Link the entry into `destination`: None when done, else why not."""
        with files.locked_folder(entry) as held:
            if not held:
                return _MISSING
            record = read_mark(entry, PreparedRecord)
            if record is None:
                return f"{COMPLETE_MARK} is missing or unreadable"
            if record.key != key:
                return "its record names another wheel or target"
            problem = folder_problem(entry, record.files, is_mark)
            if problem is not None:
                return problem
            _link_folder(entry, sorted(record.files), destination, mark(record.files))
            _used(entry)
        return None

    def _discard(self, entry: Path) -> None:
        """Throw a damaged entry away once no build is reading it."""
        with files.locked_folder(entry, exclusive=True) as held:
            if held:
                files.discard(entry)


def usable_cache(root: Path | None) -> WheelCache | None:
    """The user-level cache at `root`, when there is one and it can be written.

    One object per folder for the process, so whether it can be written is asked once.
    """
    if root is None:
        return None
    cache = _caches.get(root)
    if cache is None:
        cache = _caches.setdefault(root, WheelCache(root))
    return cache if cache.writable() else None


_caches: dict[Path, WheelCache] = {}


def selected_wheel(package: LockedPackage, target: Target) -> WheelFile | None:
    """The locked wheel installed for `target`: the one whose best tag ranks first.

    uv is then given that wheel's hash alone, so it installs exactly that wheel (the one it
    prefers too: the same ranking). None when no locked wheel fits (a pin, a built source).
    """
    ranks = target.tag_ranks()
    best: WheelFile | None = None
    best_rank = len(ranks)
    for wheel in package.wheels:
        try:
            tags = parse_wheel_filename(wheel.filename)[3]
        except InvalidWheelFilename:
            continue
        rank = min((ranks[tag] for tag in tags if tag in ranks), default=len(ranks))
        if rank < best_rank:
            best, best_rank = wheel, rank
    return best


def prepared_key(
    package: LockedPackage,
    target: Target,
    variant: Variant,
    compiler: str | None,
    layout: int,
    derived: int | None = None,
) -> PreparedKey | None:
    """The key of a prepared folder in this cache; None when it is not kept here.

    Kept here: a locked wheel named by its sha256. A pinned package (a published wheel the lock
    does not hash) or a source lambdapress builds stays in the project's cache. `compiler` is
    the target's interpreter (None: no bytecode is compiled); `layout` is what an installed
    folder holds (`wheels.LAYOUT_VERSION`), and `derived` what a bytecode-only folder holds
    beyond it (`_sourceless.BYTECODE_ONLY_LAYOUT`; ignored for an installed folder). The
    implementation pins (`bundle.implementations`) choose which folders ship, never what a
    folder holds, so they are not part of the key.
    """
    if package.is_pinned or package.is_built:
        return None
    wheel = selected_wheel(package, target)
    if wheel is None or not wheel.hash.startswith("sha256:"):
        return None
    if variant == "installed":
        bytecode = TREE_OPTIONS if compiler is not None else ""
    else:
        bytecode = bytecode_only_options(docstrings=variant == "bytecode")
    return PreparedKey(
        name=canonicalize_name(package.name),
        version=package.version,
        wheel=wheel.hash,
        python=target.python,
        platform=target.uv_platform,
        variant=variant,
        bytecode=bytecode,
        layout=layout,
        derived=None if variant == "installed" else derived,
    )


def _link_folder(source: Path, names: list[str], destination: Path, record: BaseModel) -> None:
    """Write `destination` as hard links to `source`'s files (copies where linking fails).

    Its record goes in last, and the folder is renamed into place whole (a concurrent run's
    copy wins if it is first).
    """
    with files.staged_folder(destination) as staging:
        for name in names:
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source / name, target)
            except OSError:  # another filesystem, too many links: a copy has the same bytes
                shutil.copyfile(source / name, target)
        (staging / COMPLETE_MARK).write_text(record.model_dump_json(), encoding="utf-8")


def _used(entry: Path) -> None:
    """Mark the entry as used now (an entry that cannot be marked is simply kept)."""
    with contextlib.suppress(OSError):
        os.utime(entry)


def cache_info(location: CacheLocation | None = None) -> CacheInfo:
    """Every entry of the user-level cache (`locate()` unless given), without hashing."""
    where = location if location is not None else locate()
    seen: dict[tuple[int, int], int] = {}
    found = list(_entries(WheelCache(where.folder), seen))

    def order(entry: EntryInfo) -> tuple[str, ...]:
        key = entry.key
        if key is None:
            return ("", entry.path.name)
        return (key.name, key.version, key.python, key.platform, key.variant)

    return CacheInfo(
        folder=where.folder,
        chosen_by=where.chosen_by,
        entries=tuple(sorted(found, key=order)),
        disk_size=sum(seen.values()),
    )


def prune_cache(
    root: Path | None = None,
    *,
    older_than_days: float = UNUSED_DAYS,
    everything: bool = False,
    now: float | None = None,
) -> PruneResult:
    """Remove the entries no build has used for `older_than_days` (all, with `everything`).

    An entry a build is reading (its shared lock held) is never removed: it is reported in
    `in_use` and kept. Temporaries of killed builds are swept too.
    """
    cache = WheelCache(root if root is not None else user_cache_folder())
    cutoff = (time.time() if now is None else now) - older_than_days * _DAY
    removed: list[EntryInfo] = []
    in_use: list[EntryInfo] = []
    kept = 0
    if not cache.folder.is_dir():
        return PruneResult(folder=cache.root, removed=(), in_use=(), kept=0)
    with files.claim(cache.folder, cache.sweep):
        for info in _entries(cache):
            if not everything and info.last_used >= cutoff:
                kept += 1
                continue
            with files.locked_folder(info.path, exclusive=True, wait=False) as held:
                if not held:
                    if info.path.is_dir():  # else another prune or a repair removed it
                        in_use.append(info)
                    continue
                if not everything and info.path.stat().st_mtime >= cutoff:
                    kept += 1  # taken by a build since it was listed
                    continue
                files.discard(info.path)
                removed.append(info)
    return PruneResult(folder=cache.root, removed=tuple(removed), in_use=tuple(in_use), kept=kept)


def _entries(
    cache: WheelCache, seen: dict[tuple[int, int], int] | None = None
) -> Iterator[EntryInfo]:
    """Each entry folder (temporaries left out), sorted by name.

    `seen` collects each file's size by (device, inode), to count shared files once.
    """
    if not cache.folder.is_dir():
        return
    for path in sorted(cache.folder.iterdir()):
        if path.name.startswith(files.TEMPORARY_PREFIX) or not path.is_dir():
            continue
        try:
            last_used = path.stat().st_mtime
        except FileNotFoundError:  # removed meanwhile
            continue
        record = read_mark(path, PreparedRecord)
        names = list(record.files) if record is not None else _all_files(path)
        size = 0
        for name in names:
            try:
                status = (path / name).stat()
            except OSError:
                continue
            size += status.st_size
            if seen is not None:
                seen[(status.st_dev, status.st_ino)] = status.st_size
        yield EntryInfo(
            path=path,
            key=record.key if record is not None else None,
            files=len(names),
            size=size,
            last_used=last_used,
        )


def _all_files(folder: Path) -> list[str]:
    return [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]
