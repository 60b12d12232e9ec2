"""Storage of shipments behind an interface, so handlers never know where data lives.

The real store lives in `dynamodb_repository.py` and is provided by `dependencies.py`; the
in-memory one stands in for it in unit tests (`container.override`), so they need no server.
"""

from datetime import datetime
from typing import Protocol

from fulfilment.models import Shipment


class ShipmentRepository(Protocol):
    """What the handlers need from storage."""

    def add(self, shipment: Shipment) -> bool:
        """Store a new shipment; False when the order already has one (a redelivery)."""
        ...

    def pending(self, *, limit: int) -> list[Shipment]:
        """Up to `limit` shipments not released yet."""
        ...

    def release(self, order_id: str, at: datetime) -> None:
        """Mark one shipment released."""
        ...


class InMemoryShipmentRepository:
    """A dict in the process: lives as long as the Lambda container, shared by nothing else."""

    def __init__(self) -> None:
        self.items: dict[str, Shipment] = {}

    def add(self, shipment: Shipment) -> bool:
        if shipment.order_id in self.items:
            return False
        self.items[shipment.order_id] = shipment
        return True

    def pending(self, *, limit: int) -> list[Shipment]:
        return [s for s in self.items.values() if s.status == "pending"][:limit]

    def release(self, order_id: str, at: datetime) -> None:
        current = self.items[order_id]
        self.items[order_id] = current.model_copy(update={"status": "released", "released_at": at})
