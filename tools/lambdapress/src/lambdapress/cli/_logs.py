"""`lambdapress logs FUNCTION --stage NAME [--since 10m] [--follow]`: a function's log, readable.

Reading is `deploy.logs`; this prints each event as it comes. `--follow` polls until stopped:
SIGINT or SIGTERM ends the wait between polls (and a call in flight) at once, through
`main()`'s handlers, with the usual exit code (130 / 143) and no traceback.
"""

from __future__ import annotations

import argparse
import sys
import time

from lambdapress.cli._args import Subcommands, add_root, positive_seconds, root_of

DEFAULT_INTERVAL = 2.0
"""Seconds between polls with --follow: FilterLogEvents allows 5 calls a second per account."""


def register(commands: Subcommands) -> None:
    """Add `logs` to the `lambdapress` command line."""
    parser = commands.add_parser(
        "logs",
        help="print a deployed function's log (Powertools' JSON made readable)",
        description="Read the log group of FUNCTION (its manifest name, e.g. orders.get_order) "
        "in the stack of the stage: each Powertools JSON line as time, level, message and "
        "key=value extras; other lines as they are.",
    )
    parser.add_argument("function", metavar="FUNCTION", help="e.g. orders.get_order")
    parser.add_argument("--stage", required=True, metavar="NAME", help="the stage, e.g. dev")
    parser.add_argument(
        "--since", default="10m", metavar="AGE", help="start this far back: 30s, 10m, 2h, 1d"
    )
    parser.add_argument(
        "--follow", action="store_true", help="keep printing new events until Ctrl-C"
    )
    parser.add_argument(
        "--interval",
        type=positive_seconds,
        default=DEFAULT_INTERVAL,
        metavar="SECONDS",
        help="seconds between polls with --follow",
    )
    add_root(parser)
    parser.set_defaults(handler=_cmd_logs)


def _cmd_logs(args: argparse.Namespace) -> int:
    from lambdapress.deploy.aws import Aws
    from lambdapress.deploy.logs import LogTail, log_source, parse_since, render, start_ms

    since = parse_since(args.since)
    source = log_source(root_of(args), args.function, args.stage)
    tail = LogTail(Aws(source.secrets), source.group, start_ms(since))
    print(f"{source.function} ({args.stage}): {source.group}", file=sys.stderr)
    while True:
        for event in tail.poll():
            print(render(event), flush=True)
        if not args.follow:
            return 0
        time.sleep(args.interval)
