"""`lambdapress drift --stage NAME`: CloudFormation drift detection, as a table.

Exit status: 0 when the stack is in sync, 1 when it drifted (or on an error), so a pipeline
can gate on it (`deploy.drift`).
"""

from __future__ import annotations

import argparse
import sys

from lambdapress.cli._args import Subcommands, add_root, positive_seconds, root_of
from lambdapress.cli._console import print_table

DEFAULT_TIMEOUT = 600.0
"""Seconds to wait for a detection: CloudFormation takes about a second per resource."""


def register(commands: Subcommands) -> None:
    """Add `drift` to the `lambdapress` command line."""
    parser = commands.add_parser(
        "drift",
        help="show what changed in a stage's stack outside lambdapress (exit 1 if anything)",
        description="Run CloudFormation drift detection on stack <project>-<stage>, wait for "
        "it, and print each resource property that differs from the template (expected, "
        "actual). Exit status: 0 in sync, 1 drifted.",
    )
    parser.add_argument("--stage", required=True, metavar="NAME", help="the stage to check")
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="how long to wait for the detection",
    )
    add_root(parser)
    parser.set_defaults(handler=_cmd_drift)


def _cmd_drift(args: argparse.Namespace) -> int:
    from lambdapress.deploy.drift import detect

    print(f"detecting drift on stage {args.stage}...", file=sys.stderr)
    report = detect(root_of(args), args.stage, args.timeout)
    if report.not_checked:
        print(
            f"not checked by CloudFormation (drift detection does not support them): "
            f"{', '.join(report.not_checked)}",
            file=sys.stderr,
        )
    if not report.drifted:
        print(f"{report.stack_name}: in sync with its template")
        return 0
    print(
        f"{report.stack_name}: drifted, {report.drifted_resources} resource"
        f"{'' if report.drifted_resources == 1 else 's'} changed outside lambdapress"
    )
    print_table(
        ("resource", "type", "property", "expected", "actual"),
        [(d.logical_id, d.resource_type, d.property, d.expected, d.actual) for d in report.drifts],
    )
    print(
        f"deploy --stage {args.stage} puts the template's values back; "
        "or change the sources to keep what is there"
    )
    return 1
