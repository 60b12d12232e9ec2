"""How build times grow with the number of functions, next to `sam build` on the same workload.

The workload is issue 25's (`bench.workload`): one service of N handlers, generated in a
scratch folder. Builds are timed as a user runs them, one process each (`python -m lambdapress
package`, with the CLI's start-up in the figure, and SAM's executable), medians of `runs`:

- clean: no dist/ and an empty project cache (`$LAMBDAPRESS_CACHE` pointed at a scratch folder,
  so a cache the caller configured is never wiped). The user-level wheel cache is the caller's
  own, read and filled, never emptied; a warm-up build before the first figure fills it, so the
  clean figures are with it warm. At SAM's sizes, clean builds with an empty user-level cache
  of their own are timed too;
- no-op: the same command again, nothing changed;
- one edit: after appending a comment to one handler.

SAM, at its sizes: `sam build` without `.aws-sam`, then `sam build --cached` once to fill its
cache, then `--cached` with nothing changed and after each edit. A warm-up `sam build` first
fills pip's cache, as uv's is filled for lambdapress.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lambdapress.bench import _sam as sam_cli
from lambdapress.bench._workload import Workload, edit_handler, set_handlers
from lambdapress.bench.report import SamPoint, ScalingPoint
from lambdapress.bundle import wheel_cache
from lambdapress.errors import BundleError, LambdapressError
from lambdapress.storage.dynamodb import FAKE_ENVIRONMENT

__all__ = [
    "DEFAULT_SAM_SIZES",
    "DEFAULT_SIZES",
    "Baseline",
    "SamPoint",
    "ScalingOptions",
    "ScalingPoint",
    "ScalingResult",
]

DEFAULT_SIZES = (10, 100, 500)
DEFAULT_SAM_SIZES = (10, 40)
RUNS = 3
OFFLINE_AWS = FAKE_ENVIRONMENT
"""What the timed builds run with: fake credentials, the local region, no metadata service."""
USER_CACHE_VARIABLE = wheel_cache.ENVIRONMENT

Say = Callable[[str], None]
AtSamSize = Callable[[int, Workload, Workload], None]
"""Called at each of SAM's sizes once both have built: N, our workload, SAM's copy."""


@dataclass(frozen=True)
class ScalingOptions:
    """What to time: lambdapress at `sizes` and `sam_sizes`, SAM at `sam_sizes`.

    `sam` says which SAM (`sam.locate_sam`: `uv` for the pinned release, `none`, or a command);
    `lambdapress` is the command that builds (this interpreter's, as a user's `lambdapress`).
    """

    sizes: tuple[int, ...]
    sam_sizes: tuple[int, ...] = ()
    runs: int = RUNS
    sam: str = "uv"
    lambdapress: tuple[str, ...] = (sys.executable, "-m", "lambdapress")

    @property
    def all_sizes(self) -> tuple[int, ...]:
        """Every N lambdapress is timed at, smallest first."""
        return tuple(sorted(set(self.sizes) | set(self.sam_sizes)))


@dataclass(frozen=True)
class LambdapressBuild:
    """`lambdapress package` of one workspace, in a process of its own, timed."""

    root: Path
    project_cache: Path
    command: tuple[str, ...] = (sys.executable, "-m", "lambdapress")

    def wipe(self) -> None:
        """No zips, no project cache: the next build is clean (the user-level cache stays)."""
        for folder in (self.root / "dist", self.root / ".cache", self.project_cache):
            shutil.rmtree(folder, ignore_errors=True)

    def build(self, user_cache: Path | None = None) -> float:
        """Seconds one `package` takes; `user_cache` replaces the user-level wheel cache."""
        env = {**os.environ, **OFFLINE_AWS, "LAMBDAPRESS_CACHE": str(self.project_cache)}
        if user_cache is not None:
            env[USER_CACHE_VARIABLE] = str(user_cache)
        command = [*self.command, "package", "--root", str(self.root)]
        started = time.perf_counter()
        result = subprocess.run(
            command, capture_output=True, text=True, check=False, env=env, timeout=3600
        )
        elapsed = time.perf_counter() - started
        if result.returncode != 0:
            said = (result.stderr.strip() or result.stdout.strip())[-800:]
            raise BundleError(
                f"bench: `lambdapress package` of the generated workload failed: {said}",
                path=self.root,
                hint="run `lambdapress package --root` on that folder to see why",
            )
        return elapsed


def user_wheel_cache() -> Path:
    """The user-level wheel cache's folder for this environment (the builds inherit it)."""
    return wheel_cache.locate().folder


def cache_entries(folder: Path) -> int:
    """How many prepared wheels the user-level cache at `folder` holds."""
    return len(wheel_cache.cache_info(wheel_cache.CacheLocation(folder, "bench")).entries)


@dataclass(frozen=True)
class Baseline:
    """SAM, and the copy of the workload it builds."""

    sam: sam_cli.SamCli
    workload: Workload


@dataclass(frozen=True)
class ScalingResult:
    """The timings of both packagers, and why SAM's stopped short when it did."""

    points: tuple[ScalingPoint, ...]
    sam: tuple[SamPoint, ...]
    sam_problem: str | None = None


def measure_scaling(
    ours: Workload,
    baseline: Baseline | None,
    options: ScalingOptions,
    scratch: Path,
    say: Say,
    at_sam_size: AtSamSize | None = None,
) -> ScalingResult:
    """lambdapress's timings at every size and SAM's at its sizes (see the module).

    A `sam build` that fails ends SAM's part, not the run: the reason is in the result.
    """
    builder = LambdapressBuild(ours.root, scratch / "project-cache", options.lambdapress)
    sizes = options.all_sizes
    set_handlers(ours, sizes[0])
    say(f"warm-up build (N={sizes[0]}): fills uv's and the user-level wheel caches")
    builder.wipe()
    builder.build()
    problem = None
    if baseline is not None and options.sam_sizes:
        say(f"warm-up `sam build` (N={sizes[0]}): fills pip's cache")
        try:
            set_handlers(baseline.workload, sizes[0])
            sam_cli.write_sam_project(baseline.workload, sizes[0])
            sam_cli.clean(baseline.workload)
            sam_cli.timed_build(baseline.sam, baseline.workload, cached=False)
        except LambdapressError as exc:
            baseline, problem = None, str(exc)
    points: list[ScalingPoint] = []
    sam_points: list[SamPoint] = []
    for count in sizes:
        set_handlers(ours, count)
        clean = []
        for run in range(options.runs):
            say(f"N={count}: clean build {run + 1}/{options.runs}")
            builder.wipe()
            clean.append(builder.build())
        say(f"N={count}: {options.runs} no-op builds")
        no_op = [builder.build() for _ in range(options.runs)]
        edits = []
        for run in range(options.runs):
            say(f"N={count}: one handler edited, build {run + 1}/{options.runs}")
            edit_handler(ours, count, f"run {run}")
            edits.append(builder.build())
        empty = None
        if count in options.sam_sizes:
            empty = _clean_with_empty_user_cache(builder, scratch, count, options.runs, say)
        points.append(
            ScalingPoint(
                handlers=count,
                clean=statistics.median(clean),
                no_op=statistics.median(no_op),
                one_edit=statistics.median(edits),
                clean_empty=empty,
                runs=options.runs,
            )
        )
        if baseline is not None and count in options.sam_sizes:
            try:
                sam_points.append(_time_sam(baseline, count, options.runs, say))
            except LambdapressError as exc:
                baseline, problem = None, str(exc)
                continue
            if at_sam_size is not None:
                at_sam_size(count, ours, baseline.workload)
    return ScalingResult(tuple(points), tuple(sam_points), problem)


def _clean_with_empty_user_cache(
    builder: LambdapressBuild, scratch: Path, count: int, runs: int, say: Say
) -> float:
    """Median of clean builds, each with a new, empty user-level wheel cache."""
    timings = []
    for run in range(runs):
        say(f"N={count}: clean build, user-level cache empty, {run + 1}/{runs}")
        empty = scratch / f"empty-user-cache-{count}-{run}"
        builder.wipe()
        try:
            timings.append(builder.build(user_cache=empty))
        finally:
            shutil.rmtree(empty, ignore_errors=True)
    return statistics.median(timings)


def _time_sam(baseline: Baseline, count: int, runs: int, say: Say) -> SamPoint:
    sam, theirs = baseline.sam, baseline.workload
    set_handlers(theirs, count)
    sam_cli.write_sam_project(theirs, count)
    clean = []
    for run in range(runs):
        say(f"N={count}: sam build (clean) {run + 1}/{runs}")
        sam_cli.clean(theirs)
        clean.append(sam_cli.timed_build(sam, theirs, cached=False))
    say(f"N={count}: sam build --cached, filling its cache")
    sam_cli.timed_build(sam, theirs, cached=True)
    say(f"N={count}: {runs} sam build --cached, nothing changed")
    no_op = [sam_cli.timed_build(sam, theirs, cached=True) for _ in range(runs)]
    edits = []
    for run in range(runs):
        say(f"N={count}: one handler edited, sam build --cached {run + 1}/{runs}")
        edit_handler(theirs, count, f"run {run}")
        edits.append(sam_cli.timed_build(sam, theirs, cached=True))
    return SamPoint(
        handlers=count,
        clean=statistics.median(clean),
        no_op=statistics.median(no_op),
        one_edit=statistics.median(edits),
        runs=runs,
    )


def draw_chart(
    points: tuple[ScalingPoint, ...], destination: Path, sam: tuple[SamPoint, ...] = ()
) -> Path:
    """A PNG of the three timings against N (both axes log-scaled), SAM's as open markers.

    matplotlib is a development dependency (the bench's only use of it), imported here alone.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    from lambdapress.support import files

    figure, axes = pyplot.subplots(figsize=(9, 6))
    counts = [p.handlers for p in points]
    series = (
        ("clean build", "clean", "C0"),
        ("no-op", "no_op", "C1"),
        ("one handler edited", "one_edit", "C2"),
    )
    for label, attribute, colour in series:
        values = [getattr(p, attribute) for p in points]
        axes.plot(counts, values, marker="o", color=colour, label=f"lambdapress: {label}")
        if sam:
            axes.plot(
                [p.handlers for p in sam],
                [getattr(p, attribute) for p in sam],
                marker="s",
                markerfacecolor="none",
                linestyle="--",
                color=colour,
                label=f"sam build{'' if attribute == 'clean' else ' --cached'}: {label}",
            )
    ticks = sorted(set(counts) | {p.handlers for p in sam})
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xticks(ticks, [str(c) for c in ticks])
    axes.set_xlabel("handlers (N)")
    axes.set_ylabel("seconds (median)")
    axes.set_title("Build time against the number of functions: lambdapress and SAM")
    axes.grid(True, which="both", alpha=0.3)
    # Below the axes: inside, it would cover a line whatever corner it took.
    axes.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3)
    figure.tight_layout()
    with files.replacing(destination) as temporary:
        figure.savefig(temporary, format="png", dpi=120)
    pyplot.close(figure)
    return destination
