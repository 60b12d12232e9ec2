import json
from collections.abc import Callable
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
