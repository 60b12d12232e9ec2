"""`lambdapress package` as people see it: a live progress bar on a terminal, plain lines in CI.

The terminal case runs the real command with stdout and stderr on a pseudo-terminal
(`pty.openpty`) and reads everything it drew; the CI case runs it with both captured (not a
terminal), and once more on the pseudo-terminal with NO_COLOR set.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lambdapress.cli import main


def functions(root: Path) -> list[str]:
    manifest = json.loads((root / "dist" / "manifest.json").read_text(encoding="utf-8"))
    return sorted(entry["name"] for entry in manifest["functions"])


def package_on_a_terminal(root: Path, **env: str) -> str:
    """Everything `lambdapress package` writes to a pseudo-terminal, until it exits."""
    leader, follower = pty.openpty()
    environment = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", **env}
    if "NO_COLOR" not in env:
        environment.pop("NO_COLOR", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "lambdapress", "package", "--jobs", "2", "--root", str(root)],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env=environment,
    )
    os.close(follower)
    chunks = []
    try:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the command exited and closed its end
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
        assert process.wait(timeout=300) == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode("utf-8", errors="replace")


def test_a_terminal_shows_a_bar_with_counts(shop: Path) -> None:
    drawn = package_on_a_terminal(shop)
    names = functions(shop)
    total = len(names)
    assert f"{total}/{total}" in drawn  # the count column, done of all
    assert "━" in drawn  # the bar
    assert "package: " in drawn
    assert "\x1b[" in drawn  # drawn with terminal control sequences
    assert "[1/" not in drawn  # not the plain lines
    for name in names:  # the closing table, drawn by rich
        assert name in drawn
    assert f"{total} functions, " in drawn


def test_ci_gets_one_plain_line_per_function(
    shop: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert main(["package", "--jobs", "2", "--root", str(shop)]) == 0
    captured = capsys.readouterr()
    names = functions(shop)
    steps = [line for line in captured.err.splitlines() if line.startswith("[")]
    assert sorted(line.split()[-1] for line in steps) == names
    assert sorted(line.split()[0] for line in steps) == [
        f"[{n}/{len(names)}]" for n in range(1, len(names) + 1)
    ]
    assert "\x1b" not in captured.err + captured.out and "\r" not in captured.err
    assert captured.out.splitlines()[0].split() == [
        "function",
        "zip",
        "unzipped",
        "files",
        "status",
    ]


def test_no_color_on_a_terminal_gets_the_plain_lines(shop: Path) -> None:
    drawn = package_on_a_terminal(shop, NO_COLOR="1")
    total = len(functions(shop))
    assert "\x1b" not in drawn and "━" not in drawn
    assert f"[{total}/{total}] " in drawn
    assert "function  " in drawn and "--------" in drawn  # the plain table


def private_cache(wheel_cache: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache with no built zips (every function builds) that shares the installed wheels."""
    (wheel_cache / "wheels").mkdir(parents=True, exist_ok=True)
    folder.mkdir()
    (folder / "wheels").symlink_to(wheel_cache / "wheels", target_is_directory=True)
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(folder))
    return folder


def test_steps_are_told_in_order_whatever_order_the_builds_finish_in(
    shop: Path,
    wheel_cache: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lambdapress.bundle import pipeline

    private_cache(wheel_cache, tmp_path / "cache", monkeypatch)
    build = pipeline.build_artifact

    def slow_first(function, cache, store=None):  # type: ignore[no-untyped-def]
        if function.name == "shop.create_item":  # first in the plan: finishes last
            time.sleep(1.0)
        return build(function, cache, store)

    monkeypatch.setattr(pipeline, "build_artifact", slow_first)
    monkeypatch.delenv("NO_COLOR", raising=False)

    assert main(["package", "--jobs", "2", "--root", str(shop)]) == 0

    steps = [line for line in capsys.readouterr().err.splitlines() if line.startswith("[")]
    assert steps == ["[1/2] rebuilt shop.create_item", "[2/2] rebuilt shop.get_item"]


BOTO3_SERVICE = """\
[project]
name = "shop"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["boto3", "six"]

[tool.poetry]
packages = [{ include = "shop", from = "src" }]

[tool.lambdapress]
runtime = "python3.11"
architecture = "x86_64"
"""


def test_the_sdk_the_runtime_provides_is_neither_installed_nor_announced(
    shop: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`aws_sdk = "runtime"` (the default): boto3 is on Lambda's path, so it never ships."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(cache))
    # An empty user-level cache too: a wheel another test prepared would be taken, not installed.
    monkeypatch.setenv("LAMBDAPRESS_CACHE_DIR", str(tmp_path / "user-cache"))
    (shop / "services/shop/pyproject.toml").write_text(BOTO3_SERVICE)
    handler = shop / "services/shop/src/shop/handlers/get_item.py"
    handler.write_text("import boto3\nimport six\n\n\ndef handler(event, context):\n    return 1\n")
    (shop / "services/shop/src/shop/handlers/create_item.py").unlink()
    locked = subprocess.run(["uv", "lock", "--quiet"], cwd=shop, capture_output=True, text=True)
    assert locked.returncode == 0, locked.stderr

    assert main(["package", "--jobs", "2", "--root", str(shop)]) == 0

    err = capsys.readouterr().err
    installs = [line for line in err.splitlines() if line.startswith("installing wheel ")]
    assert installs, err
    announced = [line.split()[2] for line in installs]
    assert not {"boto3", "botocore", "s3transfer"} & set(announced), installs
    assert announced == sorted(announced)  # the lock's order, the same in every run
    assert all(line.endswith(" (python3.11, x86_64)") for line in installs), installs
    assert not list(cache.glob("wheels/*/*/boto*")) and not list(cache.glob("wheels/*/*/s3t*"))
    entry = json.loads((shop / "dist" / "manifest.json").read_text())["functions"][0]
    assert set(entry["contents"]["distributions"]) == {
        "six"
    }  # nor what only boto3 needs (jmespath...)
