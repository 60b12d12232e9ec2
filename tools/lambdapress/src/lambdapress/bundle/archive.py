"""Deterministic zips: the same inputs give the same bytes, on any machine, in any folder.

Entries are sorted, carry a fixed timestamp, fixed permissions and no directory entries; paths
are relative to the task root. With that, the sha256 of an artifact identifies its content, and
Lambda's CodeSha256 tells a deploy whether anything changed.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644 << 16


@dataclass(frozen=True)
class Entry:
    """A file of the artifact: its path in the zip and where its bytes come from."""

    arcname: str
    source: Path | None = None
    content: bytes | None = None

    def read(self) -> bytes:
        if self.content is not None:
            return self.content
        assert self.source is not None
        return self.source.read_bytes()


@dataclass(frozen=True)
class Archive:
    sha256: str
    code_sha256: str
    size: int
    unzipped_size: int
    files: int


def write_zip(entries: Iterable[Entry], destination: Path) -> Archive:
    """Write `entries` as a deterministic zip, atomically (temporary file, then rename)."""
    ordered = sorted(entries, key=lambda e: e.arcname)
    names = [e.arcname for e in ordered]
    if len(names) != len(set(names)):
        duplicates = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"two files for the same path in the zip: {duplicates[:5]}")
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{destination.name}-", dir=destination.parent)
    os.close(fd)
    unzipped = 0
    try:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
            for entry in ordered:
                info = zipfile.ZipInfo(entry.arcname, date_time=FIXED_TIME)
                info.external_attr = FILE_MODE
                info.create_system = 3
                info.compress_type = zipfile.ZIP_DEFLATED
                data = entry.read()
                unzipped += len(data)
                archive.writestr(info, data, compresslevel=9)
        digest = hashlib.sha256(Path(temporary).read_bytes()).digest()
        size = Path(temporary).stat().st_size
        Path(temporary).replace(destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Archive(
        sha256=digest.hex(),
        code_sha256=base64.b64encode(digest).decode(),
        size=size,
        unzipped_size=unzipped,
        files=len(ordered),
    )


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
