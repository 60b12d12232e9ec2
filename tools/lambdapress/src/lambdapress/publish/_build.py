"""Building a shared package into an sdist and a wheel, reproducibly, through PEP 517.

`build` (the PyPA frontend library) drives the package's own backend (poetry-core) in an
isolated environment, the way `python -m build` does: the sdist is built from the source
folder, then the wheel from the unpacked sdist, which also proves the sdist is complete.

Reproducible: the backend runs with a fixed SOURCE_DATE_EPOCH (whatever the caller's
environment says), so the same source gives byte-identical files wherever it is checked out.
That is what lets a later run tell "already published" from "changed without a version bump"
by comparing hashes.

Nothing half-built is left: files are built in a temporary folder next to the destination,
which replaces `<out>/<name>-<version>/` only once both files exist.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from lambdapress.config.pyproject import PYPROJECT
from lambdapress.config.workspace import Package
from lambdapress.errors import BuildError
from lambdapress.support.toolchain import find_uv

REPRODUCIBLE_EPOCH = 315532800
"""1980-01-01T00:00:00Z, the earliest time a zip file can hold."""

Distribution = Literal["sdist", "wheel"]


class BuiltFile(BaseModel):
    """One built distribution file."""

    model_config = ConfigDict(frozen=True)

    path: Path
    kind: Distribution
    sha256: str
    size: int

    @property
    def filename(self) -> str:
        """The file's name (what an index lists)."""
        return self.path.name


class BuiltPackage(BaseModel):
    """The sdist and the wheel of one package version."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    sdist: BuiltFile
    wheel: BuiltFile

    @property
    def files(self) -> tuple[BuiltFile, BuiltFile]:
        """Wheel first: the file installers want, uploaded first."""
        return (self.wheel, self.sdist)


def build_package(package: Package, out_dir: Path) -> BuiltPackage:
    """Build `package` into `out_dir/<name>-<version>/` (replacing an earlier build)."""
    pyproject = package.path / PYPROJECT
    if package.version is None:
        raise BuildError(
            f"package {package.name!r} has a dynamic version; publishing needs a fixed one",
            path=pyproject,
            hint='set `version = "X.Y.Z"` in [project]',
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{package.name}-{package.version}"
    staging = Path(tempfile.mkdtemp(prefix=".build-", dir=out_dir))
    try:
        dist = staging / "dist"
        sdist = build_distribution(package.path, "sdist", dist, pyproject=pyproject)
        unpacked = unpack_sdist(sdist, staging / "src")
        wheel = build_distribution(unpacked, "wheel", dist, pyproject=pyproject)
        _replace_dir(dist, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BuiltPackage(
        name=package.name,
        version=package.version,
        sdist=describe_file(target / sdist.name, "sdist"),
        wheel=describe_file(target / wheel.name, "wheel"),
    )


def describe_file(path: Path, kind: Distribution) -> BuiltFile:
    """Hash and size of a distribution file."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return BuiltFile(path=path, kind=kind, sha256=digest, size=path.stat().st_size)


def build_distribution(
    source: Path, distribution: Distribution, out: Path, *, pyproject: Path
) -> Path:
    """Run the backend's build hook for one distribution in an isolated environment."""
    from build import BuildBackendException, BuildException, ProjectBuilder
    from build.env import DefaultIsolatedEnv

    out.mkdir(parents=True, exist_ok=True)
    try:
        with DefaultIsolatedEnv(installer=_installer()) as env:
            builder = ProjectBuilder.from_isolated_env(env, source, runner=_reproducible_runner)
            env.install(builder.build_system_requires)
            env.install(builder.get_requires_for_build(distribution))
            return Path(builder.build(distribution, out))
    except BuildBackendException as exc:
        raise BuildError(
            f"the build backend failed to build the {distribution}: {_tail(exc.exception)}",
            path=pyproject,
            hint="fix [build-system] and [tool.poetry] in this file; `python -m build` in the "
            "package folder shows the whole output",
        ) from None
    except (BuildException, subprocess.CalledProcessError) as exc:
        raise BuildError(
            f"cannot prepare the build environment for the {distribution}: {_tail(exc)}",
            path=pyproject,
            hint="check [build-system] requires (e.g. poetry-core>=2.0) and access to the "
            "package index that provides it",
        ) from None


def _installer() -> Literal["uv", "pip"]:
    """uv builds the isolated environment in a fraction of pip's time, when it is there."""
    if find_uv() is not None:
        return "uv"
    return "pip"


def _reproducible_runner(
    cmd: Sequence[str], cwd: str | None = None, extra_environ: Mapping[str, str] | None = None
) -> None:
    """Run a backend hook quietly (its output goes into the error) with a fixed epoch."""
    env = {**os.environ, **(extra_environ or {}), "SOURCE_DATE_EPOCH": str(REPRODUCIBLE_EPOCH)}
    subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=True)


def _tail(exc: BaseException, lines: int = 15) -> str:
    """The exception and the last lines of the program's output, for an error message."""
    text = ""
    for stream in (getattr(exc, "stdout", None), getattr(exc, "stderr", None)):
        if isinstance(stream, bytes):
            text += stream.decode("utf-8", "replace") + "\n"
        elif isinstance(stream, str):
            text += stream + "\n"
    kept = [line for line in text.splitlines() if line.strip()][-lines:]
    return "\n    ".join([str(exc), *kept])


def unpack_sdist(sdist: Path, into: Path) -> Path:
    """Extract an sdist safely (no paths outside `into`) and return its top folder."""
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(sdist) as archive:
        archive.extractall(into, filter="data")
    tops = [child for child in into.iterdir() if child.is_dir()]
    if len(tops) != 1:
        raise BuildError(
            f"the sdist {sdist.name} does not hold exactly one top folder",
            hint="this is a build backend problem; check [build-system] in the package",
        )
    return tops[0]


def _replace_dir(new: Path, target: Path) -> None:
    """Put `new` at `target` with renames only, so `target` is never half-written."""
    trash = target.with_name(f".{target.name}.old")
    shutil.rmtree(trash, ignore_errors=True)
    if target.exists():
        target.rename(trash)
    new.rename(target)
    shutil.rmtree(trash, ignore_errors=True)
