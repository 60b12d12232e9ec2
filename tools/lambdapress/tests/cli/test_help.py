"""`lambdapress --help` and every sub-command's help, compared exactly with stored snapshots.

The snapshots live in `tests/snapshots/help/`, one file per command (`lambdapress-index-serve.txt`
for `lambdapress index serve --help`), rendered with `COLUMNS=100`. A change to any help text
fails here until the snapshots are regenerated and the diff reviewed:

    LAMBDAPRESS_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tools/lambdapress/tests/cli/test_help.py

argparse's layout varies a little between Python versions; the snapshots are made with the
Python of the workspace's `.venv` (3.11), the one CI runs.

Beside the exact comparison, the rules the snapshots are meant to keep: every command has a
description and `--version`, and every argument says what it is for.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdapress import __version__
from lambdapress.cli import _parser, main

SNAPSHOTS = Path(__file__).parent / "snapshots" / "help"
UPDATE = os.environ.get("LAMBDAPRESS_UPDATE_SNAPSHOTS") == "1"


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every parser, with the words that reach it (the root: an empty path)."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, (*path, name))


COMMANDS = [path for path, _ in commands(_parser())]


def snapshot_file(path: tuple[str, ...]) -> Path:
    return SNAPSHOTS / ("-".join(("lambdapress", *path)) + ".txt")


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "lambdapress")
def test_help_matches_its_snapshot(
    path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    assert main([*path, "--help"]) == 0
    text = capsys.readouterr().out
    stored = snapshot_file(path)
    if UPDATE:
        stored.parent.mkdir(parents=True, exist_ok=True)
        stored.write_text(text, encoding="utf-8")
    assert stored.is_file(), f"no snapshot {stored.name}: regenerate (see the module docstring)"
    assert text == stored.read_text(encoding="utf-8")


def test_every_snapshot_belongs_to_a_command() -> None:
    assert sorted(SNAPSHOTS.glob("*.txt")) == sorted(snapshot_file(path) for path in COMMANDS)


def test_the_snapshots_cover_every_command() -> None:
    names = {" ".join(path) for path in COMMANDS}
    assert {
        "",
        "new",
        "package",
        "publish",
        "index serve",
        "models add",
        "invoke",
        "serve",
        "db",
        "template",
        "deploy",
        "sync",
        "destroy",
        "logs",
        "drift",
        "cache info",
        "cache prune",
        "event",
        "trigger",
    } <= names
    assert len(names) == 30


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "lambdapress")
def test_every_command_is_described_and_every_argument_explained(path: tuple[str, ...]) -> None:
    parser = dict(commands(_parser()))[path]
    assert parser.description, f"{parser.prog} has no description"
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            assert all(choice.help for choice in action._choices_actions)
        else:
            assert action.help, f"{parser.prog}: {action.dest} has no help"


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "lambdapress")
def test_version_is_everywhere_and_says_the_same(
    path: tuple[str, ...],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main([*path, "--version"]) == 0
    assert capsys.readouterr().out == (
        f"lambdapress {__version__} (template: not a generated project)\n"
    )
