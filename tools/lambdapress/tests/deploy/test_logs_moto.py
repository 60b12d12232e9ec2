"""`lambdapress logs` against moto's server: events put into a function's log group read back,
Powertools' JSON rendered readably, `--follow` picking up new events once each and stopping
cleanly on SIGTERM."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from model_functions import model_function

from lambdapress.cli import main
from lambdapress.deploy.aws import LogEvent
from lambdapress.deploy.logs import parse_since, render
from lambdapress.errors import ConfigError
from lambdapress.model.application import Application
from lambdapress.model.manifest import manifest_path, write_manifest

GROUP = "/aws/lambda/acme-dev-shop-ping"
POWERTOOLS = {
    "level": "INFO",
    "location": "store:21",
    "message": "stored",
    "timestamp": "2026-12-07 10:00:00,123+0000",
    "service": "shop",
    "cold_start": True,
    "function_name": "acme-dev-shop-ping",
    "function_memory_size": "128",
    "function_arn": "arn:aws:lambda:us-east-1:123456789012:function:acme-dev-shop-ping",
    "function_request_id": "5b1d2e0c",
    "xray_trace_id": "1-abc",
    "order_id": "o-42",
    "items": [1, 2],
    "note": "two words",
}


def _root(tmp_path: Path, *functions: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.uv.workspace]\nmembers = []\n\n[tool.lambdapress.deploy]\nproject = "acme"\n',
        encoding="utf-8",
    )
    if functions:
        application = Application(functions=tuple(model_function(f) for f in functions))
        manifest_path(tmp_path).parent.mkdir(parents=True, exist_ok=True)
        write_manifest(application, manifest_path(tmp_path))
    return tmp_path


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _put(messages: list[tuple[datetime, str]], stream: str = "2026/12/07/[$LATEST]a") -> None:
    logs: Any = boto3.client("logs")
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=GROUP)
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
    logs.put_log_events(
        logGroupName=GROUP,
        logStreamName=stream,
        logEvents=[{"timestamp": _ms(when), "message": text} for when, text in messages],
    )


def test_powertools_lines_become_time_level_message_and_extras() -> None:
    at = _ms(datetime(2026, 12, 7, 10, 0, 0, 123000, tzinfo=UTC))
    line = render(LogEvent("1", at, "s", json.dumps(POWERTOOLS) + "\n"))
    assert line == (
        '2026-12-07 10:00:00.123 INFO    stored  order_id=o-42 items=[1, 2] note="two words"'
    )
    failed = {**POWERTOOLS, "level": "ERROR", "message": "boom", "exception": "Traceback\n  x"}
    del failed["order_id"], failed["items"], failed["note"]
    assert render(LogEvent("2", at, "s", json.dumps(failed))) == (
        "2026-12-07 10:00:00.123 ERROR   boom\n    Traceback\n      x"
    )
    # Lambda's own lines, prints and JSON that is not Powertools' stay as they are.
    for text in ("START RequestId: 5b1d Version: $LATEST", "plain {", '{"a": 1}'):
        assert render(LogEvent("3", at, "s", text + "\n")) == f"2026-12-07 10:00:00.123 {text}"


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("10m", 600), ("2h", 7200)])
def test_since_takes_a_number_and_a_unit(text: str, seconds: int) -> None:
    assert parse_since(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["10", "ten minutes", "0m", "-5m", "5w"])
def test_a_since_that_is_not_a_duration_is_an_error_with_the_fix(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_since(text)
    assert "30s, 10m, 2h or 1d" in str(caught.value.hint)


def test_logs_reads_back_the_events_of_the_function_s_group_since_the_given_age(
    moto_server: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _root(tmp_path, "shop.ping", "shop.report")
    now = datetime.now(UTC)
    _put(
        [
            (now - timedelta(hours=3), "too old to show"),
            (now - timedelta(minutes=5), "START RequestId: r1 Version: $LATEST"),
            (now - timedelta(minutes=4), json.dumps(POWERTOOLS)),
        ]
    )
    _put([(now - timedelta(minutes=3), "REPORT RequestId: r1 Duration: 3.1 ms")], "other")
    code = main(["logs", "shop.ping", "--stage", "dev", "--since", "1h", "--root", str(root)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"shop.ping (dev): {GROUP}" in err
    lines = out.splitlines()
    assert [line[24:] for line in lines] == [
        "START RequestId: r1 Version: $LATEST",
        'INFO    stored  order_id=o-42 items=[1, 2] note="two words"',
        "REPORT RequestId: r1 Duration: 3.1 ms",
    ]
    # A function the manifest does not have: an error naming the ones it has.
    code = main(["logs", "shop.pong", "--stage", "dev", "--root", str(root)])
    err = capsys.readouterr().err
    assert code == 1
    assert "shop.pong" in err and "shop.ping" in err
    # No events yet (nothing in the last 30 seconds), or no group yet: nothing, no error.
    assert main(["logs", "shop.ping", "--stage", "dev", "--since", "30s", "--root", str(root)]) == 0
    assert main(["logs", "shop.report", "--stage", "dev", "--root", str(root)]) == 0
    assert capsys.readouterr().out == ""


def test_without_a_manifest_the_name_must_be_a_manifest_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _root(tmp_path)
    assert main(["logs", "ping", "--stage", "dev", "--root", str(root)]) == 1
    err = capsys.readouterr().err
    assert "<service>.<handler module>" in err
    assert "Traceback" not in err


def _read_line(process: subprocess.Popen[str], deadline: float) -> str:
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line:
            return line.rstrip("\n")
    raise AssertionError("no line from `lambdapress logs --follow` in time")


@pytest.mark.e2e
def test_follow_prints_new_events_once_and_stops_cleanly_on_sigterm(
    moto_server: object, tmp_path: Path
) -> None:
    root = _root(tmp_path, "shop.ping")
    now = datetime.now(UTC)
    _put([(now - timedelta(seconds=20), "first")])
    command = [sys.executable, "-m", "lambdapress", "logs", "shop.ping", "--stage", "dev"]
    process = subprocess.Popen(
        [*command, "--follow", "--interval", "0.2", "--root", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        deadline = time.monotonic() + 60
        assert _read_line(process, deadline).endswith(" first")
        # Same millisecond as the last one shown, then later: each shown once, in order.
        _put([(now - timedelta(seconds=20), "same millisecond")])
        _put([(datetime.now(UTC), "second"), (datetime.now(UTC), "third")])
        shown = [_read_line(process, deadline)[24:] for _ in range(3)]
        assert shown == ["same millisecond", "second", "third"]
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 143
    assert "interrupted by SIGTERM: stopped" in err
    assert "Traceback" not in err
