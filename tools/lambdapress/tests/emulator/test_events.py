"""Event builders, checked against Powertools' own models and resolvers of the same events."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, APIGatewayRestResolver
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventModel,
    APIGatewayProxyEventV2Model,
)

from lambdapress.emulator import ApiContext, LambdaContext, http_api_event, rest_api_event
from lambdapress.emulator.events import encode_body, is_text_content
from lambdapress.errors import EmulatorError


def _v2(event: dict[str, Any]) -> APIGatewayProxyEventV2Model:
    return APIGatewayProxyEventV2Model.model_validate(event)


def _v1(event: dict[str, Any]) -> APIGatewayProxyEventModel:
    return APIGatewayProxyEventModel.model_validate(event)


def test_a_minimal_http_api_event_is_a_valid_payload_2_0_event() -> None:
    event = http_api_event()
    model = _v2(event)
    assert (model.version, model.routeKey, model.rawPath, model.rawQueryString) == (
        "2.0", "$default", "/", ""
    )  # fmt: skip
    assert model.requestContext.http.method == "GET"
    assert model.body is None and model.isBase64Encoded is False
    assert "queryStringParameters" not in event and "pathParameters" not in event


def test_http_api_event_with_route_query_headers_cookies_and_json() -> None:
    event = http_api_event(
        "POST",
        "/orders/a%20b?limit=2&tag=x&tag=y",
        route="/orders/{order_id}",
        headers=[("X-Trace", "1"), ("x-trace", "2"), ("Cookie", "a=1; b=2"), ("User-Agent", "t")],
        cookies=["c=3"],
        json_body={"name": "widget"},
        source_ip="10.0.0.7",
    )
    model = _v2(event)

    assert model.routeKey == "POST /orders/{order_id}" == model.requestContext.routeKey
    assert model.rawPath == "/orders/a b"  # HTTP APIs deliver the path decoded
    assert model.pathParameters == {"order_id": "a b"}
    assert model.rawQueryString == "limit=2&tag=x&tag=y"
    assert model.queryStringParameters == {"limit": "2", "tag": "x,y"}
    assert model.headers["x-trace"] == "1,2"  # lowercased and joined
    assert "cookie" not in model.headers
    assert model.cookies == ["c=3", "a=1", "b=2"]
    assert model.headers["content-type"] == "application/json"
    assert json.loads(model.body or "") == {"name": "widget"}
    assert model.requestContext.http.userAgent == "t"
    assert str(model.requestContext.http.sourceIp) == "10.0.0.7/32"


def test_binary_bodies_are_base64_and_text_bodies_are_not() -> None:
    binary = http_api_event(
        "PUT", "/blob", body=b"\x00\xffdata", headers={"content-type": "application/octet-stream"}
    )
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\x00\xffdata"
    text = http_api_event(
        "PUT", "/text", body=b"caf\xc3\xa9", headers={"content-type": "text/plain"}
    )
    assert (text["body"], text["isBase64Encoded"]) == ("café", False)
    invalid_utf8 = http_api_event("PUT", "/t", body=b"\xff", headers={"content-type": "text/plain"})
    assert invalid_utf8["isBase64Encoded"] is True
    _v2(binary), _v2(text)


@pytest.mark.parametrize(
    ("content_type", "text"),
    [
        (None, False),
        ("", False),
        ("text/html; charset=utf-8", True),
        ("TEXT/CSV", True),
        ("application/json", True),
        ("Application/JSON; charset=UTF-8", True),
        ("application/xml", True),
        ("application/javascript", True),
        ("application/problem+json", False),
        ("application/vnd.api+json", False),
        ("image/svg+xml", False),
        ("application/x-www-form-urlencoded", False),
        ("multipart/form-data; boundary=x", False),
        ("application/graphql", False),
        ("image/png", False),
        ("application/octet-stream", False),
    ],
)
def test_textual_content_types(content_type: str | None, text: bool) -> None:
    assert is_text_content(content_type) is text
    assert encode_body(b"abc", content_type)[1] is not text


def test_a_route_key_keeps_its_own_method() -> None:
    event = http_api_event("DELETE", "/files/a/b", route="ANY /files/{path+}")
    assert event["routeKey"] == "ANY /files/{path+}" == event["requestContext"]["routeKey"]
    assert event["pathParameters"] == {"path": "a/b"}
    assert event["requestContext"]["http"]["method"] == "DELETE"


def test_a_path_that_does_not_fit_the_route_is_an_error() -> None:
    with pytest.raises(EmulatorError, match="does not match the route"):
        http_api_event("GET", "/customers/1", route="/orders/{order_id}")


def test_an_unknown_method_is_an_error() -> None:
    with pytest.raises(EmulatorError, match="not an HTTP method"):
        http_api_event("FETCH", "/")


def test_a_rest_api_event_is_a_valid_payload_1_0_event() -> None:
    event = rest_api_event(
        "GET",
        "/orders/42",
        resource="/orders/{order_id}",
        query=[("tag", "x"), ("tag", "y")],
        headers={"Accept": "application/json", "User-Agent": "pytest"},
    )
    model = _v1(event)

    assert (model.resource, model.path, model.httpMethod) == (
        "/orders/{order_id}",
        "/orders/42",
        "GET",
    )
    assert model.pathParameters == {"order_id": "42"}
    assert model.queryStringParameters == {"tag": "y"}  # 1.0: the last value
    assert model.multiValueQueryStringParameters == {"tag": ["x", "y"]}
    assert model.headers["Accept"] == "application/json"  # 1.0 keeps the case
    assert model.multiValueHeaders["Accept"] == ["application/json"]
    assert model.requestContext.resourcePath == "/orders/{order_id}"
    assert model.requestContext.path == "/prod/orders/42"
    assert model.requestContext.identity.userAgent == "pytest"
    assert event["body"] is None and event["isBase64Encoded"] is False


def test_powertools_http_resolver_routes_our_2_0_events() -> None:
    app = APIGatewayHttpResolver()

    @app.post("/orders/<order_id>")
    def update(order_id: str) -> dict[str, Any]:
        return {
            "id": order_id,
            "limit": app.current_event.get_query_string_value("limit"),
            "name": app.current_event.json_body["name"],
            "cookie": app.current_event.cookies,
        }

    event = http_api_event(
        "POST", "/orders/7?limit=3", route="/orders/{order_id}", json_body={"name": "w"},
        cookies=["k=v"],
    )  # fmt: skip
    response = app.resolve(event, LambdaContext.for_function())

    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"id": "7", "limit": "3", "name": "w", "cookie": ["k=v"]}


def test_powertools_rest_resolver_routes_our_1_0_events() -> None:
    app = APIGatewayRestResolver()

    @app.get("/orders/<order_id>")
    def get(order_id: str) -> dict[str, str]:
        return {"id": order_id}

    event = rest_api_event("GET", "/orders/9", resource="/orders/{order_id}")
    response = app.resolve(event, LambdaContext.for_function())
    assert response["statusCode"] == 200 and json.loads(response["body"]) == {"id": "9"}


def test_a_body_arrives_as_api_gateway_delivers_it_whatever_its_python_type() -> None:
    form = {"content-type": "application/x-www-form-urlencoded"}
    for body in ("a=1&b=2", b"a=1&b=2"):  # a form post is base64 on an HTTP API
        event = http_api_event("POST", "/f", body=body, headers=form)
        assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == b"a=1&b=2"
        assert event["headers"]["content-length"] == "7"
    untyped = http_api_event("POST", "/f", body="no content type")
    assert untyped["isBase64Encoded"] is True
    as_given = http_api_event("POST", "/f", body="kept", is_base64_encoded=False)
    assert (as_given["body"], as_given["isBase64Encoded"]) == ("kept", False)
    _v2(untyped), _v2(as_given)


def test_the_path_arrives_decoded_and_a_refused_one_is_an_error() -> None:
    event = http_api_event("GET", "/files/a%20b/%CE%BB?x=%2B", route="ANY /files/{path+}")
    assert event["rawPath"] == event["requestContext"]["http"]["path"] == "/files/a b/λ"
    assert event["pathParameters"] == {"path": "a b/λ"}
    assert event["rawQueryString"] == "x=%2B" and event["queryStringParameters"] == {"x": "+"}
    for refused in ("/files/100%25done", "/files/%zz", "/files/%FF"):
        with pytest.raises(EmulatorError, match="API Gateway answers 400"):
            http_api_event("GET", refused)


def test_a_named_stage_is_part_of_both_paths() -> None:
    event = http_api_event("GET", "/orders", api=ApiContext(stage="dev"))
    assert event["rawPath"] == event["requestContext"]["http"]["path"] == "/dev/orders"


def test_forwarded_headers_and_framing_are_the_gateways() -> None:
    event = http_api_event(
        "POST",
        "/up",
        body=b"abc",
        headers=[("X-Forwarded-For", "10.1.1.1"), ("X-Forwarded-Proto", "http")],
        source_ip="198.51.100.7",
    )
    headers = event["headers"]
    assert headers["x-forwarded-for"] == "10.1.1.1, 198.51.100.7"
    assert (headers["x-forwarded-proto"], headers["x-forwarded-port"]) == ("https", "443")
    chunked = http_api_event(
        "POST",
        "/up",
        body=b"abc",
        headers={"Transfer-Encoding": "chunked", "Content-Type": "text/plain"},
    )
    assert "content-length" not in chunked["headers"] and chunked["body"] == "abc"


def test_what_the_gateway_adds_comes_from_one_api_context_for_both_payload_versions() -> None:
    api = ApiContext(
        stage="dev",
        stage_variables={"table": "orders-dev"},
        authorizer={"lambda": {"user": "ada"}},
        domain_name="abc123.execute-api.eu-west-1.amazonaws.com",
        api_id="abc123",
        request_id="req-7",
        time_epoch_ms=1_700_000_000_000,
    )
    v2 = http_api_event("GET", "/orders", api=api)
    v1 = rest_api_event("GET", "/orders", api=api)
    for event in (v2, v1):
        context = event["requestContext"]
        assert (context["apiId"], context["domainPrefix"], context["requestId"]) == (
            "abc123", "abc123", "req-7"
        )  # fmt: skip
        assert context["stage"] == "dev" and context["authorizer"] == {"lambda": {"user": "ada"}}
        assert event["stageVariables"] == {"table": "orders-dev"}
    assert v2["requestContext"]["timeEpoch"] == v1["requestContext"]["requestTimeEpoch"]
    assert v2["requestContext"]["time"] == "14/Nov/2023:22:13:20 +0000"
    assert v2["headers"]["host"] == v1["headers"]["Host"] == api.domain_name
    assert (v2["rawPath"], v1["requestContext"]["path"]) == ("/dev/orders", "/dev/orders")
    _v2(v2), _v1(v1)


def test_without_a_stage_each_api_type_has_its_own_default() -> None:
    assert http_api_event()["requestContext"]["stage"] == "$default"
    assert rest_api_event()["requestContext"]["stage"] == "prod"
