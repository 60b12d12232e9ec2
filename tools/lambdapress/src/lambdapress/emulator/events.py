"""Build API Gateway events: HTTP API (payload format 2.0) and REST API (1.0).

One builder serves tests and the local HTTP front end, so what a test feeds a handler is what
`serve` feeds it. The shapes follow API Gateway's documentation ("Create AWS Lambda proxy
integrations for HTTP APIs", payload format 2.0) and events captured from deployed HTTP APIs
(hotsock/voker `vokerhttp/testdata/apigwv2-request.json`, July 2026), field by field:

- `headers`: names lowercased, a repeated header joined with commas and no space
  (`"x-voker-probe": "first,second"` in the capture); no `cookie` header: each cookie of the
  `Cookie` headers is an item of `cookies` (docs: "Format 2.0 includes a new cookies field").
- `x-forwarded-for`, `x-forwarded-proto`, `x-forwarded-port` are the gateway's: the client's
  address (`requestContext.http.sourceIp`), `https` and `443`; an `X-Forwarded-For` the client
  sent is kept in front of it, as a proxy appends (`"<sent>, <source ip>"`, what REST APIs were
  seen doing in serverless-wsgi issue 36; HTTP APIs have no published capture of it), so the
  last address is always the real one. A client's `X-Forwarded-Proto` or `-Port` never arrives.
- `content-length` is the client's; a chunked request arrives with its `transfer-encoding`
  and no made-up length (built events without headers get the body's length, as a client sends).
- `rawPath` and `requestContext.http.path`: the path decoded as HTTP APIs do
  (`request_paths`); `rawQueryString`: as sent; `queryStringParameters`: decoded (`+` is a
  space, `%2B` a plus), blank values kept, repeated keys joined with commas (capture:
  `"literalPlus": "a b"`, `"encodedPlus": "a+b"`, `"empty": ""`, `"repeat": "one,two"`).
- `pathParameters`: the segments of the delivered path; absent without parameters, as are
  `cookies`, `queryStringParameters` and `body` when there are none.
- `body` is text only for `text/*`, `application/json`, `application/xml` and
  `application/javascript` (parameters such as `; charset=utf-8` ignored); every other body,
  form posts, `multipart/*`, `+json` and `+xml` types and a body without a content type
  included, arrives base64 with `isBase64Encoded: true`. The docs say only "if the content type
  of the request is binary"; the list was verified against a live HTTP API
  (ministackorg/ministack pull request 766) and a multipart capture agrees
  (dherault/serverless-offline pull request 1776). A text-typed body that is not valid UTF-8
  is sent base64 too, so no byte is lost (no capture says what AWS does with one).
- `requestContext`: `stage` `$default`, `routeKey` `METHOD /route` (or `$default`),
  `timeEpoch` in milliseconds and `time` in CLF form, `domainName` the Host without its
  port and `domainPrefix` its first label, `requestId` in API Gateway's own format.

1.0 (REST) events keep header case, add the `multiValue*` maps and keep the path encoded.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

from lambdapress.emulator.context import ACCOUNT_ID, new_request_id, new_trace_id
from lambdapress.emulator.request_paths import RefusedPath, delivered_path
from lambdapress.emulator.routes import RouteTemplate
from lambdapress.errors import EmulatorError

Headers = Mapping[str, str] | Sequence[tuple[str, str]]
Query = Mapping[str, str | Sequence[str]] | Sequence[tuple[str, str]] | str
_MISSING: Any = object()
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_IDENTITY_FIELDS = (
    "accessKey", "accountId", "apiKey", "apiKeyId", "caller", "cognitoAuthenticationProvider",
    "cognitoAuthenticationType", "cognitoIdentityId", "cognitoIdentityPoolId", "principalOrgId",
    "user", "userArn", "clientCert",
)  # fmt: skip
_TEXT_TYPES = ("application/json", "application/xml", "application/javascript")


def is_text_content(content_type: str | None) -> bool:
    """Whether an HTTP API passes a request body of this content type as text (module doc)."""
    if not content_type:
        return False
    kind = content_type.split(";")[0].strip().lower()
    return kind.startswith("text/") or kind in _TEXT_TYPES


def encode_body(
    body: bytes, content_type: str | None, is_text: Callable[[str | None], bool] = is_text_content
) -> tuple[str, bool]:
    """`(body, isBase64Encoded)` for a raw request body of this content type."""
    if is_text(content_type):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def _pairs(headers: Headers | None) -> list[tuple[str, str]]:
    if headers is None:
        return []
    return list(headers.items()) if isinstance(headers, Mapping) else list(headers)


def _query_pairs(query: Query | None) -> tuple[str, list[tuple[str, str]]]:
    """`(rawQueryString, decoded pairs)` from a raw string, a mapping or pairs."""
    if query is None:
        return "", []
    if isinstance(query, str):
        raw = query.removeprefix("?")
        return raw, parse_qsl(raw, keep_blank_values=True)
    pairs: list[tuple[str, str]] = []
    items = query.items() if isinstance(query, Mapping) else query
    for key, value in items:
        values = [value] if isinstance(value, str) else list(value)
        pairs += [(key, item) for item in values]
    return urlencode(pairs), pairs


def _joined(pairs: list[tuple[str, str]]) -> dict[str, str]:
    joined: dict[str, str] = {}
    for key, value in pairs:
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    return joined


def _multi(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        multi.setdefault(key, []).append(value)
    return multi


def _rest_text(content_type: str | None) -> bool:
    """REST APIs pass a body as text unless its type is one of the API's binaryMediaTypes (none)."""
    return True


def _body(
    body: str | bytes | None,
    json_body: Any,
    is_base64: bool | None,
    content_type: str | None,
    is_text: Callable[[str | None], bool] = is_text_content,
) -> tuple[str | None, bool, str | None, int]:
    """`(body, isBase64Encoded, content type to add, length of the request's body)`.

    `bytes` and `str` bodies are the request's body, and API Gateway's rule (`is_text`) decides
    how it arrives; `is_base64` True or False says the body is already in its event form.
    """
    if json_body is not _MISSING:
        text = json.dumps(json_body)
        return text, False, "application/json", len(text.encode())
    if body is None:
        return None, False, None, 0
    if isinstance(body, str):
        if is_base64:
            return body, True, None, len(base64.b64decode(body))
        if is_base64 is False:
            return body, False, None, len(body.encode())
        body = body.encode()
    if is_base64 is False:
        return body.decode("utf-8"), False, None, len(body)
    if is_base64:
        return base64.b64encode(body).decode("ascii"), True, None, len(body)
    text, encoded = encode_body(body, content_type, is_text)
    return text, encoded, None, len(body)


def _check_method(method: str) -> str:
    upper = method.upper()
    if upper not in _METHODS:
        raise EmulatorError(
            f"{method!r} is not an HTTP method API Gateway sends",
            hint=f"use one of {', '.join(_METHODS)}",
        )
    return upper


def _route_parameters(route: str | None, path: str) -> dict[str, str] | None:
    if route is None:
        return None
    parameters = RouteTemplate.compile(route).match(path)
    if parameters is None:
        raise EmulatorError(
            f"the path {path!r} does not match the route {route!r}",
            hint="pass a concrete path of that route, e.g. /orders/42 for /orders/{order_id}",
        )
    return parameters


def _delivered(path: str) -> str:
    """`rawPath` for `path` as a client sends it, or the 400 API Gateway answers, as an error."""
    try:
        return delivered_path(path.encode("utf-8"))
    except RefusedPath as refused:
        raise EmulatorError(
            f"API Gateway answers 400 to this request: {refused}",
            hint="send the path as a client would: escape a literal % as %25, "
            "and see lambdapress.emulator.request_paths for what HTTP APIs decode",
        ) from None


def _forwarded(header_map: dict[str, str], source_ip: str) -> None:
    """The gateway's own `x-forwarded-*` headers (module doc)."""
    sent = header_map.get("x-forwarded-for")
    header_map["x-forwarded-for"] = f"{sent}, {source_ip}" if sent else source_ip
    header_map["x-forwarded-port"] = "443"
    header_map["x-forwarded-proto"] = "https"


def _api_request_id() -> str:
    """API Gateway's own request id style (`JKJaXmPLvHcESHA=`)."""
    return base64.b64encode(secrets.token_bytes(10)).decode("ascii")


def _clf_time(epoch_ms: int) -> str:
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(epoch_ms / 1000))


def http_api_event(
    method: str = "GET",
    path: str = "/",
    *,
    route: str | None = None,
    path_parameters: Mapping[str, str] | None = None,
    query: Query | None = None,
    headers: Headers | None = None,
    cookies: Sequence[str] | None = None,
    body: str | bytes | None = None,
    json_body: Any = _MISSING,
    is_base64_encoded: bool | None = None,
    stage: str = "$default",
    stage_variables: Mapping[str, str] | None = None,
    authorizer: Mapping[str, Any] | None = None,
    source_ip: str = "127.0.0.1",
    domain_name: str = "localhost",
    api_id: str = "local",
    request_id: str | None = None,
    time_epoch_ms: int | None = None,
    protocol: str = "HTTP/1.1",
) -> dict[str, Any]:
    """An API Gateway HTTP API event, payload format 2.0.

    `path` is the path as a client sends it (percent-escapes and all) and may carry a query
    string (`/orders?limit=2`); the event carries it as API Gateway delivers it (module doc),
    and a path API Gateway refuses with 400 is an EmulatorError. `route` is the route template
    (`/orders/{order_id}`) or route key (`ANY /files/{path+}`): it sets `routeKey` and, from
    the delivered path, `pathParameters`. A `body` (str or bytes) is the request's body: its
    content type decides whether it arrives as text or base64, unless `is_base64_encoded` says.
    """
    method = _check_method(method)
    sent_path, _, inline_query = path.partition("?")
    raw_path = _delivered(sent_path)
    raw_query, query_pairs = _query_pairs(query if query is not None else inline_query or None)
    route_method, _, route = (route or "").rpartition(" ") if route else ("", "", None)
    parameters = dict(path_parameters or {}) or _route_parameters(route, raw_path)
    header_pairs = [(name.lower(), value) for name, value in _pairs(headers)]
    cookie_list = list(cookies or [])
    for name, value in header_pairs:
        if name == "cookie":
            cookie_list += [part.strip() for part in value.split(";") if part.strip()]
    header_map = _joined([(name, value) for name, value in header_pairs if name != "cookie"])
    text, encoded, content_type, length = _body(
        body, json_body, is_base64_encoded, header_map.get("content-type")
    )
    if content_type is not None:
        header_map.setdefault("content-type", content_type)
    framed = "content-length" in header_map or "transfer-encoding" in header_map
    if text is not None and not framed:
        header_map["content-length"] = str(length)
    header_map.setdefault("host", domain_name)
    _forwarded(header_map, source_ip)
    header_map.setdefault("x-amzn-trace-id", new_trace_id().split(";")[0])
    if stage != "$default":
        raw_path = f"/{stage}{raw_path}"  # a named stage's name is part of the path
    epoch_ms = int(time.time() * 1000) if time_epoch_ms is None else time_epoch_ms
    route_key = f"{route_method or method} {route}" if route is not None else "$default"
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": api_id,
        "domainName": domain_name,
        "domainPrefix": domain_name.split(".")[0],
        "http": {
            "method": method,
            "path": raw_path,
            "protocol": protocol,
            "sourceIp": source_ip,
            "userAgent": header_map.get("user-agent", ""),
        },
        "requestId": request_id or _api_request_id(),
        "routeKey": route_key,
        "stage": stage,
        "time": _clf_time(epoch_ms),
        "timeEpoch": epoch_ms,
    }
    if authorizer is not None:
        context["authorizer"] = dict(authorizer)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
    }
    if cookie_list:
        event["cookies"] = cookie_list
    event["headers"] = header_map
    if query_pairs:
        event["queryStringParameters"] = _joined(query_pairs)
    if parameters:
        event["pathParameters"] = parameters
    if stage_variables:
        event["stageVariables"] = dict(stage_variables)
    event["requestContext"] = context
    if text is not None:
        event["body"] = text
    event["isBase64Encoded"] = encoded
    return event


def rest_api_event(
    method: str = "GET",
    path: str = "/",
    *,
    resource: str | None = None,
    path_parameters: Mapping[str, str] | None = None,
    query: Query | None = None,
    headers: Headers | None = None,
    body: str | bytes | None = None,
    json_body: Any = _MISSING,
    is_base64_encoded: bool | None = None,
    stage: str = "prod",
    stage_variables: Mapping[str, str] | None = None,
    authorizer: Mapping[str, Any] | None = None,
    source_ip: str = "127.0.0.1",
    domain_name: str = "localhost",
    api_id: str = "local",
    request_id: str | None = None,
    time_epoch_ms: int | None = None,
) -> dict[str, Any]:
    """An API Gateway REST API (proxy integration) event, payload format 1.0.

    `resource` is the resource template (`/orders/{order_id}`); it fills `pathParameters`.
    """
    method = _check_method(method)
    raw_path, _, inline_query = path.partition("?")
    _, query_pairs = _query_pairs(query if query is not None else inline_query or None)
    parameters = dict(path_parameters or {}) or _route_parameters(resource, raw_path)
    header_pairs = _pairs(headers)
    names = {name.lower() for name, _ in header_pairs}
    text, encoded, content_type, _ = _body(
        body, json_body, is_base64_encoded,
        next((v for n, v in header_pairs if n.lower() == "content-type"), None), _rest_text,
    )  # fmt: skip
    defaults = [
        ("Content-Type", content_type),
        ("Host", domain_name),
        ("X-Forwarded-For", source_ip),
        ("X-Forwarded-Port", "443"),
        ("X-Forwarded-Proto", "https"),
        ("X-Amzn-Trace-Id", new_trace_id().split(";")[0]),
    ]
    header_pairs += [(n, v) for n, v in defaults if v is not None and n.lower() not in names]
    epoch_ms = int(time.time() * 1000) if time_epoch_ms is None else time_epoch_ms
    user_agent = next((v for n, v in header_pairs if n.lower() == "user-agent"), None)
    identity: dict[str, Any] = dict.fromkeys(_IDENTITY_FIELDS)
    identity.update({"sourceIp": source_ip, "userAgent": user_agent})
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": api_id,
        "domainName": domain_name,
        "domainPrefix": domain_name.split(".")[0],
        "extendedRequestId": _api_request_id(),
        "httpMethod": method,
        "identity": identity,
        "path": f"/{stage}{raw_path}",
        "protocol": "HTTP/1.1",
        "requestId": request_id or new_request_id(),
        "requestTime": _clf_time(epoch_ms),
        "requestTimeEpoch": epoch_ms,
        "resourceId": secrets.token_hex(3),
        "resourcePath": resource or raw_path,
        "stage": stage,
    }
    if authorizer is not None:
        context["authorizer"] = dict(authorizer)
    header_map = {name: value for name, value in header_pairs}  # 1.0: the last value wins
    return {
        "resource": resource or raw_path,
        "path": raw_path,
        "httpMethod": method,
        "headers": header_map,
        "multiValueHeaders": _multi(header_pairs),
        "queryStringParameters": dict(query_pairs) or None,
        "multiValueQueryStringParameters": _multi(query_pairs) or None,
        "pathParameters": parameters or None,
        "stageVariables": dict(stage_variables) if stage_variables else None,
        "requestContext": context,
        "body": text,
        "isBase64Encoded": encoded,
    }
