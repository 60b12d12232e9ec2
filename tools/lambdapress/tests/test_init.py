"""The public API exported from the package root."""

from __future__ import annotations

import subprocess
import sys

import lambdapress


def test_public_names_exist() -> None:
    missing = [name for name in lambdapress.__all__ if not hasattr(lambdapress, name)]
    assert missing == []
    assert {"load_workspace", "find_root", "LambdapressError", "plan_new"} <= set(
        lambdapress.__all__
    )


def test_version_is_a_string() -> None:
    assert isinstance(lambdapress.__version__, str)
    assert lambdapress.__version__.count(".") >= 2


def test_python_dash_m_runs_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lambdapress", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.startswith(f"lambdapress {lambdapress.__version__} (template")
