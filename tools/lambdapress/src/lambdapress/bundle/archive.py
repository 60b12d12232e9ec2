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
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from lambdapress.errors import BundleError

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644 << 16


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


@dataclass(frozen=True)
class Archive:
    """A written zip: its digests (sha256, Lambda's CodeSha256) and sizes."""

    sha256: str
    code_sha256: str
    size: int
    unzipped_size: int
    files: int


def write_zip(entries: Iterable[Entry], destination: Path) -> Archive:
    """Write `entries` as a deterministic zip to `destination`.

    `destination` is a temporary path the caller puts in place (`files.replacing`) once the zip
    has passed its checks.
    """
    ordered = sorted(entries, key=lambda e: e.arcname)
    names = [e.arcname for e in ordered]
    if len(names) != len(set(names)):
        duplicates = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"two files for the same path in the zip: {duplicates[:5]}")
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
    size = destination.stat().st_size
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
