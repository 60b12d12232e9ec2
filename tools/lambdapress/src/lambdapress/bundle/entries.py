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
`lambdapress.integrity`).
"""

from __future__ import annotations

import hashlib
import os
import struct
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lambdapress import files

LAYOUT_VERSION = 1
LEVEL = 9  # what `archive` has always written: zipfile's ZIP_DEFLATED at compresslevel 9
MAGIC = b"LPENTRY1"
_DERIVED = b"LPDERIV1"  # a derived file: magic, sha256 of the payload, payload
_HEADER = struct.Struct("<8sIQQ32s")  # magic, crc32, file size, compressed size, stream sha256
CHUNK = 1024 * 1024


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
