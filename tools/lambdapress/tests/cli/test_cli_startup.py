"""A command imports its own module only: `lambdapress package` does not load the emulator.

`lambdapress --version` loads no command at all, and neither it nor a no-op `package`
(`tests/bundle/test_what_planning_loads.py`) loads copier, jinja2, rich, boto3 or botocore.

`cli.COMMAND_MODULES` says which module adds which commands; it must stay in step with what
each module's `register` really adds, or a command would be missing when another one runs.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from lambdapress import version as version_module
from lambdapress.cli import COMMAND_MODULES, _parser
from lambdapress.cli._args import Parser
from lambdapress.version import __version__


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


# What a command that does not use them must never load (issue 25): the template engine, the
# terminal renderer and the AWS SDK each cost tens of milliseconds to import.
HEAVY = ("copier", "jinja2", "rich", "boto3", "botocore")

MODULES_AT_EXIT = """
import json, sys
from lambdapress.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def loaded_by(arguments: list[str], cwd: Path) -> tuple[str, list[str]]:
    """What `lambdapress ARGUMENTS` printed, and every module loaded when it was done."""
    result = subprocess.run(
        [sys.executable, "-c", MODULES_AT_EXIT, *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    *printed, last = result.stdout.splitlines()
    report = json.loads(last)
    assert report["code"] == 0, result.stderr
    return "\n".join(printed), report["modules"]


def heavy_in(modules: list[str]) -> list[str]:
    return [m for m in modules if m.split(".")[0] in HEAVY]


def test_version_loads_no_command_and_no_model(tmp_path: Path) -> None:
    printed, modules = loaded_by(["--version"], tmp_path)

    assert printed == f"lambdapress {__version__} (template: not a generated project)"
    assert heavy_in(modules) == []
    commands = [m for m in modules if m in COMMAND_MODULES or m.startswith("lambdapress.bundle")]
    assert commands == []
    # Outside a generated project there is no answers file to read: neither the YAML parser
    # nor pydantic (the answers' model) is needed, nor importlib.metadata for the version.
    assert [m for m in modules if m.split(".")[0] in ("pydantic", "yaml")] == []
    assert "importlib.metadata" not in modules


def test_version_reads_the_installed_metadata_as_importlib_does() -> None:
    assert version_module._from_metadata_file() == metadata.version("lambdapress")


def test_version_falls_back_to_importlib_without_a_dist_info(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", [str(tmp_path)])
    assert version_module._from_metadata_file() is None
    assert version_module._installed_version() == "0.0.0"  # nothing installed on that path

    info = tmp_path / "lambdapress-9.8.7.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.3\nName: lambdapress\nVersion: 9.8.7\n")
    assert version_module._installed_version() == "9.8.7"


def test_the_command_line_puts_its_imports_out_of_collection_and_a_caller_keeps_its_own() -> None:
    """`main()` (the console script) freezes what the command imported; `main([...])` not."""
    script = (
        "import gc, sys\n"
        "from lambdapress.cli import main\n"
        "assert main(['--version']) == 0 and gc.get_freeze_count() == 0\n"
        "sys.argv = ['lambdapress', '--version']\n"
        "assert main() == 0\n"
        "print(gc.get_freeze_count() > 0, gc.isenabled())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "True True"
