"""Digests recorded when a cache object is written, and checked before it is used.

Caches (installed wheels, built zips, the runtime client) are reused across runs, so a file
edited by hand, a disk error or a run killed at the wrong moment would otherwise ship silently,
run after run. Each object gets a record of what it held when it was written; a reader compares
before trusting it and, on any difference, says what differs so the caller can warn, throw the
object away and rebuild it. Records catch accidents and stale tampering, not an attacker who
can rewrite both the object and its record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from lambdapress.support import files

CHUNK = 1024 * 1024
SHA256_HEX = r"^[0-9a-f]{64}$"
"""A sha256 digest as records and the manifest write it: 64 lowercase hex digits."""
COMPLETE_MARK = ".lambdapress-complete"
"""The record of an installed folder, written last: a folder without it is not whole."""

_Record = TypeVar("_Record", bound=BaseModel)


def file_digest(path: Path) -> str:
    """The sha256 of a file's bytes, read in chunks (wheel folders hold large extensions)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def folder_files(folder: Path, skip: Callable[[str], bool]) -> list[str]:
    """Every file below `folder` as a sorted relative POSIX path, except those `skip` names."""
    names = (p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    return sorted(name for name in names if not skip(name))


def folder_digests(folder: Path, skip: Callable[[str], bool]) -> dict[str, str]:
    """`{relative path: sha256}` for every file below `folder` that `skip` does not name."""
    return {name: file_digest(folder / name) for name in folder_files(folder, skip)}


def folder_problem(
    folder: Path, recorded: dict[str, str], skip: Callable[[str], bool]
) -> str | None:
    """What differs between `folder` and its record, in words; None when nothing does.

    A folder that disappears while it is read was thrown away by a concurrent run (which
    found it damaged): for this run it differs from its record like any damaged folder.
    """
    try:
        return _differences(folder, recorded, skip)
    except FileNotFoundError:
        return "it was removed while it was checked (another run threw it away)"


def _differences(folder: Path, recorded: dict[str, str], skip: Callable[[str], bool]) -> str | None:
    present = folder_files(folder, skip)
    extra = sorted(set(present) - set(recorded))
    if extra:
        return f"{extra[0]} is not in its record" + _more(len(extra))
    missing = sorted(set(recorded) - set(present))
    if missing:
        return f"{missing[0]} is missing" + _more(len(missing))
    changed = [name for name in present if file_digest(folder / name) != recorded[name]]
    if changed:
        return f"{changed[0]} was changed" + _more(len(changed))
    return None


def _more(count: int) -> str:
    return f" (and {count - 1} more)" if count > 1 else ""


def is_mark(name: str) -> bool:
    """Whether a relative path is the folder's own record (never part of what it records)."""
    return name == COMPLETE_MARK


@contextmanager
def staged_install(
    destination: Path,
    record: Callable[[dict[str, str]], BaseModel],
    skip: Callable[[str], bool] = is_mark,
) -> Iterator[Path]:
    """Install into the yielded staging folder; on success, record it and rename it into place.

    Every file's digest goes into its mark (`record(digests)`), then the folder is renamed to
    `destination` (see `files.staged_folder`). The wheel cache and the runtime client install
    this way, so a folder is whole, recorded and in place, or not there at all.
    """
    with files.staged_folder(destination) as staging:
        yield staging
        mark = record(folder_digests(staging, skip))
        (staging / COMPLETE_MARK).write_text(mark.model_dump_json(), encoding="utf-8")


def read_mark(folder: Path, model: type[_Record]) -> _Record | None:
    """The record `staged_install` wrote into `folder`, or None when it is missing or unreadable."""
    try:
        return model.model_validate_json((folder / COMPLETE_MARK).read_bytes())
    except (OSError, ValidationError):
        return None
