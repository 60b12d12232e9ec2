from datetime import UTC, datetime
from typing import Any

from fulfilment.handlers import release_shipments
from fulfilment.models import Shipment
from fulfilment.repository import InMemoryShipmentRepository

PLACED = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def test_releases_pending_shipments_up_to_the_limit(
    lambda_context: Any, repository: InMemoryShipmentRepository
) -> None:
    for order_id in ("a", "b", "c"):
        repository.add(Shipment(order_id=order_id, name=order_id, placed_at=PLACED))

    answer = release_shipments.handler({"limit": 2}, lambda_context)

    assert answer == {"released": 2}
    statuses = sorted(s.status for s in repository.items.values())
    assert statuses == ["pending", "released", "released"]
    assert release_shipments.handler({"limit": 2}, lambda_context) == {"released": 1}
    assert release_shipments.handler({"limit": 2}, lambda_context) == {"released": 0}
