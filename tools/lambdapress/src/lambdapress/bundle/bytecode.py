"""Bytecode compiled for the target Python, so Lambda's read-only task root never recompiles.

Lambda cannot write `__pycache__` under /var/task, so without shipped bytecode every cold start
compiles every module it imports (boto3: ~400 ms instead of ~140 ms). Timestamp-based pycs go
stale through a zip (2-second times, no zone), so they are compiled with unchecked-hash
invalidation, by an interpreter of the exact target version, with tracebacks naming
/var/task paths as on Lambda.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

from lambdapress.errors import BundleError

TASK_ROOT = "/var/task"


@functools.cache
def find_compiler(python: str) -> str | None:
    """An interpreter of version `python` ("3.12"): this one, or one found on the machine.

    Looked for as `python3.12` on PATH, then as uv finds interpreters (its managed ones and
    PATH), then in pyenv's versions folder (pyenv's shims fail for versions not selected).
    """
    if f"{sys.version_info.major}.{sys.version_info.minor}" == python:
        return sys.executable
    candidates = [shutil.which(f"python{python}"), _uv_find(python)]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += [str(p) for p in sorted(pyenv.glob(f"{python}*/bin/python{python}"))]
    for candidate in candidates:
        if candidate is not None and _version_of(candidate) == python:
            return candidate
    return None


def _version_of(interpreter: str) -> str | None:
    try:
        probe = subprocess.run(
            [interpreter, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    except OSError:
        return None
    return probe.stdout.strip() if probe.returncode == 0 else None


def _uv_find(python: str) -> str | None:
    uv = shutil.which("uv")
    if uv is None:
        return None
    found = subprocess.run(
        [uv, "python", "find", "--no-project", python],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return found.stdout.strip() or None if found.returncode == 0 else None


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
