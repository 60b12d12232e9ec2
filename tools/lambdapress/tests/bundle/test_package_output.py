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
