"""The layer map of the tool's README holds: import-linter's contracts pass, and they would fail.

The contracts live in the root pyproject (`[tool.importlinter]`); `nox -s lint` runs them. The
second test proves they can fail: a copy of the package with one import that climbs a layer.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import lambdapress

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = Path(lambdapress.__file__).parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(source_root: Path) -> subprocess.CompletedProcess[str]:
    """Run the contracts of the root pyproject over the `lambdapress` found in `source_root`."""
    environment = {**os.environ, "PYTHONPATH": str(source_root)}
    return subprocess.run(
        [str(LINT_IMPORTS), str(ROOT / "pyproject.toml"), "--no-cache", "--no-logo"],
        cwd=source_root,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def _copy_package(tmp_path: Path) -> Path:
    source_root = tmp_path / "src"
    shutil.copytree(PACKAGE, source_root / "lambdapress", ignore=shutil.ignore_patterns("*.pyc"))
    return source_root


def test_the_contracts_hold() -> None:
    result = _lint_imports(PACKAGE.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_copy_of_the_package_is_what_the_contracts_check(tmp_path: Path) -> None:
    result = _lint_imports(_copy_package(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "forbidden", "broken"),
    [
        ("bundle/archive.py", "lambdapress.publish.publisher", "lambdapress layers"),
        ("bundle/archive.py", "tomlkit", "the bundler loads neither the publisher nor tomlkit"),
        ("indexes/config.py", "lambdapress.bundle.lock", "lambdapress layers"),
        ("emulator/routes.py", "lambdapress.publish.tags", "lambdapress layers"),
        ("config/settings.py", "lambdapress.bundle.targets", "lambdapress layers"),
        ("support/files.py", "lambdapress.model.manifest", "lambdapress layers"),
        ("config/settings.py", "lambdapress.model.manifest", "lambdapress layers"),
        (
            "config/lambda_platform.py",
            "lambdapress.config.workspace",
            "configuration above the platform's facts and rules",
        ),
    ],
)
def test_an_import_that_climbs_a_layer_breaks_the_contracts(
    tmp_path: Path, module: str, forbidden: str, broken: str
) -> None:
    source_root = _copy_package(tmp_path)
    with (source_root / "lambdapress" / module).open("a", encoding="utf-8") as handle:
        handle.write(f"\nimport {forbidden}  # climbs a layer\n")
    result = _lint_imports(source_root)
    assert result.returncode != 0
    assert f"{broken} BROKEN" in result.stdout
    assert forbidden in result.stdout
