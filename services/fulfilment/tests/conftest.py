"""Fixtures of the fulfilment service's tests.

The Lambda context comes from the lambdapress pytest plugin (`lambda_context`); the store is an
in-memory one in place of the DynamoDB table, so no server is needed.
"""

from collections.abc import Iterator

import pytest

from fulfilment import dependencies
from fulfilment.repository import InMemoryShipmentRepository


@pytest.fixture(autouse=True)
def repository(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[InMemoryShipmentRepository]:
    """A fresh, empty in-memory store for every test, in place of the real one."""
    monkeypatch.setenv("SHIPMENTS_TABLE", "unused")  # read at the first invocation
    store = InMemoryShipmentRepository()
    with dependencies.container.override(dependencies.repository, lambda: store):
        yield store
