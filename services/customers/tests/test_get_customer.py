import json
from collections.abc import Callable
from typing import Any

from customers.handlers import get_customer
from customers.models import CustomerIn
from customers.repository import InMemoryCustomerRepository

HttpEvent = Callable[..., dict[str, Any]]


def test_returns_the_stored_item(
    http_api_event: HttpEvent,
    lambda_context: Any,
    repository: InMemoryCustomerRepository,
) -> None:
    item = repository.add(CustomerIn(name="wanted"))
    response = get_customer.handler(
        http_api_event("GET", f"/customers/{item.id}"),
        lambda_context,
    )
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["name"] == "wanted"


def test_an_unknown_id_is_a_404(
    http_api_event: HttpEvent,
    lambda_context: Any,
) -> None:
    response = get_customer.handler(
        http_api_event("GET", "/customers/nope"),
        lambda_context,
    )
    assert response["statusCode"] == 404
    assert "nope" in json.loads(response["body"])["message"]
