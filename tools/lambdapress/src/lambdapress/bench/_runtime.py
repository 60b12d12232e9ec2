"""The import time of lambdapress-runtime, for `lambdapress bench`, when the build ships it.

Every handler that uses the runtime pays its import in each cold start, so the issue sets a
budget (under 5 ms). It is measured as Lambda would see it: the package copied out of this
environment and compiled to bytecode the way the bundler compiles a zip, then imported by fresh
interpreters (`-X importtime`, the cumulative figure, median of several runs). The baseline is
`json` measured the same way in the same minute: a stdlib module awslambdaric itself imports,
so the ratio says what the runtime costs in units of something every function already pays.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from lambdapress.bundle.bytecode import compile_tree
from lambdapress.model.application import Application

RUNTIME_MODULE = "lambdapress_runtime"
BASELINE_MODULE = "json"


@dataclass(frozen=True)
class ImportTime:
    """Median cumulative import times, in milliseconds, of the runtime and of the baseline."""

    runtime_ms: float
    baseline_ms: float
    runs: int
    functions: int  # how many functions of the build ship the runtime


def functions_shipping_runtime(manifest: Application) -> int:
    """How many functions' zips hold the runtime (from source or as a built wheel)."""
    return sum(
        1
        for f in manifest.functions
        if "lambdapress-runtime" in f.contents.distributions
        or any(m.split(".")[0] == RUNTIME_MODULE for m in f.contents.modules)
    )


def measure_runtime_import(manifest: Application, runs: int = 9) -> ImportTime | None:
    """The runtime's import time; None when no function ships it or it is not installed here.

    The copy measured is the one installed in this environment: the one `package` shipped.
    """
    functions = functions_shipping_runtime(manifest)
    spec = find_spec(RUNTIME_MODULE)
    if not functions or spec is None or not spec.submodule_search_locations:
        return None
    source = Path(next(iter(spec.submodule_search_locations)))
    with tempfile.TemporaryDirectory(prefix="lambdapress-bench-runtime-") as folder:
        shutil.copytree(
            source, Path(folder) / RUNTIME_MODULE, ignore=shutil.ignore_patterns("__pycache__")
        )
        compile_tree(Path(folder), sys.executable)
        runtime = [_import_ms(RUNTIME_MODULE, Path(folder)) for _ in range(runs)]
        baseline = [_import_ms(BASELINE_MODULE, None) for _ in range(runs)]
    return ImportTime(statistics.median(runtime), statistics.median(baseline), runs, functions)


def _import_ms(module: str, folder: Path | None) -> float:
    """One fresh interpreter's cumulative `-X importtime` figure for `module`, in ms.

    `-I` keeps the caller's environment out (PYTHONDONTWRITEBYTECODE among others: on Lambda
    the bytecode in the zip is what gets loaded); `-S` keeps this machine's site hooks (.pth
    files of the virtualenv) out; `os`, which every Lambda runtime has loaded before a handler,
    is imported first so that it is not counted.
    """
    path = f"sys.path.insert(0, {str(folder)!r}); " if folder else ""
    code = f"import os, sys; {path}import {module}"
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    for line in reversed(result.stderr.splitlines()):
        fields = [field.strip() for field in line.split("|")]
        if len(fields) == 3 and fields[2] == module:
            return int(fields[1]) / 1000
    raise RuntimeError(f"`-X importtime` reported no line for {module}: {result.stderr[-500:]}")
