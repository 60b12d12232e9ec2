"""Fixtures of the customers service's tests.

API Gateway events and the Lambda context come from the lambdapress pytest plugin
(`http_api_event`, `lambda_context`, and `invoke_artifact` to run the built zip).
"""

from collections.abc import Iterator

import pytest

from customers.repository import InMemoryCustomerRepository, set_repository


@pytest.fixture(autouse=True)
def repository() -> Iterator[InMemoryCustomerRepository]:
    """A fresh, empty store for every test: no state leaks between tests."""
    store = InMemoryCustomerRepository()
    set_repository(store)
    yield store
    set_repository(None)
