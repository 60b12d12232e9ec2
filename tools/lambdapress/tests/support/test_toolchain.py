"""Finding a Python for a runtime: PATH, pyenv, uv, fallback; broken shims are skipped."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from lambdapress.errors import ToolchainError
from lambdapress.support import toolchain as interpreters
from lambdapress.support.toolchain import find_interpreter, probe


def _fake_python(path: Path, version: str, *, works: bool = True) -> Path:
    """An executable that answers the probe like a Python `version` would (or fails)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if works:
        body = f'printf "%s\\n%s\\n%s\\n" "{version}" x86_64 "{path}"\n'
    else:
        body = 'echo "pyenv: python: command not found" >&2\nexit 127\n'
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(interpreters, "_cache", {})


def test_a_working_python_on_path_is_chosen(tmp_path: Path) -> None:
    fake = _fake_python(tmp_path / "bin" / "python3.12", "3.12.4")
    environ = {"PATH": str(tmp_path / "bin"), "PYENV_ROOT": str(tmp_path / "none")}
    choice = find_interpreter("3.12", environ=environ)
    assert choice.exact and choice.interpreter.path == fake
    assert choice.interpreter.version == "3.12.4" and choice.interpreter.minor == "3.12"


def test_a_broken_shim_is_skipped_for_pyenvs_real_interpreter(tmp_path: Path) -> None:
    _fake_python(tmp_path / "shims" / "python3.12", "3.12.0", works=False)
    real = _fake_python(tmp_path / "pyenv" / "versions" / "3.12.1" / "bin" / "python3.12", "3.12.1")
    environ = {"PATH": str(tmp_path / "shims"), "PYENV_ROOT": str(tmp_path / "pyenv")}
    choice = find_interpreter("3.12", environ=environ)
    assert choice.exact and choice.interpreter.path == real


def test_uv_managed_pythons_are_found(tmp_path: Path) -> None:
    uv_python = tmp_path / "uv" / "cpython-3.13.2-linux-x86_64-gnu" / "bin" / "python3.13"
    _fake_python(uv_python, "3.13.2")
    environ = {
        "PATH": "",
        "PYENV_ROOT": str(tmp_path / "none"),
        "UV_PYTHON_INSTALL_DIR": str(tmp_path / "uv"),
    }
    assert find_interpreter("3.13", environ=environ).interpreter.path == uv_python


def test_without_a_match_the_running_python_is_used_and_marked_inexact(tmp_path: Path) -> None:
    environ = {"PATH": str(tmp_path), "PYENV_ROOT": str(tmp_path), "UV_PYTHON_INSTALL_DIR": ""}
    choice = find_interpreter("3.99", environ=environ)
    assert not choice.exact
    assert choice.interpreter.minor == f"{sys.version_info[0]}.{sys.version_info[1]}"


def test_the_real_interpreter_runs_and_reports_itself() -> None:
    found = probe(Path(sys.executable))
    assert found is not None
    assert found.version == ".".join(map(str, sys.version_info[:3]))
    assert os.access(found.path, os.X_OK)


def test_an_explicit_interpreter_that_does_not_start_is_an_error(tmp_path: Path) -> None:
    broken = _fake_python(tmp_path / "python", "3.12.0", works=False)
    with pytest.raises(ToolchainError, match="does not start"):
        find_interpreter("3.12", explicit=broken)
