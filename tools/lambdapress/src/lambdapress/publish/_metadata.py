"""Checks on built files before anything is uploaded: the rules of `twine check`, and ours.

twine's own `PackageFile.from_filename` parses and validates each file's core metadata (the
same code `twine upload` runs), and `readme_renderer` renders a reStructuredText description
the way `twine check` does; neither prints. On top of that, rules that matter for shared
model libraries:

- no `Requires-Dist` may carry a URL: poetry-core writes `name @ file:///abs/path` for a
  legacy path dependency, and such a wheel installs nowhere but on the machine that built it;
- a dependency on another package of the workspace needs a version range, or every future
  major version of it would satisfy the published wheel;
- the wheel's name and version are the ones the pyproject declares.

Each problem names the file and says the fix; the plan lists them all rather than the first.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Collection, Sequence
from pathlib import Path

from packaging.metadata import InvalidMetadata, Metadata
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from pydantic import BaseModel, ConfigDict

from lambdapress.errors import DistributionError
from lambdapress.publish._build import BuiltPackage


def path_dependency_fix(name: str) -> str:
    """How to declare a dependency that poetry-core would otherwise write as a path."""
    return (
        f'declare it by name and range in [project] dependencies (e.g. "{name}>=1.2,<2") '
        "and keep the path only in [tool.poetry.dependencies] ({ path = ..., develop = true }) "
        "or [tool.uv.sources]"
    )


class Problem(BaseModel):
    """Something that must be fixed before a file may be published."""

    model_config = ConfigDict(frozen=True)

    file: str
    message: str
    hint: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message} (fix: {self.hint})"


def check_package(
    built: BuiltPackage, pyproject: Path, first_party: Collection[str]
) -> tuple[Problem, ...]:
    """Every problem of the built files; empty when they may be published."""
    problems: list[Problem] = []
    for file in built.files:
        problems.extend(twine_problems(file.path))
    if any(problem.file == built.wheel.filename for problem in problems):
        return tuple(problems)  # twine could not read the wheel's metadata: nothing more to see
    try:
        metadata = wheel_metadata(built.wheel.path)
    except (InvalidMetadata, ExceptionGroup, KeyError, zipfile.BadZipFile) as exc:
        details = exc.exceptions if isinstance(exc, ExceptionGroup) else [exc]
        problems.append(
            Problem(
                file=built.wheel.filename,
                message="unreadable METADATA: " + "; ".join(str(d) for d in details),
                hint=f"fix the [project] table of {pyproject}",
            )
        )
        return tuple(problems)
    problems.extend(identity_problems(built, metadata, pyproject))
    problems.extend(requirement_problems(built.wheel.filename, metadata, pyproject, first_party))
    problems.extend(readme_problems(built.wheel.filename, metadata, pyproject))
    return tuple(problems)


def twine_problems(file: Path) -> list[Problem]:
    """What twine refuses to upload (unknown or malformed fields, unsupported formats)."""
    from twine.exceptions import TwineException
    from twine.package import PackageFile

    try:
        PackageFile.from_filename(str(file), comment=None)
    except TwineException as exc:
        return [
            Problem(
                file=file.name,
                message=str(exc),
                hint="fix the [project] table; twine (the upload client) refuses this file",
            )
        ]
    return []


def ensure_publishable(files: Sequence[Path], pyproject: Path) -> None:
    """The last guard before an upload: twine's checks and no URL or path dependency.

    The plan already refused such files; this holds for any caller of the upload step.
    """
    problems = [problem for file in files for problem in twine_problems(file)]
    for wheel in (f for f in files if f.suffix == ".whl"):
        metadata = wheel_metadata(wheel)
        problems.extend(requirement_problems(wheel.name, metadata, pyproject, ()))
    if problems:
        raise DistributionError(
            "refusing to upload:\n" + "\n".join(f"  - {p.file}: {p.message}" for p in problems),
            path=pyproject,
            hint=problems[0].hint,
        )


def wheel_metadata(wheel: Path) -> Metadata:
    """The validated core metadata (`*.dist-info/METADATA`) of a wheel."""
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if n.count("/") == 1]
        name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        text = archive.read(name).decode("utf-8")
    return Metadata.from_email(text, validate=True)


def identity_problems(built: BuiltPackage, metadata: Metadata, pyproject: Path) -> list[Problem]:
    """The wheel must be the name and version the pyproject declares."""
    problems = []
    if canonicalize_name(metadata.name) != canonicalize_name(built.name):
        problems.append(
            Problem(
                file=built.wheel.filename,
                message=f"is named {metadata.name!r}, the pyproject says {built.name!r}",
                hint=f"build from {pyproject.parent} with its own backend",
            )
        )
    if str(metadata.version) != built.version:
        problems.append(
            Problem(
                file=built.wheel.filename,
                message=f"has version {metadata.version}, the pyproject says {built.version}",
                hint=f'write a normalised version (e.g. "1.2.0") in {pyproject}',
            )
        )
    return problems


def requirement_problems(
    filename: str, metadata: Metadata, pyproject: Path, first_party: Collection[str]
) -> list[Problem]:
    """Dependencies by name and range only; a URL or a local path is refused."""
    ours: set[str] = {canonicalize_name(name) for name in first_party}
    problems = []
    for requirement in metadata.requires_dist or []:
        problems.extend(_requirement_problem(filename, requirement, pyproject, ours))
    return problems


def _requirement_problem(
    filename: str, requirement: Requirement, pyproject: Path, ours: set[str]
) -> list[Problem]:
    if requirement.url is not None:
        where = "a local path" if requirement.url.startswith("file:") else "a URL"
        return [
            Problem(
                file=filename,
                message=f"`Requires-Dist: {requirement}` points at {where}; the wheel would "
                "only install on the machine that built it",
                hint=f"in {pyproject}, {path_dependency_fix(requirement.name)}",
            )
        ]
    if canonicalize_name(requirement.name) in ours and not requirement.specifier:
        return [
            Problem(
                file=filename,
                message=f"`Requires-Dist: {requirement}` has no version range; any future "
                f"(breaking) release of {requirement.name} would satisfy it",
                hint=f'in {pyproject} [project] dependencies, write e.g. "{requirement.name}'
                '>=1.2,<2" (the major version you built and tested against)',
            )
        ]
    return []


def readme_problems(filename: str, metadata: Metadata, pyproject: Path) -> list[Problem]:
    """A reStructuredText description must render, as `twine check` demands."""
    content_type = (metadata.description_content_type or "text/x-rst").split(";")[0].strip()
    if content_type != "text/x-rst" or not metadata.description:
        return []
    from readme_renderer.rst import render

    warnings = io.StringIO()
    if render(metadata.description, stream=warnings) is None:
        return [
            Problem(
                file=filename,
                message="the reStructuredText description does not render: "
                + " ".join(warnings.getvalue().split())[:300],
                hint=f"fix the readme of {pyproject.parent}, or make it Markdown (README.md)",
            )
        ]
    return []
