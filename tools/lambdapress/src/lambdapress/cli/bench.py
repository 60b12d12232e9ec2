"""`lambdapress bench`: sizes, rebuild times and cold starts as ratios to same-run baselines."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from lambdapress.cli._args import Subcommands, add_root, positive_int, root_of
from lambdapress.cli._console import print_table, steps

if TYPE_CHECKING:
    from lambdapress.bench import BenchReport


def register(commands: Subcommands) -> None:
    """Add `bench` to the `lambdapress` command line."""
    bench = commands.add_parser(
        "bench",
        help="measure zip sizes, rebuild times and cold starts against baselines",
        description="Build a scratch copy of the workspace and report each figure as a ratio "
        "to a baseline measured in the same run.",
    )
    bench.add_argument(
        "--cold-starts", type=positive_int, default=10, metavar="N", help="runs per variant"
    )
    bench.add_argument(
        "--sizes",
        type=_sizes,
        default="1,10,40,200",
        metavar="N,N,...",
        help="numbers of generated handlers to time builds at (empty: skip)",
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
    from lambdapress.bench import run_bench

    root = root_of(args)
    with steps("bench") as display:
        report = run_bench(
            root, args.cold_starts, lambda step: display.note(f"bench: {step}..."), args.sizes
        )
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
        "cached; cold start = the same code with no bytecode at all; N = a clean build of N=1 "
        "(clean) or of the same N (no-op, one edit); runtime import = `import json` (stdlib)"
    )
    if report.scaling:
        _report_scaling(report, args.chart or root / "dist" / "bench" / "scaling.png")
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
    """The issue's criteria, each with its figure, and the chart (when matplotlib is there)."""
    from lambdapress.bench import scaling as scaling

    by_n = {p.handlers: p for p in report.scaling}
    largest = by_n[max(by_n)]
    checks = [
        (
            f"no-op at N={largest.handlers} <= {scaling.NO_OP_LIMIT}x its clean build",
            largest.no_op / largest.clean,
            scaling.NO_OP_LIMIT,
        ),
        (
            f"one edit at N={largest.handlers} <= {scaling.EDIT_LIMIT}x its clean build",
            largest.one_edit / largest.clean,
            scaling.EDIT_LIMIT,
        ),
    ]
    if 1 in by_n and 40 in by_n:
        checks.insert(
            0,
            (
                f"clean at N=40 <= {scaling.CLEAN_GROWTH_LIMIT}x clean at N=1",
                by_n[40].clean / by_n[1].clean,
                scaling.CLEAN_GROWTH_LIMIT,
            ),
        )
    print()
    for label, ratio, limit in checks:
        print(f"{'met' if ratio <= limit else 'NOT MET'}: {label} (ratio {ratio:.3f})")
    try:
        written = scaling.draw_chart(report.scaling, chart)
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
