from collections.abc import Callable
from typing import Any

from orders.handlers import delete_order
from orders.models import OrderIn
from orders.repository import InMemoryOrderRepository

HttpEvent = Callable[..., dict[str, Any]]


def test_deletes_and_answers_204(
    http_api_event: HttpEvent,
    lambda_context: Any,
    repository: InMemoryOrderRepository,
) -> None:
    item = repository.add(OrderIn(name="doomed"))
    response = delete_order.handler(
        http_api_event("DELETE", f"/orders/{item.id}"),
        lambda_context,
    )
    assert response["statusCode"] == 204
    assert repository.get(item.id) is None


def test_an_unknown_id_is_a_404(
    http_api_event: HttpEvent,
    lambda_context: Any,
) -> None:
    response = delete_order.handler(
        http_api_event("DELETE", "/orders/nope"),
        lambda_context,
    )
    assert response["statusCode"] == 404
