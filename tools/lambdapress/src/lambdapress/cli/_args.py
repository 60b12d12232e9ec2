"""The argparse conventions every lambdapress command shares, built in one place.

`Parser` is the class of the root parser, and argparse gives every sub-parser (and their
sub-parsers) the class of its parent, so each command gets, without asking:
- the same help layout (`HelpFormatter`): each option's default appended as `(default: ...)`
  unless it has none worth showing;
- `--version`, printing exactly what `lambdapress --version` prints.
The numeric types below refuse zero, negative and out-of-range values with an argparse usage
error (exit 2) that names the option, before any command runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeAlias

from lambdapress.config.toolversion import version_text
from lambdapress.version import __version__

MAX_PORT = 65535


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """`(default: X)` after each option whose default means something; commands in one column.

    No default is shown for flags (False), for options that are simply absent (None), for
    empty lists, or when the help already says it (`%(default)s`).
    """

    def add_argument(self, action: argparse.Action) -> None:
        """Also count the sub-commands' extra indentation when sizing the name column.

        argparse measures them one level too shallow, so a name as long as `workspace` would
        push its help onto the next line.
        """
        super().add_argument(action)
        if action.help is argparse.SUPPRESS or not isinstance(action, argparse._SubParsersAction):
            return
        indent = self._current_indent + self._indent_increment
        for subaction in action._get_subactions():
            width = len(self._format_action_invocation(subaction)) + indent
            self._action_max_length = max(self._action_max_length, width)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default in (None, False, [], argparse.SUPPRESS) or "%(default)" in text:
            return text
        return super()._get_help_string(action)


class _PrintVersion(argparse.Action):
    """`--version`: the tool and the template version (`.copier-answers.yml` `_commit`)."""

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        print(version_text(__version__, Path.cwd()))
        parser.exit(0)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser with lambdapress's help layout and `--version`, on every command."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)
        self.add_argument(
            "--version",
            action=_PrintVersion,
            nargs=0,
            default=False,
            help="print the tool's version and the project's template version",
        )


Subcommands: TypeAlias = "argparse._SubParsersAction[Any]"
"""What `Parser.add_subparsers` returns, for the modules that register commands on it."""


def bounded_int(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high` (no upper bound: None)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            bounds = f"from {low} to {high}" if high is not None else f"{low} or more"
            raise argparse.ArgumentTypeError(f"{value} is out of range: use {bounds}")
        return value

    parse.__name__ = "whole number"  # argparse names the type in some messages
    return parse


def positive_seconds(text: str) -> float:
    """An argparse type: a number of seconds greater than zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is out of range: use a number of seconds above 0")
    return value


positive_int = bounded_int(1)
"""An argparse type: 1 or more (counts: `--times`, `--cold-starts`, `--concurrency`)."""


def add_root(parser: argparse.ArgumentParser) -> None:
    """`--root DIR`: run against the repository that contains DIR (default: the current one)."""
    parser.add_argument(
        "--root",
        metavar="DIR",
        type=Path,
        default=None,
        help="a folder inside the repository (default: the current folder)",
    )


def add_root_and_manifest(parser: argparse.ArgumentParser, verb: str) -> None:
    """`--root DIR` and `--manifest PATH` (the manifest to `verb`, default dist/manifest.json)."""
    add_root(parser)
    parser.add_argument(
        "--manifest",
        metavar="PATH",
        type=Path,
        default=None,
        help=f"the manifest to {verb} (default: dist/manifest.json)",
    )


def root_and_manifest(args: argparse.Namespace) -> tuple[Path, Path]:
    """The workspace root and the manifest file that `--root` and `--manifest` name."""
    from lambdapress.model.manifest import manifest_path  # the model: when needed

    root = root_of(args)
    return root, args.manifest if args.manifest is not None else manifest_path(root)


def root_of(args: argparse.Namespace) -> Path:
    """The workspace root named by `--root`, or the one containing the current folder."""
    from lambdapress.config.workspace import find_root  # the workspace's models: when needed

    start: Path = args.root if args.root is not None else Path.cwd()
    return find_root(start)
