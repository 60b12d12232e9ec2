import json
from collections.abc import Callable
from typing import Any

from orders.handlers import get_order
from orders.models import OrderIn
from orders.repository import InMemoryOrderRepository

HttpEvent = Callable[..., dict[str, Any]]


def test_returns_the_stored_item(
    http_api_event: HttpEvent,
    lambda_context: Any,
    repository: InMemoryOrderRepository,
) -> None:
    item = repository.add(OrderIn(name="wanted"))
    response = get_order.handler(
        http_api_event("GET", f"/orders/{item.id}"),
        lambda_context,
    )
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["name"] == "wanted"


def test_an_unknown_id_is_a_404(
    http_api_event: HttpEvent,
    lambda_context: Any,
) -> None:
    response = get_order.handler(
        http_api_event("GET", "/orders/nope"),
        lambda_context,
    )
    assert response["statusCode"] == 404
    assert "nope" in json.loads(response["body"])["message"]
