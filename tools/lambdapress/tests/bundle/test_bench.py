"""`lambdapress bench` measures each figure next to its baseline, on a scratch copy."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fake_sam import environment_with, write_fake_sam

from lambdapress.bench import ScalingOptions, _fresh_artifact_cache, run_bench
from lambdapress.bench._workload import create_workload, pins_from, set_handlers
from lambdapress.bench.report import issue_table
from lambdapress.bench.scaling import draw_chart
from lambdapress.bundle import package
from lambdapress.emulator import Emulator
from lambdapress.model.application import Application


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
def test_scaling_times_issue_25s_workload_against_sam_and_draws_it(
    shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real builds of the generated workload; SAM is the fake on PATH, whose function folders
    hold the same code and dependencies (copied from this environment), so both zips start."""
    fake = write_fake_sam(tmp_path / "bin")
    for name, value in environment_with(fake).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LAMBDAPRESS_CACHE_DIR", str(tmp_path / "user-cache"))
    options = ScalingOptions(sizes=(1, 3), sam_sizes=(3,), runs=1, sam="sam")

    report = run_bench(shop, cold_starts=1, scaling=options)

    assert [p.handlers for p in report.scaling] == [1, 3]
    assert all(p.clean > 0 and p.no_op > 0 and p.one_edit > 0 for p in report.scaling)
    assert [p.handlers for p in report.sam] == [3]
    [artifact] = report.artifacts
    assert artifact.function == "scaled.handler_0000"
    assert artifact.zip_bytes > 0 and artifact.sam_zip_bytes > 0
    assert artifact.init_ms is not None and artifact.sam_init_ms is not None
    by_metric = {(m.metric, m.subject): m for m in report.measurements}
    assert by_metric[("no-op, vs N=1's", "N=3")].baseline == report.scaling[0].no_op
    assert by_metric[("clean build, vs `sam build`", "N=3")].baseline == report.sam[0].clean
    assert any(note.startswith("SAM: SAM CLI, version 0.0.0-fake") for note in report.notes)
    _, rows = issue_table(report)
    assert all(row[1] != "-" for row in rows), rows
    chart = draw_chart(report.scaling, tmp_path / "bench" / "scaling.png", report.sam)
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert not (shop / "dist").exists(), "the workspace itself is never built by the benchmark"


@pytest.mark.e2e
def test_the_workloads_zips_run_as_on_lambda_and_match_across_folders(
    shop: Path, tmp_path: Path
) -> None:
    """What the benchmark times is a real build: the generated handlers' zips are the same
    bytes from two folders, and each one answers under the runtime client."""
    manifests = []
    for folder in (tmp_path / "one", tmp_path / "two"):
        generated = create_workload(folder, pins_from(shop))
        set_handlers(generated, 4)
        # a cache of each folder's own (the wheels shared): the second build really builds
        cache = _fresh_artifact_cache(shop, tmp_path / f"cache-{folder.name}")
        built = package(folder, cache=cache, remote_cache=False)
        assert {r.status for r in built.functions} == {"build"}
        manifests.append(built.manifest)
    one, two = manifests
    assert [f.name for f in one.functions] == [f"scaled.handler_000{i}" for i in range(4)]
    assert "requests" not in one.function("scaled.handler_0000").contents.distributions
    assert "requests" in one.function("scaled.handler_0001").contents.distributions
    assert [f.artifact.sha256 for f in one.functions] == [f.artifact.sha256 for f in two.functions]

    with Emulator(one, tmp_path / "one", cache_dir=tmp_path / "runtime") as emulator:
        for index, function in enumerate(one.functions):
            result = emulator.invoke(function.name, {"id": f"item-{index}"})
            assert result.ok, result.logs
            answer = json.loads(result.payload)
            assert (answer["id"], answer["rank"]) == (f"item-{index}", index)


@pytest.mark.e2e
def test_the_pydantic_only_handler_ships_pydantic_alone_and_answers(
    shop: Path, tmp_path: Path
) -> None:
    from lambdapress.bench import IGNORED, WORKSPACE_PARTS, _pydantic_only
    from lambdapress.support.files import cache_folder

    repository = Path(__file__).resolve().parents[4]
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    for part in WORKSPACE_PARTS:
        source = repository / part
        if source.is_dir():
            shutil.copytree(source, workspace / part, ignore=IGNORED)
        else:
            shutil.copy2(source, workspace / part)
    cache = _fresh_artifact_cache(repository, tmp_path / "cache")
    orders = package(workspace, function="orders.get_order", cache=cache, remote_cache=False)
    shop_entry = package(shop, function="shop.create_item").manifest.function("shop.create_item")

    alone = _pydantic_only(workspace, orders.manifest.function("orders.get_order"), cache)

    assert _pydantic_only(shop, shop_entry, cache_folder(shop)) is None  # no pydantic there
    assert alone is not None and alone.name == "orders.bench_pydantic_only"
    assert "pydantic" in alone.contents.distributions
    assert "aws-lambda-powertools" not in alone.contents.distributions
    with Emulator(
        Application(functions=(alone,)), workspace, cache_dir=tmp_path / "rt"
    ) as emulator:
        result = emulator.invoke(alone.name, {"id": "7"})
    assert result.ok, result.logs
    assert json.loads(result.payload) == {"id": "7", "rank": 0}
