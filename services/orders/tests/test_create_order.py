import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from orders.handlers import create_order
from orders.repository import InMemoryOrderRepository

HttpEvent = Callable[..., dict[str, Any]]


def test_creates_and_answers_201_with_location(
    http_api_event: HttpEvent,
    lambda_context: Any,
    repository: InMemoryOrderRepository,
) -> None:
    response = create_order.handler(
        http_api_event("POST", "/orders", json_body={"name": "new"}),
        lambda_context,
    )
    assert response["statusCode"] == 201
    created = json.loads(response["body"])
    assert response["headers"]["Location"] == f"/orders/{created['id']}"
    assert repository.get(created["id"]) is not None


def test_an_invalid_body_is_a_422_naming_the_field(
    http_api_event: HttpEvent,
    lambda_context: Any,
) -> None:
    response = create_order.handler(
        http_api_event("POST", "/orders", json_body={"name": "", "unknown": 1}),
        lambda_context,
    )
    assert response["statusCode"] == 422
    locations = {tuple(error["loc"]) for error in json.loads(response["body"])["detail"]}
    assert ("body", "name") in locations


def test_a_created_order_is_published(
    http_api_event: HttpEvent,
    lambda_context: Any,
    sns: Any,
) -> None:
    response = create_order.handler(
        http_api_event("POST", "/orders", json_body={"name": "new"}),
        lambda_context,
    )

    created = json.loads(response["body"])
    [message] = sns.published
    assert message["TopicArn"].endswith(":order-events")
    assert message["MessageAttributes"] == {
        "type": {"DataType": "String", "StringValue": "OrderPlaced"},
    }
    event = json.loads(message["Message"])
    at = event.pop("created_at")
    assert datetime.fromisoformat(at) == datetime.fromisoformat(created["created_at"])
    assert event == {
        "type": "OrderPlaced",
        "order_id": created["id"],
        "name": "new",
        "description": None,
    }


def test_a_refused_order_publishes_nothing(
    http_api_event: HttpEvent,
    lambda_context: Any,
    sns: Any,
) -> None:
    create_order.handler(
        http_api_event("POST", "/orders", json_body={"name": ""}),
        lambda_context,
    )

    assert sns.published == []
