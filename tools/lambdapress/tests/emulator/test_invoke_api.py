"""Plain boto3 against the local Invoke API."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from lambdapress.emulator import Emulator, InvokeApi


@pytest.fixture(scope="module")
def api(shared_emulator: Emulator) -> Iterator[InvokeApi]:
    with InvokeApi(shared_emulator) as running:
        yield running


@pytest.fixture
def client(api: InvokeApi, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    config = Config(retries={"max_attempts": 1}, read_timeout=30)
    return boto3.client("lambda", endpoint_url=api.url, region_name="us-east-1", config=config)


def test_invoke_returns_the_payload_and_the_log_tail(client: Any) -> None:
    response = client.invoke(
        FunctionName="demo-logs", Payload=json.dumps({"a": 1}).encode(), LogType="Tail"
    )

    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == "done"
    tail = base64.b64decode(response["LogResult"]).decode()
    assert "START RequestId: " in tail and "printed line" in tail and "REPORT RequestId: " in tail


def test_a_failing_function_sets_function_error(client: Any) -> None:
    response = client.invoke(FunctionName="demo.raises", Payload=b'{"why": "boto"}')
    assert response["StatusCode"] == 200 and response["FunctionError"] == "Unhandled"
    document = json.loads(response["Payload"].read())
    assert (document["errorType"], document["errorMessage"]) == ("ValueError", "boom: boto")


def test_a_crash_through_boto3(client: Any) -> None:
    response = client.invoke(FunctionName="demo-crashes", LogType="Tail")
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read())["errorType"] == "Runtime.ExitError"
    assert "Runtime.ExitError" in base64.b64decode(response["LogResult"]).decode()


def test_functions_are_addressed_by_arn_and_qualifier(client: Any, api: InvokeApi) -> None:
    arn = api.emulator.function_arn("demo.ok")
    by_arn = client.invoke(FunctionName=arn, Payload=b'{"k": "arn"}')
    assert json.loads(by_arn["Payload"].read())["event"] == {"k": "arn"}
    latest = client.invoke(FunctionName="demo-ok", Qualifier="$LATEST")
    assert latest["StatusCode"] == 200
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="demo-ok", Qualifier="7")


def test_an_unknown_function_raises_resource_not_found(client: Any) -> None:
    with pytest.raises(client.exceptions.ResourceNotFoundException, match="nope"):
        client.invoke(FunctionName="nope")


def test_client_context_reaches_the_handler(client: Any) -> None:
    context = base64.b64encode(json.dumps({"custom": {"tenant": "t9"}}).encode()).decode()
    response = client.invoke(FunctionName="demo-inspect", ClientContext=context)
    assert json.loads(response["Payload"].read())["context"]["client_context"] == {"tenant": "t9"}


def test_payload_problems_are_client_errors(client: Any) -> None:
    with pytest.raises(client.exceptions.InvalidRequestContentException):
        client.invoke(FunctionName="demo-ok", Payload=b"{not json")
    with pytest.raises(client.exceptions.RequestTooLargeException, match="6291456 bytes"):
        client.invoke(FunctionName="demo-ok", Payload=b'"' + b"x" * (6 * 1024 * 1024) + b'"')
    with pytest.raises(client.exceptions.RequestTooLargeException, match="Event"):
        client.invoke(
            FunctionName="demo-ok", InvocationType="Event", Payload=b'"' + b"x" * 300_000 + b'"'
        )


def test_event_and_dry_run_invocations(client: Any, api: InvokeApi) -> None:
    client.invoke(FunctionName="demo-logs")
    before = next(s.invocations for s in api.emulator.stats() if s.function == "demo.logs")
    assert client.invoke(FunctionName="demo-logs", InvocationType="DryRun")["StatusCode"] == 204
    assert client.invoke(FunctionName="demo-logs", InvocationType="Event")["StatusCode"] == 202
    for _ in range(400):  # the Event invocation runs in the background
        stats = next(s for s in api.emulator.stats() if s.function == "demo.logs")
        if stats.invocations == before + 1 and stats.busy == 0:
            break
        time.sleep(0.01)
    assert stats.invocations == before + 1
