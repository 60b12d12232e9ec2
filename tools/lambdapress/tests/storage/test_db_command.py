"""`lambdapress db` as a user runs it: a real subprocess, real PostgreSQL and moto, a signal.

It is started with SIGINT ignored (what a shell does to a background command), so the test
proves the command installs its own handlers; after SIGINT: exit 130, both servers gone, the
state file withdrawn.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import psycopg
import pytest

from lambdapress.config.workspace import Workspace
from lambdapress.storage.state import state_path
from lambdapress.support.lifetime import descendants, running

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def lambdapress(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambdapress", *args, "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def wait_for_state(root: Path, process: subprocess.Popen[str]) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while not state_path(root).is_file():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "lambdapress db did not start"
        time.sleep(0.1)
    loaded: dict[str, object] = json.loads(state_path(root).read_text())
    return loaded


def test_db_serves_migrated_databases_and_tables_until_interrupted(
    reachable_workspace: Workspace,
) -> None:
    workspace = reachable_workspace
    root = workspace.root
    process = subprocess.Popen(
        [sys.executable, "-m", "lambdapress", "db", "--root", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_ignore_sigint,
    )
    try:
        state = wait_for_state(root, process)
        servers = descendants(process.pid)
        url = state["backends"]["postgres"]["databases"]["orders"]  # type: ignore[index]
        assert ":" not in url.split("//")[1].split("@")[0], "no password in the URL"
        with psycopg.connect(url) as db:
            assert db.execute("SELECT count(*) FROM orders").fetchone() == (0,)
        dynamodb = boto3.client(
            "dynamodb",
            endpoint_url=state["backends"]["dynamodb"]["endpoint"],  # type: ignore[index]
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        assert sorted(dynamodb.list_tables()["TableNames"]) == [
            "repo-local-customers-customers",
            "repo-local-customers-events",
        ]

        second = lambdapress(root, "db")
        assert second.returncode == 1
        assert "already running" in second.stderr

        (workspace.root / "services/orders/migrations/0002_more.sql").write_text(
            "ALTER TABLE orders ADD COLUMN note text;"
        )
        migrated = lambdapress(root, "db", "--migrate")
        assert migrated.returncode == 0, migrated.stderr
        assert "orders: applied 0002" in migrated.stdout
        with psycopg.connect(url) as db:
            db.execute("SELECT note FROM orders")

        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, err
    assert "PostgreSQL on 127.0.0.1" in out and "DynamoDB (moto)" in out
    assert "password" not in (out + err).lower()
    assert not state_path(root).exists()
    assert servers and not [pid for pid in servers if running(pid)]


def test_migrate_without_running_servers_says_how_to_start_them(workspace: Workspace) -> None:
    answer = lambdapress(workspace.root, "db", "--migrate")
    assert answer.returncode == 1
    assert "not running" in answer.stderr and "nox -s db" in answer.stderr
