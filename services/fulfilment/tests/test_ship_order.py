import json
from typing import Any

from fulfilment.handlers import ship_order
from fulfilment.repository import InMemoryShipmentRepository


def placed(order_id: str) -> str:
    return json.dumps(
        {
            "type": "OrderPlaced",
            "order_id": order_id,
            "name": f"order {order_id}",
            "created_at": "2026-12-06T10:00:00+00:00",
        }
    )


def sqs_event(bodies: list[str]) -> dict[str, Any]:
    """Lambda's SQS event with one record per body (message ids m0, m1...)."""
    return {
        "Records": [
            {
                "messageId": f"m{index}",
                "receiptHandle": f"handle-{index}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1765015200000",
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": "1765015200001",
                },
                "messageAttributes": {},
                "md5OfBody": "0" * 32,
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:order-placed",
                "awsRegion": "us-east-1",
            }
            for index, body in enumerate(bodies)
        ]
    }


def test_each_placed_order_gets_one_pending_shipment(
    lambda_context: Any, repository: InMemoryShipmentRepository
) -> None:
    answer = ship_order.handler(sqs_event([placed("a1"), placed("b2")]), lambda_context)

    assert answer == {"batchItemFailures": []}
    assert sorted(repository.items) == ["a1", "b2"]
    assert repository.items["a1"].status == "pending"


def test_a_malformed_message_fails_alone(
    lambda_context: Any, repository: InMemoryShipmentRepository
) -> None:
    bodies = [placed("a1"), '{"type": "OrderPlaced"}', "not json", placed("c3")]

    answer = ship_order.handler(sqs_event(bodies), lambda_context)

    assert answer == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]}
    assert sorted(repository.items) == ["a1", "c3"]


def test_a_redelivered_message_stores_one_shipment(
    lambda_context: Any, repository: InMemoryShipmentRepository
) -> None:
    ship_order.handler(sqs_event([placed("a1")]), lambda_context)
    answer = ship_order.handler(sqs_event([placed("a1")]), lambda_context)

    assert answer == {"batchItemFailures": []}
    assert list(repository.items) == ["a1"]
