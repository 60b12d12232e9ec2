"""A function's answer as the HTTP response an API Gateway HTTP API (payload 2.0) sends for it.

What API Gateway does, and where that is written down:

- An answer without `statusCode` is the body of a 200 with `content-type: application/json`
  and `isBase64Encoded` false; a JSON string is its text (`"Hello from Lambda!"` becomes the
  body `Hello from Lambda!`), any other JSON value its JSON text. AWS docs, "Create AWS Lambda
  proxy integrations for HTTP APIs", section "Lambda function response for format 2.0"
  (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html).
- An answer that is not JSON at all is passed through the same way: observed on a deployed HTTP
  API by AWS's own Lambda Test Tool v2, which records the real responses as snapshots
  (aws/aws-lambda-dotnet, `Tools/LambdaTestTool-v2/tests/Amazon.Lambda.TestTool.UnitTests/`,
  `Extensions/InvokeResponseExtensionsTests.cs` and `Snapshots/`, April 2025). A Python
  handler's answer is always JSON; a custom runtime's may not be.
- An answer with a `statusCode` API Gateway cannot use (`0`, `200.5` in those snapshots) is
  refused with **500** `{"message":"Internal Server Error"}` and `content-type:
  application/json`. (REST APIs answer 502 "Malformed Lambda proxy response"; HTTP APIs do
  not, whatever the REST-era advice says.) The reason appears only in the API's access log
  (`$context.integrationErrorMessage`, "Troubleshooting issues with HTTP API Lambda
  integrations"); here it is the access record's `problem`, which `serve` prints.
- An answer with `statusCode` and no `content-type` is sent with `text/plain; charset=utf-8`
  (snapshots `V2_DefaultsToTextPlainContentType`, `V2_SetsBodyNonBase64`); `cookies` become
  one `set-cookie` each (docs above); `isBase64Encoded: true` is decoded whatever the content
  type (HTTP APIs have no binary media types).
- A function's answer above Lambda's response limit (`lambda_platform.RESPONSE_MAX_BYTES`)
  never reaches API Gateway: the invocation fails, and that is a 500 too.

What is not documented, and refused here with the same 500 so that nothing a deployed API could
not send reaches the wire: a header name that is not an HTTP token (RFC 9110 section 5.6.2), a
header value or cookie holding CR, LF, NUL or another control character (section 5.5: a
recipient must reject those or replace them; written out, they would let a handler split the
response); `headers` that is not an object of strings, numbers or booleans (scalars are written
as JSON writes them, `true`); `cookies` that is not a list of strings; a `body` that is not a
string; `isBase64Encoded` that is not a boolean; a body flagged base64 that is not strict,
padded base64; a status outside 200-599 (an informational 1xx cannot end a request, RFC 9110
section 15.2; a status may be a string of digits, as REST APIs accept). Headers that frame the
message (`content-length`, `transfer-encoding`, `connection` and the other hop-by-hop ones) are
the gateway's to write, as its list of reserved headers says ("Transform API requests and
responses for HTTP APIs", "Reserved headers"), so a function's are dropped; 204 and 304
responses carry no body (RFC 9110 sections 15.3.5 and 15.4.5). Header values are written as
UTF-8.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Any

from lambdapress.config.lambda_platform import RESPONSE_MAX_BYTES

MALFORMED_STATUS = 500
"""What an HTTP API answers for a function answer it cannot use (module doc)."""
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # every control character but TAB
_GATEWAY_HEADERS = frozenset(
    {"connection", "content-length", "keep-alive", "proxy-connection", "te", "trailer"}
    | {"transfer-encoding", "upgrade"}
)
_NO_BODY = (204, 304)


class MalformedResponse(Exception):
    """The function's answer is not one API Gateway can send: a 500 on a deployed API."""


@dataclass(frozen=True)
class HttpResponse:
    """What the front end answers the HTTP client (header values as text; sent as UTF-8)."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def gateway_message(status: int, text: str) -> HttpResponse:
    """One of API Gateway's own answers, `{"message":"Not Found"}`, compact as AWS writes it."""
    body = json.dumps({"message": text}, separators=(",", ":")).encode()
    return HttpResponse(status, [("Content-Type", "application/json")], body)


def malformed() -> HttpResponse:
    """The answer to a function response API Gateway refuses."""
    return gateway_message(MALFORMED_STATUS, "Internal Server Error")


def _status(value: Any) -> int:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 200 <= value <= 599:
        raise MalformedResponse(f"statusCode {value!r} is not an HTTP status from 200 to 599")
    return value


def _utf8(what: str, text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, from a JSON escape such as "\ud800"
        raise MalformedResponse(f"{what} is not valid Unicode text") from None


def _checked_value(what: str, value: str) -> str:
    control = _CONTROL.search(value)
    if control is not None:
        raise MalformedResponse(
            f"{what} holds the control character {control.group()!r}, "
            "which would break the response's framing"
        )
    _utf8(what, value)
    return value


def _header_value(name: str, value: object) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str | int | float):
        text = str(value)
    else:
        raise MalformedResponse(f"header {name!r} has a {type(value).__name__} value")
    return _checked_value(f"header {name!r}", text)


def _headers(value: Any) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, dict):
        raise MalformedResponse(f"headers is a {type(value).__name__}, not an object")
    headers: list[tuple[str, str]] = []
    for name, item in value.items():
        if not _TOKEN.fullmatch(name):
            raise MalformedResponse(f"header name {name!r} is not an HTTP token")
        text = _header_value(name, item)
        if name.lower() not in _GATEWAY_HEADERS:
            headers.append((name, text))
    return headers


def _cookies(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(cookie, str) for cookie in value):
        raise MalformedResponse("cookies is not a list of strings")
    return [_checked_value(f"cookie {cookie[:40]!r}", cookie) for cookie in value]


def _body(value: Any, encoded: Any) -> bytes:
    if value is not None and not isinstance(value, str):
        raise MalformedResponse(f"body is a {type(value).__name__}, not a string")
    if encoded is None:
        encoded = False
    if not isinstance(encoded, bool):
        raise MalformedResponse(f"isBase64Encoded is {encoded!r}, not a boolean")
    raw = _utf8("body", value or "")
    if not encoded:
        return raw
    try:
        return base64.b64decode(raw, validate=True)
    except binascii.Error:
        raise MalformedResponse("isBase64Encoded is true but the body is not base64") from None


def _inferred(body: bytes) -> HttpResponse:
    """The documented 200 for an answer without `statusCode`."""
    return HttpResponse(200, [("Content-Type", "application/json")], body)


def proxy_response(payload: bytes) -> HttpResponse:
    """Map a function's payload 2.0 answer to the HTTP response, or MalformedResponse."""
    if len(payload) > RESPONSE_MAX_BYTES:
        raise MalformedResponse(f"the response is {len(payload)} bytes, above Lambda's 6 MB")
    try:
        data: Any = json.loads(payload)
    except ValueError:
        return _inferred(payload)
    if isinstance(data, str):
        return _inferred(_utf8("the response", data))
    if not isinstance(data, dict) or "statusCode" not in data:
        return _inferred(payload)
    status = _status(data["statusCode"])
    headers = _headers(data.get("headers"))
    cookies = _cookies(data.get("cookies"))
    body = _body(data.get("body"), data.get("isBase64Encoded"))
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.insert(0, ("Content-Type", "text/plain; charset=utf-8"))
    headers += [("Set-Cookie", cookie) for cookie in cookies]
    return HttpResponse(status, headers, b"" if status in _NO_BODY else body)
