"""The scaling loop with a fake `lambdapress` and a fake `sam`: what is timed, how often, where.

The real builds are the e2e tests' (tests/bundle/test_bench.py); here each build is a process
that records what it was given, so the order of builds, the caches they see and SAM's
failures are checked without an index.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from fake_sam import FakeSam, environment_with, write_fake_sam

from lambdapress.bench import _sam, scaling
from lambdapress.bench._workload import Workload, create_workload
from lambdapress.bench.report import SamPoint, ScalingPoint
from lambdapress.bench.scaling import (
    Baseline,
    ScalingOptions,
    cache_entries,
    draw_chart,
    measure_scaling,
)
from lambdapress.bundle import wheel_cache
from lambdapress.cli import _bench as bench_cli
from lambdapress.errors import BundleError
from lambdapress.support import files

PINS = {"pydantic": "==2.9.0", "requests": "==2.32.0"}
FAKE_LAMBDAPRESS = """
import json, os, sys
from pathlib import Path
root = Path(sys.argv[sys.argv.index("--root") + 1])
cache = Path(os.environ["LAMBDAPRESS_CACHE"])
cache.mkdir(parents=True, exist_ok=True)
handlers = root / "services" / "scaled" / "src" / "scaled" / "handlers"
with open(os.environ["FAKE_LAMBDAPRESS_LOG"], "a") as log:
    log.write(json.dumps({
        "arguments": sys.argv[1:],
        "handlers": len(list(handlers.glob("handler_*.py"))),
        "clean": not any(cache.iterdir()),
        "project_cache": str(cache),
        "user_cache": os.environ.get("LAMBDAPRESS_CACHE_DIR"),
        "metadata": os.environ.get("AWS_EC2_METADATA_DISABLED"),
    }) + "\\n")
(cache / "built").write_text("x")
sys.exit(int(os.environ.get("FAKE_LAMBDAPRESS_EXIT", "0")))
"""


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeSam:
    found = write_fake_sam(tmp_path / "bin")
    for name, value in environment_with(found).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("FAKE_LAMBDAPRESS_LOG", str(tmp_path / "lambdapress.jsonl"))
    return found


@pytest.fixture
def workloads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Workload, Workload]:
    ours = create_workload(tmp_path / "scratch" / "lambdapress", PINS, lock=False)
    monkeypatch.setattr(_sam, "export_requirements", lambda _w: "not-installed-here==1.0\n")
    return ours, ours.copy_to(tmp_path / "scratch" / "sam")


def builds(tmp_path: Path) -> list[dict[str, object]]:
    log = tmp_path / "lambdapress.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()]


def options(**changes: object) -> ScalingOptions:
    fields: dict[str, object] = {
        "sizes": (2, 5),
        "sam_sizes": (3,),
        "runs": 2,
        "sam": "sam",
        "lambdapress": (sys.executable, "-c", FAKE_LAMBDAPRESS),
    }
    fields.update(changes)
    return ScalingOptions(**fields)  # type: ignore[arg-type]


def test_each_n_is_built_clean_no_op_and_edited_and_sam_at_its_sizes(
    fake: FakeSam,
    workloads: tuple[Workload, Workload],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    callers = tmp_path / "callers-cache"
    (callers / "wheels").mkdir(parents=True)
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(callers))  # a cache the caller configured
    ours, theirs = workloads
    cli = _sam.locate_sam("sam")
    assert isinstance(cli, _sam.SamCli)
    seen: list[tuple[int, Path, Path]] = []

    result = measure_scaling(
        ours,
        Baseline(cli, theirs),
        options(),
        tmp_path / "scratch",
        lambda _step: None,
        lambda n, mine, sams: seen.append((n, mine.root, sams.root)),
    )

    assert [p.handlers for p in result.points] == [2, 3, 5]
    assert all(p.runs == 2 and p.clean > 0 and p.no_op > 0 for p in result.points)
    assert [p.handlers for p in result.sam] == [3]
    assert seen == [(3, ours.root, theirs.root)]
    assert result.sam_problem is None
    made = builds(tmp_path)
    # a warm-up, then per N: 2 clean, 2 no-op, 2 after an edit
    # at SAM's size, 2 more clean builds, each with a new, empty user-level cache
    plain = (True, True, False, False, False, False)
    assert [(b["handlers"], b["clean"]) for b in made] == [(2, True)] + [
        (n, clean) for n in (2, 3, 5) for clean in ((*plain, True, True) if n == 3 else plain)
    ]
    users = [b["user_cache"] for b in made]
    assert users.count(os.environ["LAMBDAPRESS_CACHE_DIR"]) == len(made) - 2
    assert {b["project_cache"] for b in made} == {str(tmp_path / "scratch" / "project-cache")}
    assert {b["metadata"] for b in made} == {"true"}
    assert (callers / "wheels").is_dir(), "the caller's cache is never wiped"
    edited = (ours.handlers / "handler_0004.py").read_text()
    assert edited.count("# edited by the benchmark") == 2
    # SAM: a warm-up, then at N=3: 2 clean, one --cached to fill its cache, 2 no-op, 2 edits
    assert fake.builds() == [["build"]] * 3 + [["build", "--cached"]] * 5
    assert {c["cwd"] for c in fake.calls() if c["arguments"][0] == "build"} == {str(theirs.root)}
    assert (theirs.handlers / "handler_0002.py").read_text().count("edited by") == 2


def test_a_sam_that_fails_ends_sams_part_not_the_run(
    fake: FakeSam,
    workloads: tuple[Workload, Workload],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ours, theirs = workloads
    cli = _sam.locate_sam("sam")
    assert isinstance(cli, _sam.SamCli)
    monkeypatch.setenv("FAKE_SAM_FAIL", "1")

    result = measure_scaling(
        ours, Baseline(cli, theirs), options(), tmp_path / "scratch", lambda _step: None
    )

    assert [p.handlers for p in result.points] == [2, 3, 5]
    assert result.sam == ()
    assert result.sam_problem is not None and "fake failure" in result.sam_problem
    assert fake.builds() == [["build"]], "after the first failure SAM is not asked again"


def test_a_failing_lambdapress_build_is_an_error(
    fake: FakeSam,
    workloads: tuple[Workload, Workload],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAKE_LAMBDAPRESS_EXIT", "1")
    with pytest.raises(BundleError, match="`lambdapress package` of the generated workload"):
        measure_scaling(workloads[0], None, options(), tmp_path / "scratch", lambda _s: None)


def test_clean_builds_at_sams_sizes_also_run_with_an_empty_user_level_cache(
    fake: FakeSam, workloads: tuple[Workload, Workload], tmp_path: Path
) -> None:
    own = os.environ["LAMBDAPRESS_CACHE_DIR"]  # the tests' user-level cache (conftest)
    Path(own, "kept").mkdir(parents=True, exist_ok=True)

    result = measure_scaling(
        workloads[0],
        None,
        options(sizes=(2,), sam_sizes=(2,)),
        tmp_path / "scratch",
        lambda _s: None,
    )

    [point] = result.points
    assert point.clean_empty is not None and point.clean_empty > 0
    empties = [b["user_cache"] for b in builds(tmp_path) if b["user_cache"] != own]
    assert len(empties) == 2 and len(set(empties)) == 2, "a new, empty one for each run"
    assert not any(Path(str(folder)).exists() for folder in empties), "and removed after"
    assert Path(own, "kept").is_dir(), "the user's own cache is never emptied"


def test_cache_entries_count_the_prepared_wheels_of_this_format(tmp_path: Path) -> None:
    assert cache_entries(tmp_path / "missing") == 0
    version = f"v{wheel_cache.FORMAT_VERSION}"
    for entry in ("pydantic-2.9-abc", "requests-2.32-def", f"{files.TEMPORARY_PREFIX}x"):
        (tmp_path / "wheels" / version / entry).mkdir(parents=True)
    assert cache_entries(tmp_path) == 2


def test_the_chart_draws_sams_points_next_to_ours(tmp_path: Path) -> None:
    points = (
        ScalingPoint(handlers=10, clean=2.0, no_op=0.4, one_edit=0.5),
        ScalingPoint(handlers=100, clean=4.0, no_op=0.45, one_edit=0.55),
    )
    sam_points = (SamPoint(handlers=40, clean=20.0, no_op=3.0, one_edit=3.5),)

    chart = draw_chart(points, tmp_path / "bench" / "scaling.png", sam_points)

    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_the_command_lines_defaults_are_the_benchs() -> None:
    assert ",".join(map(str, scaling.DEFAULT_SIZES)) == bench_cli.DEFAULT_SIZES
    assert ",".join(map(str, scaling.DEFAULT_SAM_SIZES)) == bench_cli.DEFAULT_SAM_SIZES
    assert bench_cli.DEFAULT_RUNS == scaling.RUNS
