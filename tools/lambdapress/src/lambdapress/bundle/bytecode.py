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
import subprocess
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from lambdapress.errors import BundleError
from lambdapress.toolchain import find_interpreter

TASK_ROOT = "/var/task"


@functools.cache
def find_compiler(python: str) -> str | None:
    """An interpreter of version `python` ("3.12") on this machine; None when there is none.

    Found as the emulator finds the one its workers run on.
    """
    choice = find_interpreter(python)
    return str(choice.interpreter.path) if choice.exact else None


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
