"""The pytest plugin, loaded the way its `pytest11` entry point loads it, in a separate run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from lambdapress.emulator import LambdaContext, http_api_event, invoke_in_process
from lambdapress.errors import EmulatorError

from .conftest import Repo

PLUGIN = "lambdapress.emulator.pytest_plugin"

USER_TESTS = """
import json


def test_builders_and_context(http_api_event, rest_api_event, lambda_context):
    event = http_api_event("GET", "/orders/1", route="/orders/{order_id}")
    assert event["pathParameters"] == {"order_id": "1"}
    assert rest_api_event("GET", "/x")["httpMethod"] == "GET"
    assert lambda_context.get_remaining_time_in_millis() > 0


def test_event_builders(
    sqs_event, sns_event, eventbridge_event, scheduled_event, s3_event, dynamodb_record,
    dynamodb_stream_event,
):
    from aws_lambda_powertools.utilities.parser import models

    batch = sqs_event(bodies=["first", {"order_id": "42"}])
    assert [r.body for r in models.SqsModel.model_validate(batch).Records] == [
        "first", '{"order_id": "42"}'
    ]
    note = models.SnsModel.model_validate(sns_event("hi", attributes={"type": "A"}))
    assert note.Records[0].Sns.MessageAttributes["type"].Value == "A"
    event = eventbridge_event({"id": 1}, source="orders", detail_type="OrderPlaced")
    assert models.EventBridgeModel.model_validate(event).detail == {"id": 1}
    assert scheduled_event()["detail-type"] == "Scheduled Event"
    upload = models.S3Model.model_validate(s3_event("uploads", ["in/a b.csv"]))
    assert upload.Records[0].s3.object.key == "in/a+b.csv"
    change = dynamodb_record(keys={"id": "1"}, new_image={"id": "1", "n": 2})
    stream = models.DynamoDBStreamModel.model_validate(dynamodb_stream_event([change]))
    assert stream.Records[0].dynamodb.NewImage == {"id": "1", "n": 2}


def test_in_process(invoke_handler, lambda_context):
    assert invoke_handler("local_handlers.echo", {"a": 1}, lambda_context) == {"a": 1}


def test_artifact(invoke_artifact, lambda_emulator):
    result = invoke_artifact("demo.ok", {"a": 1})
    assert result.ok and result.response["event"] == {"a": 1}
    assert "REPORT RequestId" in result.logs
    assert invoke_artifact("demo.ok", {}).cold is False
    assert lambda_emulator.stats()[0].started == 1
"""


def _plugin_args() -> list[str]:
    """`-p` for the plugin, unless its entry point already loads it (twice is an error)."""
    installed = any(ep.value == PLUGIN for ep in entry_points(group="pytest11"))
    return [] if installed else ["-p", PLUGIN]


def _run_pytest(project: Path, *args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LAMBDAPRESS_CACHE": str(cache)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *_plugin_args(), *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.e2e
def test_the_fixtures_in_a_users_test_run(repo: Repo, runtime_cache: Path) -> None:
    repo.write(repo.standard())
    tests = repo.root / "tests"
    tests.mkdir()
    (tests / "test_user.py").write_text(textwrap.dedent(USER_TESTS), encoding="utf-8")
    (tests / "local_handlers.py").write_text("def echo(event, context):\n    return event\n")
    (repo.root / "pytest.ini").write_text("[pytest]\npythonpath = tests\n", encoding="utf-8")

    run = _run_pytest(repo.root, "tests", cache=runtime_cache)

    assert run.returncode == 0, run.stdout + run.stderr
    assert "4 passed" in run.stdout


def test_every_test_runs_in_strict_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAMBDAPRESS_STRICT")  # this very test runs under the plugin too
    (tmp_path / "test_strict.py").write_text(
        "import os\n\ndef test_it():\n    assert os.environ['LAMBDAPRESS_STRICT'] == '1'\n"
    )
    run = _run_pytest(tmp_path, cache=tmp_path / "cache")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout


@pytest.mark.e2e
def test_asking_for_the_emulator_without_a_manifest_fails_with_the_fix(
    tmp_path: Path, runtime_cache: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.uv.workspace]\nmembers = []\n")
    (tmp_path / "test_it.py").write_text(
        "def test_it(invoke_artifact):\n    invoke_artifact('x.y', {})\n"
    )
    run = _run_pytest(tmp_path, "--lambdapress-root", str(tmp_path), cache=runtime_cache)
    assert run.returncode == 1
    assert "1 error" in run.stdout and "nox -s package" in run.stdout


def test_in_process_invocation_marshals_like_lambda() -> None:
    def handler(event: dict[str, object], context: LambdaContext) -> object:
        return {"echo": event, "function": context.function_name, "tuple": (1, 2)}

    response = invoke_in_process(handler, {"a": 1})
    assert response == {"echo": {"a": 1}, "function": "local-function", "tuple": [1, 2]}
    with pytest.raises(TypeError, match="not JSON serializable"):
        invoke_in_process(lambda event, context: {"when": object()}, {})


def test_in_process_handlers_by_name_with_lambdas_wording(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "inproc_handlers.py").write_text(
        "def handler(event, context):\n    return {'path': event['rawPath'], "
        "'request': context.aws_request_id}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    context = LambdaContext(aws_request_id="r-1")
    response = invoke_in_process("inproc_handlers.handler", http_api_event("GET", "/x"), context)
    assert response == {"path": "/x", "request": "r-1"}
    with pytest.raises(EmulatorError, match="Unable to import module 'no_such_module'"):
        invoke_in_process("no_such_module.handler", {})
    with pytest.raises(EmulatorError, match="Handler 'nope' missing on module 'json'"):
        invoke_in_process("json.nope", {})
