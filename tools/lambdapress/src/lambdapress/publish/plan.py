"""What `publish` would do, decided from facts gathered beforehand, without disk or network.

`publisher.gather` builds, checks and asks the index; what it found becomes `PackageFacts`,
and `decide` turns facts into a `PackagePlan`: publish, up to date, or blocked, always with
the reasons. Keeping the decision pure means every rule (never overwrite a version, the
compatibility gate, stale tags) is tested by building facts by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from packaging.version import Version
from pydantic import BaseModel, ConfigDict

from lambdapress.errors import PublishError
from lambdapress.publish._compat import Bump, CompatReport
from lambdapress.publish._metadata import Problem
from lambdapress.publish._simple import IndexFile

Status = Literal["publish", "up-to-date", "blocked"]


class PlannedFile(BaseModel):
    """A built file and its hash."""

    model_config = ConfigDict(frozen=True)

    filename: str
    kind: Literal["wheel", "sdist"]
    sha256: str
    size: int
    path: Path


class PackageFacts(BaseModel):
    """Everything known about one package before deciding."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    pyproject: Path
    index: str
    explicit: bool
    """Named on the command line: then an existing version is an error even if identical."""
    files: tuple[PlannedFile, ...]
    problems: tuple[Problem, ...] = ()
    published: tuple[IndexFile, ...] = ()
    baseline: str | None = None
    compat: CompatReport | None = None
    tag: str
    tag_requested: bool = False
    tag_exists: bool = False


class PackagePlan(BaseModel):
    """The decision for one package."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    pyproject: Path
    status: Status
    reasons: tuple[str, ...]
    hint: str = ""
    tag: str
    files: tuple[PlannedFile, ...]
    published_versions: tuple[str, ...]
    baseline: str | None
    compat: CompatReport | None


class PublishPlan(BaseModel):
    """The decisions for every selected package, for one index."""

    model_config = ConfigDict(frozen=True)

    index: str
    index_url: str
    upload_url: str
    credentials_from: str
    create_tags: bool
    packages: tuple[PackagePlan, ...]

    @property
    def blocked(self) -> tuple[PackagePlan, ...]:
        """Packages that must not be published as they are."""
        return tuple(p for p in self.packages if p.status == "blocked")

    @property
    def to_publish(self) -> tuple[PackagePlan, ...]:
        """Packages that will be uploaded, in upload order."""
        return tuple(p for p in self.packages if p.status == "publish")

    def refusal(self) -> PublishError | None:
        """The error that stops this plan, naming every blocked package; None when it may run."""
        blocked = self.blocked
        if not blocked:
            return None
        lines = []
        for package in blocked:
            lines.append(f"{package.name} {package.version} cannot be published:")
            lines.extend(f"  - {reason}" for reason in package.reasons)
        hints = [p.hint for p in blocked if p.hint]
        return PublishError(
            "\n".join(lines) + "\nnothing was uploaded",
            path=blocked[0].pyproject,
            hint="; ".join(dict.fromkeys(hints)) or None,
        )


def baseline_version(published: tuple[Version, ...], version: str) -> str | None:
    """The highest published version below `version`: what the gate compares against."""
    lower = [v for v in published if v < Version(version)]
    return str(max(lower)) if lower else None


def next_version(baseline: str, bump: Bump) -> str:
    """The smallest version after `baseline` with the given bump, e.g. 1.4.2 + minor = 1.5.0."""
    major, minor, patch = (*Version(baseline).release, 0, 0)[:3]
    if bump == "major":
        return f"{major + 1}.0.0"
    if bump == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def decide(facts: PackageFacts) -> PackagePlan:
    """Publish, up to date or blocked, with the reasons and the fix."""
    status, reasons, hint = _decision(facts)
    versions = tuple(str(v) for v in sorted({Version(f.version) for f in facts.published}))
    return PackagePlan(
        name=facts.name,
        version=facts.version,
        pyproject=facts.pyproject,
        status=status,
        reasons=reasons,
        hint=hint,
        tag=facts.tag,
        files=facts.files,
        published_versions=versions,
        baseline=facts.baseline,
        compat=facts.compat,
    )


def _decision(facts: PackageFacts) -> tuple[Status, tuple[str, ...], str]:
    if facts.problems:
        return "blocked", tuple(str(p) for p in facts.problems), facts.problems[0].hint
    same_version = [f for f in facts.published if Version(f.version) == Version(facts.version)]
    if same_version:
        return _already_published(facts, same_version)
    if facts.tag_requested and facts.tag_exists:
        return (
            "blocked",
            (f"the tag {facts.tag} already exists",),
            f"bump the version, or delete the stale tag (git tag -d {facts.tag})",
        )
    if facts.baseline is None:
        return "publish", (f"first release on index {facts.index!r}",), ""
    if facts.compat is None:
        return "blocked", (f"the models were not compared with {facts.baseline}",), ""
    report = facts.compat
    if not report.ok:
        breaking = [
            f"{c.model}: {c.describe()}"
            for model in report.models
            for c in model.changes
            if c.breaking or report.required_bump != "major"
        ]
        suggestion = next_version(report.baseline, report.required_bump)
        return (
            "blocked",
            (report.summary(), *breaking),
            f"publish as {suggestion} (a {report.required_bump} bump: set version in "
            f"{facts.pyproject}), or keep the change compatible (new fields optional, "
            "nothing removed or retyped)",
        )
    return "publish", (report.summary(),), ""


def _already_published(
    facts: PackageFacts, same_version: list[IndexFile]
) -> tuple[Status, tuple[str, ...], str]:
    remote = {f.filename: f.sha256 for f in same_version}
    identical = all(remote.get(f.filename) == f.sha256 for f in facts.files)
    where = f"{facts.name} {facts.version} is already on index {facts.index!r}"
    hint = f"bump `version` in {facts.pyproject}; a published version is never overwritten"
    if identical and not facts.explicit:
        return "up-to-date", (f"{where} with identical files",), ""
    if identical:
        return "blocked", (f"{where} (identical files); it is never overwritten",), hint
    return (
        "blocked",
        (f"{where} with different files: the source changed since it was published",),
        hint,
    )
