"""First-party bytecode, compiled once per module and target, not once per function.

Every function's zip carries the bytecode of its first-party modules (`bundle.bytecode`). Forty
handlers share the same models and helpers, and starting the target interpreter costs more than
compiling a module, so: before the builds of a run, every module they ship that was never
compiled is compiled in one interpreter run per target Python (`precompile`); a build then only
places the kept bytecode (`place`) and runs the compiler itself only for what is still missing.

A pyc depends on the module's bytes, its path in the zip (tracebacks name /var/task/<path>),
the target interpreter, and nothing else (unchecked-hash invalidation, no timestamps): that is
its key. Kept bytecode is a sealed cache object of the entry store (`EntryStore.derived`). An
interpreter updated in place to another patch release keeps its key; its bytecode is still
valid for that minor version (the magic number is per minor).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from lambdapress.bundle._entries import EntryStore
from lambdapress.bundle.bytecode import compile_tree, find_compiler
from lambdapress.bundle.plan import FunctionPlan, SourceFile
from lambdapress.support import files

LAYOUT_VERSION = 1


def pyc_arcname(arcname: str, python: str) -> str:
    """Where CPython `python` looks for the bytecode of the module at `arcname`."""
    path = PurePosixPath(arcname)
    tag = f"cpython-{python.replace('.', '')}"
    return (path.parent / "__pycache__" / f"{path.stem}.{tag}.pyc").as_posix()


def key(compiler: str, python: str, arcname: str, source: bytes) -> str:
    """What a module's bytecode depends on, as one digest."""
    digest = hashlib.sha256(f"{LAYOUT_VERSION}\0{compiler}\0{python}\0{arcname}\0".encode())
    digest.update(hashlib.sha256(source).digest())
    return digest.hexdigest()


def compile_staging(staging: Path, compiler: str, python: str, store: EntryStore) -> None:
    """Put bytecode next to every module under `staging`.

    Kept bytecode where there is some; otherwise everything is compiled (one interpreter run)
    and what was missing is kept.
    """
    modules = _modules(staging)
    missing = [m for m in modules if not _place(staging, m, compiler, python, store)]
    if not missing:
        return
    compile_tree(staging, compiler)
    for module in missing:
        _keep(staging, module, compiler, python, store)


def precompile(functions: Iterable[FunctionPlan], store: EntryStore) -> None:
    """Compile the never-compiled first-party modules of `functions`, one run per target.

    A path that holds different bytes in two functions (a generated entry module) is left to
    each function's own build.
    """
    batches: dict[tuple[str, str], dict[str, bytes]] = {}
    looked_at: dict[tuple[str, str, str], bytes] = {}
    clashes: set[tuple[str, str, str]] = set()
    for function in functions:
        compiler = find_compiler(function.target.python) if function.compile else None
        if compiler is None:
            continue
        python = function.target.python
        batch = batches.setdefault((compiler, python), {})
        for file in function.first_party:
            if not file.arcname.endswith(".py"):
                continue
            source = _source(file)
            seen = looked_at.setdefault((compiler, python, file.arcname), source)
            if seen != source:
                clashes.add((compiler, python, file.arcname))
            elif (
                file.arcname not in batch
                and seen is source  # the first sight of this module
                and store.derived(key(compiler, python, file.arcname, source)) is None
            ):
                batch[file.arcname] = source
    for (interpreter, version), batch in batches.items():
        for arcname in [a for a in batch if (interpreter, version, a) in clashes]:
            del batch[arcname]
        if batch:
            _compile_batch(batch, interpreter, version, store)


def _compile_batch(batch: dict[str, bytes], compiler: str, python: str, store: EntryStore) -> None:
    with files.temporary_folder(store.root / "derived" / "compile") as tree:
        for arcname, source in batch.items():
            target = tree / arcname
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source)
        compile_tree(tree, compiler)
        for arcname in batch:
            _keep(tree, arcname, compiler, python, store)


def _source(file: SourceFile) -> bytes:
    if file.text is not None:
        return file.text.encode("utf-8")
    return file.path.read_bytes() if file.path is not None else b""


def _modules(staging: Path) -> list[str]:
    return sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*.py") if p.is_file())


def _place(staging: Path, arcname: str, compiler: str, python: str, store: EntryStore) -> bool:
    kept = store.derived(key(compiler, python, arcname, (staging / arcname).read_bytes()))
    if kept is None:
        return False
    target = staging / pyc_arcname(arcname, python)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(kept)
    return True


def _keep(tree: Path, arcname: str, compiler: str, python: str, store: EntryStore) -> None:
    compiled = tree / pyc_arcname(arcname, python)
    if compiled.is_file():  # compileall skips nothing it can compile; be safe all the same
        source = (tree / arcname).read_bytes()
        store.keep(key(compiler, python, arcname, source), compiled.read_bytes())
