"""What a bench run found, and what it means: figures, ratios and issue 25's bars.

Pure data and arithmetic: no building, no timing, no printing. The measuring modules fill the
models; the CLI prints `BenchReport.measurements`, `issue_table` and `checks`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

NO_OP_FLAT_LIMIT = 1.5
"""No-op at the largest N, as a multiple of the no-op at the smallest (issue 25)."""
EDIT_FLAT_LIMIT = 1.5
"""One edit at the largest N, as a multiple of one edit at the smallest (issue 25)."""
CLEAN_VS_SAM_LIMIT = 0.25
"""Clean build at N=40 (user-level wheel cache warm), as a share of `sam build` (issue 25)."""
CLEAN_VS_SAM_AT = 40
ZIP_VS_SAM_LIMIT = 0.80
"""The pydantic-only handler's zip, as a share of SAM's (issue 25)."""
INIT_VS_SAM_BEFORE = {10: 0.41, 40: 0.39}
"""Init Duration against the SAM-built function, as issue 25's table had it: no worse now."""
NO_OP_SHARE_LIMIT = 0.05
"""An earlier bar, kept: the no-op at the largest N as a share of that N's clean build."""
EDIT_SHARE_LIMIT = 0.1


class Measurement(BaseModel):
    """One line of the report: a figure, its baseline, and the ratio between them."""

    model_config = ConfigDict(frozen=True)

    metric: str
    subject: str
    value: float
    baseline: float
    unit: str

    @property
    def ratio(self) -> float:
        """This run's value as a multiple of the baseline's (NaN without a baseline)."""
        return self.value / self.baseline if self.baseline else float("nan")


class ScalingPoint(BaseModel):
    """lambdapress's timings for one N, in seconds (medians of `runs` builds each)."""

    model_config = ConfigDict(frozen=True)

    handlers: int
    clean: float
    no_op: float
    one_edit: float
    clean_empty: float | None = None
    """A clean build with an empty user-level wheel cache (measured at SAM's sizes)."""
    runs: int = 1


class SamPoint(BaseModel):
    """`sam build`'s timings for one N, in seconds (medians of `runs` builds each)."""

    model_config = ConfigDict(frozen=True)

    handlers: int
    clean: float
    """`sam build` without `.aws-sam`."""
    no_op: float
    """`sam build --cached`, nothing changed since the last one."""
    one_edit: float
    """`sam build --cached` after editing one handler."""
    runs: int = 1


class ArtifactPoint(BaseModel):
    """The pydantic-only handler's zip and cold start, ours against SAM's, at one N."""

    model_config = ConfigDict(frozen=True)

    handlers: int
    function: str
    zip_bytes: int
    sam_zip_bytes: int
    init_ms: float | None = None
    """Median Init Duration of fresh workers (None when cold starts were not measured)."""
    sam_init_ms: float | None = None


class BenchReport(BaseModel):
    """Every measurement of one `lambdapress bench` run."""

    model_config = ConfigDict(frozen=True)

    measurements: tuple[Measurement, ...]
    scaling: tuple[ScalingPoint, ...] = ()
    sam: tuple[SamPoint, ...] = ()
    artifacts: tuple[ArtifactPoint, ...] = ()
    notes: tuple[str, ...] = ()
    """Sentences the reader needs next to the figures (which SAM, whether a cache was warm)."""


@dataclass(frozen=True)
class Check:
    """One bar: a ratio of this run against its limit."""

    label: str
    ratio: float
    limit: float

    @property
    def met(self) -> bool:
        """Whether the ratio is within the limit."""
        return self.ratio <= self.limit

    def line(self) -> str:
        """`met: ...` or `NOT met: ...`, with the ratio."""
        return f"{'met' if self.met else 'NOT met'}: {self.label} (ratio {self.ratio:.3f})"


def scaling_measurements(points: Iterable[ScalingPoint]) -> list[Measurement]:
    """Each N's clean, no-op and one-edit times against the smallest N's same figure."""
    ordered = sorted(points, key=lambda p: p.handlers)
    if not ordered:
        return []
    first = ordered[0]
    rows: list[Measurement] = []
    for point in ordered:
        subject = f"N={point.handlers}"
        rows += [
            Measurement(
                metric=f"clean build, vs N={first.handlers}'s",
                subject=subject,
                value=point.clean,
                baseline=first.clean,
                unit="s",
            ),
            Measurement(
                metric=f"no-op, vs N={first.handlers}'s",
                subject=subject,
                value=point.no_op,
                baseline=first.no_op,
                unit="s",
            ),
            Measurement(
                metric=f"one edit, vs N={first.handlers}'s",
                subject=subject,
                value=point.one_edit,
                baseline=first.one_edit,
                unit="s",
            ),
        ]
        if point.clean_empty is not None:
            rows.append(
                Measurement(
                    metric="clean build, user-level cache empty, vs warm",
                    subject=subject,
                    value=point.clean_empty,
                    baseline=point.clean,
                    unit="s",
                )
            )
    return rows


def sam_measurements(
    points: Iterable[ScalingPoint], sam: Iterable[SamPoint], artifacts: Iterable[ArtifactPoint]
) -> list[Measurement]:
    """The rows of issue 25's table, with their figures: ours against SAM's, per N."""
    ours = {p.handlers: p for p in points}
    rows: list[Measurement] = []
    for theirs in sorted(sam, key=lambda p: p.handlers):
        point = ours.get(theirs.handlers)
        if point is None:
            continue
        subject = f"N={theirs.handlers}"
        rows.append(
            Measurement(
                metric="clean build, vs `sam build`",
                subject=subject,
                value=point.clean,
                baseline=theirs.clean,
                unit="s",
            )
        )
        if point.clean_empty is not None:
            rows.append(
                Measurement(
                    metric="clean build, user-level cache empty, vs `sam build`",
                    subject=subject,
                    value=point.clean_empty,
                    baseline=theirs.clean,
                    unit="s",
                )
            )
        rows += [
            Measurement(
                metric="no-op, vs `sam build --cached` (no change)",
                subject=subject,
                value=point.no_op,
                baseline=theirs.no_op,
                unit="s",
            ),
            Measurement(
                metric="one edit, vs `sam build --cached` (one edit)",
                subject=subject,
                value=point.one_edit,
                baseline=theirs.one_edit,
                unit="s",
            ),
        ]
    for artifact in sorted(artifacts, key=lambda a: a.handlers):
        subject = f"{artifact.function} (N={artifact.handlers})"
        rows.append(
            Measurement(
                metric="zip size, pydantic-only handler, vs SAM's",
                subject=subject,
                value=artifact.zip_bytes,
                baseline=artifact.sam_zip_bytes,
                unit="bytes",
            )
        )
        if artifact.init_ms is not None and artifact.sam_init_ms is not None:
            rows.append(
                Measurement(
                    metric="cold start vs SAM-built (Init Duration, median)",
                    subject=subject,
                    value=artifact.init_ms,
                    baseline=artifact.sam_init_ms,
                    unit="ms",
                )
            )
    return rows


ISSUE_ROWS = (
    "clean build / SAM",
    "no-op / SAM's cached build",
    "one edit / SAM's cached build",
    "pydantic-only handler zip / SAM's",
    "Init Duration / SAM-built",
)


def issue_table(report: BenchReport) -> tuple[list[str], list[list[str]]]:
    """Issue 25's table as this run fills it: one column per N measured against SAM."""
    ours = {p.handlers: p for p in report.scaling}
    theirs = {p.handlers: p for p in report.sam if p.handlers in ours}
    artifacts = {a.handlers: a for a in report.artifacts}
    sizes = sorted(set(theirs) | set(artifacts))
    columns: list[list[float | None]] = []
    for n in sizes:
        sam, point, artifact = theirs.get(n), ours.get(n), artifacts.get(n)
        timings: list[float | None] = (
            [point.clean / sam.clean, point.no_op / sam.no_op, point.one_edit / sam.one_edit]
            if sam is not None and point is not None
            else [None, None, None]
        )
        zip_ratio = artifact.zip_bytes / artifact.sam_zip_bytes if artifact else None
        init_ratio = (
            artifact.init_ms / artifact.sam_init_ms
            if artifact and artifact.init_ms is not None and artifact.sam_init_ms
            else None
        )
        columns.append([*timings, zip_ratio, init_ratio])
    rows = [
        [label, *(_ratio(column[index]) for column in columns)]
        for index, label in enumerate(ISSUE_ROWS)
    ]
    return ["figure", *(f"N={n}" for n in sizes)], rows


def checks(report: BenchReport) -> tuple[list[Check], list[str]]:
    """Issue 25's done-when bars this run can judge, and a sentence for each it cannot."""
    found: list[Check] = []
    missing: list[str] = []
    points = sorted(report.scaling, key=lambda p: p.handlers)
    if len(points) >= 2:
        small, large = points[0], points[-1]
        found += [
            Check(
                f"no-op at N={large.handlers} <= {NO_OP_FLAT_LIMIT}x the no-op at "
                f"N={small.handlers}",
                large.no_op / small.no_op,
                NO_OP_FLAT_LIMIT,
            ),
            Check(
                f"one edit at N={large.handlers} <= {EDIT_FLAT_LIMIT}x one edit at "
                f"N={small.handlers}",
                large.one_edit / small.one_edit,
                EDIT_FLAT_LIMIT,
            ),
        ]
    else:
        missing.append("no-op and one edit against N: give --sizes two sizes or more")
    if points:
        large = points[-1]
        found += [
            Check(
                f"no-op at N={large.handlers} <= {NO_OP_SHARE_LIMIT}x its clean build",
                large.no_op / large.clean,
                NO_OP_SHARE_LIMIT,
            ),
            Check(
                f"one edit at N={large.handlers} <= {EDIT_SHARE_LIMIT}x its clean build",
                large.one_edit / large.clean,
                EDIT_SHARE_LIMIT,
            ),
        ]
    ours = {p.handlers: p for p in points}
    sam = {p.handlers: p for p in report.sam}
    n = CLEAN_VS_SAM_AT
    if n in ours and n in sam:
        found.append(
            Check(
                f"clean at N={n} <= {CLEAN_VS_SAM_LIMIT}x `sam build` (user-level cache as "
                "the notes say)",
                ours[n].clean / sam[n].clean,
                CLEAN_VS_SAM_LIMIT,
            )
        )
    else:
        missing.append(f"clean at N={n} against `sam build`: SAM was not timed at N={n}")
    for artifact in sorted(report.artifacts, key=lambda a: a.handlers):
        found.append(
            Check(
                f"pydantic-only handler's zip at N={artifact.handlers} <= {ZIP_VS_SAM_LIMIT}x "
                "SAM's",
                artifact.zip_bytes / artifact.sam_zip_bytes,
                ZIP_VS_SAM_LIMIT,
            )
        )
        if artifact.init_ms is not None and artifact.sam_init_ms:
            before = INIT_VS_SAM_BEFORE.get(artifact.handlers, max(INIT_VS_SAM_BEFORE.values()))
            found.append(
                Check(
                    f"Init Duration / SAM-built at N={artifact.handlers} no worse than issue "
                    f"25's {before}",
                    artifact.init_ms / artifact.sam_init_ms,
                    before,
                )
            )
    if not report.artifacts:
        missing.append("zip and Init Duration against SAM's: SAM did not build in this run")
    return found, missing


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"
