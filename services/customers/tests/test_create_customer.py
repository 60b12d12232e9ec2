import json
from collections.abc import Callable
from typing import Any

from customers.handlers import create_customer
from customers.repository import InMemoryCustomerRepository

HttpEvent = Callable[..., dict[str, Any]]


def test_creates_and_answers_201_with_location(
    http_api_event: HttpEvent,
    lambda_context: Any,
    repository: InMemoryCustomerRepository,
) -> None:
    response = create_customer.handler(
        http_api_event("POST", "/customers", json_body={"name": "new"}),
        lambda_context,
    )
    assert response["statusCode"] == 201
    created = json.loads(response["body"])
    assert response["headers"]["Location"] == f"/customers/{created['id']}"
    assert repository.get(created["id"]) is not None


def test_an_invalid_body_is_a_422_naming_the_field(
    http_api_event: HttpEvent,
    lambda_context: Any,
) -> None:
    response = create_customer.handler(
        http_api_event("POST", "/customers", json_body={"name": "", "unknown": 1}),
        lambda_context,
    )
    assert response["statusCode"] == 422
    locations = {tuple(error["loc"]) for error in json.loads(response["body"])["detail"]}
    assert ("body", "name") in locations
