"""The bytecode-only folder of an installed distribution: what a function ships of third-party code.

Derived once per (distribution, version, target) from the installed, compiled folder (see
`bundle.wheels`): each module's source replaced by its bytecode
(`bundle.bytecode.bytecode_only_layout`), no `py.typed`, and each `*.dist-info/METADATA`
without its description. Every other file is hard-linked to the installed one.

A METADATA file is an email-style message: headers (name, version, requirements, classifiers,
project URLs), a blank line, then the description: the project's README as PyPI shows it on
its page, often with its changelog (pydantic's is 26 KB compressed). Nothing at run time
reads it: `importlib.metadata.version`, `requires`, `metadata()[...]` and
`packages_distributions` read headers, `entry_points.txt` or `top_level.txt`, and all of those
stay as installed. Only `metadata(name).get_payload()` (or the `Description` field) changes.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath

from lambdapress.bundle.bytecode import bytecode_only_layout, compile_bytecode_only

BYTECODE_ONLY_LAYOUT = 2
"""What a bytecode-only folder holds beyond its installed folder's files, in the name of its
folder and in the key of its user-level cache entry: bumped whenever that changes, so a folder
derived by an older lambdapress is never mixed into new zips, while the installed folders it
is derived from (the costly part: downloaded, installed, compiled) stay. 1: sources replaced
by bytecode, no `py.typed`; 2: METADATA without its description."""


def fill_bytecode_only(
    compiled: Path,
    files: dict[str, str],
    staging: Path,
    python: str,
    compiler: str,
    keep_docstrings: bool,
) -> None:
    """Write into `staging` the compiled folder's `files`, each source replaced by bytecode.

    `files` are the compiled folder's relative paths (its record). Files shipped as they are
    installed are hard-linked where the filesystem allows (copied otherwise): the two folders
    share those bytes, and each has its own record. Bytecode and trimmed METADATA are new
    files (never written through a link).
    """
    layout = {
        name: source
        for name, source in bytecode_only_layout(files, python).items()
        if PurePosixPath(name).name != "py.typed"  # for type checkers only
    }
    recompiled: list[tuple[Path, Path, str]] = []
    for name, source in sorted(layout.items()):
        destination = staging / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".pyc"):
            recompiled.append((compiled / (name[:-1]), destination, name[:-1]))
        elif is_metadata(name):
            destination.write_bytes(without_description((compiled / source).read_bytes()))
        else:
            try:
                os.link(compiled / source, destination)
            except OSError:
                shutil.copyfile(compiled / source, destination)
    compile_bytecode_only(recompiled, compiler, docstrings=keep_docstrings)


def is_metadata(name: str) -> bool:
    """Whether the relative POSIX path `name` is a distribution's core metadata."""
    path = PurePosixPath(name)
    return path.name == "METADATA" and path.parent.name.endswith(".dist-info")


def without_description(metadata: bytes) -> bytes:
    """METADATA's headers, without the body after the first blank line or a Description field.

    The headers are kept byte for byte, in order, with their continuation lines (a line that
    starts with a space or a tab), except a `Description:` field and its continuation lines
    (metadata before 2.1 carried the description there). `Description-Content-Type` stays.
    """
    kept: list[bytes] = []
    in_description = False
    for line in metadata.splitlines(keepends=True):
        if not line.rstrip(b"\r\n"):  # the blank line: the body follows
            break
        if line[:1] in (b" ", b"\t"):  # continues the field above
            if not in_description:
                kept.append(line)
            continue
        in_description = line.split(b":", 1)[0].strip().lower() == b"description"
        if not in_description:
            kept.append(line)
    if kept and not kept[-1].endswith((b"\n", b"\r")):
        kept[-1] += b"\n"
    return b"".join(kept)
