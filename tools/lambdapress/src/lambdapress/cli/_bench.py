"""`lambdapress bench`: sizes, rebuild times and cold starts as ratios to same-run baselines."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from lambdapress.cli._args import Subcommands, add_root, positive_int, root_of
from lambdapress.cli._console import print_table, steps

if TYPE_CHECKING:
    from lambdapress.bench import BenchReport

# The defaults of `bench.scaling` and `bench.sam`, written here so that `--help` imports
# neither (a test keeps them equal).
DEFAULT_SIZES = "10,100,500"
DEFAULT_SAM_SIZES = "10,40"
DEFAULT_RUNS = 3


def register(commands: Subcommands) -> None:
    """Add `bench` to the `lambdapress` command line."""
    bench = commands.add_parser(
        "bench",
        help="measure zip sizes, rebuild times and cold starts against baselines",
        description="Build a scratch copy of the workspace and report each figure as a ratio "
        "to a baseline measured in the same run; then time issue 25's workload of N handlers, "
        "and `sam build` on it.",
    )
    bench.add_argument(
        "--cold-starts", type=positive_int, default=10, metavar="N", help="runs per variant"
    )
    bench.add_argument(
        "--sizes",
        type=_sizes,
        default=DEFAULT_SIZES,
        metavar="N,N,...",
        help="numbers of generated handlers to time builds at (empty: skip)",
    )
    bench.add_argument(
        "--sam-sizes",
        type=_sizes,
        default=DEFAULT_SAM_SIZES,
        metavar="N,N,...",
        help="numbers of handlers to time `sam build` at, and lambdapress next to it (empty: skip)",
    )
    bench.add_argument(
        "--sam",
        default="uv",
        metavar="SAM",
        help="the SAM CLI to compare with: `uv` (the pinned aws-sam-cli, run with `uv tool "
        "run`), `none`, or a command or path",
    )
    bench.add_argument(
        "--runs",
        type=positive_int,
        default=DEFAULT_RUNS,
        metavar="N",
        help="builds per timing, of which the median is reported",
    )
    bench.add_argument(
        "--chart",
        type=Path,
        default=None,
        metavar="PNG",
        help="where to draw the timings against N (default dist/bench/scaling.png; needs "
        "matplotlib)",
    )
    add_root(bench)
    bench.set_defaults(handler=_cmd_bench)


def _cmd_bench(args: argparse.Namespace) -> int:
    from lambdapress.bench import ScalingOptions, run_bench

    root = root_of(args)
    started = time.monotonic()
    scaling = ScalingOptions(
        sizes=args.sizes, sam_sizes=args.sam_sizes, runs=args.runs, sam=args.sam
    )
    with steps("bench") as display:

        def progress(step: str) -> None:
            elapsed = int(time.monotonic() - started)
            display.say(f"bench [{elapsed // 60}:{elapsed % 60:02d}]: {step}")

        report = run_bench(root, args.cold_starts, progress, scaling)
    rows = [
        [
            m.metric,
            m.subject,
            _amount(m.value, m.unit),
            _amount(m.baseline, m.unit),
            f"{m.ratio:.2f}",
        ]
        for m in report.measurements
    ]
    print_table(["metric", "subject", "lambdapress", "baseline", "ratio"], rows)
    print(
        "\nbaselines: zip size = the whole service and every locked requirement in one zip (what "
        "copy-everything packagers deploy per function); rebuilds = a full build with wheels "
        "cached; cold start = the same code with no bytecode at all; runtime import = `import "
        "json` (stdlib); N = the same figure at the smallest N, or `sam build` on the same "
        f"workload (timings: medians of {args.runs} runs, each a process of its own)"
    )
    for note in report.notes:
        print(note)
    if report.scaling:
        _report_scaling(report, args.chart or root / "dist" / "bench" / "scaling.png")
    elapsed = int(time.monotonic() - started)
    print(f"\nthe whole run: {elapsed // 60} min {elapsed % 60} s")
    return 0


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from None
    if any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError("sizes are numbers of handlers: 1 or more")
    return tuple(sorted(set(sizes)))


def _report_scaling(report: BenchReport, chart: Path) -> None:
    """Issue 25's table as this run fills it, its bars met or not, and the chart."""
    from lambdapress.bench import report as verdicts
    from lambdapress.bench import scaling

    headers, rows = verdicts.issue_table(report)
    if rows and len(headers) > 1:
        print("\nissue 25's table, this run:")
        print_table(headers, rows)
    found, missing = verdicts.checks(report)
    print()
    for check in found:
        print(check.line())
    for sentence in missing:
        print(f"not measured: {sentence}")
    try:
        written = scaling.draw_chart(report.scaling, chart, report.sam)
    except ImportError:
        print("chart skipped: matplotlib is not installed (uv add --group dev matplotlib)")
    else:
        print(f"chart: {written}")


def _amount(value: float, unit: str) -> str:
    if unit == "bytes":
        return f"{value / 1024:,.0f} KiB"
    if unit == "s":
        return f"{value:.2f} s"
    return f"{value:.1f} {unit}"
