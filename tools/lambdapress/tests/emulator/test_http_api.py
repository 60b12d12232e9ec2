"""The HTTP front end: real requests in, payload 2.0 events to the functions, responses back."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model

from lambdapress.emulator import AccessRecord, Emulator, HttpApi

from .conftest import EmulatorFactory, Repo


@pytest.fixture(scope="module")
def records() -> list[AccessRecord]:
    return []


@pytest.fixture(scope="module")
def api(shared_emulator: Emulator, records: list[AccessRecord]) -> Iterator[HttpApi]:
    with HttpApi(shared_emulator, on_request=records.append) as running:
        yield running


@pytest.fixture
def http(api: HttpApi) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api.url, timeout=30) as client:
        yield client


def test_a_request_becomes_a_valid_payload_2_0_event(http: httpx.Client) -> None:
    response = http.get(
        "/items/a%20b?limit=5&tag=x&tag=y",
        headers={"X-Custom": "1", "Cookie": "a=1; b=2"},
    )
    assert response.status_code == 200
    event = response.json()
    model = APIGatewayProxyEventV2Model.model_validate(event)

    assert model.routeKey == "GET /items/{item_id}"
    assert model.rawPath == "/items/a b" and model.pathParameters == {"item_id": "a b"}
    assert model.rawQueryString == "limit=5&tag=x&tag=y"
    assert model.queryStringParameters == {"limit": "5", "tag": "x,y"}
    assert model.headers["x-custom"] == "1" and "cookie" not in model.headers
    assert model.cookies == ["a=1", "b=2"]
    assert model.requestContext.http.method == "GET"
    assert model.requestContext.http.sourceIp is not None
    assert model.body is None and model.isBase64Encoded is False


def test_responses_map_back_with_status_headers_and_cookies(http: httpx.Client) -> None:
    response = http.post("/items/7", json={"name": "w"})

    assert response.status_code == 200
    assert response.headers["x-handled-by"] == "http_echo"
    assert response.headers.get_list("set-cookie") == ["session=abc; Path=/", "theme=dark"]
    assert response.headers["apigw-requestid"]
    event = response.json()
    assert json.loads(event["body"]) == {"name": "w"} and event["isBase64Encoded"] is False


def test_binary_bodies_travel_base64_both_ways(http: httpx.Client) -> None:
    echoed = http.request(
        "PATCH",
        "/files/a/b.bin",
        content=b"\x00\x01\xfe\xff",
        headers={"content-type": "application/octet-stream"},
    ).json()
    assert echoed["routeKey"] == "ANY /files/{path+}"
    assert echoed["pathParameters"] == {"path": "a/b.bin"}
    assert echoed["isBase64Encoded"] is True
    assert base64.b64decode(echoed["body"]) == b"\x00\x01\xfe\xff"

    binary = http.post("/binary")
    assert binary.status_code == 201 and binary.content == bytes(range(256))
    assert binary.headers["content-type"] == "application/octet-stream"


def test_a_response_without_status_code_is_a_200_json_body(http: httpx.Client) -> None:
    response = http.get("/plain")
    assert response.status_code == 200 and response.json() == {"message": "no statusCode here"}
    assert response.headers["content-type"] == "application/json"


def test_unknown_routes_are_404_and_wrong_methods_405(http: httpx.Client) -> None:
    missing = http.get("/nothing/here")
    assert missing.status_code == 404 and missing.json() == {"message": "Not Found"}
    wrong = http.delete("/items/1")
    assert wrong.status_code == 405 and wrong.json() == {"message": "Method Not Allowed"}
    assert wrong.headers["allow"] == "GET, POST"


def test_a_malformed_function_response_is_500_with_the_reason_recorded(
    http: httpx.Client, records: list[AccessRecord]
) -> None:
    response = http.get("/malformed")  # a deployed HTTP API answers 500, not REST's 502
    assert response.status_code == 500 and response.json() == {"message": "Internal Server Error"}
    record = next(r for r in reversed(records) if r.path == "/malformed")
    assert record.problem is not None and "statusCode 'teapot'" in record.problem


def test_a_function_error_is_500_and_its_logs_carry_the_request_id(
    http: httpx.Client, records: list[AccessRecord]
) -> None:
    response = http.get("/fail")
    assert response.status_code == 500 and response.json() == {"message": "Internal Server Error"}
    record = next(r for r in reversed(records) if r.path == "/fail")
    assert record.result is not None and record.result.error is not None
    request_id = record.result.request_id
    assert response.headers["apigw-requestid"] == request_id
    logs = record.result.logs
    error_at = logs.index("[ERROR] ValueError")
    assert (
        logs.index(f"START RequestId: {request_id}")
        < error_at
        < logs.index(f"END RequestId: {request_id}")
    )


def test_a_body_above_the_lambda_limit_is_413(http: httpx.Client) -> None:
    response = http.post(
        "/items/1", content=b"x" * (6 * 1024 * 1024), headers={"content-type": "text/plain"}
    )
    assert response.status_code == 413


def test_fifty_requests_at_concurrency_eight_all_answered_by_reused_workers(
    repo: Repo, make_emulator: EmulatorFactory
) -> None:
    entry = repo.app("http_slow", routes=(("GET", "/slow"),))
    emulator = make_emulator(repo.manifest(entry), repo.root, concurrency=8)
    with HttpApi(emulator) as api, httpx.Client(base_url=api.url, timeout=30) as client:

        def call(_: int) -> int:
            return client.get("/slow", params={"seconds": "0.05"}).status_code

        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(call, range(50)))

    assert statuses == [200] * 50
    stats = emulator.stats()[0]
    assert stats.invocations == 50 == sum(stats.reuse.values())
    assert stats.started == len(stats.reuse) <= 8 and stats.peak_concurrency <= 8
    # So at least 42 of the 50 ran on a warm worker. How they spread over the workers is not
    # checked: it depends on how long each cold start took. Eight workers starting at once on
    # two cores can take 0.3 s to 1.1 s each, and the last one ready may find every request
    # already answered by the others (it then answers one), as a late container on Lambda would.
