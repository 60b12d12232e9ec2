import json
from collections.abc import Callable
from typing import Any

from orders.handlers import list_orders
from orders.models import OrderIn
from orders.repository import InMemoryOrderRepository

HttpEvent = Callable[..., dict[str, Any]]


def test_lists_a_page_and_a_cursor(
    http_api_event: HttpEvent,
    lambda_context: Any,
    repository: InMemoryOrderRepository,
) -> None:
    for i in range(3):
        repository.add(OrderIn(name=f"item {i}"))
    response = list_orders.handler(
        http_api_event("GET", "/orders", query={"limit": "2"}),
        lambda_context,
    )
    assert response["statusCode"] == 200
    page = json.loads(response["body"])
    assert [item["name"] for item in page["items"]] == ["item 0", "item 1"]
    assert page["next_cursor"] == page["items"][1]["id"]


def test_a_limit_out_of_range_is_a_422(
    http_api_event: HttpEvent,
    lambda_context: Any,
) -> None:
    response = list_orders.handler(
        http_api_event("GET", "/orders", query={"limit": "0"}),
        lambda_context,
    )
    assert response["statusCode"] == 422
    assert json.loads(response["body"])["detail"][0]["loc"] == ["query", "limit"]
