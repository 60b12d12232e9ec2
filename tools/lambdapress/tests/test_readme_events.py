"""The README's events section, run command by command on a copy of the example platform.

What differs from the README, and only that: free ports instead of 3000 and 3001, the test
environment's `lambdapress` for `python3 -m nox -s NAME` and `uv run lambdapress` (what those
sessions and `uv run` start), and `&` lines started as background processes of their own,
stopped with SIGTERM at the end, as a terminal's Ctrl-C would.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdapress.bench import IGNORED, WORKSPACE_PARTS
from lambdapress.support.loopback import free_port

REPOSITORY = Path(__file__).resolve().parents[3]
README = REPOSITORY / "README.md"
LAMBDAPRESS = str(Path(sys.executable).parent / "lambdapress")


def readme_commands() -> list[str]:
    """The commands of the events section's block, comments removed."""
    blocks = re.findall(r"^```[\w-]*\n(.*?)^```", README.read_text(), re.S | re.M)
    block = next(b for b in blocks if "lambdapress trigger fulfilment" in b)
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def as_here(command: str, http: int, invoke: int) -> str:
    """`command` as this test runs it (module doc)."""
    command = re.sub(r"^python3 -m nox -s (\w+)", rf"{LAMBDAPRESS} \1", command)
    command = command.replace("uv run lambdapress ", f"{LAMBDAPRESS} ")
    command = command.replace("localhost:3000", f"127.0.0.1:{http}")
    if command.startswith(f"{LAMBDAPRESS} serve"):
        command = command.replace(" serve", f" serve --port {http} --lambda-port {invoke}")
    return command


@pytest.fixture
def example(postgres_reachable_tmp_path: Path) -> Path:
    """A copy of the example platform's workspace, as `nox -s package` reads it.

    In a folder PostgreSQL's server user can enter: `db` runs it there.
    """
    workspace = postgres_reachable_tmp_path / "example"
    workspace.mkdir()
    for part in WORKSPACE_PARTS:
        source = REPOSITORY / part
        if source.is_dir():
            shutil.copytree(source, workspace / part, ignore=IGNORED)
        else:
            shutil.copy2(source, workspace / part)
    return workspace


class Background:
    """The `&` commands: each in a session of its own, its output in a log file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, command: str) -> Path:
        log = self.folder / f"background-{len(self.started)}.log"
        with log.open("wb") as sink:
            # A README line is a shell line (quotes, redirects): run by the shell, as written.
            process = subprocess.Popen(  # noqa: S602
                command.removesuffix("&").strip(),
                shell=True,
                cwd=self.folder,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append((process, log))
        return log

    def wait_for(self, log: Path, text: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while text not in log.read_text(errors="replace"):
            process = next(p for p, path in self.started if path == log)
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.2)

    def stop(self) -> None:
        for process, _ in reversed(self.started):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process, log in self.started:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
                pytest.fail(f"a background command did not stop on SIGTERM: {log.read_text()}")


@pytest.fixture
def background(example: Path) -> Iterator[Background]:
    started = Background(example)
    try:
        yield started
    finally:
        started.stop()


def run(command: str, folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S602  (a README line is a shell line, run as written)
        command, shell=True, cwd=folder, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.e2e
def test_the_readmes_order_flow_runs_as_written(example: Path, background: Background) -> None:
    commands = readme_commands()
    assert [c.split(" ")[:5] for c in commands] == [
        ["python3", "-m", "nox", "-s", "package"],
        ["python3", "-m", "nox", "-s", "db", "&"][:5],
        ["python3", "-m", "nox", "-s", "serve", "&"][:5],
        ["curl", "-X", "POST", "localhost:3000/orders", "-H"],
        ["uv", "run", "lambdapress", "trigger", "fulfilment.release_shipments"],
        ["uv", "run", "lambdapress", "event", "sqs"],
        ["uv", "run", "lambdapress", "invoke", "fulfilment.ship_order"],
    ]
    http, invoke = free_port(), free_port()
    package, db, serve, order, release, event, replay = (as_here(c, http, invoke) for c in commands)

    built = run(package, example)
    assert built.returncode == 0, built.stderr
    db_log = background.start(db)
    background.wait_for(db_log, "Ctrl-C stops")
    assert "queue acme-local-fulfilment-order-placed" in db_log.read_text()
    serve_log = background.start(serve)
    background.wait_for(serve_log, "Ctrl-C stops")

    placed = run(order, example)
    assert placed.returncode == 0 and '"name":"kettle"' in placed.stdout, placed

    # The event reaches the queue through the topic and ship_order stores the shipment: the
    # schedule's run, fired by hand, releases it (retried while the delivery is under way).
    deadline = time.monotonic() + 120
    while True:
        released = run(release, example)
        assert released.returncode == 0, released.stderr
        if '"released": 1' in released.stdout:
            break
        assert '"released": 0' in released.stdout, released.stdout
        assert time.monotonic() < deadline, serve_log.read_text()
        time.sleep(1)
    log = serve_log.read_text()
    assert "sqs fulfilment/order-placed -> fulfilment.ship_order: 1 record, ok" in log

    sampled = run(event, example)
    assert sampled.returncode == 0, sampled.stderr
    bad = json.loads((example / "bad.json").read_text())
    assert [r["body"] for r in bad["Records"]] == ['{"type": "OrderPlaced"}']
    assert bad["Records"][0]["eventSourceARN"].endswith(":fulfilment-order-placed")
    replayed = run(replay, example)
    assert replayed.returncode == 1, replayed
    assert "BatchProcessingError: All records failed processing" in replayed.stderr
