"""Bytecode compiled for the target Python, so Lambda's read-only task root never recompiles.

Lambda cannot write `__pycache__` under /var/task, so without shipped bytecode every cold start
compiles every module it imports (boto3: ~400 ms instead of ~140 ms). Timestamp-based pycs go
stale through a zip (2-second times, no zone), so they are compiled with unchecked-hash
invalidation, by an interpreter of the exact target version, with tracebacks naming
/var/task paths as on Lambda.
"""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

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
