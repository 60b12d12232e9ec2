"""Storage of customers behind an interface, so handlers never know where data lives.

The real store lives in `dynamodb_repository.py` and is provided by `dependencies.py`; the
in-memory one stands in for it in unit tests (`container.override`), so they need no server.
"""

import uuid
from datetime import UTC, datetime
from typing import Protocol

from acme_models import Page
from customers.models import Customer, CustomerIn, CustomerPatch


class CustomerRepository(Protocol):
    """What the handlers need from storage."""

    def page(self, *, limit: int, cursor: str | None = None) -> Page[Customer]:
        """Up to `limit` items after `cursor`, oldest first."""
        ...

    def get(self, customer_id: str) -> Customer | None:
        """One item, or None when it does not exist."""
        ...

    def add(self, data: CustomerIn) -> Customer:
        """Store a new item and return it with its id and timestamps."""
        ...

    def update(
        self,
        customer_id: str,
        patch: CustomerPatch,
    ) -> Customer | None:
        """Apply the fields set in `patch`; None when the item does not exist."""
        ...

    def remove(self, customer_id: str) -> bool:
        """Delete an item; False when it did not exist."""
        ...


class InMemoryCustomerRepository:
    """A dict in the process: lives as long as the Lambda container, shared by nothing else."""

    def __init__(self) -> None:
        self._items: dict[str, Customer] = {}

    def page(self, *, limit: int, cursor: str | None = None) -> Page[Customer]:
        ids = list(self._items)
        start = ids.index(cursor) + 1 if cursor in self._items else 0
        chosen = ids[start : start + limit]
        more = start + limit < len(ids)
        return Page[Customer](
            items=[self._items[i] for i in chosen],
            next_cursor=chosen[-1] if more and chosen else None,
        )

    def get(self, customer_id: str) -> Customer | None:
        return self._items.get(customer_id)

    def add(self, data: CustomerIn) -> Customer:
        now = datetime.now(UTC)
        item = Customer(
            id=uuid.uuid4().hex,
            created_at=now,
            updated_at=now,
            **data.model_dump(),
        )
        self._items[item.id] = item
        return item

    def update(
        self,
        customer_id: str,
        patch: CustomerPatch,
    ) -> Customer | None:
        current = self._items.get(customer_id)
        if current is None:
            return None
        changes = patch.model_dump(exclude_unset=True)
        updated = current.model_copy(update={**changes, "updated_at": datetime.now(UTC)})
        self._items[customer_id] = updated
        return updated

    def remove(self, customer_id: str) -> bool:
        return self._items.pop(customer_id, None) is not None
