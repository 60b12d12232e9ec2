"""pytest fixtures for Lambda handlers (registered through the `pytest11` entry point).

- `http_api_event(method, path, route=..., json_body=...)`: an API Gateway HTTP API event
  (payload 2.0); `rest_api_event(...)`: a REST API event (1.0).
- `sqs_event(bodies=[...])`, `sns_event(message, attributes=...)`, `eventbridge_event(detail,
  source=..., detail_type=...)`, `scheduled_event()`, `s3_event(bucket, keys)`,
  `dynamodb_stream_event([dynamodb_record(keys=..., new_image=...)])` (with `dynamodb_record`):
  the events SQS, SNS, EventBridge, S3 and DynamoDB Streams send (`emulator.trigger_events`).
- `lambda_context`: a `LambdaContext` with a fresh request id and a 3 s deadline.
- `invoke_handler(handler, event)`: call a handler in this process (fast).
- `invoke_artifact(name, event)`: run the built artifact in the emulator (faithful), returning
  an `InvocationResult`; `lambda_emulator` is the session's emulator behind it.
- Every test runs with `LAMBDAPRESS_STRICT=1` (unless the environment sets it): lambdapress_runtime
  then fails an invocation that leaves a non-daemon thread running or a resource open.

The emulator reads `dist/manifest.json` of the repository the tests run in (or
`--lambdapress-root DIR`); a test that asks for it before anything is packaged fails with the
command that fixes it. Every pytest run loads this module, so it imports the emulator only when
a fixture is used.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from lambdapress.emulator.context import LambdaContext
    from lambdapress.emulator.core import Emulator
    from lambdapress.emulator.reports import InvocationResult


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add `--lambdapress-root` to pytest's options."""
    group = parser.getgroup("lambdapress", "lambdapress: run Lambda artifacts locally")
    group.addoption(
        "--lambdapress-root",
        metavar="DIR",
        default=None,
        help="repository whose dist/manifest.json the emulator runs (default: found from rootdir)",
    )
    group.addoption(
        "--lambdapress-concurrency",
        metavar="N",
        type=int,
        default=4,
        help="workers per function in the emulator (default 4)",
    )


STRICT_ENV = "LAMBDAPRESS_STRICT"


@pytest.fixture(autouse=True)
def _lambdapress_strict(monkeypatch: pytest.MonkeyPatch) -> None:
    """Strict mode for lambdapress_runtime in every test, as in `serve` and `invoke`.

    A leaked thread or connection is cheap to find in the test that causes it and expensive
    in production logs. An explicit `LAMBDAPRESS_STRICT` in the environment wins (set it to 0
    to turn strict mode off for a run); `monkeypatch` restores the variable after each test.
    """
    if STRICT_ENV not in os.environ:
        monkeypatch.setenv(STRICT_ENV, "1")


@pytest.fixture
def http_api_event() -> Callable[..., dict[str, Any]]:
    """The payload 2.0 event builder: `http_api_event("GET", "/orders/42", route=...)`."""
    from lambdapress.emulator.events import http_api_event as build

    return build


@pytest.fixture
def rest_api_event() -> Callable[..., dict[str, Any]]:
    """The REST (payload 1.0) event builder: `rest_api_event("GET", "/orders/42", resource=...)`."""
    from lambdapress.emulator.events import rest_api_event as build

    return build


@pytest.fixture
def sqs_event() -> Callable[..., dict[str, Any]]:
    """`sqs_event(["body", {"json": "body"}], queue_arn=..., attributes=...)`: an SQS batch."""
    from lambdapress.emulator.trigger_events import sqs_event as build

    return _keyword_bodies(build)


def _keyword_bodies(build: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """`build`, also taking its bodies as `bodies=[...]`."""

    def with_bodies(*args: Any, **options: Any) -> dict[str, Any]:
        if "bodies" in options:
            args = (options.pop("bodies"), *args)
        return build(*args, **options)

    return with_bodies


@pytest.fixture
def sns_event() -> Callable[..., dict[str, Any]]:
    """`sns_event("message", subject=..., attributes={"type": "OrderPlaced"})`: one notification."""
    from lambdapress.emulator.trigger_events import sns_event as build

    return build


@pytest.fixture
def eventbridge_event() -> Callable[..., dict[str, Any]]:
    """`eventbridge_event({"order_id": "42"}, source="orders", detail_type="OrderPlaced")`."""
    from lambdapress.emulator.trigger_events import eventbridge_event as build

    return build


@pytest.fixture
def scheduled_event() -> Callable[..., dict[str, Any]]:
    """`scheduled_event(rule_arn)`: what a schedule without an input sends."""
    from lambdapress.emulator.trigger_events import scheduled_event as build

    return build


@pytest.fixture
def s3_event() -> Callable[..., dict[str, Any]]:
    """`s3_event("bucket", ["in/a.csv"], event_name="ObjectCreated:Put")`: object events."""
    from lambdapress.emulator.trigger_events import s3_event as build

    return build


@pytest.fixture
def dynamodb_record() -> Callable[..., dict[str, Any]]:
    """`dynamodb_record(keys={"id": "1"}, new_image={...}, old_image=...)`: one stream change."""
    from lambdapress.emulator.trigger_events import dynamodb_record as build

    return build


@pytest.fixture
def dynamodb_stream_event() -> Callable[..., dict[str, Any]]:
    """`dynamodb_stream_event([dynamodb_record(...), ...])`: a batch of a table's stream."""
    from lambdapress.emulator.trigger_events import dynamodb_stream_event as build

    return build


@pytest.fixture
def lambda_context() -> LambdaContext:
    """A Lambda context object for calling a handler directly."""
    from lambdapress.emulator.context import LambdaContext

    return LambdaContext.for_function()


@pytest.fixture
def invoke_handler() -> Callable[..., Any]:
    """`invoke_handler("orders.handlers.get_order.handler", event)`: in-process, JSON-marshalled."""
    from lambdapress.emulator.inprocess import invoke_in_process

    return invoke_in_process


@pytest.fixture(scope="session")
def lambda_emulator(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """An emulator over the repository's built artifacts, shared by the test session."""
    from lambdapress.config.workspace import find_root
    from lambdapress.emulator.core import Emulator, WorkerOptions

    option = request.config.getoption("--lambdapress-root")
    root = Path(option) if option else find_root(request.config.rootpath)
    concurrency: int = request.config.getoption("--lambdapress-concurrency")
    with Emulator.from_root(root, workers=WorkerOptions(concurrency=concurrency)) as emulator:
        yield emulator


@pytest.fixture
def invoke_artifact(lambda_emulator: Emulator) -> Callable[..., InvocationResult]:
    """`invoke_artifact("orders.get_order", event)`: the built zip, run as Lambda runs it."""
    return lambda_emulator.invoke
