"""Storage of orders behind an interface, so handlers never know where data lives.

The real store lives in `postgres_repository.py` and is provided by `dependencies.py`; the
in-memory one stands in for it in unit tests (`container.override`), so they need no server.
"""

import uuid
from datetime import UTC, datetime
from typing import Protocol

from acme_models import Page
from orders.models import Order, OrderIn, OrderPatch


class OrderRepository(Protocol):
    """What the handlers need from storage."""

    def page(self, *, limit: int, cursor: str | None = None) -> Page[Order]:
        """Up to `limit` items after `cursor`, oldest first."""
        ...

    def get(self, order_id: str) -> Order | None:
        """One item, or None when it does not exist."""
        ...

    def add(self, data: OrderIn) -> Order:
        """Store a new item and return it with its id and timestamps."""
        ...

    def update(
        self,
        order_id: str,
        patch: OrderPatch,
    ) -> Order | None:
        """Apply the fields set in `patch`; None when the item does not exist."""
        ...

    def remove(self, order_id: str) -> bool:
        """Delete an item; False when it did not exist."""
        ...


class InMemoryOrderRepository:
    """A dict in the process: lives as long as the Lambda container, shared by nothing else."""

    def __init__(self) -> None:
        self._items: dict[str, Order] = {}

    def page(self, *, limit: int, cursor: str | None = None) -> Page[Order]:
        ids = list(self._items)
        start = ids.index(cursor) + 1 if cursor in self._items else 0
        chosen = ids[start : start + limit]
        more = start + limit < len(ids)
        return Page[Order](
            items=[self._items[i] for i in chosen],
            next_cursor=chosen[-1] if more and chosen else None,
        )

    def get(self, order_id: str) -> Order | None:
        return self._items.get(order_id)

    def add(self, data: OrderIn) -> Order:
        now = datetime.now(UTC)
        item = Order(
            id=uuid.uuid4().hex,
            created_at=now,
            updated_at=now,
            **data.model_dump(),
        )
        self._items[item.id] = item
        return item

    def update(
        self,
        order_id: str,
        patch: OrderPatch,
    ) -> Order | None:
        current = self._items.get(order_id)
        if current is None:
            return None
        changes = patch.model_dump(exclude_unset=True)
        updated = current.model_copy(update={**changes, "updated_at": datetime.now(UTC)})
        self._items[order_id] = updated
        return updated

    def remove(self, order_id: str) -> bool:
        return self._items.pop(order_id, None) is not None
