"""`lambdapress package`: argument parsing, a progress line and the closing table."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from lambdapress.bundle.pipeline import Progress, execute_plan, plan_package
from lambdapress.cliargs import add_root, root_of
from lambdapress.tables import render_table

_STATUS = {"build": "rebuilt", "cached": "cached", "unchanged": "unchanged"}


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `package` to the `lambdapress` command line."""
    parser = commands.add_parser(
        "package",
        help="build one Lambda zip per handler and dist/manifest.json",
        description="Build dist/<service>/<function>.zip for every handler (or the services "
        "named) and write dist/manifest.json. Unchanged functions are not rebuilt.",
    )
    parser.add_argument("services", nargs="*", metavar="SERVICE", help="only these services")
    parser.add_argument("--function", metavar="NAME", help="only this function (orders.get_order)")
    parser.add_argument(
        "--jobs", type=int, default=min(8, os.cpu_count() or 2), help="parallel builds"
    )
    add_root(parser)
    parser.set_defaults(handler=_cmd_package)


def _cmd_package(args: argparse.Namespace) -> int:
    root = root_of(args)
    show = _progress_printer(sys.stderr.isatty())
    plan = plan_package(root, tuple(args.services), args.function, args.jobs, show)
    for warning in plan.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    result = execute_plan(plan, args.jobs, show)
    if sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr)
    if not result.functions:
        print("no functions: add a service (nox -s new -- service NAME) with handler modules")
        return 0
    rows = [
        [
            r.name,
            f"{r.archive.size / 1024:,.1f} KiB",
            f"{r.archive.unzipped_size / 1024:,.1f} KiB",
            r.archive.files,
            _STATUS[r.status],
        ]
        for r in result.functions
    ]
    print(render_table(["function", "zip", "unzipped", "files", "status"], rows))
    rebuilt = sum(r.status == "build" for r in result.functions)
    print(f"\n{len(rows)} functions, {rebuilt} rebuilt; manifest: dist/manifest.json")
    return 0


def _progress_printer(interactive: bool) -> Callable[[Progress], None]:
    def show(event: Progress) -> None:
        if event.kind == "install":
            line = f"installing wheel {event.name}"
        else:
            line = f"[{event.done}/{event.total}] {_STATUS[event.kind]} {event.name}"
        if interactive:
            print(f"\r\033[K{line}", end="", file=sys.stderr, flush=True)
        elif event.kind == "install":
            sys.stderr.write(line + "\n")  # one write: installs report from several threads

    return show
