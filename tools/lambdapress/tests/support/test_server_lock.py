"""One server per state folder: the lock, in real processes, and `index serve` started twice.

A lock held by a live process names it; a holder killed outright (SIGKILL: no clean-up runs)
leaves a lock the next start takes over; starts racing for a fresh folder get exactly one
holder. `lambdapress index serve` started twice at once serves once: the second start attaches
(prints where the index is, exit 0); after a SIGKILL of the server a new start serves again.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdapress.support.lifetime import descendants, running
from lambdapress.support.server_lock import Holder, ServerLock, acquire, lock_path, peek

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

WITHIN = 60.0
"""Seconds: a bound on waiting, not a measurement."""

HOLD = """
import sys, time
from pathlib import Path
from lambdapress.support.server_lock import ServerLock, acquire

found = acquire(Path(sys.argv[1]), "demo")
if isinstance(found, ServerLock):
    found.describe(url="http://127.0.0.1:1/")
    print("held", flush=True)
    time.sleep(600)
else:
    print(f"refused {found.pid}", flush=True)
"""


def _hold(folder: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLD), str(folder)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


@pytest.fixture
def holders() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _gone(pid: int) -> bool:
    deadline = time.monotonic() + WITHIN
    while running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_held_lock_names_its_holder_and_a_killed_holders_lock_is_taken_over(
    tmp_path: Path, holders: list[subprocess.Popen[str]]
) -> None:
    first = _hold(tmp_path)
    holders.append(first)
    assert first.stdout is not None and first.stdout.readline() == "held\n"

    found = acquire(tmp_path, "demo")
    assert isinstance(found, Holder)
    assert (found.pid, found.details, found.alive) == (
        first.pid,
        {"url": "http://127.0.0.1:1/"},
        True,
    )
    assert f"kill {first.pid}" in found.stop_hint()
    assert peek(tmp_path, "demo").pid == first.pid

    first.send_signal(signal.SIGKILL)  # no clean-up: the lock file still names the dead pid
    first.wait()
    assert json.loads(lock_path(tmp_path, "demo").read_text())["pid"] == first.pid

    taken = acquire(tmp_path, "demo")
    assert isinstance(taken, ServerLock)
    with taken:
        assert json.loads(lock_path(tmp_path, "demo").read_text()) == {"pid": os.getpid()}
    assert isinstance(acquire(tmp_path, "demo"), ServerLock)  # released on leaving `with`


def test_starts_racing_for_a_fresh_folder_get_exactly_one_holder(
    tmp_path: Path, holders: list[subprocess.Popen[str]]
) -> None:
    folder = tmp_path / "fresh" / "state"  # not there yet: each start creates it
    holders.extend(_hold(folder) for _ in range(4))

    said = []
    for process in holders:
        assert process.stdout is not None
        said.append(process.stdout.readline().strip())

    assert said.count("held") == 1, said
    winner = holders[said.index("held")].pid
    assert sorted(said) == sorted(["held", *[f"refused {winner}"] * 3])


# -- `lambdapress index serve` ------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _index_serve(root: Path, port: int) -> subprocess.Popen[str]:
    root_args = ("--root", str(root))
    return subprocess.Popen(
        [sys.executable, "-m", "lambdapress", "index", "serve", *("--port", str(port)), *root_args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "LAMBDAPRESS_CACHE": str(root / ".cache"), "PYTHONUNBUFFERED": "1"},
        start_new_session=True,
    )


def _serving(process: subprocess.Popen[str]) -> str:
    """Read the banner up to the index's URL; the URL."""
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("local index on "):
            return line.split()[3]
    pytest.fail(f"index serve did not start: {process.communicate()}")


def _answers(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback http)
        return bool(response.status == 200)


@pytest.mark.e2e
def test_index_serve_twice_at_once_serves_once_and_the_second_attaches(
    builder: object, holders: list[subprocess.Popen[str]]
) -> None:
    root: Path = builder.root  # type: ignore[attr-defined]
    port = _free_port()
    starts = [_index_serve(root, port), _index_serve(root, port)]
    holders.extend(starts)

    finished = []
    deadline = time.monotonic() + WITHIN
    while not finished:
        finished = [p for p in starts if p.poll() is not None]
        assert time.monotonic() < deadline, "neither start attached"
        time.sleep(0.1)
    (attached,) = finished
    (server,) = [p for p in starts if p is not attached]
    out, err = attached.communicate()

    assert attached.returncode == 0, err
    url = f"http://127.0.0.1:{port}/simple/"
    assert f"local index already running on {url}" in out
    assert f"process {server.pid}" in out and f"kill {server.pid}" in out
    assert _answers(url)

    pypiserver = descendants(server.pid)
    server.send_signal(signal.SIGKILL)  # no clean-up: only the kernel releases the lock
    server.wait()
    assert all(_gone(pid) for pid in pypiserver)

    again = _index_serve(root, port)
    holders.append(again)
    assert _serving(again) == url
    assert _answers(url)
    again.send_signal(signal.SIGINT)
    assert again.wait(timeout=WITHIN) == 130
