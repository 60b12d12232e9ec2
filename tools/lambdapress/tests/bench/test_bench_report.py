"""Issue 25's ratios and bars, from figures given by hand."""

from __future__ import annotations

import pytest

from lambdapress.bench.report import (
    ArtifactPoint,
    BenchReport,
    SamPoint,
    ScalingPoint,
    checks,
    issue_table,
    sam_measurements,
    scaling_measurements,
)

POINTS = (
    ScalingPoint(handlers=10, clean=2.0, no_op=0.40, one_edit=0.50, clean_empty=5.0, runs=3),
    ScalingPoint(handlers=40, clean=3.0, no_op=0.44, one_edit=0.55, clean_empty=6.0, runs=3),
    ScalingPoint(handlers=500, clean=12.0, no_op=0.80, one_edit=0.70, runs=3),
)
SAM = (
    SamPoint(handlers=10, clean=10.0, no_op=2.0, one_edit=4.0, runs=3),
    SamPoint(handlers=40, clean=20.0, no_op=4.0, one_edit=5.0, runs=3),
)
ARTIFACTS = (
    ArtifactPoint(
        handlers=10,
        function="scaled.handler_0000",
        zip_bytes=780,
        sam_zip_bytes=1000,
        init_ms=40.0,
        sam_init_ms=100.0,
    ),
    ArtifactPoint(
        handlers=40,
        function="scaled.handler_0000",
        zip_bytes=850,
        sam_zip_bytes=1000,
        init_ms=50.0,
        sam_init_ms=100.0,
    ),
)


def report(**changes: object) -> BenchReport:
    fields: dict[str, object] = {
        "measurements": (),
        "scaling": POINTS,
        "sam": SAM,
        "artifacts": ARTIFACTS,
    }
    fields.update(changes)
    return BenchReport.model_validate(fields)


def test_the_issues_table_has_one_column_per_n_timed_against_sam() -> None:
    headers, rows = issue_table(report())

    assert headers == ["figure", "N=10", "N=40"]
    assert rows == [
        ["clean build / SAM", "0.2", "0.15"],
        ["no-op / SAM's cached build", "0.2", "0.11"],
        ["one edit / SAM's cached build", "0.125", "0.11"],
        ["pydantic-only handler zip / SAM's", "0.78", "0.85"],
        ["Init Duration / SAM-built", "0.4", "0.5"],
    ]


def test_without_cold_starts_their_row_is_a_dash() -> None:
    bare = tuple(a.model_copy(update={"init_ms": None, "sam_init_ms": None}) for a in ARTIFACTS)
    _, rows = issue_table(report(artifacts=bare))
    assert rows[-1] == ["Init Duration / SAM-built", "-", "-"]


def test_every_bar_is_judged_met_or_not_met_with_its_ratio() -> None:
    found, missing = checks(report())

    lines = [check.line() for check in found]
    assert lines == [
        "NOT met: no-op at N=500 <= 1.5x the no-op at N=10 (ratio 2.000)",
        "met: one edit at N=500 <= 1.5x one edit at N=10 (ratio 1.400)",
        "NOT met: no-op at N=500 <= 0.05x its clean build (ratio 0.067)",
        "met: one edit at N=500 <= 0.1x its clean build (ratio 0.058)",
        "met: clean at N=40 <= 0.25x `sam build` (user-level cache as the notes say) (ratio 0.150)",
        "met: pydantic-only handler's zip at N=10 <= 0.8x SAM's (ratio 0.780)",
        "met: Init Duration / SAM-built at N=10 no worse than issue 25's 0.41 (ratio 0.400)",
        "NOT met: pydantic-only handler's zip at N=40 <= 0.8x SAM's (ratio 0.850)",
        "NOT met: Init Duration / SAM-built at N=40 no worse than issue 25's 0.39 (ratio 0.500)",
    ]
    assert missing == []


def test_what_a_run_did_not_measure_is_said_not_judged() -> None:
    found, missing = checks(report(scaling=POINTS[:1], sam=(), artifacts=()))

    assert all("sam" not in c.label.lower() for c in found)
    assert missing == [
        "no-op and one edit against N: give --sizes two sizes or more",
        "clean at N=40 against `sam build`: SAM was not timed at N=40",
        "zip and Init Duration against SAM's: SAM did not build in this run",
    ]


def test_rows_compare_each_n_with_the_smallest_and_with_sam() -> None:
    scaling = {(m.metric, m.subject): m for m in scaling_measurements(reversed(POINTS))}
    assert scaling[("no-op, vs N=10's", "N=500")].ratio == pytest.approx(2.0)
    assert scaling[("clean build, vs N=10's", "N=10")].ratio == 1.0
    cache = scaling[("clean build, user-level cache empty, vs warm", "N=40")]
    assert (cache.value, cache.baseline) == (6.0, 3.0)
    assert ("clean build, user-level cache empty, vs warm", "N=500") not in scaling

    versus = {(m.metric, m.subject): m for m in sam_measurements(POINTS, SAM, ARTIFACTS)}
    assert versus[("clean build, vs `sam build`", "N=40")].ratio == pytest.approx(0.15)
    empty = versus[("clean build, user-level cache empty, vs `sam build`", "N=10")]
    assert empty.ratio == pytest.approx(0.5)
    zip_row = versus[("zip size, pydantic-only handler, vs SAM's", "scaled.handler_0000 (N=10)")]
    assert (zip_row.value, zip_row.baseline, zip_row.unit) == (780, 1000, "bytes")
    init = versus[("cold start vs SAM-built (Init Duration, median)", "scaled.handler_0000 (N=40)")]
    assert init.ratio == pytest.approx(0.5)
    assert not any(subject == "N=500" for _, subject in versus), "SAM was not timed at 500"
