"""Class 7 of issue 20: a function's answer reaches the client only as API Gateway would send it.

The rules and their sources are in `lambdapress.emulator.gateway_response`. Here: the documented
and observed mappings, each refusal, and two properties over generated answers (status codes,
headers, cookies, bodies, base64 flags): `proxy_response` itself, and what the front end
writes on the wire, read back byte for byte. A refused answer is the 500 a deployed HTTP API
sends; nothing refused reaches the wire, and every header line written is well formed.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdapress.config.lambda_platform import RESPONSE_MAX_BYTES
from lambdapress.emulator import AccessRecord, Emulator, HttpApi, proxy_response
from lambdapress.emulator.gateway_response import MalformedResponse

from .rawhttp import RawResponse, exchange, request

ERROR = {"message": "Internal Server Error"}
PROPERTIES = settings(
    max_examples=int(os.environ.get("LAMBDAPRESS_PROPERTY_EXAMPLES", "60")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _answer(document: Any) -> bytes:
    return json.dumps(document).encode()


# ----------------------------------------------------------- documented and observed mappings


@pytest.mark.parametrize(
    ("payload", "body"),
    [
        # AWS docs, "Lambda function response for format 2.0": the two examples of its table.
        (b'"Hello from Lambda!"', b"Hello from Lambda!"),
        (b'{ "message": "Hello from Lambda!" }', b'{ "message": "Hello from Lambda!" }'),
        # Observed (aws-lambda-dotnet LambdaTestTool-v2 snapshots): any value, even non-JSON.
        (b"[1, 2, 3, 4, 5]", b"[1, 2, 3, 4, 5]"),
        (b"42", b"42"),
        (b"true", b"true"),
        (b'"Special \\"quoted\\" text"', b'Special "quoted" text'),
        (b'""', b""),
        (b'{"name": "John Doe", "age":', b'{"name": "John Doe", "age":'),
    ],
)
def test_an_answer_without_status_code_is_a_200_json_body(payload: bytes, body: bytes) -> None:
    mapped = proxy_response(payload)
    assert (mapped.status, mapped.headers, mapped.body) == (
        200, [("Content-Type", "application/json")], body
    )  # fmt: skip


def test_a_full_answer_maps_status_headers_cookies_and_bodies() -> None:
    mapped = proxy_response(
        _answer(
            {
                "statusCode": "201",  # digits in a string, as REST APIs accept
                "headers": {"X-N": 1, "X-B": True, "X-Text": "café", "Content-Length": "99"},
                "cookies": ["a=1; Path=/", "b=2"],
                "body": base64.b64encode(b"\x00\xff").decode(),
                "isBase64Encoded": True,
            }
        )
    )
    assert mapped.status == 201 and mapped.body == b"\x00\xff"
    assert mapped.headers == [
        ("Content-Type", "text/plain; charset=utf-8"),  # observed default with a statusCode
        ("X-N", "1"),
        ("X-B", "true"),
        ("X-Text", "café"),
        ("Set-Cookie", "a=1; Path=/"),
        ("Set-Cookie", "b=2"),
    ]  # the function's Content-Length is dropped: the gateway frames the message


@pytest.mark.parametrize("status", [204, 304])
def test_no_content_statuses_carry_no_body(status: int) -> None:
    mapped = proxy_response(_answer({"statusCode": status, "body": "ignored"}))
    assert mapped.status == status and mapped.body == b""


def test_a_given_content_type_is_kept_in_any_case() -> None:
    mapped = proxy_response(_answer({"statusCode": 200, "headers": {"content-TYPE": "x/y"}}))
    assert mapped.headers == [("content-TYPE", "x/y")]


# -------------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ({"statusCode": 0}, "statusCode 0"),  # observed: 500 on a deployed HTTP API
        ({"statusCode": 200.5}, "statusCode 200.5"),  # observed: 500
        ({"statusCode": 700}, "from 200 to 599"),
        ({"statusCode": 101}, "from 200 to 599"),
        ({"statusCode": "abc"}, "statusCode 'abc'"),
        ({"statusCode": "\uff12\uff10\uff10"}, "statusCode"),  # fullwidth digits: not ASCII
        ({"statusCode": True}, "statusCode True"),
        ({"statusCode": None}, "statusCode None"),
        ({"statusCode": [200]}, "statusCode"),
        ({"statusCode": 200, "headers": ["x"]}, "headers is a list"),
        ({"statusCode": 200, "headers": {"x": {"y": 1}}}, "header 'x' has a dict"),
        ({"statusCode": 200, "headers": {"x": None}}, "header 'x' has a NoneType"),
        ({"statusCode": 200, "headers": {"x": "a\r\nSet-Cookie: evil=1"}}, "control char"),
        ({"statusCode": 200, "headers": {"x": "a\nb"}}, "control character '\\n'"),
        ({"statusCode": 200, "headers": {"x": "a\rb"}}, "control character '\\r'"),
        ({"statusCode": 200, "headers": {"x": "a\x00b"}}, "control character '\\x00'"),
        ({"statusCode": 200, "headers": {"x": "a\x1b[2J"}}, "control character"),
        ({"statusCode": 200, "headers": {"x": "\ud800"}}, "not valid Unicode"),
        ({"statusCode": 200, "headers": {"bad name": "v"}}, "not an HTTP token"),
        ({"statusCode": 200, "headers": {"x\r\nevil": "v"}}, "not an HTTP token"),
        ({"statusCode": 200, "headers": {"na:me": "v"}}, "not an HTTP token"),
        ({"statusCode": 200, "headers": {"é": "v"}}, "not an HTTP token"),
        ({"statusCode": 200, "headers": {"": "v"}}, "not an HTTP token"),
        ({"statusCode": 200, "cookies": "a=1"}, "cookies is not a list"),
        ({"statusCode": 200, "cookies": ["a=1", 2]}, "cookies is not a list"),
        ({"statusCode": 200, "cookies": ["a=1\r\nX-Evil: 1"]}, "control character"),
        ({"statusCode": 200, "cookies": ["a=\x00"]}, "control character"),
        ({"statusCode": 200, "body": {"a": 1}}, "body is a dict"),
        ({"statusCode": 200, "body": 42}, "body is a int"),
        ({"statusCode": 200, "body": "%%%", "isBase64Encoded": True}, "not base64"),
        ({"statusCode": 200, "body": "YQ", "isBase64Encoded": True}, "not base64"),
        ({"statusCode": 200, "body": "YQ==\n", "isBase64Encoded": True}, "not base64"),
        ({"statusCode": 200, "body": "not base64!", "isBase64Encoded": True}, "not base64"),
        ({"statusCode": 200, "isBase64Encoded": "yes"}, "isBase64Encoded is 'yes'"),
        ({"statusCode": 200, "isBase64Encoded": 1}, "isBase64Encoded is 1"),
    ],
)
def test_answers_api_gateway_cannot_send_are_refused(answer: Any, problem: str) -> None:
    with pytest.raises(MalformedResponse, match=re.escape(problem)):
        proxy_response(_answer(answer))


def test_an_answer_above_lambdas_response_limit_is_refused() -> None:
    with pytest.raises(MalformedResponse, match="above Lambda's 6 MB"):
        proxy_response(b'"' + b"x" * RESPONSE_MAX_BYTES + b'"')


# ------------------------------------------------------------------ generated answers: oracle

TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
GATEWAY = {"connection", "content-length", "keep-alive", "proxy-connection", "te", "trailer"}
GATEWAY |= {"transfer-encoding", "upgrade"}

# Characters that matter to HTTP framing come up often; any other character can too.
TEXT = st.text(
    st.sampled_from(list("aZ09 -_;=,:\t\r\n\x00\x7f\x1bé€λ\u2028")) | st.characters(),
    max_size=10,
)
FINE_TEXT = st.text(st.characters(min_codepoint=0x20, blacklist_characters="\x7f"), max_size=10)
FINE_NAMES = st.from_regex(TOKEN, fullmatch=True).map(lambda name: name[:12])
FINE_VALUES = FINE_TEXT | st.integers(-(10**6), 10**6) | st.booleans()
FINE_STATUSES = st.sampled_from([200, 201, 204, 302, 304, 404, 418, 500, 599, "200"])
ANY_VALUES = (
    TEXT
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.none()
    | st.lists(st.text(max_size=3), max_size=2)
)
ANY_STATUSES = (
    st.integers(-5, 1000)
    | st.integers(100, 700).map(str)
    | st.floats(allow_nan=False)
    | st.booleans()
    | st.none()
    | TEXT
)


def mostly(fine: st.SearchStrategy[Any], anything: st.SearchStrategy[Any]) -> Any:
    """Three draws in four well formed, the rest anything at all."""
    return st.sampled_from([True, True, True, False]).flatmap(
        lambda well_formed: fine if well_formed else anything
    )


@st.composite
def answers(draw: st.DrawFn) -> dict[str, Any]:
    """A payload 2.0 answer: mostly well formed, with one or more fields sometimes not."""
    answer: dict[str, Any] = {"statusCode": draw(mostly(FINE_STATUSES, ANY_STATUSES))}
    if draw(st.booleans()):
        answer["headers"] = draw(
            mostly(
                st.dictionaries(
                    mostly(FINE_NAMES, TEXT), mostly(FINE_VALUES, ANY_VALUES), max_size=4
                ),
                st.lists(TEXT, max_size=2) | TEXT,
            )
        )
    if draw(st.booleans()):
        answer["cookies"] = draw(
            mostly(st.lists(mostly(FINE_TEXT, TEXT), max_size=3), TEXT | st.none())
        )
    encoded = draw(mostly(st.booleans(), st.none() | st.sampled_from(["true", 1])))
    if encoded is not None:
        answer["isBase64Encoded"] = encoded
    raw = draw(st.binary(max_size=20))
    fine_body = base64.b64encode(raw).decode() if encoded is True else raw.decode("latin-1")
    answer["body"] = draw(mostly(st.just(fine_body), TEXT | st.none() | st.integers()))
    return answer


def _sendable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return CONTROL.search(text) is None


def _header_text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def expected(answer: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes] | None:
    """What API Gateway sends for `answer`, or None when it answers 500 (the module's rules)."""
    status = answer["statusCode"]
    if isinstance(status, str) and status.isascii() and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 200 <= status <= 599:
        return None
    headers_in = answer.get("headers")
    headers_in = {} if headers_in is None else headers_in
    if not isinstance(headers_in, dict):
        return None
    headers: list[tuple[str, str]] = []
    for name, value in headers_in.items():
        text = _header_text(value)
        if not TOKEN.fullmatch(name) or text is None or not _sendable(text):
            return None
        if name.lower() not in GATEWAY:
            headers.append((name, text))
    cookies = answer.get("cookies")
    cookies = [] if cookies is None else cookies
    if not isinstance(cookies, list) or not all(
        isinstance(c, str) and _sendable(c) for c in cookies
    ):
        return None
    body, encoded = answer.get("body"), answer.get("isBase64Encoded")
    encoded = False if encoded is None else encoded
    if (body is not None and not isinstance(body, str)) or not isinstance(encoded, bool):
        return None
    if not _sendable_body(body or ""):
        return None
    raw = (body or "").encode()
    if encoded:
        if not re.fullmatch(rb"([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?", raw):
            return None
        raw = base64.b64decode(raw)
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.insert(0, ("Content-Type", "text/plain; charset=utf-8"))
    headers += [("Set-Cookie", cookie) for cookie in cookies]
    return status, headers, b"" if status in (204, 304) else raw


def _sendable_body(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@PROPERTIES
@given(answers())
def test_generated_answers_are_sent_as_api_gateway_sends_them_or_refused(
    answer: dict[str, Any],
) -> None:
    wanted = expected(answer)
    try:
        mapped = proxy_response(json.dumps(answer).encode())
    except MalformedResponse:
        assert wanted is None, f"refused, but API Gateway sends it: {answer!r}"
        return
    assert wanted is not None, f"sent, but API Gateway refuses it: {answer!r}"
    assert (mapped.status, mapped.headers, mapped.body) == wanted
    for name, value in mapped.headers:
        assert TOKEN.fullmatch(name) and CONTROL.search(value) is None


# ------------------------------------------------------------------------- on the wire

SERVER_OWNED = {b"server", b"date", b"content-length", b"connection", b"apigw-requestid"}
HEADER_LINE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+: [^\x00-\x08\x0a-\x1f\x7f]*")


@pytest.fixture(scope="module")
def records() -> list[AccessRecord]:
    return []


@pytest.fixture(scope="module")
def api(shared_emulator: Emulator, records: list[AccessRecord]) -> Iterator[HttpApi]:
    with HttpApi(shared_emulator, on_request=records.append) as running:
        yield running


def respond(api: HttpApi, answer: Any) -> RawResponse:
    """POST `answer` to the function that answers with what it is sent."""
    body = json.dumps(answer).encode()
    return exchange(
        api.port,
        request("POST", "/respond", headers=[("Content-Type", "application/json")], body=body),
    )


def assert_well_formed(response: RawResponse) -> None:
    """Every line of the head is a status line or `token: value` without control characters."""
    status_line, *lines = response.head.split(b"\r\n")
    assert re.fullmatch(rb"HTTP/1\.[01] \d{3} [ -~]*", status_line), status_line
    for line in lines:
        assert HEADER_LINE.fullmatch(line), f"a malformed header line on the wire: {line!r}"


def assert_refused(response: RawResponse) -> None:
    assert response.status == 500 and response.json() == ERROR
    assert response.header("content-type") == [b"application/json"]


@pytest.mark.parametrize(
    "answer",
    [
        {"statusCode": 200, "headers": {"X-A": "1\r\nSet-Cookie: stolen=1"}},
        {"statusCode": 200, "headers": {"X-A": "1\nX-Injected: 1"}},
        {"statusCode": 200, "headers": {"X-A": "1\r\n\r\n<html>smuggled"}},
        {"statusCode": 200, "headers": {"X-A\r\nX-Injected": "1"}},
        {"statusCode": 200, "cookies": ["a=1\r\nLocation: https://evil.example"]},
        {"statusCode": 200, "cookies": ["a=1\x00"]},
        {"statusCode": "200\r\nX-Injected: 1"},
        {"statusCode": 0},
        {"statusCode": 200, "body": "@@@", "isBase64Encoded": True},
    ],
)
def test_a_response_split_attempt_never_reaches_the_wire(
    api: HttpApi, records: list[AccessRecord], answer: Any
) -> None:
    response = respond(api, answer)
    assert_well_formed(response)
    assert_refused(response)
    names = {name.lower() for name, _ in response.headers}
    assert not names & {b"x-injected", b"set-cookie", b"location"}
    assert b"smuggled" not in response.body
    record = records[-1]
    assert record.status == 500 and record.problem is not None
    assert "not one API Gateway can send" in record.problem


def test_a_valid_answer_goes_out_with_utf8_headers_and_its_cookies(api: HttpApi) -> None:
    response = respond(
        api,
        {
            "statusCode": 418,
            "headers": {"X-Text": "café λ", "Transfer-Encoding": "chunked"},
            "cookies": ["a=1; Path=/", "b=2"],
            "body": "short",
        },
    )
    assert_well_formed(response)
    assert response.status == 418 and response.body == b"short"
    assert response.header("x-text") == ["café λ".encode()]
    assert response.header("set-cookie") == [b"a=1; Path=/", b"b=2"]
    assert response.header("transfer-encoding") == []  # the gateway frames the message
    assert response.header("content-type") == [b"text/plain; charset=utf-8"]


@PROPERTIES
@given(answer=answers())
def test_generated_answers_on_the_wire_are_well_formed_and_as_api_gateway_sends_them(
    api: HttpApi, answer: dict[str, Any]
) -> None:
    response = respond(api, answer)
    assert_well_formed(response)
    wanted = expected(answer)
    if wanted is None:
        assert_refused(response)
        return
    status, headers, body = wanted
    assert response.status == status and response.body == body
    sent = sorted(
        (name.lower(), value)
        for name, value in response.headers
        if name.lower() not in SERVER_OWNED
    )
    assert sent == sorted(
        (name.lower().encode(), value.encode().strip(b" \t"))
        for name, value in headers
        if name.lower().encode() not in SERVER_OWNED
    )
