"""`lambdapress serve` started twice at once on one workspace, then after a SIGKILL.

Exactly one serves; the other is refused at once (exit 1), naming the running process, its
URLs and how to stop it. A `serve` killed outright leaves its lock file naming a dead process:
the next start serves all the same.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lambdapress.support.lifetime import descendants

from .conftest import Repo

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

LAMBDAPRESS = (sys.executable, "-m", "lambdapress")
SERVE_OPTIONS = ("--no-watch", "--root")
WITHIN = 60.0
"""Seconds: a bound on waiting, not a measurement."""


def start_serve(repo: Repo, runtime_cache: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            *LAMBDAPRESS,
            "serve",
            "--port",
            "0",
            "--lambda-port",
            "0",
            *SERVE_OPTIONS,
            str(repo.root),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "LAMBDAPRESS_CACHE": str(runtime_cache), "PYTHONUNBUFFERED": "1"},
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


def url_of(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("HTTP API:"):
            return line.split()[-1]
    pytest.fail(f"serve did not start: {process.communicate()}")


def test_two_starts_at_once_serve_once_and_a_start_after_sigkill_serves_again(
    repo: Repo, runtime_cache: Path, started: list[subprocess.Popen[str]]
) -> None:
    repo.write(repo.standard())
    started.extend([start_serve(repo, runtime_cache), start_serve(repo, runtime_cache)])

    deadline = time.monotonic() + WITHIN
    while not [p for p in started if p.poll() is not None]:
        assert time.monotonic() < deadline, "neither start gave way"
        time.sleep(0.1)
    (refused,) = [p for p in started if p.poll() is not None]
    (serving,) = [p for p in started if p is not refused]
    _, err = refused.communicate()
    url = url_of(serving)

    assert refused.returncode == 1, err
    assert "lambdapress serve is already running for this workspace" in err
    assert f"process {serving.pid}" in err and f"kill {serving.pid}" in err
    assert httpx.get(f"{url}/plain", timeout=30).status_code == 200

    serving.send_signal(signal.SIGKILL)
    serving.wait()

    again = start_serve(repo, runtime_cache)
    started.append(again)
    assert httpx.get(f"{url_of(again)}/plain", timeout=30).status_code == 200
    again.send_signal(signal.SIGTERM)
    assert again.wait(timeout=WITHIN) == 143
