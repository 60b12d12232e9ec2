"""What the fulfilment service reads and stores.

`OrderPlaced` is the event the orders service publishes to its `order-events` topic; the queue
`order-placed` receives it as published (raw delivery). Fulfilment reads the order's id, name
and `created_at` (when it was placed, the shipment's `placed_at`); other fields (its
`description`) are ignored, so the publisher can add fields without breaking this consumer. A
missing or malformed field fails that one message, which then goes back to the queue and,
after three receives, to the dead-letter queue.
"""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class OrderPlaced(BaseModel):
    """An order the orders service stored: what fulfilment needs of it."""

    type: Literal["OrderPlaced"]
    order_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    created_at: datetime


class Shipment(BaseModel):
    """One order's shipment: pending until the sweep releases it to the carrier."""

    order_id: str
    name: str
    status: Literal["pending", "released"] = "pending"
    placed_at: datetime
    released_at: datetime | None = None
