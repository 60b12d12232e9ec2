"""A command imports its own module only: `lambdapress package` does not load the emulator.

`cli.COMMAND_MODULES` says which module adds which commands; it must stay in step with what
each module's `register` really adds, or a command would be missing when another one runs.
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

import pytest

from lambdapress.cli import COMMAND_MODULES, _parser
from lambdapress.cli._args import Parser


def _names(parser: argparse.ArgumentParser) -> set[str]:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {name for action in actions for name in action.choices}


@pytest.mark.parametrize("module", sorted(COMMAND_MODULES))
def test_each_module_adds_exactly_the_commands_the_map_names(module: str) -> None:
    parser = Parser(prog="lambdapress")
    importlib.import_module(module).register(parser.add_subparsers())

    assert _names(parser) == set(COMMAND_MODULES[module])


def test_every_command_is_there_without_a_command_and_its_own_with_one() -> None:
    every = _names(_parser())

    assert every == {c for names in COMMAND_MODULES.values() for c in names}
    assert _names(_parser("package")) == {"package"}  # every command is a registered module
    assert _names(_parser("pakage")) == every  # a typo: argparse lists every choice


def test_lambdapress_package_does_not_import_the_emulator_or_the_publisher() -> None:
    script = (
        "import sys\n"
        "from lambdapress.cli import main\n"
        "assert main(['package', '--help']) == 0\n"
        "print(sorted(m for m in sys.modules if m.startswith(('lambdapress.emulator', "
        "'lambdapress.publish'))))\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
