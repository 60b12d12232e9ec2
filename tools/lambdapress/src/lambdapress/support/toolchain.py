"""The programs lambdapress runs: uv, and a Python of the version a Lambda runtime needs.

The bundler compiles bytecode with, and the emulator's workers run on, the same minor version
as the function's runtime: bytecode and compiled extensions (pydantic-core) are built for it.
Interpreters are found the same way for both. Candidates, in order: an explicit
choice, `python3.X` on PATH, pyenv's and uv's installed versions, then the interpreter running
lambdapress. Each candidate is actually started once (a pyenv shim for a version that is not
activated exists on PATH but fails), and the answer is cached for the process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from lambdapress.errors import ToolchainError

_PROBE = (
    "import sys, platform; "
    "print('%d.%d.%d' % sys.version_info[:3], platform.machine(), sys.executable, sep='\\n')"
)


@dataclass(frozen=True)
class Interpreter:
    """A Python interpreter on this machine, as probed: its path, version and machine."""

    path: Path
    version: str
    """`3.12.1`"""
    machine: str
    """`x86_64`, `aarch64`, `arm64`..."""

    @property
    def minor(self) -> str:
        """The minor version, e.g. `3.12`."""
        return ".".join(self.version.split(".")[:2])


@dataclass(frozen=True)
class Choice:
    """The interpreter chosen for a runtime's Python version, and which version was wanted."""

    interpreter: Interpreter
    wanted: str
    """The minor version the runtime asks for."""

    @property
    def exact(self) -> bool:
        """Whether the chosen interpreter is the version the runtime asks for."""
        return self.interpreter.minor == self.wanted


_cache: dict[Path, Interpreter | None] = {}
_lock = threading.Lock()


def probe(path: Path) -> Interpreter | None:
    """Start `path` once and ask its version; None when it does not run."""
    with _lock:
        if path in _cache:
            return _cache[path]
    try:
        result = subprocess.run(
            [str(path), "-I", "-S", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        found = None
    else:
        fields = result.stdout.splitlines()
        ok = result.returncode == 0 and len(fields) == 3
        # The real executable, not a shim: pyenv's shims cost a shell start on every worker.
        found = Interpreter(Path(fields[2]), fields[0], fields[1]) if ok else None
    with _lock:
        _cache[path] = found
    return found


def find_uv() -> str | None:
    """The uv executable; None when there is none.

    The one installed with lambdapress (its version is locked), else the one on PATH.
    """
    try:
        from uv import find_uv_bin  # type: ignore[import-not-found,unused-ignore]

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def candidates(minor: str, environ: Mapping[str, str] | None = None) -> Iterator[Path]:
    """Interpreters of Python `minor` that may be installed here, most likely first."""
    env = os.environ if environ is None else environ
    on_path = shutil.which(f"python{minor}", path=env.get("PATH"))
    if on_path:
        yield Path(on_path)
    pyenv_root = Path(env.get("PYENV_ROOT") or Path.home() / ".pyenv")
    yield from sorted(pyenv_root.glob(f"versions/{minor}.*/bin/python{minor}"), reverse=True)
    uv_root = Path(env.get("UV_PYTHON_INSTALL_DIR") or Path.home() / ".local/share/uv/python")
    yield from sorted(uv_root.glob(f"cpython-{minor}.*/bin/python{minor}"), reverse=True)


def find_interpreter(
    minor: str, *, explicit: Path | None = None, environ: Mapping[str, str] | None = None
) -> Choice:
    """The best interpreter for Python `minor` (`3.12`); `Choice.exact` says whether it matches.

    An explicit path is used as given (and reported as a mismatch if it is another version).
    Without a match, the interpreter running lambdapress is used.
    """
    if explicit is not None:
        found = probe(explicit)
        if found is None:
            raise ToolchainError(
                f"the Python interpreter {explicit} does not start",
                hint="pass the path of a working python3.X executable",
            )
        return Choice(found, minor)
    for path in candidates(minor, environ):
        found = probe(path)
        if found is not None and found.minor == minor:
            return Choice(found, minor)
    current = probe(Path(sys.executable))
    if current is None:  # pragma: no cover - the running interpreter always starts
        raise RuntimeError(f"cannot run {sys.executable}")
    return Choice(current, minor)
