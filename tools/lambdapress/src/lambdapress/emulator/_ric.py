"""The runtime client a worker runs: the official awslambdaric, installed once per Python version.

awslambdaric is what Lambda's Python runtimes run, so the emulator drives it against its own
Runtime API. It is installed into a folder of its own (never the developer's virtualenv) with
uv, for the exact Python version and this machine's manylinux platform, and reused from there.
awslambdaric ships wheels only for manylinux x86_64 and aarch64; elsewhere (macOS, Windows) the
emulator falls back to `fallback_runtime.py`, a small stdlib loop speaking the same protocol,
and says so.

The installed folder carries a record of every file's sha256, written when it was installed;
the first use in each process compares the folder with it (about 0.1 s for its 35 MB), and a
damaged install is thrown away, installed again and reported in the client's note.
"""

from __future__ import annotations

import hashlib
import platform
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from lambdapress.config.lambda_platform import ARCHITECTURES, architecture_of_machine
from lambdapress.errors import EmulatorError
from lambdapress.support import files
from lambdapress.support.integrity import (
    COMPLETE_MARK,
    folder_problem,
    is_mark,
    read_mark,
    staged_install,
)
from lambdapress.support.toolchain import Interpreter, find_uv

AWSLAMBDARIC = "awslambdaric==4.2.2"


def runtime_sdk() -> str:
    """The boto3 that Lambda's Python runtimes put on the path after the task root.

    /var/runtime holds the runtime client and an AWS SDK, so a function that does not ship its
    own boto3 (`aws_sdk = "runtime"`, the default) still imports it on Lambda: the workers get
    the same, the version lambdapress itself runs with.
    """
    try:
        return f"boto3=={version('boto3')}"
    except PackageNotFoundError:
        return "boto3"


FALLBACK_MODULE = "lambdapress_runtime"
# The platform tag of awslambdaric's Linux wheels.
_RIC_MANYLINUX = "manylinux2014"
RuntimeClientChoice = Literal["auto", "awslambdaric", "fallback"]
_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()
_verified: set[Path] = set()  # folders checked against their record by this process


class RuntimeRecord(BaseModel):
    """What an installed runtime client held when it was installed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    requirement: str
    files: dict[str, str]  # relative POSIX path -> sha256


@dataclass(frozen=True)
class RuntimeClient:
    """A folder to put on the worker's sys.path and the module to run from it."""

    kind: Literal["awslambdaric", "fallback"]
    path: Path
    module: str
    note: str | None = None
    """Why the fallback is used, or that a damaged install was replaced: a one-time warning."""


def wheel_platform(system: str | None = None, machine: str | None = None) -> str | None:
    """uv's `--python-platform` for awslambdaric's wheels on this machine, or None (no wheel)."""
    system = platform.system() if system is None else system
    architecture = architecture_of_machine(platform.machine() if machine is None else machine)
    if system != "Linux" or architecture is None:
        return None
    return f"{ARCHITECTURES[architecture].wheel}-{_RIC_MANYLINUX}"


def runtime_client(
    interpreter: Interpreter,
    cache_dir: Path,
    choice: RuntimeClientChoice = "auto",
    *,
    system: str | None = None,
    on_install: Callable[[str], None] | None = None,
) -> RuntimeClient:
    """The runtime client for workers started with `interpreter`, installing it if needed.

    `on_install` hears, in a sentence, of an install about to start (the first run for a
    Python version downloads awslambdaric: a display can say why the first start is slow).
    """
    system = platform.system() if system is None else system
    target_platform = wheel_platform(system, interpreter.machine)
    if choice == "fallback":
        return fallback_client(cache_dir, "the fallback runtime loop was chosen explicitly")
    if target_platform is None:
        if choice == "awslambdaric":
            raise EmulatorError(
                f"awslambdaric has no wheel for {system} {interpreter.machine}",
                hint="use the fallback runtime client (runtime_client='fallback'), or run on "
                "Linux x86_64/aarch64",
            )
        return fallback_client(
            cache_dir,
            f"awslambdaric has no wheel for {system} {interpreter.machine}: running functions "
            "with lambdapress's pure-Python runtime loop (same protocol, less faithful)",
        )
    return install_awslambdaric(
        interpreter.minor, target_platform, cache_dir, on_install, compiler=interpreter.path
    )


def install_awslambdaric(
    minor: str,
    target_platform: str,
    cache_dir: Path,
    on_install: Callable[[str], None] | None = None,
    *,
    compiler: Path | None = None,
) -> RuntimeClient:
    """Install awslambdaric for Python `minor` once into `cache_dir`; later calls reuse it.

    With `compiler` (the workers' interpreter) the install carries bytecode, as Lambda's
    `/var/runtime` does: workers never write bytecode (`-B`), so without it every cold start
    would compile the runtime client again (about 45 ms here).
    """
    client_version = AWSLAMBDARIC.split("==")[1]
    sdk = runtime_sdk().replace("==", "-")
    compiled = "-pyc" if compiler is not None else ""
    name = f"awslambdaric-{client_version}-{sdk}-py{minor}-{target_platform}{compiled}"
    target = cache_dir / "runtime" / name
    note = None
    with _lock_for(target):
        if target.exists() and target not in _verified:
            problem = damage(target)
            if problem is not None:
                note = (
                    f"the cached runtime client {target} does not match its record ({problem}): "
                    "thrown away and installed again"
                )
                files.discard(target)
        if not target.exists():
            if on_install is not None:
                on_install(f"installing {AWSLAMBDARIC} for Python {minor} (first run only)")
            _install(minor, target_platform, target, compiler)
        _verified.add(target)
    return RuntimeClient("awslambdaric", target, "awslambdaric", note)


def damage(folder: Path) -> str | None:
    """What differs between an installed runtime client and its record; None if nothing."""
    record = read_mark(folder, RuntimeRecord)
    if record is None:
        return f"{COMPLETE_MARK} is missing or unreadable"
    if record.requirement != AWSLAMBDARIC:
        return f"it holds {record.requirement}"
    return folder_problem(folder, record.files, _unrecorded)


def _unrecorded(name: str) -> bool:
    """Whether a file is left out of the record: the record itself, and bytecode.

    Python may write bytecode beside the sources when it imports them (derived, and checked by
    Python against its source).
    """
    return is_mark(name) or "__pycache__/" in f"/{name}"


def _lock_for(path: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(path, threading.Lock())


def _install(minor: str, target_platform: str, target: Path, compiler: Path | None) -> None:
    """Install into a staging folder next to `target`, record it, then rename it into place.

    A concurrent process that finished first keeps its copy. Bytecode is compiled by the
    workers' own interpreter (uv would use whichever Python it finds).
    """
    runtime = target.parent

    def sweep(older_than: float) -> None:
        files.sweep_temporaries(runtime, older_than)

    def record(digests: dict[str, str]) -> RuntimeRecord:
        return RuntimeRecord(requirement=AWSLAMBDARIC, files=digests)

    with files.claim(runtime, sweep), staged_install(target, record, _unrecorded) as staging:
        command = _install_command(minor, target_platform, staging)
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-5:])
            raise EmulatorError(
                f"cannot install {AWSLAMBDARIC} for Python {minor} ({target_platform}):\n{tail}",
                path=target,
                hint="check the connection to the package index (it is needed once), or use "
                "the fallback runtime client",
            )
        if compiler is not None:
            _compile(compiler, staging)


def _compile(compiler: Path, folder: Path) -> None:
    """Write bytecode next to every module of `folder`, for the interpreter `compiler`.

    Best effort: bytecode only saves time, and a module that does not compile fails the same
    way in the worker, where it is imported.
    """
    command = [str(compiler), "-I", "-m", "compileall", "-q", "-j", "0", str(folder)]
    subprocess.run(command, capture_output=True, check=False)


def _install_command(minor: str, target_platform: str, staging: Path) -> list[str]:
    uv = find_uv()
    if uv is not None:
        return [
            uv, "pip", "install", "--quiet", "--target", str(staging),
            "--python-version", minor, "--python-platform", target_platform,
            "--only-binary", ":all:", "--link-mode", "copy", AWSLAMBDARIC, runtime_sdk(),
        ]  # fmt: skip
    pip_platform = f"{_RIC_MANYLINUX}_" + target_platform.split("-")[0]
    return [
        sys.executable, "-m", "pip", "install", "--quiet", "--target", str(staging),
        "--python-version", minor, "--platform", pip_platform,
        "--only-binary=:all:", AWSLAMBDARIC, runtime_sdk(),
    ]  # fmt: skip


def fallback_client(cache_dir: Path, note: str) -> RuntimeClient:
    """Write the fallback loop (a single stdlib module) into a folder of its own."""
    source = resources.files("lambdapress.emulator").joinpath("_fallback_runtime.py").read_bytes()
    digest = hashlib.sha256(source).hexdigest()[:16]
    folder = cache_dir / "runtime" / f"fallback-{digest}"
    module = folder / f"{FALLBACK_MODULE}.py"
    with _lock_for(folder):
        try:
            intact = module.read_bytes() == source  # the folder is named by this digest
        except OSError:
            intact = False
        if not intact:
            files.write_bytes(module, source)
    return RuntimeClient("fallback", folder, FALLBACK_MODULE, note)
