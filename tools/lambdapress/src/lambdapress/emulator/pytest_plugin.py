"""pytest fixtures for Lambda handlers (registered through the `pytest11` entry point).

- `http_api_event(method, path, route=..., json_body=...)`: an API Gateway HTTP API event
  (payload 2.0); `rest_api_event(...)`: a REST API event (1.0).
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
