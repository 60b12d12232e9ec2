"""The Runtime API protocol, driven by hand as a runtime client would."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from lambdapress.emulator._runtime_api import Invocation, RuntimeApi, Sandbox

PREFIX = "/2018-06-01/runtime"


@pytest.fixture
def api() -> Iterator[RuntimeApi]:
    runtime = RuntimeApi(Sandbox(), "test")
    yield runtime
    runtime.close()


def _call(api: RuntimeApi, method: str, path: str, body: bytes = b"") -> tuple[int, Any, bytes]:
    connection = http.client.HTTPConnection(api.address, timeout=10)
    try:
        connection.request(method, PREFIX + path, body=body or None)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def _invocation(**extra: Any) -> Invocation:
    return Invocation(
        request_id="req-1",
        payload=b'{"hello": "world"}',
        deadline_ms=1_900_000_000_000,
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:f",
        trace_id="Root=1-abc;Parent=def;Sampled=0",
        **extra,
    )


def _next_in_thread(api: RuntimeApi) -> tuple[threading.Thread, list[tuple[int, Any, bytes]]]:
    answers: list[tuple[int, Any, bytes]] = []
    thread = threading.Thread(target=lambda: answers.append(_call(api, "GET", "/invocation/next")))
    thread.start()
    return thread, answers


def test_next_blocks_until_an_invocation_and_carries_lambdas_headers(api: RuntimeApi) -> None:
    thread, answers = _next_in_thread(api)
    while api.sandbox.ready_at is None:  # the first /next ends the init phase
        api.sandbox.wait(0.01)
    invocation = _invocation(client_context='{"custom": {}}', cognito_identity='{"id": 1}')
    api.sandbox.submit(invocation)
    thread.join()

    status, headers, body = answers[0]
    assert status == 200 and body == b'{"hello": "world"}'
    assert headers["Content-Type"] == "application/json"
    assert headers["Lambda-Runtime-Aws-Request-Id"] == "req-1"
    assert headers["Lambda-Runtime-Deadline-Ms"] == "1900000000000"
    assert headers["Lambda-Runtime-Invoked-Function-Arn"].endswith(":function:f")
    assert headers["Lambda-Runtime-Trace-Id"] == "Root=1-abc;Parent=def;Sampled=0"
    assert headers["Lambda-Runtime-Client-Context"] == '{"custom": {}}'
    assert headers["Lambda-Runtime-Cognito-Identity"] == '{"id": 1}'

    assert _call(api, "POST", "/invocation/other/response", b"{}")[0] == 400
    assert _call(api, "POST", "/invocation/req-1/response", b'"ok"')[0] == 202
    assert invocation.done.is_set() and (invocation.kind, invocation.body) == ("response", b'"ok"')


def test_errors_and_init_errors_are_recorded(api: RuntimeApi) -> None:
    thread, _ = _next_in_thread(api)
    invocation = _invocation()
    api.sandbox.submit(invocation)
    thread.join()
    document = json.dumps({"errorMessage": "x", "errorType": "E"}).encode()
    assert _call(api, "POST", "/invocation/req-1/error", document)[0] == 202
    assert (invocation.kind, invocation.body) == ("error", document)

    assert (
        _call(api, "POST", "/init/error", b'{"errorType": "Runtime.ImportModuleError"}')[0] == 202
    )
    assert api.sandbox.init_error is not None


def test_a_response_above_6_mb_is_answered_413(api: RuntimeApi) -> None:
    thread, _ = _next_in_thread(api)
    invocation = _invocation()
    api.sandbox.submit(invocation)
    thread.join()
    status, _, body = _call(
        api, "POST", "/invocation/req-1/response", b"x" * (6 * 1024 * 1024 + 101)
    )
    assert status == 413 and json.loads(body)["errorType"] == "RequestEntityTooLarge"
    assert invocation.kind == "too_large"


def test_unknown_paths_are_404_and_close_releases_a_waiting_next(api: RuntimeApi) -> None:
    assert _call(api, "GET", "/invocation/whatever")[0] == 404
    thread, answers = _next_in_thread(api)
    while api.sandbox.ready_at is None:
        api.sandbox.wait(0.01)
    api.sandbox.close()
    thread.join()
    assert answers[0][0] == 410


def test_a_snapstart_restore_is_answered_at_once_and_its_failure_recorded(api: RuntimeApi) -> None:
    """awslambdaric asks `/restore/next` between its before-snapshot and after-restore hooks."""
    assert _call(api, "GET", "/restore/next")[0] == 200
    assert api.sandbox.init_error is None
    document = b'{"errorType": "Runtime.AfterRestoreError", "errorMessage": "hook failed"}'
    assert _call(api, "POST", "/restore/error", document)[0] == 202
    assert api.sandbox.init_error == document  # the environment never served an invocation
