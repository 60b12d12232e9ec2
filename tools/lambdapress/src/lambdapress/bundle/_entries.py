"""The entry store: every file's deflate stream, compressed once, reused by every zip.

Forty handlers that share pydantic would otherwise deflate the same megabytes forty times at
level 9. Here each file is compressed once, by the sha256 of its bytes, into
`entries/v<LAYOUT>/<ab>/<sha256>`; a zip is then assembled from the stored streams
(`bundle.archive`) without compressing anything again.

A stored entry is a cache object like a built zip: its file starts with a header recording the
CRC-32 and sizes of the content and the sha256 of the compressed stream that follows. The
stream is hashed and compared before the entry is used (once per process and file state); a
damaged entry is reported, thrown away and compressed again. The content digest (the name) is
not re-derived on use, which would mean inflating every stream: the recorded stream digest
catches a damaged or truncated file, not one rewritten together with its header (see
`lambdapress.support.integrity`).

The store is pruned by last use: reading an entry (once per process) sets its mtime, and a run
that holds the cache alone removes what no build has read for `UNUSED_FOR` (`prune`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lambdapress.support import files

LAYOUT_VERSION = 1
LEVEL = 9  # what `archive` has always written: zipfile's ZIP_DEFLATED at compresslevel 9
MAGIC = b"LPENTRY1"
_DERIVED = b"LPDERIV1"  # a derived file: magic, sha256 of the payload, payload
_HEADER = struct.Struct("<8sIQQ32s")  # magic, crc32, file size, compressed size, stream sha256
CHUNK = 1024 * 1024
# An entry (or kept bytecode) that no build has read for this long is removed by `prune`;
# pruning walks the store at most once per `PRUNE_EVERY`.
UNUSED_FOR = 30 * 24 * 3600.0
PRUNE_EVERY = 24 * 3600.0
_PRUNED = ".pruned"  # in the store's folder: its mtime is the last pruning


@dataclass(frozen=True)
class StoredEntry:
    """One file's compressed stream in the store: where it is and what it holds."""

    path: Path
    crc: int
    file_size: int
    compress_size: int

    @property
    def offset(self) -> int:
        """Where the deflate stream starts in `path`."""
        return _HEADER.size


def compress(data: bytes) -> bytes:
    """The raw deflate stream zipfile writes for `data` (ZIP_DEFLATED, level 9, no zlib header)."""
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def folder(cache: Path) -> Path:
    """The store's folder in the cache (a new layout gets a new folder)."""
    return cache / "entries" / f"v{LAYOUT_VERSION}"


class EntryStore:
    """The entries of one cache, shared by the threads of a run.

    Concurrent builds asking for the same content wait for one compression; concurrent runs
    may both compress it, and the later rename wins with the same bytes.
    """

    def __init__(self, cache: Path, on_warning: Callable[[str], None] | None = None) -> None:
        self.root = folder(cache)
        self._warn = on_warning or (lambda _message: None)
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._verified: dict[str, tuple[StoredEntry, tuple[int, int, int]]] = {}

    def path(self, digest: str) -> Path:
        """Where the entry of content `digest` lives."""
        return self.root / digest[:2] / digest

    def entry(self, digest: str, read: Callable[[], bytes]) -> StoredEntry:
        """The verified entry of content `digest`, compressing `read()` when it is not stored."""
        with self._digest_lock(digest):
            found = self._lookup(digest)
            if found is not None:
                return found
            data = read()
            stream = compress(data)
            crc = zlib.crc32(data)
            sealed = hashlib.sha256(stream).digest()
            path = self.path(digest)
            files.write_bytes(
                path, _HEADER.pack(MAGIC, crc, len(data), len(stream), sealed) + stream
            )
            stored = StoredEntry(path, crc, len(data), len(stream))
            self._remember(digest, stored)
            return stored

    def derived(self, key: str) -> bytes | None:
        """A file made from others and kept by `key` (compiled bytecode), verified; else None."""
        path = self.root / "derived" / key[:2] / key
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            self._warn(f"stored file {path} cannot be read ({error.strerror}): made again")
            return None
        head, body = data[: len(_DERIVED) + 32], data[len(_DERIVED) + 32 :]
        if head != _DERIVED + hashlib.sha256(body).digest():
            self._warn(f"stored file {path} was changed after it was written: made again")
            files.discard(path)
            return None
        _used(path)
        return body

    def keep(self, key: str, data: bytes) -> None:
        """Keep `data` by `key` for `derived`, sealed by its digest."""
        path = self.root / "derived" / key[:2] / key
        files.write_bytes(path, _DERIVED + hashlib.sha256(data).digest() + data)

    def _lookup(self, digest: str) -> StoredEntry | None:
        path = self.path(digest)
        try:
            status = path.stat()
        except FileNotFoundError:
            return None
        identity = (status.st_size, status.st_mtime_ns, status.st_ino)
        known = self._verified.get(digest)
        if known is not None and known[1] == identity:
            return known[0]
        stored, problem = _verify(path)
        if stored is None:
            self._warn(f"stored entry {path} {problem}: thrown away and compressed again")
            files.discard(path)
            return None
        _used(path)
        self._remember(digest, stored)
        return stored

    def _remember(self, digest: str, stored: StoredEntry) -> None:
        status = stored.path.stat()
        identity = (status.st_size, status.st_mtime_ns, status.st_ino)
        with self._lock:
            self._verified[digest] = (stored, identity)

    def _digest_lock(self, digest: str) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(digest, threading.Lock())


def _used(path: Path) -> None:
    """Mark a stored file as read now, for `prune` (a cache that cannot be written is kept)."""
    with contextlib.suppress(OSError):
        os.utime(path)


def _verify(path: Path) -> tuple[StoredEntry | None, str]:
    """The entry in `path` if its stream matches its header, else what is wrong, in words."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEADER.size)
            if len(head) != _HEADER.size:
                return None, "is truncated"
            magic, crc, file_size, compress_size, recorded = _HEADER.unpack(head)
            if magic != MAGIC:
                return None, "is not an entry of this layout"
            digest = hashlib.sha256()
            size = 0
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except OSError as error:
        return None, f"cannot be read ({error.strerror})"
    if size != compress_size:
        return None, f"holds {size} compressed bytes, {compress_size} when it was written"
    if digest.digest() != recorded:
        return None, "was changed after it was written"
    return StoredEntry(path, crc, file_size, compress_size), ""


def sweep(cache: Path, older_than: float) -> None:
    """Remove temporaries that killed runs left in the store's folders."""
    root = folder(cache)
    if not root.is_dir():
        return
    files.sweep_temporaries(root / "derived", older_than)  # a killed `precompile`'s tree
    for parent in (root, root / "derived"):
        if not parent.is_dir():
            continue
        with os.scandir(parent) as children:
            for child in children:
                if child.is_dir(follow_symlinks=False):
                    files.sweep_temporaries(Path(child.path), older_than)


def prune(
    cache: Path,
    unused_for: float = UNUSED_FOR,
    every: float = PRUNE_EVERY,
    now: float | None = None,
) -> int:
    """Remove stored entries and kept bytecode that no build has read for `unused_for` seconds.

    Only for a run that holds the cache alone (`pipeline.cache_in_use`, under the exclusive
    claim): no other run can be between finding an entry and reading it, and a run that comes
    later finds a pruned entry missing and compresses it again. The walk happens at most once
    per `every` seconds, so a no-op run does not list the whole store. Returns how many files
    were removed.
    """
    root = folder(cache)
    now = time.time() if now is None else now
    marker = root / _PRUNED
    try:
        if marker.stat().st_mtime > now - every:
            return 0
    except FileNotFoundError:
        pass
    if not root.is_dir():
        return 0
    cutoff = now - unused_for
    removed = 0
    for parent in (root, root / "derived"):
        if not parent.is_dir():
            continue
        with os.scandir(parent) as children:
            shards = [Path(c.path) for c in children if len(c.name) == 2 and c.is_dir()]
        for shard in shards:
            with os.scandir(shard) as stored:
                for item in stored:
                    if item.name.startswith(files.TEMPORARY_PREFIX):
                        continue  # the sweep's business
                    if item.is_file(follow_symlinks=False) and item.stat().st_mtime < cutoff:
                        Path(item.path).unlink(missing_ok=True)
                        removed += 1
    files.write_bytes(marker, b"")
    return removed
