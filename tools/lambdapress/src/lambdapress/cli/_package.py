"""`lambdapress package`: argument parsing, a progress line and the closing table.

On a terminal the progress bar starts with the first zip that is not unchanged (built, fetched
or taken from the cache), and a run where every function is unchanged prints its table as
plain text: a no-op loads no rich.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

from lambdapress.bundle.pipeline import PackageOptions, Progress, execute_plan, plan_package
from lambdapress.cli._args import Subcommands, add_root, bounded_int, root_of
from lambdapress.cli._console import Steps, print_table, steps

_STATUS = {"build": "rebuilt", "cached": "cached", "remote": "remote", "unchanged": "unchanged"}


def register(commands: Subcommands) -> None:
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
        "--jobs",
        type=bounded_int(1, 256),
        metavar="N",
        help="parallel builds (default: one per CPU, at most 8)",
    )
    parser.add_argument(
        "--no-remote-cache",
        action="store_true",
        help="neither fetch from nor upload to the shared build cache ([tool.lambdapress.cache])",
    )
    add_root(parser)
    parser.set_defaults(handler=_cmd_package)


def _cmd_package(args: argparse.Namespace) -> int:
    root = root_of(args)
    jobs = args.jobs if args.jobs is not None else default_jobs()
    with steps("package", lazy=True) as display:  # no bar while every zip is unchanged
        show = _progress_to(display)
        options = PackageOptions(
            services=tuple(args.services),
            function=args.function,
            jobs=jobs,
            progress=show,
            remote_cache=not args.no_remote_cache,
        )
        plan = plan_package(root, options)
        for warning in plan.warnings:
            display.say(f"warning: {warning}")
        result = execute_plan(plan, jobs, show)
        for warning in result.warnings[len(plan.warnings) :]:  # found while building
            display.say(f"warning: {warning}")
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
    # Every function unchanged: nothing new to draw, and the plain table spares loading rich.
    unchanged = all(r.status == "unchanged" for r in result.functions)
    print_table(["function", "zip", "unzipped", "files", "status"], rows, plain=unchanged)
    rebuilt = sum(r.status == "build" for r in result.functions)
    print(f"\n{len(rows)} functions, {rebuilt} rebuilt; manifest: dist/manifest.json")
    return 0


def default_jobs() -> int:
    """Parallel builds without `--jobs`: one per CPU, at most 8 (more only contend for disk)."""
    return min(8, os.cpu_count() or 2)


def _progress_to(display: Steps) -> Callable[[Progress], None]:
    """The bundler's progress events, drawn by `display` (a bar, or one line each in CI)."""

    def show(event: Progress) -> None:
        if event.kind == "install":
            display.note(f"installing wheel {event.name}")
        else:
            busy = event.kind != "unchanged"  # a zip built, fetched or put in dist/: shown
            display.step(f"{_STATUS[event.kind]} {event.name}", event.done, event.total, busy=busy)

    return show
