"""`lambdapress bench` measures each figure next to its baseline, on a scratch copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdapress.bench import run_bench
from lambdapress.bench_scaling import draw_chart


@pytest.mark.e2e
def test_every_figure_comes_with_a_baseline_from_the_same_run(shop: Path) -> None:
    steps: list[str] = []
    report = run_bench(shop, cold_starts=1, progress=steps.append)
    by_metric: dict[str, list[str]] = {}
    for m in report.measurements:
        by_metric.setdefault(m.metric, []).append(m.subject)
        assert m.value > 0 and m.baseline > 0, m
    assert sorted(by_metric["zip size"]) == ["shop.create_item", "shop.get_item"]
    assert set(by_metric) == {
        "zip size",
        "no-op rebuild",
        "rebuild after editing one handler",
        "cold start (Init Duration, median)",
        'zip size, sources "first-party" vs "all"',
        'cold start, sources "first-party" vs "all" (Init Duration, median)',
    }
    sizes = {m.subject: m for m in report.measurements if m.metric == "zip size"}
    # get_item imports neither markupsafe nor six: its zip is a fraction of the whole service's
    assert sizes["shop.get_item"].ratio < 0.5
    (sources,) = [m for m in report.measurements if m.metric.startswith("zip size, sources")]
    assert sources.ratio < 1, "markupsafe ships without its sources by default"
    assert steps[0].startswith("full build")
    assert not (shop / "dist").exists(), "the workspace itself is never built by the benchmark"


@pytest.mark.e2e
def test_scaling_times_clean_no_op_and_edit_per_size_and_draws_them(
    shop: Path, tmp_path: Path
) -> None:
    report = run_bench(shop, cold_starts=1, sizes=(1, 3))

    assert [p.handlers for p in report.scaling] == [1, 3]
    assert all(p.clean > 0 and p.no_op > 0 and p.one_edit > 0 for p in report.scaling)
    clean = {m.subject: m for m in report.measurements if m.metric == "clean build"}
    assert sorted(clean) == ["N=1", "N=3"]
    assert clean["N=3"].baseline == report.scaling[0].clean
    no_op = {m.subject: m for m in report.measurements if m.metric == "no-op, vs clean"}
    assert no_op["N=3"].baseline == report.scaling[1].clean
    chart = draw_chart(report.scaling, tmp_path / "bench" / "scaling.png")
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert not (shop / "dist").exists(), "the workspace itself is never built by the benchmark"
