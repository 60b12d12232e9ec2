"""Command-line arguments that every lambdapress command shares."""

from __future__ import annotations

import argparse
from pathlib import Path

from lambdapress.workspace import find_root


def add_root(parser: argparse.ArgumentParser) -> None:
    """`--root DIR`: run against the repository that contains DIR (default: the current one)."""
    parser.add_argument(
        "--root",
        metavar="DIR",
        type=Path,
        default=None,
        help="a folder inside the repository (default: the current folder)",
    )


def root_of(args: argparse.Namespace) -> Path:
    """The workspace root named by `--root`, or the one containing the current folder."""
    start: Path = args.root if args.root is not None else Path.cwd()
    return find_root(start)
