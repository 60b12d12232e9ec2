"""Class 8 of issue 20: the event `serve` builds is the event an HTTP API delivers, field by field.

A table of real requests, sent byte for byte over a socket to `serve` on 127.0.0.1 (httpx would
normalise the request line and the framing), to a function that answers with its event. Each
row says what a deployed HTTP API (payload format 2.0, `$default` stage) delivers for that
request, and where that is written down; the rules themselves are documented next to the code
(`lambdapress.emulator.events`, `request_paths`).
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from lambdapress.emulator import AccessRecord, Emulator, ServeOptions, Serving, serve

from .rawhttp import RawResponse, exchange, request

ABSENT = object()
SOURCE_IP = "127.0.0.1"


@dataclass(frozen=True)
class Case:
    """A request and what API Gateway delivers for it (`None` event: it answers `status`)."""

    id: str
    method: str
    target: bytes | str
    delivered: dict[str, Any] = field(default_factory=dict)
    """Dotted paths into the event (`requestContext.http.path`) and their values (or ABSENT)."""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    chunked: bool = False
    host: str = "127.0.0.1"
    status: int = 200


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


JSON = b'{"message":"hello","unicode":"lambda-\xce\xbb"}'
CASES = [
    # --- which bodies arrive base64: text only for text/*, application/json, application/xml
    # and application/javascript (ministack PR 766, verified on a live HTTP API; the multipart
    # capture in serverless-offline PR 1776; docs: "if the content type ... is binary").
    Case("json is text", "POST", "/files/body", headers=[("Content-Type", "application/json")],
         body=JSON, delivered={"body": JSON.decode(), "isBase64Encoded": False}),
    Case("json with charset, any case", "POST", "/files/body",
         headers=[("Content-Type", "Application/JSON; charset=UTF-8")], body=b"{}",
         delivered={"body": "{}", "isBase64Encoded": False}),
    Case("text/plain utf-8 is text", "POST", "/files/body",
         headers=[("Content-Type", "text/plain; charset=utf-8")], body="héllo".encode(),
         delivered={"body": "héllo", "isBase64Encoded": False}),
    Case("xml is text", "POST", "/files/body", headers=[("Content-Type", "application/xml")],
         body=b"<a/>", delivered={"body": "<a/>", "isBase64Encoded": False}),
    Case("javascript is text", "POST", "/files/body",
         headers=[("Content-Type", "application/javascript")], body=b"f()",
         delivered={"body": "f()", "isBase64Encoded": False}),
    Case("a form post is base64", "POST", "/files/body",
         headers=[("Content-Type", "application/x-www-form-urlencoded")], body=b"a=1&b=2",
         delivered={"body": _b64(b"a=1&b=2"), "isBase64Encoded": True}),
    Case("multipart is base64", "POST", "/files/body",
         headers=[("Content-Type", "multipart/form-data; boundary=x")], body=b"--x--",
         delivered={"body": _b64(b"--x--"), "isBase64Encoded": True}),
    Case("a +json type is base64", "POST", "/files/body",
         headers=[("Content-Type", "application/vnd.api+json")], body=b"{}",
         delivered={"body": _b64(b"{}"), "isBase64Encoded": True}),
    Case("a +xml type is base64", "POST", "/files/body",
         headers=[("Content-Type", "image/svg+xml")], body=b"<svg/>",
         delivered={"body": _b64(b"<svg/>"), "isBase64Encoded": True}),
    Case("no content type is base64", "POST", "/files/body", body=b"plain words",
         delivered={"body": _b64(b"plain words"), "isBase64Encoded": True}),
    Case("binary is base64", "PUT", "/files/body",
         headers=[("Content-Type", "application/octet-stream")], body=b"\x00\xff",
         delivered={"body": _b64(b"\x00\xff"), "isBase64Encoded": True}),
    Case("no body", "GET", "/files/body",
         delivered={"body": ABSENT, "isBase64Encoded": False}),
    # --- the path: decoded, cut at a decoded ?, decoded again; %25 refused (hotsock/voker
    # PR 8, vokerhttp/testdata/ingress-paths.json, live captures from an HTTP API).
    Case("%20 is decoded", "GET", "/files/space%20value", delivered={
        "rawPath": "/files/space value", "requestContext.http.path": "/files/space value",
        "pathParameters": {"path": "space value"}}),
    Case("escaped UTF-8 is decoded", "GET", "/files/unicode-%CE%BB-%E4%B8%96%E7%95%8C",
         delivered={"rawPath": "/files/unicode-λ-世界"}),
    Case("raw UTF-8 in the request line is read as UTF-8", "GET", "/files/caf\xc3\xa9".encode(
        "latin-1"), delivered={"rawPath": "/files/café", "pathParameters": {"path": "café"}}),
    Case("%2F is a slash", "GET", "/files/slash%2Fvalue", delivered={
        "rawPath": "/files/slash/value", "pathParameters": {"path": "slash/value"}}),
    Case("%23 is a hash", "GET", "/files/hash%23value", delivered={"rawPath": "/files/hash#value"}),
    Case("a decoded ? cuts the path, not the query", "GET", "/files/question%3Fvalue?x=1",
         delivered={"rawPath": "/files/question", "rawQueryString": "x=1",
                    "queryStringParameters": {"x": "1"}}),
    Case("decoded twice: %252F", "GET", "/files/literal%252Fvalue",
         delivered={"rawPath": "/files/literal/value"}),
    Case("decoded twice: %253F", "GET", "/files/literal%253Fvalue",
         delivered={"rawPath": "/files/literal?value"}),
    Case("decoded twice: %2525", "GET", "/files/literal%2525value",
         delivered={"rawPath": "/files/literal%value"}),
    Case("%25 then text is refused", "GET", "/files/percent%25done", status=400),
    Case("an invalid escape is refused", "GET", "/files/bad%zzescape", status=400),
    Case("a trailing % is refused", "GET", "/files/trailing%", status=400),
    Case("escapes that are not UTF-8 are refused", "GET", "/files/%FF", status=400),
    Case("raw bytes that are not UTF-8 are refused", "GET", b"/files/\xff", status=400),
    Case("routes match the decoded path", "GET", "/items/a%2Fb", status=404),
    Case("path parameters are not decoded twice", "GET", "/items/a%2525b", delivered={
        "rawPath": "/items/a%b", "pathParameters": {"item_id": "a%b"},
        "routeKey": "GET /items/{item_id}"}),
    # --- x-forwarded-*: the gateway's (module doc of events; REST captures in
    # serverless-wsgi issue 36 show a client's X-Forwarded-For kept in front).
    Case("forwarded headers are the gateway's", "GET", "/files/fwd", delivered={
        "headers.x-forwarded-for": SOURCE_IP, "headers.x-forwarded-proto": "https",
        "headers.x-forwarded-port": "443", "requestContext.http.sourceIp": SOURCE_IP}),
    Case("a client's X-Forwarded-For is kept in front", "GET", "/files/fwd",
         headers=[("X-Forwarded-For", "203.0.113.9")],
         delivered={"headers.x-forwarded-for": f"203.0.113.9, {SOURCE_IP}"}),
    Case("a client's proto and port never arrive", "GET", "/files/fwd",
         headers=[("X-Forwarded-Proto", "http"), ("X-Forwarded-Port", "80")],
         delivered={"headers.x-forwarded-proto": "https", "headers.x-forwarded-port": "443"}),
    # --- framing: content-length is the client's, never made up.
    Case("a chunked body has no made-up content-length", "POST", "/files/chunked",
         headers=[("Content-Type", "text/plain")], body=b"hello chunks", chunked=True,
         delivered={"body": "hello chunks", "headers.content-length": ABSENT,
                    "headers.transfer-encoding": "chunked"}),
    Case("content-length as sent", "POST", "/files/sized",
         headers=[("Content-Type", "text/plain")], body=b"12345",
         delivered={"headers.content-length": "5"}),
    # --- cookies, repeated headers, the query (docs, payload format 2.0; voker's capture
    # vokerhttp/testdata/apigwv2-request.json).
    Case("cookies are an array, never a header", "GET", "/files/cookies",
         headers=[("Cookie", "session=abc123; theme=dark"), ("Cookie", "c=3")], delivered={
             "cookies": ["session=abc123", "theme=dark", "c=3"], "headers.cookie": ABSENT}),
    Case("no cookies, no array", "GET", "/files/cookies", delivered={"cookies": ABSENT}),
    Case("repeated headers joined with commas", "GET", "/files/multi",
         headers=[("X-Voker-Probe", "first"), ("X-Voker-Probe", "second")],
         delivered={"headers.x-voker-probe": "first,second"}),
    Case("the query: raw as sent, parameters decoded and joined", "GET",
         "/files/q?repeat=one&repeat=two&redirect=https%3A%2F%2Fexample.com%2Fa%2Fb"
         "&literalPlus=a+b&encodedPlus=a%2Bb&empty=", delivered={
             "rawQueryString": "repeat=one&repeat=two&redirect=https%3A%2F%2Fexample.com%2Fa%2Fb"
             "&literalPlus=a+b&encodedPlus=a%2Bb&empty=",
             "queryStringParameters": {"repeat": "one,two", "redirect": "https://example.com/a/b",
                                       "literalPlus": "a b", "encodedPlus": "a+b", "empty": ""}}),
    Case("no query", "GET", "/files/q", delivered={
        "rawQueryString": "", "queryStringParameters": ABSENT}),
    # --- requestContext (docs, payload format 2.0, and the capture above).
    Case("the request context", "DELETE", "/files/ctx", headers=[("User-Agent", "curl/8.7.1")],
         host="api-id.execute-api.localhost:3000", delivered={
             "version": "2.0", "routeKey": "ANY /files/{path+}",
             "requestContext.routeKey": "ANY /files/{path+}", "requestContext.stage": "$default",
             "requestContext.domainName": "api-id.execute-api.localhost",
             "requestContext.domainPrefix": "api-id", "requestContext.http.method": "DELETE",
             "requestContext.http.protocol": "HTTP/1.1",
             "requestContext.http.userAgent": "curl/8.7.1",
             "headers.host": "api-id.execute-api.localhost:3000"}),
]  # fmt: skip


@pytest.fixture(scope="module")
def records() -> list[AccessRecord]:
    return []


@pytest.fixture(scope="module")
def serving(shared_emulator: Emulator, records: list[AccessRecord]) -> Iterator[Serving]:
    with serve(
        shared_emulator, ServeOptions(lambda_port=None, on_delivery=records.append)
    ) as running:
        yield running


def _port(serving: Serving) -> int:
    return int(serving.url.rsplit(":", 1)[1])


def _at(event: dict[str, Any], dotted: str) -> Any:
    value: Any = event
    for key in re.split(r"\.(?=[A-Za-z$])", dotted):
        if not isinstance(value, dict) or key not in value:
            return ABSENT
        value = value[key]
    return value


def _send(serving: Serving, case: Case) -> RawResponse:
    raw = request(
        case.method,
        case.target,
        headers=case.headers,
        body=case.body,
        chunked=case.chunked,
        host=case.host,
    )
    return exchange(_port(serving), raw)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_serve_delivers_what_an_http_api_delivers(serving: Serving, case: Case) -> None:
    began = int(time.time() * 1000)
    response = _send(serving, case)
    ended = int(time.time() * 1000)
    assert response.status == case.status, response.body[:300]
    if case.status != 200:
        return
    event = response.json()
    for dotted, wanted in case.delivered.items():
        assert _at(event, dotted) == wanted, f"{dotted} of {event!r}"
    context = event["requestContext"]
    assert began <= context["timeEpoch"] <= ended
    assert context["time"] == time.strftime(
        "%d/%b/%Y:%H:%M:%S +0000", time.gmtime(context["timeEpoch"] / 1000)
    )
    assert re.fullmatch(r"[A-Za-z0-9+/]{14}==", context["requestId"])  # API Gateway's form
    assert event["rawPath"] == context["http"]["path"]  # the $default stage adds nothing


def test_a_refused_path_is_api_gateways_400_and_the_record_says_why(
    serving: Serving, records: list[AccessRecord]
) -> None:
    response = exchange(_port(serving), request("GET", "/files/percent%25done"))
    assert response.status == 400 and response.json() == {"message": "Bad Request"}
    problem = records[-1].problem
    assert problem is not None and "'%do'" in problem and "/files/percent%25done" in problem
