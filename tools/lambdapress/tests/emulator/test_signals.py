"""`serve` and `invoke --times` stop cleanly on SIGINT and SIGTERM, and never leave a worker.

Each command runs as a real subprocess with SIGINT *ignored* on start (what a shell does to a
command it starts in the background), so the tests prove the command installs its own
handlers. After the signal: the conventional exit code, no worker process left (checked by
PID), no temporary folder left (the command's TMPDIR is a folder of the test's own).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lambdapress.support.lifetime import descendants, running

from .conftest import Repo, entry_for

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _gone(pid: int, within: float = 15.0) -> bool:
    """Whether `pid` ends within `within` seconds (a bound on waiting, not a measurement)."""
    deadline = time.monotonic() + within
    while running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# The sleeper says it started over a loopback connection: a worker's /tmp is its own, so a
# marker file in the test's folder would not be seen.
SLEEPER = """
import socket
import time


def handler(event, context):
    port = int(event["queryStringParameters"]["port"])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(b"started")
    time.sleep(60)
    return {"statusCode": 200, "body": "woke up"}
"""


@pytest.fixture
def packaged(repo: Repo, runtime_cache: Path) -> Repo:
    """The standard functions, and `GET /sleeper?port=N`: connects to N, sleeps a minute."""
    sleeper = entry_for(
        repo.root,
        repo.artifact("sleeper", {"sleeper.py": SLEEPER}),
        "demo.sleeper",
        "sleeper.handler",
        routes=(("GET", "/sleeper"),),
        timeout=120,
    )
    repo.write(repo.manifest(*repo.standard().functions, sleeper))
    return repo


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """The command's TMPDIR: whatever it leaves there is a leak."""
    folder = tmp_path / "tmpdir"
    folder.mkdir()
    return folder


def _start(args: list[str], runtime_cache: Path, scratch: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "LAMBDAPRESS_CACHE": str(runtime_cache),
        "PYTHONUNBUFFERED": "1",
        "TMPDIR": str(scratch),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "lambdapress", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=_ignore_sigint,
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        for pid in descendants(process.pid):
            os.kill(pid, signal.SIGKILL)
        if process.poll() is None:
            process.kill()
        process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _serve(
    packaged: Repo, runtime_cache: Path, scratch: Path, processes: list[subprocess.Popen[str]]
) -> tuple[subprocess.Popen[str], str, list[int]]:
    """`lambdapress serve` with two warm workers; returns it, its URL and the workers' PIDs."""
    process = _start(
        ["serve", "--port", "0", "--lambda-port", "0", "--root", str(packaged.root)],
        runtime_cache,
        scratch,
    )
    processes.append(process)
    assert process.stdout is not None
    url = ""
    for line in process.stdout:  # the banner, up to the line saying it is ready
        if line.startswith("HTTP API:"):
            url = line.split()[-1]
        if line.startswith("watching"):
            break
    assert httpx.get(f"{url}/plain", timeout=30).status_code == 200
    assert httpx.get(f"{url}/items/1", timeout=30).status_code == 200
    workers = descendants(process.pid)
    assert len(workers) >= 2 and all(running(pid) for pid in workers)
    return process, url, workers


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_serve_stops_its_workers_and_removes_its_folders_on_a_signal(
    packaged: Repo,
    runtime_cache: Path,
    scratch: Path,
    processes: list[subprocess.Popen[str]],
    signum: signal.Signals,
    code: int,
) -> None:
    process, _, workers = _serve(packaged, runtime_cache, scratch, processes)

    process.send_signal(signum)

    assert process.wait(timeout=60) == code
    assert process.stderr is not None
    assert process.stderr.read().endswith(f"interrupted by {signum.name}: stopped\n")
    assert [pid for pid in workers if running(pid)] == []
    assert list(scratch.iterdir()) == []


def test_serve_workers_die_with_it_even_when_it_is_killed(
    packaged: Repo, runtime_cache: Path, scratch: Path, processes: list[subprocess.Popen[str]]
) -> None:
    process, url, _ = _serve(packaged, runtime_cache, scratch, processes)
    # A worker busy in a long invocation: an idle runtime client would exit by itself once its
    # Runtime API is gone, a busy one would sleep on for a minute.
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(30)
        port = listener.getsockname()[1]
        busy = threading.Thread(target=_request, args=(f"{url}/sleeper?port={port}",))
        busy.daemon = True
        busy.start()
        connection, _ = listener.accept()  # the sleeper started (or a timeout fails the test)
        with connection:
            assert connection.recv(16) == b"started"
    workers = descendants(process.pid)

    process.send_signal(signal.SIGKILL)  # no handler runs: only the kernel can end the workers

    process.wait(timeout=30)
    assert [pid for pid in workers if not _gone(pid)] == []


def _request(url: str) -> None:
    with contextlib.suppress(httpx.HTTPError):
        httpx.get(url, timeout=120)


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_invoke_times_stops_between_or_during_invocations(
    packaged: Repo,
    runtime_cache: Path,
    scratch: Path,
    processes: list[subprocess.Popen[str]],
    signum: signal.Signals,
    code: int,
) -> None:
    event = scratch.parent / "event.json"
    event.write_text('{"seconds": 0.3}', encoding="utf-8")
    process = _start(
        ["invoke", "demo.sleeps", "--event", str(event), "--times", "1000",
         "--root", str(packaged.root)],
        runtime_cache,
        scratch,
    )  # fmt: skip
    processes.append(process)
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith("REPORT"):
            break
    workers = descendants(process.pid)
    assert workers

    process.send_signal(signum)

    assert process.wait(timeout=60) == code
    assert process.stderr.read().endswith(f"interrupted by {signum.name}: stopped\n")
    assert [pid for pid in workers if running(pid)] == []
    assert list(scratch.iterdir()) == []
