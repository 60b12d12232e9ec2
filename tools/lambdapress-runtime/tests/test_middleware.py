"""`container.middleware` in a real aws-lambda-powertools `APIGatewayHttpResolver`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from lambdapress_runtime import WARMUP_EVENT, Container


class Session:
    def __init__(self, number: int) -> None:
        self.number = number
        self.closed = False


@pytest.fixture
def app_and_sessions(container: Container) -> tuple[APIGatewayHttpResolver, list[Session]]:
    sessions: list[Session] = []

    @container.per_invocation
    def session() -> Iterator[Session]:
        current = Session(len(sessions) + 1)
        sessions.append(current)
        try:
            yield current
        finally:
            current.closed = True

    app = APIGatewayHttpResolver()
    app.use(middlewares=[container.middleware])

    @app.get("/orders/<order_id>")
    def get_order(order_id: str) -> dict[str, Any]:
        current = session.get()
        assert session.get() is current  # one per invocation
        assert not current.closed
        return {"order_id": order_id, "session": current.number}

    @app.post("/orders")
    def create_order() -> dict[str, Any]:
        session.get()
        raise RuntimeError("database is read-only")

    return app, sessions


def test_each_route_runs_in_its_own_invocation_scope(
    app_and_sessions: tuple[APIGatewayHttpResolver, list[Session]],
    http_api_event: Callable[..., dict[str, Any]],
    lambda_context: Any,
) -> None:
    app, sessions = app_and_sessions
    event = http_api_event("GET", "/orders/42", route="/orders/{order_id}")
    first = app.resolve(event, lambda_context)
    second = app.resolve(event, lambda_context)
    assert first["statusCode"] == 200
    assert json.loads(first["body"]) == {"order_id": "42", "session": 1}
    assert json.loads(second["body"])["session"] == 2
    assert [s.closed for s in sessions] == [True, True]


def test_a_route_that_raises_still_closes_its_resources(
    app_and_sessions: tuple[APIGatewayHttpResolver, list[Session]],
    http_api_event: Callable[..., dict[str, Any]],
    lambda_context: Any,
) -> None:
    app, sessions = app_and_sessions
    event = http_api_event("POST", "/orders", route="/orders", json_body={"item": "tea"})
    with pytest.raises(RuntimeError, match="read-only"):
        app.resolve(event, lambda_context)
    assert [s.closed for s in sessions] == [True]


def test_the_handler_wrapper_and_the_middleware_share_one_scope(
    container: Container,
    app_and_sessions: tuple[APIGatewayHttpResolver, list[Session]],
    http_api_event: Callable[..., dict[str, Any]],
    lambda_context: Any,
) -> None:
    app, sessions = app_and_sessions
    handler = container.handler(app.resolve)
    event = http_api_event("GET", "/orders/7", route="/orders/{order_id}")
    assert json.loads(handler(event, lambda_context)["body"])["session"] == 1
    assert handler(dict(WARMUP_EVENT), lambda_context) == {"warmed": True}
    assert len(sessions) == 1 and sessions[0].closed
