"""Packaging loads neither the publisher nor tomlkit: pins and indexes come from `indexes/`;
and a no-op `lambdapress package`, piped or on a terminal, loads no copier, jinja2, rich, boto3
or botocore.

Checked in a fresh interpreter, as a user runs it: the library's planning (`sys.modules` after
`plan_package`) and the `lambdapress package` command (`python -X importtime`).
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from lambdapress.bundle.pipeline import package

PLAN = """
import json, sys
from pathlib import Path
from lambdapress.bundle.pipeline import plan_package
plan = plan_package(Path(sys.argv[1]))
print(json.dumps({"functions": len(plan.functions), "modules": sorted(sys.modules)}))
"""


def _publisher_or_tomlkit(modules: list[str]) -> list[str]:
    return [m for m in modules if m.startswith("lambdapress.publish") or m.startswith("tomlkit")]


def test_planning_loads_neither_the_publisher_nor_tomlkit(shop: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PLAN, str(shop)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["functions"] > 0
    assert "lambdapress.indexes.pins" in loaded["modules"]  # what it reads instead
    assert _publisher_or_tomlkit(loaded["modules"]) == []


def test_the_package_command_loads_no_publishing_code_nor_tomlkit(shop: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "lambdapress", "package", "--root", str(shop)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    imported = [
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    ]
    assert "lambdapress.bundle.pipeline" in imported
    assert "lambdapress.indexes.pins" in imported
    # Only the command-line registration of `publish` and `models` is loaded, not their code.
    registration = {
        "lambdapress.publish",
        "lambdapress.cli._publish",
        "lambdapress.cli._models",
    }
    assert set(_publisher_or_tomlkit(imported)) <= registration
    assert not any(m.startswith("tomlkit") for m in imported)


# Issue 25: what a no-op `lambdapress package` must not load (a command line that does nothing
# pays only for what it uses): the template engine, the terminal renderer, the AWS SDK.
HEAVY = ("copier", "jinja2", "rich", "boto3", "botocore")

NO_OP = """
import json, sys
from lambdapress.cli import main
code = main(["package", "--root", sys.argv[1]])
with open(sys.argv[2], "w") as report:
    json.dump({"code": code, "modules": sorted(sys.modules)}, report)
"""


def _run_on_a_terminal(command: list[str]) -> tuple[int, str]:
    """`command` with a pseudo-terminal as its stdin, stdout and stderr: what a user sees."""
    leader, follower = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    environment.update(TERM="xterm-256color", COLUMNS="120")
    process = subprocess.Popen(
        command, stdin=follower, stdout=follower, stderr=follower, env=environment
    )
    os.close(follower)
    shown = b""
    try:
        while chunk := os.read(leader, 65536):
            shown += chunk
    except OSError:  # the other side closed: the command is done
        pass
    finally:
        os.close(leader)
    return process.wait(timeout=120), shown.decode(errors="replace")


@pytest.mark.parametrize("terminal", [False, True], ids=["piped", "terminal"])
def test_a_no_op_package_loads_no_template_engine_renderer_or_sdk(
    shop: Path, tmp_path: Path, terminal: bool
) -> None:
    package(shop, jobs=1)
    report = tmp_path / "modules.json"
    command = [sys.executable, "-c", NO_OP, str(shop), str(report)]
    if terminal:
        code, shown = _run_on_a_terminal(command)
    else:
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
        code, shown = result.returncode, result.stdout + result.stderr
    assert code == 0, shown
    loaded = json.loads(report.read_text())
    assert loaded["code"] == 0, shown
    assert "functions, 0 rebuilt" in shown
    assert [m for m in loaded["modules"] if m.split(".")[0] in HEAVY] == []
