"""awslambdaric installed once into its own folder; the fallback loop where it has no wheel."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lambdapress.emulator import _ric
from lambdapress.emulator._ric import (
    AWSLAMBDARIC,
    fallback_client,
    install_awslambdaric,
    runtime_client,
    wheel_platform,
)
from lambdapress.errors import EmulatorError
from lambdapress.support.toolchain import Interpreter

MINOR = f"{sys.version_info[0]}.{sys.version_info[1]}"


@pytest.mark.parametrize(
    ("system", "machine", "expected"),
    [
        ("Linux", "x86_64", "x86_64-manylinux2014"),
        ("Linux", "aarch64", "aarch64-manylinux2014"),
        ("Darwin", "arm64", None),
        ("Windows", "AMD64", None),
        ("Linux", "riscv64", None),
    ],
)
def test_wheel_platforms(system: str, machine: str, expected: str | None) -> None:
    assert wheel_platform(system, machine) == expected


def test_awslambdaric_is_installed_once_into_its_own_folder(runtime_cache: Path) -> None:
    platform_tag = wheel_platform()
    assert platform_tag is not None, "these tests run on Linux x86_64/aarch64"
    client = install_awslambdaric(MINOR, platform_tag, runtime_cache)
    assert client.kind == "awslambdaric" and client.module == "awslambdaric"
    assert (client.path / "awslambdaric" / "bootstrap.py").is_file()
    assert any(client.path.glob(f"runtime_client.cpython-{MINOR.replace('.', '')}*.so"))
    marker = next(client.path.glob(".lambdapress-complete"))
    stamp = marker.stat().st_mtime_ns

    again = install_awslambdaric(MINOR, platform_tag, runtime_cache)
    assert again == client and marker.stat().st_mtime_ns == stamp  # reused, not reinstalled


def test_only_a_real_install_is_announced(
    runtime_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform_tag = wheel_platform()
    assert platform_tag is not None, "these tests run on Linux x86_64/aarch64"
    heard: list[str] = []
    install_awslambdaric(MINOR, platform_tag, runtime_cache)
    install_awslambdaric(MINOR, platform_tag, runtime_cache, on_install=heard.append)
    assert heard == []  # already installed: nothing to wait for, nothing said

    monkeypatch.setenv("UV_OFFLINE", "1")
    monkeypatch.setenv("UV_NO_CACHE", "1")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    with pytest.raises(EmulatorError):
        install_awslambdaric(MINOR, platform_tag, tmp_path, on_install=heard.append)
    assert heard == [f"installing {AWSLAMBDARIC} for Python {MINOR} (first run only)"]


def test_an_install_that_cannot_reach_the_index_says_how_to_fix_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UV_OFFLINE", "1")
    monkeypatch.setenv("UV_NO_CACHE", "1")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    with pytest.raises(EmulatorError, match=f"cannot install {AWSLAMBDARIC}") as caught:
        install_awslambdaric(MINOR, "x86_64-manylinux2014", tmp_path)
    assert "fallback runtime client" in str(caught.value)
    assert not any((tmp_path / "runtime").iterdir())  # nothing half-installed is left


def test_without_a_wheel_the_fallback_loop_is_used_and_explained(tmp_path: Path) -> None:
    mac = Interpreter(Path("/usr/bin/python3"), "3.12.1", "arm64")
    client = runtime_client(mac, tmp_path, system="Darwin")
    assert client.kind == "fallback" and client.module == "lambdapress_runtime"
    assert client.note is not None and "no wheel for Darwin arm64" in client.note
    assert (client.path / "lambdapress_runtime.py").is_file()


def test_asking_for_awslambdaric_where_it_has_no_wheel_is_an_error(tmp_path: Path) -> None:
    windows = Interpreter(Path("python.exe"), "3.12.1", "AMD64")
    with pytest.raises(EmulatorError, match="no wheel for Windows AMD64"):
        runtime_client(windows, tmp_path, "awslambdaric", system="Windows")


def test_the_fallback_module_is_written_once(tmp_path: Path) -> None:
    first = fallback_client(tmp_path, "note")
    module = first.path / "lambdapress_runtime.py"
    stamp = module.stat().st_mtime_ns
    second = fallback_client(tmp_path, "note")
    assert second.path == first.path and module.stat().st_mtime_ns == stamp
    assert "def main()" in module.read_text()


def test_the_workers_runtime_client_carries_bytecode_for_their_python(runtime_cache: Path) -> None:
    """Workers write no bytecode (-B): without it each cold start would compile awslambdaric."""
    import importlib.util
    import platform

    interpreter = Interpreter(Path(sys.executable), platform.python_version(), platform.machine())
    client = runtime_client(interpreter, runtime_cache)

    bootstrap = client.path / "awslambdaric" / "bootstrap.py"
    assert Path(importlib.util.cache_from_source(str(bootstrap))).is_file()
    assert client.path.name.endswith("-pyc")  # not the folder of an install without bytecode
    assert _ric.damage(client.path) is None  # bytecode is outside the install's record
