"""Bytecode compiled for the target Python, so Lambda's read-only task root never recompiles.

Lambda cannot write `__pycache__` under /var/task, so without shipped bytecode every cold start
compiles every module it imports (boto3: ~400 ms instead of ~140 ms). Timestamp-based pycs go
stale through a zip (2-second times, no zone), so they are compiled with unchecked-hash
invalidation, by an interpreter of the exact target version, with tracebacks naming
/var/task paths as on Lambda.

Third-party code can ship that bytecode without its sources (`bytecode_only_layout`): CPython
imports a sourceless `module.pyc` from where `module.py` would be (never from `__pycache__`),
and its tracebacks still name the file and line, only without the line's text.
"""

from __future__ import annotations

import functools
import json
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

from lambdapress.errors import BundleError
from lambdapress.support import files
from lambdapress.support.toolchain import find_interpreter

TASK_ROOT = "/var/task"


@functools.cache
def find_compiler(python: str) -> str | None:
    """An interpreter of version `python` ("3.12") on this machine; None when there is none.

    Found as the emulator finds the one its workers run on, by starting candidates (a pyenv
    shim costs a shell and pyenv's own lookup: 0.1 to 0.3 s each). An interpreter found by an
    earlier run (`remember_compilers`) is taken without starting anything while its file is
    the same (size, mtime, inode, ctime).
    """
    known = _known.get(python)
    if known is not None and _identity(Path(known[0])) == known[1]:
        return known[0]
    choice = find_interpreter(python)
    if not choice.exact:
        return None
    path = str(choice.interpreter.path)
    identity = _identity(choice.interpreter.path)
    if identity is not None:
        _known[python] = (path, identity)
    return path


_KNOWN_FILE = "interpreters.json"
_known: dict[str, tuple[str, tuple[int, ...] | None]] = {}


def remember_compilers(folder: Path | None) -> Callable[[], None]:
    """Take the interpreters earlier runs found from `folder`; returns what saves this run's.

    A file that is damaged or from another layout is ignored (interpreters are found again).
    """
    if folder is None:
        return lambda: None
    path = folder / _KNOWN_FILE
    try:
        document = json.loads(path.read_bytes())
        for version, (interpreter, identity) in document.items():
            _known.setdefault(str(version), (str(interpreter), tuple(int(i) for i in identity)))
    except (OSError, ValueError, TypeError, AttributeError):
        pass

    loaded = dict(_known)

    def save() -> None:
        if _known == loaded:
            return
        found = {version: [p, list(i or ())] for version, (p, i) in sorted(_known.items())}
        files.write_text(path, json.dumps(found, sort_keys=True))

    return save


def _identity(path: Path) -> tuple[int, ...] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return (status.st_size, status.st_mtime_ns, status.st_ino, status.st_ctime_ns)


TREE_OPTIONS = f"compileall unchecked-hash -d {TASK_ROOT}"
"""How `compile_tree` compiles, in words: part of the key of every prepared wheel in the
user-level cache (`bundle.wheel_cache`), so a change to its command must change this too."""


def bytecode_only_options(docstrings: bool) -> str:
    """How `compile_bytecode_only` compiles, in words (see `TREE_OPTIONS`)."""
    kept = "docstrings" if docstrings else "no-docstrings"
    return f"sourceless optimize=0 no_debug_ranges {kept} unchecked-hash {TASK_ROOT}"


def compile_tree(folder: Path, compiler: str) -> None:
    """Write `__pycache__/*.cpython-3XX.pyc` next to every module under `folder`."""
    command = [
        compiler,
        "-m",
        "compileall",
        "-q",
        "-j",
        "0",
        "-d",
        TASK_ROOT,
        "--invalidation-mode",
        "unchecked-hash",
        str(folder),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()
        raise BundleError(
            f"compiling bytecode failed: {output[-1] if output else 'no output'}",
            path=folder,
            hint="the code must be valid Python for the function's runtime",
        )


# Run by the target interpreter (any CPython 3.8+) with `-X no_debug_ranges`: each module's
# source, parsed (without docstrings when argv[1] is "strip"), compiled at optimization level 0
# (asserts and `__debug__` as in normal runs) into an unchecked-hash pyc.
# Input on stdin: JSON [[source, pyc, name in tracebacks], ...].
_SHIPPED_BYTECODE = """
import ast, importlib.util, json, sys
from importlib._bootstrap_external import _code_to_hash_pyc

def strip(tree):
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \\
                and isinstance(body[0].value.value, str):
            if len(body) == 1:
                body[0] = ast.copy_location(ast.Pass(), body[0])
            else:
                del body[0]
    return tree

for source, pyc, name in json.load(sys.stdin):
    with open(source, "rb") as handle:
        data = handle.read()
    tree = ast.parse(data, name)
    if sys.argv[1] == "strip":
        tree = strip(tree)
    code = compile(tree, name, "exec", dont_inherit=True, optimize=0)
    with open(pyc, "xb") as handle:
        handle.write(_code_to_hash_pyc(code, importlib.util.source_hash(data), False))
"""


def compile_bytecode_only(
    modules: list[tuple[Path, Path, str]], compiler: str, *, docstrings: bool
) -> None:
    """Write each (source, pyc, arcname) module's bytecode for shipping without its source.

    Column positions are left out (`-X no_debug_ranges`, Python 3.11+): they only place the
    `^^^^` markers under a traceback's source line, which a module shipped without its source
    never shows; file and line stay. That is a quarter of pydantic's compressed bytecode.
    Without `docstrings`, `__doc__` is None as under `-OO`, and nothing else changes: `-O`
    would also drop every `assert` and turn `__debug__` off, changing what third-party code
    does, for 0.3% of the bytes (measured on pydantic). Tracebacks name `/var/task/<arcname>`.
    `pyc` must not exist (it is created, never written through a link).
    """
    if not modules:
        return
    jobs = [[str(source), str(pyc), f"{TASK_ROOT}/{arcname}"] for source, pyc, arcname in modules]
    mode = "keep" if docstrings else "strip"
    result = subprocess.run(
        [compiler, "-I", "-X", "no_debug_ranges", "-c", _SHIPPED_BYTECODE, mode],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines() or ["no output"]
        raise BundleError(
            f"compiling third-party bytecode failed: {output[-1]}",
            path=modules[0][0].parent,
            hint="the code must be valid Python for the function's runtime; "
            'sources = "all" in [tool.lambdapress] ships it as installed',
        )


def cache_tag(python: str) -> str:
    """The tag of bytecode files compiled by CPython `python` ("3.12" -> "cpython-312")."""
    return "cpython-" + python.replace(".", "")


def bytecode_only_layout(names: Iterable[str], python: str) -> dict[str, str]:
    """Where each file of a compiled folder goes when its modules ship as bytecode only.

    `names` are the folder's relative POSIX paths; the result maps each path of the new
    layout to the path it comes from. `pkg/__pycache__/mod.cpython-312.pyc` becomes
    `pkg/mod.pyc` and `pkg/mod.py` is left out; a source without bytecode keeps its source,
    and every other file (extensions, data, dist-info) stays where it is.
    """
    suffix = f".{cache_tag(python)}.pyc"
    present = set(names)
    layout: dict[str, str] = {}
    replaced: set[str] = set()
    for name in sorted(present):
        path = PurePosixPath(name)
        if path.parent.name != "__pycache__":
            continue
        if not path.name.endswith(suffix):
            continue
        folder = path.parent.parent
        source = (folder / (path.name[: -len(suffix)] + ".py")).as_posix()
        if source in present:
            layout[source.removesuffix(".py") + ".pyc"] = name
            replaced.add(source)
    for name in sorted(present):
        if name in replaced or "__pycache__" in PurePosixPath(name).parts:
            continue
        layout.setdefault(name, name)
    return layout
