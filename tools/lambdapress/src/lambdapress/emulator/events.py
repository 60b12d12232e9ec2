"""Build API Gateway events: HTTP API (payload format 2.0) and REST API (1.0).

One builder serves tests and the local HTTP front end, so what a test feeds a handler is what
`serve` feeds it. The shapes follow API Gateway's documentation: 2.0 lowercases header names,
joins repeated headers and query parameters with commas and moves cookies to `cookies`; 1.0
keeps header case and adds the `multiValue*` maps. Bodies are text when the content type is
textual and valid UTF-8, else base64 with `isBase64Encoded: true`.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

from lambdapress.emulator.context import ACCOUNT_ID, new_request_id, new_trace_id
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
_TEXT_TYPES = (
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
    "application/graphql",
    "application/yaml",
)


def is_text_content(content_type: str | None) -> bool:
    """Whether API Gateway would pass a body of this content type as text."""
    if not content_type:
        return True
    kind = content_type.split(";")[0].strip().lower()
    return kind.startswith("text/") or kind in _TEXT_TYPES or kind.endswith(("+json", "+xml"))


def encode_body(body: bytes, content_type: str | None) -> tuple[str, bool]:
    """`(body, isBase64Encoded)` for a raw request body."""
    if is_text_content(content_type):
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


def _body(
    body: str | bytes | None, json_body: Any, is_base64: bool | None, content_type: str | None
) -> tuple[str | None, bool, str | None]:
    """`(body, isBase64Encoded, content type to add)`."""
    if json_body is not _MISSING:
        return json.dumps(json_body), False, "application/json"
    if body is None:
        return None, False, None
    if isinstance(body, bytes):
        if is_base64 is False:
            return body.decode("utf-8"), False, None
        if is_base64:
            return base64.b64encode(body).decode("ascii"), True, None
        text, encoded = encode_body(body, content_type)
        return text, encoded, None
    return body, bool(is_base64), None


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
    parameters = RouteTemplate.compile(route).match(path.split("?")[0])
    if parameters is None:
        raise EmulatorError(
            f"the path {path!r} does not match the route {route!r}",
            hint="pass a concrete path of that route, e.g. /orders/42 for /orders/{order_id}",
        )
    return parameters


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

    `route` is the route template (`/orders/{order_id}`) or route key (`ANY /files/{path+}`):
    it sets `routeKey` and, from `path`, `pathParameters`. `path` may carry a query string
    (`/orders?limit=2`).
    """
    method = _check_method(method)
    raw_path, _, inline_query = path.partition("?")
    raw_query, query_pairs = _query_pairs(query if query is not None else inline_query or None)
    route_method, _, route = (route or "").rpartition(" ") if route else ("", "", None)
    parameters = dict(path_parameters or {}) or _route_parameters(route, raw_path)
    header_pairs = [(name.lower(), value) for name, value in _pairs(headers)]
    cookie_list = list(cookies or [])
    for name, value in header_pairs:
        if name == "cookie":
            cookie_list += [part.strip() for part in value.split(";") if part.strip()]
    header_map = _joined([(name, value) for name, value in header_pairs if name != "cookie"])
    text, encoded, content_type = _body(
        body, json_body, is_base64_encoded, header_map.get("content-type")
    )
    if content_type is not None:
        header_map.setdefault("content-type", content_type)
    if text is not None and not encoded:
        header_map.setdefault("content-length", str(len(text.encode())))
    header_map.setdefault("host", domain_name)
    header_map.setdefault("x-forwarded-for", source_ip)
    header_map.setdefault("x-forwarded-port", "443")
    header_map.setdefault("x-forwarded-proto", "https")
    header_map.setdefault("x-amzn-trace-id", new_trace_id().split(";")[0])
    epoch_ms = int(time.time() * 1000) if time_epoch_ms is None else time_epoch_ms
    route_key = f"{route_method or method} {route}" if route is not None else "$default"
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": api_id,
        "domainName": domain_name,
        "domainPrefix": domain_name.split(".")[0],
        "http": {
            "method": method,
            "path": raw_path if stage == "$default" else f"/{stage}{raw_path}",
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
    text, encoded, content_type = _body(
        body, json_body, is_base64_encoded,
        next((v for n, v in header_pairs if n.lower() == "content-type"), None),
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
