"""Fixtures of the customers service's tests.

API Gateway events and the Lambda context come from the lambdapress pytest plugin
(`http_api_event`, `lambda_context`, and `invoke_artifact` to run the built zip);
real servers from its storage plugin (`postgres_server`, `moto_endpoint`).
"""

from collections.abc import Iterator

import pytest

from customers import dependencies
from customers.repository import InMemoryCustomerRepository


@pytest.fixture(autouse=True)
def repository(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[InMemoryCustomerRepository]:
    """A fresh, empty in-memory store for every test, in place of the real one: no state leaks
    between tests, and no server is needed."""
    # Settings are read at the first invocation; the in-memory store never uses this table.
    monkeypatch.setenv("CUSTOMERS_TABLE", "unused")
    store = InMemoryCustomerRepository()
    with dependencies.container.override(dependencies.repository, lambda: store):
        yield store
