"""Build one function's zip from its plan: first-party files, their bytecode, its wheels.

The zip goes to the content-addressed artifact cache (named by the inputs hash); copying it into
dist/ is the pipeline's last step, after every function has built and passed the size checks.
The build works in a scratch folder inside the cache (not /tmp), so a run killed half-way
leaves nothing that the next run's sweep does not find.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from lambdapress.bundle import _artifacts, wheels
from lambdapress.bundle._compiled import compile_staging
from lambdapress.bundle._entries import EntryStore
from lambdapress.bundle.archive import Archive, Entry, write_zip
from lambdapress.bundle.bytecode import find_compiler
from lambdapress.bundle.plan import FunctionPlan
from lambdapress.config.lambda_platform import UNZIPPED_MAX_BYTES
from lambdapress.errors import BundleError
from lambdapress.support import files

MiB = 1024 * 1024


def build_artifact(function: FunctionPlan, cache: Path, store: EntryStore | None = None) -> Archive:
    """Build the function's deterministic zip and check Lambda's limits.

    The zip and its record go into the artifact cache of `cache` (`artifacts.zip_path`),
    read-only (see `artifacts.ZIP_MODE`). Its entries are compressed once into `store` (a run
    shares one across its builds) and assembled from there.
    """
    store = store if store is not None else EntryStore(cache)
    destination = _artifacts.zip_path(cache, function.inputs_hash)
    with (
        files.temporary_folder(destination) as scratch,
        files.replacing(destination, mode=_artifacts.zip_mode()) as temporary,
    ):
        entries = _first_party_entries(function, scratch, store)
        entries += _distribution_entries(function)
        _check_unique(function, entries)
        archive = write_zip(entries, temporary, store)
        check_limits(function, archive)
        _artifacts.write_record(cache, function.inputs_hash, archive)
    return archive


def _first_party_entries(function: FunctionPlan, staging: Path, store: EntryStore) -> list[Entry]:
    """Copy the function's own files into a task-root layout, compile them there, list them.

    Bytecode compiled before for the same module bytes, path and target is reused
    (`bundle.compiled`): the target interpreter starts only for modules never compiled.
    """
    for file in function.first_party:
        target = staging / file.arcname
        target.parent.mkdir(parents=True, exist_ok=True)
        if file.text is not None:
            target.write_text(file.text, encoding="utf-8")
        elif file.path is not None:
            shutil.copyfile(file.path, target)
    compiler = find_compiler(function.target.python) if function.compile else None
    if compiler is not None and function.first_party:
        compile_staging(staging, compiler, function.target.python, store)
    return [
        Entry(path.relative_to(staging).as_posix(), source=path)
        for path in sorted(staging.rglob("*"))
        if path.is_file()
    ]


def _distribution_entries(function: FunctionPlan) -> list[Entry]:
    """The installed files, as their folder's record lists them, each checked as it is read.

    Less what `bundle.trim`'s rules leave out: files nothing on Lambda can load.
    """
    entries: list[Entry] = []
    for folder in function.distribution_folders:
        record = wheels.read_record(folder)
        if record is None:
            raise BundleError(
                f"the cached wheel folder {folder} lost its record while the zip was built",
                hint="run again: the folder is then installed afresh",
            )
        entries += [
            Entry(name, source=folder / name, sha256=digest)
            for name, digest in sorted(record.files.items())
            if function.left_out.rule_for(folder.name, name) is None  # `bundle.trim`
        ]
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
    """Refuse a zip Lambda would refuse, naming the largest distributions in it.

    The limit is Lambda's 250 MB unzipped. Its 50 MB zipped limit is for zips uploaded directly
    to Lambda; lambdapress deploys every zip from S3 (the template's `Code.S3Key`, `sync`'s
    `UpdateFunctionCode` with `S3Key`), where it does not apply (`lambda_platform`).
    """
    if archive.unzipped_size <= UNZIPPED_MAX_BYTES:
        return
    sizes = sorted(((_folder_size(f), f.name) for f in function.distribution_folders), reverse=True)
    largest = ", ".join(f"{name} {size / MiB:.1f} MB" for size, name in sizes[:5])
    raise BundleError(
        f"{function.name} is too large for Lambda: {archive.unzipped_size / MiB:.1f} MB "
        f"unzipped (limit {UNZIPPED_MAX_BYTES // MiB}, {archive.size / MiB:.1f} MB zipped); "
        f"largest distributions: {largest or 'none'}",
        hint="drop dependencies this handler does not need, split the handler, or use a "
        "container image for this function",
    )


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
