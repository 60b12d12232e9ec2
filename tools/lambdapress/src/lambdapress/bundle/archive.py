"""Deterministic zips: the same inputs give the same bytes, run after run, in any folder.

Entries are sorted, carry a fixed timestamp, fixed permissions and no directory entries; paths
are relative to the task root. With that, the sha256 of an artifact identifies its content, and
Lambda's CodeSha256 tells a deploy whether anything changed. Across machines the entries are
the same, but the compressed bytes are only as stable as the zlib that deflates them: another
zlib version (or zlib-ng) may compress the same files differently.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from lambdapress.bundle._entries import CHUNK, EntryStore, compress
from lambdapress.errors import BundleError

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644 << 16
_DOS_DATE = (FIXED_TIME[0] - 1980) << 9 | FIXED_TIME[1] << 5 | FIXED_TIME[2]
_DOS_TIME = 0
_VERSION = 20  # "2.0": deflate, what zipfile writes without ZIP64
_UNIX = 3  # "made by" a Unix system: the external attributes carry a Unix mode
_UTF8_FLAG = 0x800
# An entry's local header and its central directory record share their middle: flags, method,
# time, date, crc, sizes, the name's and the extra field's lengths.
_LOCAL = struct.Struct("<4s2B")  # signature, version needed
_CENTRAL = struct.Struct("<4s4B")  # signature, version made by, version needed
_SHARED = struct.Struct("<4HL2L2H")
# The central record's end: comment length, disk, internal and external attributes, offset.
_CENTRAL_TAIL = struct.Struct("<3H2L")
_END = struct.Struct("<4s4H2LH")
_ZIP64_LIMIT = (1 << 31) - 1
_MAX_ENTRIES = 0xFFFF


@dataclass(frozen=True)
class Entry:
    """A file of the artifact: its path in the zip and where its bytes come from."""

    arcname: str
    source: Path | None = None
    content: bytes | None = None
    sha256: str | None = None
    """The digest `source` was recorded with (a cached wheel's file): checked as it is read,
    so a file changed after its folder was verified can never reach a zip."""

    def read(self) -> bytes:
        """The entry's bytes, from memory or from its source file."""
        if self.content is not None:
            return self.content
        assert self.source is not None
        try:
            data = self.source.read_bytes()
        except FileNotFoundError:
            if self.sha256 is None:
                raise
            data = b""  # a recorded file that vanished: reported below as changed
        if self.sha256 is not None and hashlib.sha256(data).hexdigest() != self.sha256:
            raise BundleError(
                f"{self.source} changed while the zip was being built (it no longer matches "
                "the digest recorded when it was cached)",
                hint="run again: the changed cache folder is checked, thrown away and "
                "reinstalled; if it keeps happening, something else is writing to the cache",
            )
        return data

    def digest(self) -> str:
        """The sha256 of the entry's bytes: the recorded one, else read and hashed."""
        if self.sha256 is not None and self.content is None:
            return self.sha256
        return hashlib.sha256(self.read()).hexdigest()


@dataclass(frozen=True)
class Archive:
    """A written zip: its digests (sha256, Lambda's CodeSha256) and sizes."""

    sha256: str
    code_sha256: str
    size: int
    unzipped_size: int
    files: int


def write_zip(
    entries: Iterable[Entry], destination: Path, store: EntryStore | None = None
) -> Archive:
    """Write `entries` as a deterministic zip to `destination`.

    Each entry's deflate stream comes from `store` (compressed there once, by content digest)
    or, without a store, is compressed here. The bytes are those `zipfile` writes for the same
    entries at level 9; a zip needing ZIP64 (Lambda never takes one) is left to `zipfile`.
    `destination` is a temporary path the caller puts in place (`files.replacing`) once the zip
    has passed its checks.
    """
    ordered = _ordered(entries)
    try:
        return _assemble(ordered, destination, store)
    except _NeedsZip64:
        return write_zip_with_zipfile(ordered, destination)


def write_zip_with_zipfile(entries: Iterable[Entry], destination: Path) -> Archive:
    """The same zip, written by `zipfile` (ZIP64 archives, and the reference in tests)."""
    ordered = _ordered(entries)
    unzipped = 0
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for entry in ordered:
            info = zipfile.ZipInfo(entry.arcname, date_time=FIXED_TIME)
            info.external_attr = FILE_MODE
            info.create_system = 3
            info.compress_type = zipfile.ZIP_DEFLATED
            data = entry.read()
            unzipped += len(data)
            archive.writestr(info, data, compresslevel=9)
    digest = hashlib.sha256(destination.read_bytes()).digest()
    return _archive(digest, destination.stat().st_size, unzipped, len(ordered))


def _ordered(entries: Iterable[Entry]) -> list[Entry]:
    ordered = sorted(entries, key=lambda e: e.arcname)
    names = [e.arcname for e in ordered]
    if len(names) != len(set(names)):
        duplicates = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"two files for the same path in the zip: {duplicates[:5]}")
    return ordered


def _assemble(ordered: list[Entry], destination: Path, store: EntryStore | None) -> Archive:
    """Local header and stored stream of each entry, then the central directory and end record.

    The fields are those `zipfile` writes to a seekable file: version 2.0, no data descriptor,
    UTF-8 flag only for names that are not ASCII, DOS date 1980-01-01, Unix mode 0644.
    """
    if len(ordered) >= _MAX_ENTRIES:
        raise _NeedsZip64
    out = _HashingWriter(destination.open("wb"))
    central: list[bytes] = []
    unzipped = 0
    with out:
        for entry in ordered:
            name, flags = _encode_name(entry.arcname)
            offset = out.size
            if store is not None:
                stored = store.entry(entry.digest(), entry.read)
                crc, file_size, compress_size = stored.crc, stored.file_size, stored.compress_size
                stream = None
            else:
                data = entry.read()
                stream = compress(data)
                crc, file_size, compress_size = zlib.crc32(data), len(data), len(stream)
            if file_size * 1.05 > _ZIP64_LIMIT or compress_size > _ZIP64_LIMIT:
                raise _NeedsZip64
            shared = _SHARED.pack(
                flags,
                zipfile.ZIP_DEFLATED,
                _DOS_TIME,
                _DOS_DATE,
                crc,
                compress_size,
                file_size,
                len(name),
                0,
            )
            out.write(_LOCAL.pack(b"PK\x03\x04", _VERSION, 0) + shared + name)
            if stream is not None:
                out.write(stream)
            else:
                out.copy_from(stored.path, stored.offset, compress_size)
            unzipped += file_size
            central.append(
                _CENTRAL.pack(b"PK\x01\x02", _VERSION, _UNIX, _VERSION, 0)
                + shared
                + _CENTRAL_TAIL.pack(0, 0, 0, FILE_MODE, offset)
                + name
            )
        start = out.size
        if start > _ZIP64_LIMIT:
            raise _NeedsZip64
        directory = b"".join(central)
        out.write(directory)
        if len(directory) > _ZIP64_LIMIT:
            raise _NeedsZip64
        count = len(ordered)
        out.write(_END.pack(b"PK\x05\x06", 0, 0, count, count, len(directory), start, 0))
    return _archive(out.digest.digest(), out.size, unzipped, len(ordered))


def _encode_name(arcname: str) -> tuple[bytes, int]:
    try:
        return arcname.encode("ascii"), 0
    except UnicodeEncodeError:
        return arcname.encode("utf-8"), _UTF8_FLAG


def _archive(digest: bytes, size: int, unzipped: int, count: int) -> Archive:
    return Archive(
        sha256=digest.hex(),
        code_sha256=base64.b64encode(digest).decode(),
        size=size,
        unzipped_size=unzipped,
        files=count,
    )


class _NeedsZip64(Exception):
    """The zip is too large (or has too many files) for the classic format."""


class _HashingWriter:
    """A file being written, with its sha256 and size kept as it grows."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.handle.write(data)
        self.digest.update(data)
        self.size += len(data)

    def copy_from(self, path: Path, offset: int, length: int) -> None:
        """Append `length` bytes of `path` from `offset` (a stored stream)."""
        with path.open("rb") as source:
            source.seek(offset)
            remaining = length
            while remaining:
                chunk = source.read(min(CHUNK, remaining))
                if not chunk:
                    raise OSError(f"{path} ended {remaining} bytes early")
                self.write(chunk)
                remaining -= len(chunk)

    def __enter__(self) -> _HashingWriter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.handle.close()


def describe_zip(path: Path) -> Archive:
    """The same facts for a zip already on disk (a cached artifact)."""
    digest = hashlib.sha256(path.read_bytes()).digest()
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        unzipped = sum(i.file_size for i in infos)
    return Archive(
        sha256=digest.hex(),
        code_sha256=base64.b64encode(digest).decode(),
        size=path.stat().st_size,
        unzipped_size=unzipped,
        files=len(infos),
    )
