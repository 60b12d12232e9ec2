"""Build one function's zip from its plan: first-party files, their bytecode, its wheels.

The zip goes to the content-addressed artifact cache (named by the inputs hash); copying it into
dist/ is the pipeline's last step, after every function has built and passed the size checks.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from lambdapress.bundle.archive import Archive, Entry, write_zip
from lambdapress.bundle.bytecode import compile_tree, find_compiler
from lambdapress.bundle.plan import FunctionPlan
from lambdapress.bundle.wheels import COMPLETE_MARK
from lambdapress.errors import BundleError

# Lambda's limits for a function's deployment package.
MAX_ZIPPED = 50 * 1024 * 1024
MAX_UNZIPPED = 250 * 1024 * 1024
MiB = 1024 * 1024


def build_artifact(function: FunctionPlan, destination: Path) -> Archive:
    """Write the function's deterministic zip to `destination` and check Lambda's limits."""
    with tempfile.TemporaryDirectory(prefix="lambdapress-build-") as scratch:
        staging = Path(scratch) / "task"
        entries = _first_party_entries(function, staging)
        entries += _distribution_entries(function)
        _check_unique(function, entries)
        scratch_zip = Path(scratch) / "artifact.zip"
        archive = write_zip(entries, scratch_zip)
        check_limits(function, archive)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(scratch_zip, destination.with_suffix(".tmp"))
        destination.with_suffix(".tmp").replace(destination)
    return archive


def _first_party_entries(function: FunctionPlan, staging: Path) -> list[Entry]:
    """Copy the function's own files into a task-root layout, compile them there, list them."""
    for file in function.first_party:
        target = staging / file.arcname
        target.parent.mkdir(parents=True, exist_ok=True)
        if file.text is not None:
            target.write_text(file.text, encoding="utf-8")
        elif file.path is not None:
            shutil.copyfile(file.path, target)
    compiler = find_compiler(function.target.python) if function.compile else None
    if compiler is not None and function.first_party:
        compile_tree(staging, compiler)
    return [
        Entry(path.relative_to(staging).as_posix(), source=path)
        for path in sorted(staging.rglob("*"))
        if path.is_file()
    ]


def _distribution_entries(function: FunctionPlan) -> list[Entry]:
    entries: list[Entry] = []
    for folder in function.distribution_folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.name != COMPLETE_MARK:
                entries.append(Entry(path.relative_to(folder).as_posix(), source=path))
    return entries


def _check_unique(function: FunctionPlan, entries: list[Entry]) -> None:
    seen: dict[str, Entry] = {}
    for entry in entries:
        other = seen.get(entry.arcname)
        if other is not None and other.read() != entry.read():
            raise BundleError(
                f"{function.name}: two different files for {entry.arcname} "
                f"({other.source} and {entry.source})",
                hint="two distributions or a distribution and first-party code ship the same "
                "path; rename the first-party module or drop one dependency",
            )
        seen[entry.arcname] = entry
    entries[:] = list(seen.values())


def check_limits(function: FunctionPlan, archive: Archive) -> None:
    if archive.size <= MAX_ZIPPED and archive.unzipped_size <= MAX_UNZIPPED:
        return
    sizes = sorted(((_folder_size(f), f.name) for f in function.distribution_folders), reverse=True)
    largest = ", ".join(f"{name} {size / MiB:.1f} MB" for size, name in sizes[:5])
    raise BundleError(
        f"{function.name} is too large for Lambda: {archive.size / MiB:.1f} MB zipped "
        f"(limit 50), {archive.unzipped_size / MiB:.1f} MB unzipped (limit 250); largest "
        f"distributions: {largest or 'none'}",
        hint="drop dependencies this handler does not need, split the handler, or use a "
        "container image for this function",
    )


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
