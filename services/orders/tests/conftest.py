"""Fixtures of the orders service's tests.

API Gateway events and the Lambda context come from the lambdapress pytest plugin
(`http_api_event`, `lambda_context`, and `invoke_artifact` to run the built zip).
"""

from collections.abc import Iterator

import pytest

from orders.repository import InMemoryOrderRepository, set_repository


@pytest.fixture(autouse=True)
def repository() -> Iterator[InMemoryOrderRepository]:
    """A fresh, empty store for every test: no state leaks between tests."""
    store = InMemoryOrderRepository()
    set_repository(store)
    yield store
    set_repository(None)
