"""Fixtures of the orders service's tests.

API Gateway events and the Lambda context come from the lambdapress pytest plugin
(`http_api_event`, `lambda_context`, and `invoke_artifact` to run the built zip);
real servers from its storage plugin (`postgres_server`, `moto_endpoint`).
"""

from collections.abc import Iterator
from typing import Any

import pytest

from orders import dependencies
from orders.repository import InMemoryOrderRepository


@pytest.fixture(autouse=True)
def repository(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[InMemoryOrderRepository]:
    """A fresh, empty in-memory store for every test, in place of the real one: no state leaks
    between tests, and no server is needed."""
    # The URL is read when a connection opens; the in-memory store never opens one.
    monkeypatch.setenv("DATABASE_URL", "postgresql://unused@127.0.0.1:9/unused")
    store = InMemoryOrderRepository()
    with dependencies.container.override(dependencies.repository, lambda: store):
        yield store


class PublishedMessages:
    """An SNS client's `publish`, keeping what was published."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, **message: Any) -> dict[str, str]:
        self.published.append(message)
        return {"MessageId": f"message-{len(self.published)}"}


TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:order-events"


@pytest.fixture(autouse=True)
def sns(monkeypatch: pytest.MonkeyPatch) -> Iterator[PublishedMessages]:
    """What the handlers publish, kept in the test instead of sent to SNS."""
    monkeypatch.setenv("ORDER_EVENTS_TOPIC_ARN", TOPIC_ARN)
    client = PublishedMessages()
    with dependencies.container.override(dependencies.sns, lambda: client):
        yield client
