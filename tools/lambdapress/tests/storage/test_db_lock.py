"""`lambdapress db` started twice at once on a fresh data folder, then after a SIGKILL.

Real processes, real PostgreSQL and moto. Before the lock, both starts ran initdb on the same
folder (the second removing the first's half-made cluster) and neither served. Now exactly one
serves, the other is refused at once (exit 1) naming the running process and how to stop it;
and a `db` killed outright (no clean-up: its lock file and state file still name it, its
PostgreSQL may still be shutting down) does not stop the next start from serving.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from lambdapress.config.workspace import Workspace
from lambdapress.storage.state import state_path
from lambdapress.support.lifetime import descendants, running

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

WITHIN = 90.0
"""Seconds: a bound on waiting, not a measurement."""


def start_db(root: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "lambdapress", "db", "--root", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        start_new_session=True,
    )


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[str]]]:
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        for pid in descendants(process.pid):
            os.kill(pid, signal.SIGKILL)
        if process.poll() is None:
            process.kill()
        process.communicate()


def serving_state(root: Path, process: subprocess.Popen[str]) -> dict[str, object]:
    """The state file once `process` wrote it (the servers are up and migrated then)."""
    deadline = time.monotonic() + WITHIN
    while True:
        assert process.poll() is None, process.communicate()
        if state_path(root).is_file():
            state: dict[str, object] = json.loads(state_path(root).read_text())
            if state["pid"] == process.pid:
                return state
        assert time.monotonic() < deadline, "lambdapress db did not start"
        time.sleep(0.1)


def test_two_starts_at_once_serve_once_and_a_start_after_sigkill_serves_again(
    reachable_workspace: Workspace, started: list[subprocess.Popen[str]]
) -> None:
    root = reachable_workspace.root
    assert not (root / ".cache").exists()  # a fresh data folder
    started.extend([start_db(root), start_db(root)])

    deadline = time.monotonic() + WITHIN
    while not [p for p in started if p.poll() is not None]:
        assert time.monotonic() < deadline, "neither start gave way"
        time.sleep(0.1)
    (refused,) = [p for p in started if p.poll() is not None]
    (serving,) = [p for p in started if p is not refused]
    _, err = refused.communicate()
    assert refused.returncode == 1, err
    assert "already running" in err and f"process {serving.pid}" in err
    assert f"kill {serving.pid}" in err

    state = serving_state(root, serving)
    url = state["backends"]["postgres"]["databases"]["orders"]  # type: ignore[index]
    with psycopg.connect(url) as db:
        assert db.execute("SELECT count(*) FROM orders").fetchone() == (0,)

    serving.send_signal(signal.SIGKILL)  # no clean-up runs: lock and state name a dead pid
    serving.wait()

    again = start_db(root)
    started.append(again)
    state = serving_state(root, again)
    url = state["backends"]["postgres"]["databases"]["orders"]  # type: ignore[index]
    with psycopg.connect(url) as db:  # the same data folder, serving again
        assert db.execute("SELECT count(*) FROM orders").fetchone() == (0,)
    again.send_signal(signal.SIGINT)
    _, err = again.communicate(timeout=WITHIN)
    assert again.returncode == 130, err
    assert not state_path(root).exists()
    assert not [pid for pid in descendants(again.pid) if running(pid)]
