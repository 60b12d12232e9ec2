import json
from collections.abc import Callable
from typing import Any

from orders.handlers import update_order
from orders.models import OrderIn
from orders.repository import InMemoryOrderRepository

HttpEvent = Callable[..., dict[str, Any]]


def test_changes_only_the_sent_fields(
    http_api_event: HttpEvent,
    lambda_context: Any,
    repository: InMemoryOrderRepository,
) -> None:
    item = repository.add(OrderIn(name="old", description="kept"))
    response = update_order.handler(
        http_api_event("PATCH", f"/orders/{item.id}", json_body={"name": "new"}),
        lambda_context,
    )
    assert response["statusCode"] == 200
    body = json.loads(response["body"])
    assert (body["name"], body["description"]) == ("new", "kept")


def test_an_unknown_id_is_a_404(
    http_api_event: HttpEvent,
    lambda_context: Any,
) -> None:
    response = update_order.handler(
        http_api_event("PATCH", "/orders/nope", json_body={"name": "x"}),
        lambda_context,
    )
    assert response["statusCode"] == 404
