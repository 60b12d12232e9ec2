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
import gc
import importlib
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from lambdapress.cli._args import Parser, Subcommands, root_of
from lambdapress.config.toolversion import older_tool_warning
from lambdapress.errors import LambdapressError
from lambdapress.support.crash import summary, write_crash_log
from lambdapress.support.lifetime import Interrupted, signal_handlers, stop_with_parent
from lambdapress.version import __version__

Handler = Callable[[argparse.Namespace], int]

# The modules that add commands of their own, and their commands. A command's module alone is
# imported to run it: `lambdapress package` never loads the emulator (HTTP servers, workers) or
# the publisher. Help, no command or an unknown one load them all. A test keeps this in step.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "lambdapress.cli._new": ("new",),
    "lambdapress.cli._workspace": ("workspace",),
    "lambdapress.cli._package": ("package",),
    "lambdapress.cli._bench": ("bench",),
    "lambdapress.cli._publish": ("publish", "index", "models", "pin", "unpin", "pins"),
    "lambdapress.cli._serve": ("invoke", "serve"),
    "lambdapress.cli._token": ("token",),
    "lambdapress.cli._events": ("event", "trigger"),
    "lambdapress.cli._db": ("db",),
    "lambdapress.cli._template": ("template",),
    "lambdapress.cli._deploy": ("deploy", "sync", "destroy"),
    "lambdapress.cli._logs": ("logs",),
    "lambdapress.cli._drift": ("drift",),
    "lambdapress.cli._cache": ("cache",),
}


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script passes it to exit)."""
    args: argparse.Namespace | None = None
    with signal_handlers():
        try:
            stop_with_parent()
            _warn_if_the_tool_is_older()
            arguments = sys.argv[1:] if argv is None else argv
            # `--version` alone needs no command: their modules (and what they import) stay out.
            with _imports_kept_out_of_collection(argv is None):
                parser = _parser(_command_in(arguments), commands=arguments != ["--version"])
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


@contextmanager
def _imports_kept_out_of_collection(process: bool) -> Iterator[None]:
    """While the command's modules are imported, no garbage collection; then none of them.

    A command's imports (pydantic's models, the registries) leave a few hundred thousand live
    objects, which every full collection would walk again: `_package` spent a tenth of a no-op
    doing so. Collecting is paused while they are imported (they are no garbage), and
    `gc.freeze` puts them out of every later collection. Only for the process's own command
    line (`process`: `main()` without arguments, the console script): a program or a test
    calling `main([...])` keeps its collector as it was.
    """
    if not process:
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


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
        from lambdapress.config.workspace import find_root

        return find_root(Path.cwd())
    except Exception:
        return None


def _command_in(arguments: list[str]) -> str | None:
    """The command named on the command line (its first word that is not an option)."""
    return next((a for a in arguments if not a.startswith("-")), None)


def _register(commands: Subcommands, module: str, command: str | None) -> None:
    """Add `module`'s commands, unless another module's command is the one that runs."""
    known = {c for names in COMMAND_MODULES.values() for c in names}
    if command in known and command not in COMMAND_MODULES[module]:
        return
    importlib.import_module(module).register(commands)


def _parser(command: str | None = None, *, commands: bool = True) -> argparse.ArgumentParser:
    """The command line; with `command`, only the commands of that command's module.

    Without `commands`, none: what `lambdapress --version` parses, which loads no command.
    """
    parser = Parser(prog="lambdapress", description="Build tool for AWS Lambda monorepos.")
    subcommands = parser.add_subparsers(title="commands", metavar="COMMAND")
    parser.set_defaults(handler=_no_command(parser, subcommands))
    for module in COMMAND_MODULES if commands else ():
        _register(subcommands, module, command)
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
