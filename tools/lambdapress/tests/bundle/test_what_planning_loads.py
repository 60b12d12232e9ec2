"""Packaging loads neither the publisher nor tomlkit: pins and indexes come from `indexes/`.

Checked in a fresh interpreter, as a user runs it: the library's planning (`sys.modules` after
`plan_package`) and the `lambdapress package` command (`python -X importtime`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
        "lambdapress.cli.publish",
        "lambdapress.cli.models",
    }
    assert set(_publisher_or_tomlkit(imported)) <= registration
    assert not any(m.startswith("tomlkit") for m in imported)
