"""`nox -s bench`: what lambdapress saves, as ratios against a baseline measured in the same run.

Machines here are shared and noisy, so nothing is compared with a number written down
earlier: every figure has its baseline measured next to it, on the same machine, in the same
minute, on a scratch copy of the workspace (the repository's own dist/ is never touched).

- size: each function's zip against the "copy the code folder and every requirement" zip that
  SAM, the Serverless plugin or Chalice build for every function of a service;
- rebuilds: a no-op run and a one-handler edit against a full build (wheels already cached);
- cold start: Lambda's Init Duration with the shipped bytecode against the same zip without it;
- sources: the zip and Init Duration of `sources = "first-party"` (third-party bytecode only)
  against the same function built with `sources = "all"`: a handler of the workspace, and one
  generated next to it that imports pydantic alone.
- scaling, and SAM (`scaling`, `_sam`, `_workload`): issue 25's workload of N generated
  handlers, clean, no-op and one-edit builds timed against the smallest N's, and against
  `sam build` on the same workload; the pydantic-only handler's zip and Init Duration against
  SAM's. `report` holds the models, the ratios and issue 25's bars.
"""

from __future__ import annotations

import base64
import hashlib
import platform
import shutil
import statistics
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from lambdapress.bench import _sam as sam_cli
from lambdapress.bench import _workload as issue_workload
from lambdapress.bench._coldstart import init_duration, interleaved_init_durations
from lambdapress.bench._runtime import measure_runtime_import
from lambdapress.bench._workload import (
    Workload,
    create_workload,
    function_name,
    pins_from,
)
from lambdapress.bench.report import (
    ArtifactPoint,
    BenchReport,
    Measurement,
    sam_measurements,
    scaling_measurements,
)
from lambdapress.bench.scaling import (
    Baseline,
    ScalingOptions,
    ScalingResult,
    cache_entries,
    measure_scaling,
    user_wheel_cache,
)
from lambdapress.bundle import sourced
from lambdapress.bundle.archive import Entry, write_zip
from lambdapress.bundle.discovery import handlers_folder
from lambdapress.bundle.lock import read_lock
from lambdapress.bundle.pipeline import package
from lambdapress.bundle.targets import Target
from lambdapress.bundle.wheels import Installer, ensure_installed
from lambdapress.config.lambda_platform import DEFAULT_ARCHITECTURE, architecture_of_machine
from lambdapress.config.workspace import load_workspace
from lambdapress.model.application import Application, Function
from lambdapress.model.manifest import manifest_path, read_manifest
from lambdapress.model.trigger_kinds import sample_event
from lambdapress.support.files import cache_folder

__all__ = ["BenchReport", "Measurement", "ScalingOptions", "run_bench"]

WORKSPACE_PARTS = ("pyproject.toml", "uv.lock", "packages", "services", "tools")
IGNORED = shutil.ignore_patterns(".venv", "__pycache__", ".pytest_cache", ".mypy_cache", "dist")


Step = Callable[[str], None]


def run_bench(
    root: Path,
    cold_starts: int = 3,
    progress: Step | None = None,
    scaling: ScalingOptions | None = None,
) -> BenchReport:
    """Measure on a scratch copy of the workspace at `root`; the wheel cache is shared.

    `scaling`: the numbers of handlers of issue 25's workload to time builds at, with and
    against SAM (`bench.scaling`), in a scratch folder of their own.
    """
    say = progress or (lambda _message: None)
    with _scratch_copy(root) as scratch:
        cache = _fresh_artifact_cache(root, scratch.parent / "cache")
        say("full build (wheels cached)")
        started = time.perf_counter()
        result = package(scratch, cache=cache, remote_cache=False)
        full = time.perf_counter() - started
        measurements = list(_sizes(scratch, result.manifest, cache))
        say("no-op rebuild")
        started = time.perf_counter()
        package(scratch, cache=cache, remote_cache=False)
        measurements.append(
            Measurement(
                metric="no-op rebuild",
                subject="all functions",
                value=time.perf_counter() - started,
                baseline=full,
                unit="s",
            )
        )
        if result.manifest.functions:
            first = _representative(result.manifest)
            say(f"edit one handler ({first.name})")
            _touch_handler(scratch, first)
            started = time.perf_counter()
            edited = package(scratch, cache=cache, remote_cache=False).manifest
            first = edited.function(first.name)
            measurements.append(
                Measurement(
                    metric="rebuild after editing one handler",
                    subject=first.name,
                    value=time.perf_counter() - started,
                    baseline=full,
                    unit="s",
                )
            )
            say(f'sources = "first-party" against "all" ({first.name})')
            comparison, as_built, every_source = _sources_comparison(
                scratch, first, cold_starts, cache_folder(root), cache
            )
            say("cold starts")
            measurements += _cold_starts(
                scratch, as_built, every_source, cold_starts, cache_folder(root)
            )
            measurements += comparison
            say('sources = "first-party" against "all" (a handler on pydantic alone)')
            alone = _pydantic_only(scratch, first, cache)
            if alone is not None:
                measurements += _sources_comparison(
                    scratch, alone, cold_starts, cache_folder(root), cache
                )[0]
    measurements += _runtime_import(result.manifest)
    if scaling is None or not scaling.all_sizes:
        return BenchReport(measurements=tuple(measurements))
    found, artifacts, notes = _scaling(root, scaling, cold_starts, say)
    measurements += scaling_measurements(found.points)
    measurements += sam_measurements(found.points, found.sam, artifacts)
    return BenchReport(
        measurements=tuple(measurements),
        scaling=found.points,
        sam=found.sam,
        artifacts=tuple(artifacts),
        notes=tuple(notes),
    )


def _scaling(
    root: Path, options: ScalingOptions, cold_starts: int, say: Step
) -> tuple[ScalingResult, list[ArtifactPoint], list[str]]:
    """Issue 25's workload timed at every size, and against SAM at its sizes."""
    notes: list[str] = []
    user_cache = user_wheel_cache()
    before = cache_entries(user_cache)
    artifacts: list[ArtifactPoint] = []
    with tempfile.TemporaryDirectory(prefix="lambdapress-bench-scaling-") as folder:
        scratch = Path(folder)
        say("issue 25's workload: generating and locking it")
        ours = create_workload(scratch / "lambdapress", pins_from(root))
        baseline = None
        if options.sam_sizes:
            say(f"SAM: finding it (--sam {options.sam}; `uv` installs the pinned one once)")
            located = sam_cli.locate_sam(options.sam)
            if isinstance(located, sam_cli.SamCli):
                baseline = Baseline(located, ours.copy_to(scratch / "sam"))
                notes.append(f"SAM: {located.version} ({located.executable})")
            else:
                notes.append(f"SAM: none, so no SAM ratios: {located.reason}")

        def against_sam(count: int, ours: Workload, theirs: Workload) -> None:
            say(f"N={count}: the pydantic-only handler, ours against SAM's")
            artifacts.append(_versus_sam(count, ours, theirs, cold_starts, cache_folder(root), say))

        found = measure_scaling(ours, baseline, options, scratch, say, against_sam)
    if found.sam_problem:
        timed = ", ".join(f"N={p.handlers}" for p in found.sam) or "no size"
        notes.append(
            f"SAM failed ({timed} timed before it did), so its other ratios are missing: "
            f"{found.sam_problem}"
        )
    notes.append(_user_cache_note(user_cache, before))
    return found, artifacts, notes


def _user_cache_note(folder: Path, before: int) -> str:
    """Whether the clean builds had a warm user-level wheel cache, and where it is."""
    after = cache_entries(folder)
    state = f"warm ({before} prepared wheels)" if before else "empty"
    return (
        f"user-level wheel cache {folder}: {state} before this run, {after} prepared wheels "
        "after it, never emptied (a warm-up build ran first and filled what it lacked, so the "
        "clean builds ran with it warm; the `user-level cache empty` rows each had a new, "
        "empty one)"
    )


def _versus_sam(
    count: int, ours: Workload, theirs: Workload, runs: int, runtime_cache: Path, say: Step
) -> ArtifactPoint:
    """The pydantic-only handler: our zip against SAM's, and both zips' cold starts."""
    built = read_manifest(manifest_path(ours.root))
    entry = built.function(function_name(issue_workload.PYDANTIC_ONLY))
    zipped = sam_cli.zip_built_function(
        theirs, issue_workload.PYDANTIC_ONLY, ours.root / "bench" / f"sam-{count}.zip"
    )
    data = zipped.read_bytes()
    digest = hashlib.sha256(data)
    sam_built = entry.model_copy(
        update={
            "artifact": entry.artifact.model_copy(
                update={
                    "path": zipped.relative_to(ours.root).as_posix(),
                    "sha256": digest.hexdigest(),
                    "code_sha256": base64.b64encode(digest.digest()).decode(),
                    "size": len(data),
                }
            )
        }
    )
    init_ms = sam_init_ms = None
    if runs:
        say(f"N={count}: {runs} cold starts of each, interleaved")
        timings = interleaved_init_durations(
            {"ours": entry, "sam": sam_built}, ours.root, runs, runtime_cache, sample_event(entry)
        )
        init_ms = statistics.median(timings["ours"])
        sam_init_ms = statistics.median(timings["sam"])
    return ArtifactPoint(
        handlers=count,
        function=entry.name,
        zip_bytes=entry.artifact.size,
        sam_zip_bytes=len(data),
        init_ms=init_ms,
        sam_init_ms=sam_init_ms,
    )


def _runtime_import(manifest: Application) -> list[Measurement]:
    """lambdapress-runtime's import time against json's, when some function ships it."""
    measured = measure_runtime_import(manifest)
    if measured is None:
        return []
    return [
        Measurement(
            metric=f"runtime import (median of {measured.runs} interpreters)",
            subject=f"lambdapress_runtime ({measured.functions} functions)",
            value=measured.runtime_ms,
            baseline=measured.baseline_ms,
            unit="ms",
        )
    ]


def _fresh_artifact_cache(root: Path, cache: Path) -> Path:
    """No built zips (a full build really builds), but the installed wheels of `root`."""
    wheels = cache_folder(root) / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    cache.mkdir(parents=True)
    (cache / "wheels").symlink_to(wheels, target_is_directory=True)
    return cache


@contextmanager
def _scratch_copy(root: Path) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="lambdapress-bench-") as folder:
        scratch = Path(folder) / "workspace"
        scratch.mkdir()
        for part in WORKSPACE_PARTS:
            source = root / part
            if source.is_dir():
                shutil.copytree(source, scratch / part, ignore=IGNORED)
            elif source.is_file():
                shutil.copy2(source, scratch / part)
        yield scratch


def _sizes(scratch: Path, manifest: Application, cache: Path) -> Iterator[Measurement]:
    """Each zip against the whole-service zip a copy-everything packager would deploy."""
    baselines: dict[str, int] = {}
    for entry in manifest.functions:
        if entry.service not in baselines:
            baselines[entry.service] = _whole_service_zip(scratch, entry.service, cache)
        yield Measurement(
            metric="zip size",
            subject=entry.name,
            value=entry.artifact.size,
            baseline=baselines[entry.service],
            unit="bytes",
        )


def _whole_service_zip(scratch: Path, service_name: str, cache: Path) -> int:
    """Every file of the service and its packages, and every locked requirement, zipped."""
    workspace = load_workspace(scratch)
    lock = read_lock(scratch)
    service = next(s for s in workspace.services if s.name == service_name)
    target = Target.of(service.settings)
    closure = lock.closure(service.name, target)
    third_party = [sourced.prepare(p) for p in closure.values() if not p.is_local]
    installed = ensure_installed(third_party, target, Installer(cache))
    entries: list[Entry] = []
    members = workspace.packages + workspace.libraries + workspace.services
    local = [p for p in members if p.name in closure]
    for member in local:
        for path in sorted(member.path.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                entries.append(Entry(f"{member.name}/{path.relative_to(member.path)}", path))
    seen = {e.arcname for e in entries}
    for dist in installed.values():
        for path in dist.files():
            arcname = path.relative_to(dist.folder).as_posix()
            if arcname not in seen:
                seen.add(arcname)
                entries.append(Entry(arcname, path))
    zip_path = scratch.parent / f"baseline-{service_name}.zip"
    return write_zip(entries, zip_path).size


PYDANTIC_ONLY = "bench_pydantic_only"
_PYDANTIC_ONLY_SOURCE = '''"""Generated by `lambdapress bench`: a handler on pydantic alone."""

from typing import Any

from pydantic import BaseModel


class Item(BaseModel):
    id: str
    rank: int = 0


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return Item(id=str(event.get("id", "x"))).model_dump()
'''


def _pydantic_only(scratch: Path, entry: Function, cache: Path) -> Function | None:
    """A handler importing pydantic alone, added to `entry`'s service and built.

    None when that service has no pydantic. Its zip is mostly pydantic-core's extension, which
    no setting shrinks: the hardest case for `sources = "first-party"`.
    """
    if "pydantic" not in entry.contents.distributions:
        return None
    service = next(s for s in load_workspace(scratch).services if s.name == entry.service)
    (handlers_folder(service) / f"{PYDANTIC_ONLY}.py").write_text(_PYDANTIC_ONLY_SOURCE)
    name = f"{service.name}.{PYDANTIC_ONLY}"
    return package(scratch, function=name, cache=cache, remote_cache=False).manifest.function(name)


def _touch_handler(scratch: Path, entry: Function) -> None:
    module = entry.handler.rsplit(".", 1)[0]
    for path in (scratch / "services").rglob(module.replace(".", "/") + ".py"):
        path.write_text(path.read_text() + "\n# touched by the benchmark\n")
        return


def _representative(manifest: Application) -> Function:
    """A triggered function built for this machine's architecture, when there is one."""
    machine = architecture_of_machine(platform.machine()) or DEFAULT_ARCHITECTURE
    routed = [f for f in manifest.functions if f.triggers] or list(manifest.functions)
    native = [f for f in routed if f.architecture == machine]
    return (native or routed)[0]


def _cold_starts(
    scratch: Path, entry: Function, every_source: Function, runs: int, runtime_cache: Path
) -> list[Measurement]:
    """Init Duration of fresh workers: the zip as built, then the same code without bytecode.

    The baseline is the `sources = "all"` build (`every_source`) with every `__pycache__`
    removed: the zip as built ships third-party modules as bytecode only, so stripping its
    own `__pycache__` folders would leave that bytecode in.
    """
    with_pyc = scratch / every_source.artifact.path
    without_pyc = scratch / "bench" / f"{with_pyc.stem}-sources.zip"
    with zipfile.ZipFile(with_pyc) as built:
        entries = [
            Entry(info.filename, content=built.read(info))
            for info in built.infolist()
            if "__pycache__/" not in info.filename
        ]
    archive = write_zip(entries, without_pyc)
    built_without = entry.artifact.model_copy(
        update={
            "path": str(without_pyc.relative_to(scratch)),
            "sha256": archive.sha256,
            "code_sha256": archive.code_sha256,
            "size": archive.size,
        }
    )
    sources = entry.model_copy(update={"artifact": built_without})
    timings = interleaved_init_durations(
        {"bytecode": entry, "sources": sources}, scratch, runs, runtime_cache, sample_event(entry)
    )
    if not timings["bytecode"] or not timings["sources"]:
        return []
    return [
        Measurement(
            metric="cold start (Init Duration, median)",
            subject=entry.name,
            value=statistics.median(timings["bytecode"]),
            baseline=statistics.median(timings["sources"]),
            unit="ms",
        )
    ]


_init_duration = init_duration  # the name the emulator's tests of the bench use


def _sources_comparison(
    scratch: Path, entry: Function, runs: int, runtime_cache: Path, cache: Path
) -> tuple[list[Measurement], Function, Function]:
    """The zip as built against the same function rebuilt with `sources = "all"`.

    As built means `sources` as configured ("first-party" by default). Sizes are compared,
    then Init Duration of fresh workers, interleaved so both see the same machine load.
    Returns the measurements, the zip as built (a copy: dist/ then holds the other build) and
    the `sources = "all"` build, the cold-start baseline's source.
    """
    import tomlkit

    built = scratch / entry.artifact.path
    # Kept outside dist/, which the rebuild below tidies.
    first_party = scratch / "bench" / f"{built.stem}-first-party.zip"
    first_party.parent.mkdir(exist_ok=True)
    shutil.copyfile(built, first_party)
    service = next(s for s in load_workspace(scratch).services if s.name == entry.service)
    pyproject = service.path / "pyproject.toml"
    original = pyproject.read_text()
    document = tomlkit.parse(original)
    tool = document.setdefault("tool", tomlkit.table())
    tool.setdefault("lambdapress", tomlkit.table())["sources"] = "all"
    pyproject.write_text(tomlkit.dumps(document))
    try:
        every_source = package(scratch, cache=cache, remote_cache=False).manifest
    finally:
        pyproject.write_text(original)
    rebuilt = every_source.function(entry.name)
    variants = {
        "first-party": entry.model_copy(
            update={
                "artifact": entry.artifact.model_copy(
                    update={"path": str(first_party.relative_to(scratch))}
                )
            }
        ),
        "all": rebuilt,
    }
    timings = interleaved_init_durations(
        variants, scratch, runs, runtime_cache, sample_event(entry)
    )
    measurements = [
        Measurement(
            metric='zip size, sources "first-party" vs "all"',
            subject=entry.name,
            value=entry.artifact.size,
            baseline=rebuilt.artifact.size,
            unit="bytes",
        )
    ]
    if timings["first-party"] and timings["all"]:
        measurements.append(
            Measurement(
                metric='cold start, sources "first-party" vs "all" (Init Duration, median)',
                subject=entry.name,
                value=statistics.median(timings["first-party"]),
                baseline=statistics.median(timings["all"]),
                unit="ms",
            )
        )
    return measurements, variants["first-party"], rebuilt
