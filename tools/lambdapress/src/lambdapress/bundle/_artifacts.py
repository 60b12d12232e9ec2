"""The artifact cache: built zips by inputs hash, each with the digest it was written with.

`artifacts/<inputs-hash>.zip` is a zip built earlier; `artifacts/<inputs-hash>.json` records its
sha256, size and contents. The record is written before the zip is renamed into place, so a zip
that is there always has one (unless someone removed it). A cached zip is hashed and compared
with its record before it counts as "cached", and again as it is linked into dist/: an altered
zip (even a valid one), a truncated one or one without a record is reported, thrown away and
rebuilt, never shipped and never opened as a zip.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lambdapress.bundle.archive import Archive
from lambdapress.support import files
from lambdapress.support.integrity import CHUNK, SHA256_HEX


class ArtifactRecord(BaseModel):
    """What a cached zip was when it was written."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    # Read back from the local cache and from the shared one (another machine's upload): a
    # record that passes is one whose digest and sizes can be used as they are.
    sha256: str = Field(pattern=SHA256_HEX)
    size: int = Field(ge=0)
    unzipped_size: int = Field(ge=0)
    files: int = Field(ge=0)

    def archive(self) -> Archive:
        """The cached zip as the pipeline reports it, without reading it again."""
        digest = bytes.fromhex(self.sha256)
        return Archive(
            sha256=self.sha256,
            code_sha256=base64.b64encode(digest).decode(),
            size=self.size,
            unzipped_size=self.unzipped_size,
            files=self.files,
        )


@dataclass(frozen=True)
class Lookup:
    """A cached zip, verified (`archive`), absent (both None) or damaged (`problem`)."""

    archive: Archive | None = None
    problem: str | None = None


def folder(cache: Path) -> Path:
    """The folder of built zips in the cache."""
    return cache / "artifacts"


def zip_path(cache: Path, inputs_hash: str) -> Path:
    """The cached zip of a function with these inputs."""
    return folder(cache) / f"{inputs_hash}.zip"


def record_path(cache: Path, inputs_hash: str) -> Path:
    """The record (digests and sizes) beside the cached zip of these inputs."""
    return folder(cache) / f"{inputs_hash}.json"


def lookup(cache: Path, inputs_hash: str) -> Lookup:
    """The cached zip for `inputs_hash`, hashed and compared with its record."""
    path = zip_path(cache, inputs_hash)
    if not path.is_file():
        return Lookup()
    record = read_record(cache, inputs_hash)
    if record is None:
        return Lookup(problem=f"cached artifact {path} has no readable digest record")
    try:
        size, sha256 = _measure(path)
    except OSError as error:
        return Lookup(problem=f"cached artifact {path} cannot be read ({error.strerror})")
    if size != record.size:
        return Lookup(
            problem=f"cached artifact {path} is {size} bytes, {record.size} when it was "
            "written (truncated or replaced)"
        )
    if sha256 != record.sha256:
        return Lookup(problem=f"cached artifact {path} was changed after it was written")
    return Lookup(archive=record.archive())


def read_record(cache: Path, inputs_hash: str) -> ArtifactRecord | None:
    """The record of the cached zip of these inputs, or None when it is missing or unreadable."""
    try:
        return ArtifactRecord.model_validate_json(record_path(cache, inputs_hash).read_bytes())
    except (OSError, ValidationError):
        return None


def write_record(cache: Path, inputs_hash: str, archive: Archive) -> None:
    """Record a zip about to be put in place; call it before the zip's rename."""
    record = ArtifactRecord(
        sha256=archive.sha256,
        size=archive.size,
        unzipped_size=archive.unzipped_size,
        files=archive.files,
    )
    files.write_text(record_path(cache, inputs_hash), record.model_dump_json() + "\n")


def discard(cache: Path, inputs_hash: str) -> None:
    """Throw a damaged entry away (the zip first: a zip never lacks its record)."""
    files.discard(zip_path(cache, inputs_hash))
    files.discard(record_path(cache, inputs_hash))


def zip_mode() -> int:
    """The mode of a cached zip: readable as the umask says, writable by nobody.

    dist/ holds hard links to cached zips (`publish_verified`), which share their mode: a
    tool that edited a dist/ zip in place would otherwise change the cached object too. Read-
    only, such an edit fails (short of a chmod or root, which the digest checks still catch).
    """
    return files.file_mode() & ~0o222


def publish_verified(cache: Path, inputs_hash: str, destination: Path, archive: Archive) -> bool:
    """Put the cached zip at `destination` atomically, after checking its bytes.

    A hard link where the filesystem allows it (no copy), a copy otherwise (`files.link_or_copy`).
    False (and `destination` untouched) when the cached zip does not match `archive`.
    """
    source = zip_path(cache, inputs_hash)
    try:
        size, sha256 = _measure(source)
        if size != archive.size or sha256 != archive.sha256:
            return False
        files.link_or_copy(source, destination, zip_mode())
    except FileNotFoundError:
        return False
    return True


def sweep(cache: Path, older_than: float) -> None:
    """Remove what killed runs left: temporaries, and (when alone) records without a zip."""
    files.sweep_temporaries(folder(cache), older_than)
    if older_than > 0:  # a concurrent run may be between writing a record and its zip
        return
    where = folder(cache)
    try:  # one listing, not a stat per record (and none while the folder is as last seen)
        listed_at = where.stat().st_mtime_ns
        if _WHOLE.get(where) == listed_at:
            return
        with os.scandir(where) as entries:
            names = {entry.name for entry in entries}
    except FileNotFoundError:
        return
    orphans = [n for n in names if n.endswith(".json") and f"{n[:-5]}.zip" not in names]
    for name in orphans:
        (where / name).unlink(missing_ok=True)
    if not orphans:
        _WHOLE[where] = listed_at


_WHOLE: dict[Path, int] = {}  # folder -> its mtime when this process found no orphan record


def _measure(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()
