"""The events the orders service publishes, and how.

`OrderPlaced` goes to the topic `order-events` when `create_order` has stored a new order, with
a `type` message attribute, so a subscriber's filter policy (`{ type = ["OrderPlaced"] }`) picks
it without reading the body. It carries the order's id, the fields of `OrderIn` and when it was
created.

Each body is the model's JSON: a consumer validates it with a model of its own, ignoring fields
it does not know, so fields can be added here without breaking it.

`OrderPlaced` is published after the order is stored, inside the invocation's transaction: a
failed publish fails the request and rolls the order back, so none is stored without its event.
(The reverse, an event for a commit that then fails, needs an outbox table; a consumer that
finds no order treats the event as stale.)
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from orders.models import Order


class OrderPlaced(BaseModel):
    """A new order was stored (`POST /orders`)."""

    type: Literal["OrderPlaced"] = "OrderPlaced"
    order_id: str
    name: str
    description: str | None = None
    created_at: datetime


def publish_created(client: Any, topic_arn: str, item: Order) -> str:
    """Publish `item` as OrderPlaced to the topic; returns SNS's message id."""
    event = OrderPlaced(
        order_id=item.id,
        name=item.name,
        description=item.description,
        created_at=item.created_at,
    )
    answer = client.publish(
        TopicArn=topic_arn,
        Message=event.model_dump_json(),
        MessageAttributes={"type": {"DataType": "String", "StringValue": event.type}},
    )
    return str(answer["MessageId"])
