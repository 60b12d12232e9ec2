"""Fixtures that call the handlers the way API Gateway (HTTP API, payload 2.0) and Lambda do."""

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest

from customers.repository import InMemoryCustomerRepository, set_repository

HttpEvent = Callable[..., dict[str, Any]]
ARN_PREFIX = "arn:aws:lambda:us-east-1:123456789012:"


@dataclass(frozen=True)
class FakeLambdaContext:
    """The attributes of Lambda's context object that Powertools reads."""

    function_name: str = "customers-test"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = ARN_PREFIX + "function:customers-test"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    log_group_name: str = "/aws/lambda/customers-test"
    log_stream_name: str = "2026/01/01/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture
def http_event() -> HttpEvent:
    """Build an API Gateway HTTP API (payload 2.0) event for a method and a concrete path."""

    def build(
        method: str,
        path: str,
        *,
        body: Any = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        raw_body: bytes | None = None,
    ) -> dict[str, Any]:
        all_headers = {"host": "api.example.test", "user-agent": "pytest"}
        all_headers.update({k.lower(): v for k, v in (headers or {}).items()})
        encoded, is_base64 = None, False
        if raw_body is not None:
            encoded, is_base64 = base64.b64encode(raw_body).decode(), True
        elif body is not None:
            encoded = json.dumps(body)
            all_headers.setdefault("content-type", "application/json")
        return {
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": urlencode(query or {}),
            "headers": all_headers,
            "queryStringParameters": query or None,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "api",
                "domainName": "api.example.test",
                "domainPrefix": "api",
                "http": {
                    "method": method,
                    "path": path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": "127.0.0.1",
                    "userAgent": "pytest",
                },
                "requestId": "request-1",
                "routeKey": "$default",
                "stage": "$default",
                "time": "01/Jan/2026:00:00:00 +0000",
                "timeEpoch": 1767225600000,
            },
            "body": encoded,
            "isBase64Encoded": is_base64,
        }

    return build


@pytest.fixture(autouse=True)
def repository() -> Iterator[InMemoryCustomerRepository]:
    """A fresh, empty store for every test: no state leaks between tests."""
    store = InMemoryCustomerRepository()
    set_repository(store)
    yield store
    set_repository(None)
