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
- scaling: clean, no-op and one-edit builds of N generated handlers (`bench_scaling`), clean
  against the smallest N's clean build, the rebuilds against their own N's.
"""

from __future__ import annotations

import platform
import shutil
import statistics
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from lambdapress.bench.runtime import measure_runtime_import
from lambdapress.bench.scaling import ScalingPoint, measure_scaling
from lambdapress.bundle import sourced
from lambdapress.bundle.archive import Entry, write_zip
from lambdapress.bundle.discovery import handlers_folder
from lambdapress.bundle.lock import read_lock
from lambdapress.bundle.pipeline import package
from lambdapress.bundle.targets import Target
from lambdapress.bundle.wheels import Installer, ensure_installed
from lambdapress.config.lambda_platform import DEFAULT_ARCHITECTURE, architecture_of_machine
from lambdapress.config.workspace import load_workspace
from lambdapress.errors import EmulatorError
from lambdapress.model.application import Application, Function
from lambdapress.model.trigger_kinds import sample_event
from lambdapress.support.files import cache_folder

if TYPE_CHECKING:
    from lambdapress.emulator.reports import InvocationResult

WORKSPACE_PARTS = ("pyproject.toml", "uv.lock", "packages", "services", "tools")
IGNORED = shutil.ignore_patterns(".venv", "__pycache__", ".pytest_cache", ".mypy_cache", "dist")


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


class BenchReport(BaseModel):
    """Every measurement of one `lambdapress bench` run."""

    model_config = ConfigDict(frozen=True)

    measurements: tuple[Measurement, ...]
    scaling: tuple[ScalingPoint, ...] = ()


Step = Callable[[str], None]


def run_bench(
    root: Path,
    cold_starts: int = 3,
    progress: Step | None = None,
    sizes: tuple[int, ...] = (),
) -> BenchReport:
    """Measure on a scratch copy of the workspace at `root`; the wheel cache is shared.

    `sizes`: the numbers of generated handlers to time clean, no-op and one-edit builds at
    (`bench_scaling`), on a second scratch copy.
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
    scaling: tuple[ScalingPoint, ...] = ()
    if sizes:
        with _scratch_copy(root) as scratch:
            scaling = measure_scaling(
                scratch,
                sizes,
                lambda name: _fresh_artifact_cache(root, scratch.parent / name),
                say,
            )
        measurements += _scaling_measurements(scaling)
    measurements += _runtime_import(result.manifest)
    return BenchReport(measurements=tuple(measurements), scaling=scaling)


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


def _scaling_measurements(points: tuple[ScalingPoint, ...]) -> list[Measurement]:
    """Clean builds against the smallest N's; no-op and one-edit against their N's clean."""
    smallest = points[0].clean
    measurements: list[Measurement] = []
    for point in points:
        subject = f"N={point.handlers}"
        measurements += [
            Measurement(
                metric="clean build",
                subject=subject,
                value=point.clean,
                baseline=smallest,
                unit="s",
            ),
            Measurement(
                metric="no-op, vs clean",
                subject=subject,
                value=point.no_op,
                baseline=point.clean,
                unit="s",
            ),
            Measurement(
                metric="one edit, vs clean",
                subject=subject,
                value=point.one_edit,
                baseline=point.clean,
                unit="s",
            ),
        ]
    return measurements


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
    from lambdapress.emulator import Emulator, Listeners

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
    timings: dict[str, list[float]] = {"bytecode": [], "sources": []}
    event = sample_event(entry)
    for _ in range(runs):  # interleaved, so both see the same machine load
        for label, function in (("bytecode", entry), ("sources", sources)):
            manifest = Application(functions=(function,))
            with Emulator(
                manifest,
                scratch,
                cache_dir=runtime_cache,
                listeners=Listeners(on_warning=lambda _message: None),
            ) as emulator:
                result = emulator.invoke(function.name, event)
            timings[label].append(_init_duration(result))
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


def _init_duration(result: InvocationResult) -> float:
    """The Init Duration of a cold start; an init phase that failed measures nothing.

    A failure is an error (exit 1), not a figure: a bench that timed an import error would
    report a cold start of a function that cannot start.
    """
    duration = result.report.init_duration_ms
    if result.init_failed or duration is None:
        why = f"{result.error.error_type}: {result.error.message}" if result.error else "no init"
        raise EmulatorError(
            f"bench: the cold start of {result.function} failed, so it cannot be measured ({why})",
            hint=f"run `lambdapress invoke {result.function}` to see its log, fix it, then "
            "bench again",
        )
    return duration


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

    from lambdapress.emulator import Emulator, Listeners

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
    timings: dict[str, list[float]] = {label: [] for label in variants}
    event = sample_event(entry)
    for _ in range(runs):
        for label, function in variants.items():
            with Emulator(
                Application(functions=(function,)),
                scratch,
                cache_dir=runtime_cache,
                listeners=Listeners(on_warning=lambda _message: None),
            ) as emulator:
                result = emulator.invoke(function.name, event)
            timings[label].append(_init_duration(result))
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
