"""The README's observability block, command by command, against the example's root settings.

`logs` reads moto's server (the events put first into the group the `prod` stack makes for
`orders.get_order`); `--follow` runs as a process of its own, stopped with SIGINT as a
terminal's Ctrl-C would; `drift` answers from CloudFormation's stubbed replies (moto has no
drift detection: test_drift.py), once drifted and once in sync. What differs from the README:
`lambdapress` is this environment's, run with `--root` on a copy of the example's root
pyproject (no manifest: the name is taken as written).
"""

from __future__ import annotations

import re
import select
import shutil
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from lambdapress.cli import main

from .drift_stubs import detection, drifts, stack_found

REPOSITORY = Path(__file__).resolve().parents[4]
README = REPOSITORY / "README.md"
GROUP = "/aws/lambda/acme-prod-orders-get_order"


def readme_commands() -> list[list[str]]:
    """The commands of the observability block, comments removed, as argument lists."""
    blocks = re.findall(r"^```[\w-]*\n(.*?)^```", README.read_text(), re.S | re.M)
    block = next(b for b in blocks if "lambdapress drift --stage" in b)
    lines = [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]
    return [line.split() for line in lines]


@pytest.fixture
def example_root(tmp_path: Path) -> Path:
    shutil.copy(REPOSITORY / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _put(*messages: tuple[datetime, str]) -> None:
    logs: Any = boto3.client("logs")
    if not logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"]:
        logs.create_log_group(logGroupName=GROUP)
        logs.create_log_stream(logGroupName=GROUP, logStreamName="s")
    logs.put_log_events(
        logGroupName=GROUP,
        logStreamName="s",
        logEvents=[{"timestamp": int(w.timestamp() * 1000), "message": m} for w, m in messages],
    )


def test_the_readme_block_runs_as_written(
    example_root: Path,
    moto_server: object,
    cloudformation: Stubber,
    capsys: pytest.CaptureFixture[str],
) -> None:
    since, follow, drift = readme_commands()
    assert since[:2] == follow[:2] == ["lambdapress", "logs"]
    assert "--follow" in follow and drift[:2] == ["lambdapress", "drift"]
    now = datetime.now(UTC)
    _put(
        (now - timedelta(hours=2), "older than --since 1h"),
        (now - timedelta(minutes=30), '{"level": "INFO", "message": "found", "order_id": "o-1"}'),
    )

    assert main([*since[1:], "--root", str(example_root)]) == 0
    assert [line[24:] for line in capsys.readouterr().out.splitlines()] == [
        "INFO    found  order_id=o-1"
    ]

    process = subprocess.Popen(
        [sys.executable, "-m", "lambdapress", *follow[1:], "--root", str(example_root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # The default --since is 10 minutes: the events above are older. A new one shows.
        assert process.stderr is not None and process.stdout is not None
        assert process.stderr.readline().startswith(f"orders.get_order (prod): {GROUP}")
        _put((datetime.now(UTC), "START RequestId: r2 Version: $LATEST"))
        ready, _, _ = select.select([process.stdout], [], [], 60)
        assert ready, "no line from `logs --follow` within a minute"
        assert process.stdout.readline().rstrip()[24:] == "START RequestId: r2 Version: $LATEST"
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, err
    assert "interrupted by SIGINT: stopped" in err

    for drifted in (True, False):
        stack_found(cloudformation)
        detection(
            cloudformation,
            "DETECTION_COMPLETE",
            StackDriftStatus="DRIFTED" if drifted else "IN_SYNC",
            DriftedStackResourceCount=int(drifted),
        )
        drifts(cloudformation, [])
        assert main([*drift[1:], "--root", str(example_root)]) == int(drifted)
    assert "in sync" in capsys.readouterr().out
