"""`lambdapress invoke` and `lambdapress serve` as a user runs them."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from lambdapress.cli import main

from .conftest import Repo, entry_for


@pytest.fixture
def packaged(repo: Repo, runtime_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """The repo with dist/manifest.json written, and the session's runtime cache in use."""
    repo.write(repo.standard())
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(runtime_cache))
    return repo


def test_invoke_prints_the_response_on_stdout_and_lambdas_log_on_stderr(
    packaged: Repo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event = tmp_path / "event.json"
    event.write_text('{"order_id": "42"}', encoding="utf-8")

    code = main(["invoke", "demo.ok", "--event", str(event), "--root", str(packaged.root)])

    out, err = capsys.readouterr()
    assert code == 0
    assert json.loads(out)["event"] == {"order_id": "42"}
    assert "START RequestId: " in err and "END RequestId: " in err
    assert "\tInit Duration: " in err and "REPORT RequestId: " in err


@pytest.mark.e2e  # installs awslambdaric into a fresh cache
def test_the_first_run_says_it_installs_the_runtime_client_and_later_runs_do_not(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from lambdapress.emulator._ric import AWSLAMBDARIC

    repo.write(repo.standard())
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(tmp_path / "fresh-cache"))
    minor = f"{sys.version_info[0]}.{sys.version_info[1]}"
    notice = f"installing {AWSLAMBDARIC} for Python {minor} (first run only)"

    assert main(["invoke", "demo.ok", "--root", str(repo.root)]) == 0
    first = capsys.readouterr().err
    assert main(["invoke", "demo.ok", "--root", str(repo.root)]) == 0
    again = capsys.readouterr().err

    assert first.splitlines()[0] == notice  # before the function's own log lines
    assert notice not in again and "START RequestId: " in again


def test_invoke_reads_the_event_from_stdin(
    packaged: Repo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"from": "stdin"}'))
    assert main(["invoke", "demo-ok", "--event", "-", "--root", str(packaged.root)]) == 0
    assert json.loads(capsys.readouterr().out)["event"] == {"from": "stdin"}


def test_http_builds_a_payload_2_0_event_for_the_functions_route(
    packaged: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["invoke", "demo.http_echo", "--http", "POST", "/items/9?x=1", "--body", '{"a": 1}']
    assert main([*args, "--root", str(packaged.root)]) == 0
    response = json.loads(capsys.readouterr().out)
    event = json.loads(response["body"])
    assert event["routeKey"] == "POST /items/{item_id}"
    assert event["pathParameters"] == {"item_id": "9"} and event["rawQueryString"] == "x=1"
    # No content type: API Gateway delivers the body base64-encoded, and so does --http.
    assert event["isBase64Encoded"] is True
    assert json.loads(base64.b64decode(event["body"])) == {"a": 1}


def test_http_with_a_path_outside_the_functions_routes_lists_them(
    packaged: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "invoke",
        "demo.http_plain",
        "--http",
        "GET",
        "/elsewhere",
        "--root",
        str(packaged.root),
    ]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "GET /elsewhere matches no route of demo.http_plain" in err and "GET /plain" in err


def test_a_function_error_prints_the_error_document_and_exits_1(
    packaged: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["invoke", "demo.broken", "--root", str(packaged.root)]) == 1
    out, err = capsys.readouterr()
    assert json.loads(out)["errorType"] == "Runtime.ImportModuleError"
    assert "[ERROR] Runtime.ImportModuleError" in err


def test_times_shows_cold_then_warm_in_a_table(
    packaged: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["invoke", "demo.ok", "--times", "3", "--root", str(packaged.root)]) == 0
    err = capsys.readouterr().err
    table = err[err.index("#  worker") :].splitlines()
    header = "#  worker  start  init ms  duration ms  billed ms  max MB  status"
    assert re.sub(r"\s{2,}", "  ", table[0]) == header
    assert [row.split()[2] for row in table[2:]] == ["cold", "warm", "warm"]
    assert err.count("Init Duration") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["invoke", "demo.nope"], "error: no function named 'demo.nope'"),
        (["invoke", "demo.ok", "--event", "missing.json"], "error: missing.json: cannot read"),
    ],
)
def test_user_mistakes_are_one_error_line(
    packaged: Repo,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(packaged.root)
    assert main(args) == 1
    assert capsys.readouterr().err.startswith(message)


def test_an_event_that_is_not_json_names_the_line(
    packaged: Repo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event = tmp_path / "event.json"
    event.write_text('{\n  "a": 1,\n  oops\n}', encoding="utf-8")
    assert main(["invoke", "demo.ok", "--event", str(event), "--root", str(packaged.root)]) == 1
    assert capsys.readouterr().err.startswith(f"error: {event}:3: the event is not JSON")


def test_without_a_manifest_the_fix_is_to_package(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo.root / "pyproject.toml").write_text("[tool.uv.workspace]\nmembers = []\n")
    assert main(["invoke", "demo.ok", "--root", str(repo.root)]) == 1
    err = capsys.readouterr().err
    assert "no manifest" in err and "nox -s package" in err


@pytest.mark.e2e
def test_serve_answers_requests_until_interrupted(packaged: Repo, runtime_cache: Path) -> None:
    env = {**os.environ, "LAMBDAPRESS_CACHE": str(runtime_cache), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "lambdapress", "serve", "--port", "0", "--lambda-port", "0",
         "--root", str(packaged.root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # as `serve &` does
    )  # fmt: skip
    assert process.stdout is not None
    try:
        banner: list[str] = []
        for line in process.stdout:
            banner.append(line)
            if line.startswith("watching"):
                break
        rows = [line.split() for line in banner]
        assert ["kind", "trigger", "function"] in rows  # each trigger, by kind
        assert ["http", "GET", "/items/{item_id}", "demo.http_echo"] in rows
        assert ["http", "ANY", "/files/{path+}", "demo.http_echo"] in rows
        url = next(line.split()[-1] for line in banner if line.startswith("HTTP API:"))
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/plain", timeout=30).json() == {"message": "no statusCode here"}
        assert httpx.get(f"{url}/nothing", timeout=30).status_code == 404
        process.send_signal(signal.SIGINT)
        rest = process.stdout.read()
        assert process.wait(timeout=30) == 130
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
    assert "GET /plain -> 200  (demo.http_plain;" in rest and "cold start, init" in rest
    assert "  REPORT RequestId: " in rest
    assert "GET /nothing -> 404  (no route for /nothing)" in rest
    assert rest.rstrip().endswith("interrupted by SIGINT: stopped")


# A handler that fails on some invocations of its container: a counter kept at module level.
SOMETIMES = """
CALLS = []


def handler(event, context):
    CALLS.append(1)
    if len(CALLS) in event["fail_on"]:
        raise RuntimeError(f"call {len(CALLS)} failed")
    return len(CALLS)
"""


@pytest.mark.parametrize(
    ("fail_on", "times", "code", "said"),
    [
        ([], 3, 0, None),
        ([1], 3, 1, "1 of 3 invocations of demo.sometimes failed; the first, #1: RuntimeError"),
        ([2], 3, 1, "1 of 3 invocations of demo.sometimes failed; the first, #2: RuntimeError"),
        ([2, 3], 4, 1, "2 of 4 invocations of demo.sometimes failed; the first, #2: RuntimeError"),
        ([1, 2], 2, 1, "2 of 2 invocations of demo.sometimes failed; the first, #1: RuntimeError"),
        ([1], 1, 1, "demo.sometimes failed (RuntimeError: call 1 failed)"),
    ],
)
def test_invoke_exits_1_when_any_invocation_failed(
    repo: Repo,
    runtime_cache: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fail_on: list[int],
    times: int,
    code: int,
    said: str | None,
) -> None:
    """Not only the last one: `--times 3` whose second invocation failed is a failure."""
    artifact = repo.artifact("sometimes", {"sometimes.py": SOMETIMES})
    repo.write(repo.manifest(entry_for(repo.root, artifact, "demo.sometimes", "sometimes.handler")))
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(runtime_cache))
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"fail_on": fail_on}), encoding="utf-8")

    args = ["invoke", "demo.sometimes", "--event", str(event), "--times", str(times)]
    assert main([*args, "--root", str(repo.root)]) == code

    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == (0 if said is None else 1)
    if said is not None:
        assert errors[0].startswith(f"error: {said}")


def test_a_missing_module_is_explained_with_the_fix(
    packaged: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["invoke", "demo.broken", "--root", str(packaged.root)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-2] == (
        "error: demo.broken failed (Runtime.ImportModuleError: Unable to import module "
        "'broken': No module named 'pydantic')"
    )
    assert err[-1].startswith("  fix: the zip has no module 'pydantic', and Lambda's runtime")


@pytest.mark.parametrize("which", ["--port", "--lambda-port"])
def test_serve_that_cannot_start_exits_1_and_leaves_nothing_running(
    packaged: Repo, capsys: pytest.CaptureFixture[str], which: str
) -> None:
    import socket
    import threading

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        ports = {"--port": "0", "--lambda-port": "0", which: str(port)}
        args = ["serve", *(part for pair in ports.items() for part in pair), "--no-watch"]
        before = set(threading.enumerate())

        assert main([*args, "--root", str(packaged.root)]) == 1

    err = capsys.readouterr().err
    assert f"port {port} on 127.0.0.1 is already in use" in err
    assert set(threading.enumerate()) - before == set()


def test_serve_logs_the_fix_for_a_function_that_lacks_a_module(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from lambdapress.cli._serve import _print_request
    from lambdapress.emulator.http_api import AccessRecord
    from lambdapress.emulator.reports import FunctionError, InvocationResult, Report

    error = FunctionError(
        "Runtime.ImportModuleError", "Unable to import module 'app': No module named 'yaml'"
    )
    report = Report("rid", 0.0, 128, 20, 40.0, "error", error.error_type)
    result = InvocationResult("demo.app", "rid", error.to_json(), error, "", report, "demo.app#1")
    _print_request(AccessRecord("GET", "/app", 500, 45.0, "demo.app", result))

    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith("GET /app -> 500  (demo.app; 0.0 ms; cold start, init 40.0 ms; ")
    assert "No module named 'yaml'; fix: the zip has no module 'yaml'" in line
