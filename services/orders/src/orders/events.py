"""The events the orders service publishes, and how.

`OrderPlaced` goes to the service's `order-events` topic with a `type` message attribute, so a
subscriber's filter policy (`{ type = ["OrderPlaced"] }`) picks it without reading the body.
The body is the model's JSON: a consumer validates it with a model of its own (the fulfilment
service's `OrderPlaced`), ignoring fields it does not know, so fields can be added here
without breaking it.

Published after the order is stored, inside the invocation's transaction: a failed publish
fails the request and rolls the order back, so no order is stored without its event. (The
reverse, an event for an order whose commit then fails, needs an outbox table; a consumer
that finds no order treats the event as stale.)
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from orders.models import Order


class OrderPlaced(BaseModel):
    """An order was stored."""

    type: Literal["OrderPlaced"] = "OrderPlaced"
    order_id: str
    name: str
    placed_at: datetime


def publish_placed(client: Any, topic_arn: str, order: Order) -> str:
    """Publish `order`'s OrderPlaced event to the topic; returns SNS's message id."""
    event = OrderPlaced(order_id=order.id, name=order.name, placed_at=order.created_at)
    answer = client.publish(
        TopicArn=topic_arn,
        Message=event.model_dump_json(),
        MessageAttributes={"type": {"DataType": "String", "StringValue": event.type}},
    )
    return str(answer["MessageId"])
