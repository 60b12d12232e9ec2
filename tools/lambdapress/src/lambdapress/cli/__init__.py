"""The `lambdapress` command: a thin argparse shell over the library.

This is the only module that prints or decides exit codes. Each command parses arguments,
calls one or two library functions and formats their (frozen) results, so everything worth
testing lives in the library and the CLI stays a readable list of commands.

Exit codes, decided in `main()` only:
- 0: done; 1: a user mistake (a LambdapressError, printed as one `error: ...` message with the
  file and the fix); 2: a usage error (argparse) or an internal error;
- 130 / 143: stopped by SIGINT / SIGTERM. `main()` installs both handlers itself (a process
  started in the background by a shell inherits SIGINT as ignored), so every command unwinds
  through its `with` and `finally` blocks: servers and workers stop, temporary folders go.
No traceback ever reaches the user from lambdapress's own code: any other exception is a bug,
reported as `error: internal error in lambdapress <version>: <Type>: <message>` with the path
of a log file holding the traceback (`LAMBDAPRESS_DEBUG=1` lets it propagate instead).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from lambdapress.cli._args import Parser, Subcommands, add_root, positive_int, root_of
from lambdapress.cli._console import print_table, steps
from lambdapress.config.toolversion import older_tool_warning
from lambdapress.config.workspace import Workspace, find_root, load_workspace
from lambdapress.errors import LambdapressError, ScaffoldError
from lambdapress.scaffold import (
    KINDS,
    NewPlan,
    describe_plan,
    execute_new,
    models_data,
    parse_data,
    plan_new,
)
from lambdapress.support.crash import summary, write_crash_log
from lambdapress.support.lifetime import Interrupted, signal_handlers, stop_with_parent
from lambdapress.version import __version__

if TYPE_CHECKING:
    from lambdapress.bench import BenchReport

Handler = Callable[[argparse.Namespace], int]

# The modules that add commands of their own, and their commands. A command's module alone is
# imported to run it: `lambdapress package` never loads the emulator (HTTP servers, workers) or
# the publisher. Help, no command or an unknown one load them all. A test keeps this in step.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "lambdapress.cli.package": ("package",),
    "lambdapress.cli.publish": ("publish", "index", "models", "pin", "unpin", "pins"),
    "lambdapress.cli.serve": ("invoke", "serve"),
    "lambdapress.cli.db": ("db",),
    "lambdapress.cli.template": ("template",),
    "lambdapress.cli.deploy": ("deploy", "sync", "destroy"),
}


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script passes it to exit)."""
    args: argparse.Namespace | None = None
    with signal_handlers():
        try:
            stop_with_parent()
            _warn_if_the_tool_is_older()
            arguments = sys.argv[1:] if argv is None else argv
            parser = _parser(_command_in(arguments))
            args = parser.parse_args(arguments)
            handler: Handler = args.handler  # the root parser's default: `_no_command`
            return handler(args)
        except SystemExit as exc:  # argparse: --help (0) or a usage error (2), already printed
            return exc.code if isinstance(exc.code, int) else 1
        except LambdapressError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        except Interrupted as stop:
            print(f"interrupted by {stop.name}: stopped", file=sys.stderr)
            return stop.exit_code
        except KeyboardInterrupt:
            print("interrupted: stopped", file=sys.stderr)
            return 130
        except Exception as error:
            if os.environ.get("LAMBDAPRESS_DEBUG") == "1":
                raise
            command = sys.argv[1:] if argv is None else argv
            return _internal_error(error, args, ["lambdapress", *command])


def _internal_error(error: Exception, args: argparse.Namespace | None, command: list[str]) -> int:
    """A bug in lambdapress: one line and the path of the log holding its traceback."""
    print(f"error: {summary(error)}", file=sys.stderr)
    try:
        log = write_crash_log(error, _root_for_logs(args), command)
    except OSError as problem:
        print(f"details: no log could be written ({problem})", file=sys.stderr)
    else:
        print(f"details: {log}", file=sys.stderr)
    print("  this is a bug in lambdapress: please report it with that log", file=sys.stderr)
    return 2


def _root_for_logs(args: argparse.Namespace | None) -> Path | None:
    """The workspace the command ran in, if there is one (a crash may predate knowing it)."""
    try:
        if args is not None and hasattr(args, "root"):
            return root_of(args)
        return find_root(Path.cwd())
    except Exception:
        return None


def _command_in(arguments: list[str]) -> str | None:
    """The command named on the command line (its first word that is not an option)."""
    return next((a for a in arguments if not a.startswith("-")), None)


def _register(commands: Subcommands, module: str, command: str | None) -> None:
    """Add `module`'s commands, unless another module's command is the one that runs."""
    known = {c for names in COMMAND_MODULES.values() for c in names} | LOCAL_COMMANDS
    if command in known and command not in COMMAND_MODULES[module]:
        return
    importlib.import_module(module).register(commands)


LOCAL_COMMANDS = frozenset({"new", "workspace", "bench"})


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line; with `command`, only the commands of that command's module."""
    parser = Parser(prog="lambdapress", description="Build tool for AWS Lambda monorepos.")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    parser.set_defaults(handler=_no_command(parser, commands))

    new = commands.add_parser(
        "new",
        help="create a service or package from the repository's template",
        description="Create services/NAME or packages/NAME from the same template version as "
        "the rest of the repository.",
    )
    new.add_argument("kind", choices=KINDS, help="what to create")
    new.add_argument("name", metavar="NAME", help="service name (orders) or package name")
    new.add_argument(
        "--models",
        metavar="PKG[==SPEC]",
        help="model library a service builds on (a version: a published one, with --index)",
    )
    new.add_argument(
        "--index",
        metavar="NAME",
        help="the configured index the --models library is published to",
    )
    new.add_argument(
        "--data",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="answer a template question (repeatable)",
    )
    new.add_argument("--dry-run", action="store_true", help="print the plan, create nothing")
    add_root(new)
    new.set_defaults(handler=_cmd_new)

    workspace = commands.add_parser(
        "workspace",
        help="list the packages and services of the workspace",
        description="List the workspace members and each service's Lambda settings.",
    )
    add_root(workspace)
    workspace.set_defaults(handler=_cmd_workspace)
    _register(commands, "lambdapress.cli.package", command)

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
    _register(commands, "lambdapress.cli.publish", command)
    _register(commands, "lambdapress.cli.serve", command)
    _register(commands, "lambdapress.cli.db", command)
    _register(commands, "lambdapress.cli.template", command)
    _register(commands, "lambdapress.cli.deploy", command)
    return parser


def _no_command(parser: argparse.ArgumentParser, commands: Subcommands) -> Handler:
    """`lambdapress` alone: the usage and every command's name, as a usage error (exit 2)."""

    def handler(args: argparse.Namespace) -> int:
        parser.print_usage(sys.stderr)
        print(f"error: choose a command: {', '.join(commands.choices)}", file=sys.stderr)
        print("  (lambdapress --help describes each)", file=sys.stderr)
        return 2

    return handler


def _warn_if_the_tool_is_older() -> None:
    """Warn on stderr when the project locks a lambdapress older than its template version.

    That happens when `copier update` moved the pin but the lock did not follow; the warning
    never stops the command.
    """
    warning = older_tool_warning(Path.cwd(), __version__)
    if warning is not None:
        print(warning, file=sys.stderr)


def _load(args: argparse.Namespace) -> Workspace:
    return load_workspace(root_of(args))


def _cmd_new(args: argparse.Namespace) -> int:
    workspace = _load(args)
    overrides = parse_data(args.data)
    if args.models is not None:
        models = models_data(args.models, args.index)
        if overrides.get("models_package", models["models_package"]) != models["models_package"]:
            raise ScaffoldError(
                "--models and --data models_package=... disagree",
                hint="pass only one of them",
            )
        overrides.update(models)
    elif args.index is not None:
        raise ScaffoldError("--index needs --models PACKAGE==VERSION", hint="add --models")
    plan = plan_new(workspace, args.kind, args.name, overrides)
    print(_describe(plan))
    if args.dry_run:
        print("dry run: nothing was created")
        return 0
    execute_new(plan, workspace.root)
    print(f"created {plan.destination}")
    print("next steps:")
    for step in _next_steps(plan):
        print(f"  {step}")
    return 0


def _describe(plan: NewPlan) -> str:
    return "\n".join(describe_plan(plan))


def _next_steps(plan: NewPlan) -> list[str]:
    if plan.kind == "service":
        return [
            "uv sync --all-packages",
            f"write the handlers in {plan.destination}/src/{plan.name}/handlers/",
            "lambdapress workspace",
        ]
    return [
        "uv sync --all-packages",
        f"add the models to {plan.destination}/src/{plan.name.replace('-', '_')}/",
        f"build a service on it: lambdapress new service NAME --models {plan.name}",
    ]


def _cmd_workspace(args: argparse.Namespace) -> int:
    workspace = _load(args)
    print(f"workspace: {workspace.root}")
    if workspace.answers is not None:
        version = workspace.answers.commit or "unknown version"
        print(f"template:  {workspace.answers.src_path} @ {version}")
    elif workspace.template_root:
        print("template:  this repository (copier.yml)")
    print()
    print("packages")
    if workspace.packages:
        rows = [
            [p.name, p.version or "dynamic", workspace.relative(p.path)] for p in workspace.packages
        ]
        print_table(["name", "version", "path"], rows)
    else:
        print("  (none)")
    print()
    print("services")
    if workspace.services:
        rows = [
            [
                s.name,
                s.settings.runtime,
                s.settings.architecture,
                s.settings.memory,
                s.settings.timeout,
                workspace.relative(s.path),
            ]
            for s in workspace.services
        ]
        print_table(["name", "runtime", "architecture", "memory", "timeout", "path"], rows)
    else:
        print("  (none)")
    return 0


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
