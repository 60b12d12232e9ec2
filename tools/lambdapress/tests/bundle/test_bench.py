"""`lambdapress bench` measures each figure next to its baseline, on a scratch copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdapress.bench import run_bench


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
