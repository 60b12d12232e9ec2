"""The SAM baseline: `sam build` on the same workload, as issue 25's table measures it.

AWS SAM CLI is not a dependency of lambdapress: by default the bench runs a pinned release with
`uv tool run --from aws-sam-cli==<SAM_VERSION>` (installed once into uv's cache), finds the
`sam` executable of that environment and calls it directly, so uv's own start-up is not timed.
`--sam sam` takes the `sam` on PATH instead (the tests put a fake one there), `--sam none`
skips SAM. When SAM cannot be installed or run, the bench says why and leaves its ratios out.

`sam build` without `--use-container` builds with the local `python3.11` and pip and never
calls AWS: it still gets fake credentials, no instance metadata and no telemetry.

For each N the workload's copy gets a `template.yaml` with one `AWS::Serverless::Function` per
handler, all with the service's `src/` as CodeUri (SAM builds a CodeUri shared by functions
once, then copies it to each), and `src/requirements.txt` exported from the lock
(`workload.export_requirements`). A function's zip is its build folder zipped as
`sam package` does (`make_zip`: `zipfile` with deflate at zlib's default level).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lambdapress.bench._workload import (
    ARCHITECTURE,
    RUNTIME,
    SERVICE,
    Workload,
    export_requirements,
    handler_module,
)
from lambdapress.errors import ToolchainError

SAM_VERSION = "1.170.0"
"""The aws-sam-cli release the bench pins (installs on Python 3.11 to 3.13)."""
SAM_PACKAGE = "aws-sam-cli"
BUILD_FOLDER = ".aws-sam"
SAM_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "SAM_CLI_TELEMETRY": "0",
}
_TIMEOUT = 1800.0


@dataclass(frozen=True)
class SamCli:
    """A `sam` executable that answered `--version`."""

    executable: Path
    version: str
    """What `sam --version` printed (`SAM CLI, version 1.170.0`)."""


@dataclass(frozen=True)
class SamUnavailable:
    """Why there is no SAM baseline in this run."""

    reason: str


def locate_sam(choice: str, version: str = SAM_VERSION) -> SamCli | SamUnavailable:
    """The `sam` to time: `uv` (the pinned release), `none`, or a command or path.

    Never raises for a SAM that cannot be had: the bench goes on without its ratios.
    """
    if choice == "none":
        return SamUnavailable("skipped (--sam none)")
    if choice == "uv":
        found = _sam_from_uv(version)
        if isinstance(found, SamUnavailable):
            return found
        executable = found
    else:
        which = shutil.which(choice)
        if which is None:
            return SamUnavailable(f"`{choice}` is not an executable (on PATH or at that path)")
        executable = Path(which)
    try:
        result = subprocess.run(
            [str(executable), "--version"],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
            env=sam_environment(os.environ),
        )
    except OSError as exc:
        return SamUnavailable(f"{executable} cannot be run: {exc}")
    if result.returncode != 0:
        return SamUnavailable(f"`{executable} --version` failed: {_tail(result)}")
    return SamCli(executable, result.stdout.strip() or result.stderr.strip())


def _sam_from_uv(version: str) -> Path | SamUnavailable:
    """The `sam` of the environment `uv tool run` makes for the pinned release."""
    if shutil.which("uv") is None:
        return SamUnavailable("uv is not on PATH, so aws-sam-cli cannot be installed")
    command = [
        "uv",
        "tool",
        "run",
        "--from",
        f"{SAM_PACKAGE}=={version}",
        "python",
        "-c",
        "import shutil; print(shutil.which('sam') or '')",
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return SamUnavailable(f"{SAM_PACKAGE}=={version} could not be installed: {exc}")
    found = result.stdout.strip().splitlines()[-1:] if result.returncode == 0 else []
    if not found or not found[0]:
        return SamUnavailable(
            f"{SAM_PACKAGE}=={version} could not be installed with `uv tool run` "
            f"(no package index?): {_tail(result)}"
        )
    return Path(found[0])


def sam_environment(base: Mapping[str, str]) -> dict[str, str]:
    """`base` with fake AWS credentials, no instance metadata and no telemetry."""
    return {**base, **SAM_ENVIRONMENT}


def logical_id(index: int) -> str:
    """The template's resource name of handler `index` (`Handler0007`)."""
    return f"Handler{index:04d}"


def write_sam_project(workload: Workload, count: int) -> Path:
    """`template.yaml` for `count` handlers and the CodeUri's `requirements.txt`."""
    code_uri = workload.code_folder.relative_to(workload.root).as_posix()
    lines = [
        "# Generated by `lambdapress bench`: the SAM baseline of issue 25's workload.",
        "AWSTemplateFormatVersion: '2010-09-09'",
        "Transform: AWS::Serverless-2016-10-31",
        "Resources:",
    ]
    for index in range(count):
        lines += [
            f"  {logical_id(index)}:",
            "    Type: AWS::Serverless::Function",
            "    Properties:",
            f"      CodeUri: {code_uri}",
            f"      Handler: {SERVICE}.handlers.{handler_module(index)}.handler",
            f"      Runtime: {RUNTIME}",
            f"      Architectures: [{ARCHITECTURE}]",
        ]
    (workload.code_folder / "requirements.txt").write_text(export_requirements(workload))
    template = workload.root / "template.yaml"
    template.write_text("\n".join(lines) + "\n")
    return template


def clean(workload: Workload) -> None:
    """No `.aws-sam`: the next `sam build` builds everything (its cache gone too)."""
    shutil.rmtree(workload.root / BUILD_FOLDER, ignore_errors=True)


def timed_build(sam: SamCli, workload: Workload, *, cached: bool) -> float:
    """Seconds `sam build` (`--cached`) takes in `workload`; a ToolchainError if it fails."""
    command = [str(sam.executable), "build", *(["--cached"] if cached else [])]
    started = time.perf_counter()
    try:
        result = subprocess.run(
            command,
            cwd=workload.root,
            capture_output=True,
            text=True,
            check=False,
            timeout=_TIMEOUT,
            env=sam_environment(os.environ),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolchainError(
            f"bench: `{' '.join(command[1:])}` did not finish: {exc}", path=workload.root
        ) from None
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise ToolchainError(
            f"bench: `{' '.join(command[1:])}` failed with {sam.version}: {_tail(result)}",
            path=workload.root,
            hint="run it by hand in that folder to see why, or skip SAM with --sam none",
        )
    return elapsed


def zip_built_function(workload: Workload, index: int, destination: Path) -> Path:
    """Handler `index`'s build folder zipped the way `sam package` zips it.

    As SAM's `make_zip`: every file under the folder (links followed), deflated at zlib's
    default level, dated 1980, mode 0755.
    """
    source = workload.root / BUILD_FOLDER / "build" / logical_id(index)
    if not source.is_dir():
        raise ToolchainError(
            f"bench: `sam build` left no {source.relative_to(workload.root)}",
            path=workload.root,
            hint="run `sam build` by hand in that folder to see what it built",
        )
    destination.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED) as archive:
        for folder, _dirs, names in os.walk(source, followlinks=True):
            for name in names:
                path = Path(folder) / name
                info = zipfile.ZipInfo(path.relative_to(source).as_posix())
                info.create_system = 3
                info.external_attr = 0o100755 << 16
                archive.writestr(info, path.read_bytes(), compress_type=zipfile.ZIP_DEFLATED)
    return destination


def _tail(result: subprocess.CompletedProcess[str]) -> str:
    said = (result.stderr or "").strip() or (result.stdout or "").strip()
    return said[-600:] or f"exit status {result.returncode}"
