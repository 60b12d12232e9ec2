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

Both builders take what the client sent as keywords (`RequestParts`, typed: `json_body=`,
`headers=`, ...) and what the gateway adds (stage, domain, API id, authorizer, request id and
time) as one `ApiContext`, so a test that needs another stage builds it once.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack
from urllib.parse import parse_qsl, urlencode

from lambdapress.emulator._request_paths import RefusedPath, delivered_path
from lambdapress.emulator.context import ACCOUNT_ID, new_request_id, new_trace_id
from lambdapress.emulator.routes import RouteTemplate
from lambdapress.errors import EmulatorError
from lambdapress.support.loopback import LOOPBACK

Headers = Mapping[str, str] | Sequence[tuple[str, str]]
Query = Mapping[str, str | Sequence[str]] | Sequence[tuple[str, str]] | str
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
    sent: RequestParts,
    content_type: str | None,
    is_text: Callable[[str | None], bool] = is_text_content,
) -> tuple[str | None, bool, str | None, int]:
    """`(body, isBase64Encoded, content type to add, length of the request's body)`.

    `bytes` and `str` bodies are the request's body, and API Gateway's rule (`is_text`) decides
    how it arrives; `is_base64_encoded` True or False says the body is already in its event form.
    """
    body, is_base64 = sent.get("body"), sent.get("is_base64_encoded")
    if "json_body" in sent:
        text = json.dumps(sent["json_body"])
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
            "and see lambdapress.emulator._request_paths for what HTTP APIs decode",
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


class RequestParts(TypedDict, total=False):
    """What a client sent besides its method and path: the keywords both event builders take.

    `query`: the raw query string, a mapping (a list value repeats the key) or pairs; without
    it, the `?...` part of the path. `headers`: a mapping or pairs (a repeated name, twice).
    `body` (str or bytes) is the request's body: its content type decides whether it arrives as
    text or base64, unless `is_base64_encoded` says the body is already in its event form;
    `json_body` is any JSON value, sent as `application/json`. `source_ip`: the client's
    address (default the loopback address).
    """

    query: Query | None
    headers: Headers | None
    body: str | bytes | None
    json_body: Any
    is_base64_encoded: bool | None
    source_ip: str


class HttpRequestParts(RequestParts, total=False):
    """What a client sent to an HTTP API: `RequestParts`, its cookies and its HTTP version.

    `cookies` come before those of the `Cookie` headers; `protocol` is `HTTP/1.1` unless given.
    """

    cookies: Sequence[str] | None
    protocol: str


@dataclass(frozen=True, kw_only=True)
class ApiContext:
    """What API Gateway adds to a request: where the API is deployed, and the request's ids.

    The same for most requests of a test, so a test builds one and passes it as `api=`.
    `stage` None is the API type's default stage (`$default` for an HTTP API, `prod` for a
    REST API); `request_id` and `time_epoch_ms` None are a fresh id and the time of the call.
    """

    stage: str | None = None
    stage_variables: Mapping[str, str] | None = None
    authorizer: Mapping[str, Any] | None = None
    domain_name: str = "localhost"
    api_id: str = "local"
    request_id: str | None = None
    time_epoch_ms: int | None = None

    def epoch_ms(self) -> int:
        """The request's time in milliseconds: the one given, or now."""
        return int(time.time() * 1000) if self.time_epoch_ms is None else self.time_epoch_ms

    def request_context(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """`requestContext`: the keys both payload versions share around the version's `fields`."""
        context: dict[str, Any] = {
            "accountId": ACCOUNT_ID,
            "apiId": self.api_id,
            "domainName": self.domain_name,
            "domainPrefix": self.domain_name.split(".")[0],
            **fields,
        }
        if self.authorizer is not None:
            context["authorizer"] = dict(self.authorizer)
        return context


_NO_CONTEXT = ApiContext()


@dataclass(frozen=True)
class _RequestLine:
    """A request's method (checked), path as sent and query, as both builders read them.

    The query is the one given, or the path's own `?...` part.
    """

    method: str
    path: str
    raw_query: str
    query_pairs: list[tuple[str, str]]

    @classmethod
    def of(cls, method: str, path: str, query: Query | None) -> _RequestLine:
        """The request line of `method path`, with `query` or the path's own."""
        sent_path, _, inline_query = path.partition("?")
        raw_query, pairs = _query_pairs(query if query is not None else inline_query or None)
        return cls(_check_method(method), sent_path, raw_query, pairs)


def _parameters(
    given: Mapping[str, str] | None, template: str | None, path: str
) -> dict[str, str] | None:
    """`pathParameters`: the ones given, or those `path` fills in the route `template`."""
    return dict(given or {}) or _route_parameters(template, path)


def http_api_event(
    method: str = "GET",
    path: str = "/",
    *,
    route: str | None = None,
    path_parameters: Mapping[str, str] | None = None,
    api: ApiContext = _NO_CONTEXT,
    **sent: Unpack[HttpRequestParts],
) -> dict[str, Any]:
    """An API Gateway HTTP API event, payload format 2.0.

    `path` is the path as a client sends it (percent-escapes and all) and may carry a query
    string (`/orders?limit=2`); the event carries it as API Gateway delivers it (module doc),
    and a path API Gateway refuses with 400 is an EmulatorError. `route` is the route template
    (`/orders/{order_id}`) or route key (`ANY /files/{path+}`): it sets `routeKey` and, from
    the delivered path, `pathParameters`. What else the client sent is `HttpRequestParts`
    (`query=`, `headers=`, `json_body=`, ...), what the gateway adds is `api`.
    """
    line = _RequestLine.of(method, path, sent.get("query"))
    raw_path = _delivered(line.path)
    route_method, _, route = (route or "").rpartition(" ") if route else ("", "", None)
    parameters = _parameters(path_parameters, route, raw_path)
    header_pairs = [(name.lower(), value) for name, value in _pairs(sent.get("headers"))]
    cookie_list = list(sent.get("cookies") or [])
    for name, value in header_pairs:
        if name == "cookie":
            cookie_list += [part.strip() for part in value.split(";") if part.strip()]
    header_map = _joined([(name, value) for name, value in header_pairs if name != "cookie"])
    text, encoded, content_type, length = _body(sent, header_map.get("content-type"))
    if content_type is not None:
        header_map.setdefault("content-type", content_type)
    framed = "content-length" in header_map or "transfer-encoding" in header_map
    if text is not None and not framed:
        header_map["content-length"] = str(length)
    header_map.setdefault("host", api.domain_name)
    source_ip = sent.get("source_ip", LOOPBACK)
    _forwarded(header_map, source_ip)
    header_map.setdefault("x-amzn-trace-id", new_trace_id().split(";")[0])
    stage = api.stage or "$default"
    if stage != "$default":
        raw_path = f"/{stage}{raw_path}"  # a named stage's name is part of the path
    epoch_ms = api.epoch_ms()
    route_key = f"{route_method or line.method} {route}" if route is not None else "$default"
    context = api.request_context(
        {
            "http": {
                "method": line.method,
                "path": raw_path,
                "protocol": sent.get("protocol", "HTTP/1.1"),
                "sourceIp": source_ip,
                "userAgent": header_map.get("user-agent", ""),
            },
            "requestId": api.request_id or _api_request_id(),
            "routeKey": route_key,
            "stage": stage,
            "time": _clf_time(epoch_ms),
            "timeEpoch": epoch_ms,
        }
    )
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": line.raw_query,
    }
    if cookie_list:
        event["cookies"] = cookie_list
    event["headers"] = header_map
    if line.query_pairs:
        event["queryStringParameters"] = _joined(line.query_pairs)
    if parameters:
        event["pathParameters"] = parameters
    if api.stage_variables:
        event["stageVariables"] = dict(api.stage_variables)
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
    api: ApiContext = _NO_CONTEXT,
    **sent: Unpack[RequestParts],
) -> dict[str, Any]:
    """An API Gateway REST API (proxy integration) event, payload format 1.0.

    `resource` is the resource template (`/orders/{order_id}`); it fills `pathParameters`.
    What else the client sent is `RequestParts`, what the gateway adds is `api`.
    """
    line = _RequestLine.of(method, path, sent.get("query"))
    raw_path, query_pairs = line.path, line.query_pairs
    parameters = _parameters(path_parameters, resource, raw_path)
    header_pairs = _pairs(sent.get("headers"))
    names = {name.lower() for name, _ in header_pairs}
    content_type = next((v for n, v in header_pairs if n.lower() == "content-type"), None)
    text, encoded, added_type, _ = _body(sent, content_type, _rest_text)
    source_ip = sent.get("source_ip", LOOPBACK)
    defaults = [
        ("Content-Type", added_type),
        ("Host", api.domain_name),
        ("X-Forwarded-For", source_ip),
        ("X-Forwarded-Port", "443"),
        ("X-Forwarded-Proto", "https"),
        ("X-Amzn-Trace-Id", new_trace_id().split(";")[0]),
    ]
    header_pairs += [(n, v) for n, v in defaults if v is not None and n.lower() not in names]
    epoch_ms = api.epoch_ms()
    stage = api.stage or "prod"
    user_agent = next((v for n, v in header_pairs if n.lower() == "user-agent"), None)
    identity: dict[str, Any] = dict.fromkeys(_IDENTITY_FIELDS)
    identity.update({"sourceIp": source_ip, "userAgent": user_agent})
    context = api.request_context(
        {
            "extendedRequestId": _api_request_id(),
            "httpMethod": line.method,
            "identity": identity,
            "path": f"/{stage}{raw_path}",
            "protocol": "HTTP/1.1",
            "requestId": api.request_id or new_request_id(),
            "requestTime": _clf_time(epoch_ms),
            "requestTimeEpoch": epoch_ms,
            "resourceId": secrets.token_hex(3),
            "resourcePath": resource or raw_path,
            "stage": stage,
        }
    )
    header_map = {name: value for name, value in header_pairs}  # 1.0: the last value wins
    return {
        "resource": resource or raw_path,
        "path": raw_path,
        "httpMethod": line.method,
        "headers": header_map,
        "multiValueHeaders": _multi(header_pairs),
        "queryStringParameters": dict(query_pairs) or None,
        "multiValueQueryStringParameters": _multi(query_pairs) or None,
        "pathParameters": parameters or None,
        "stageVariables": dict(api.stage_variables) if api.stage_variables else None,
        "requestContext": context,
        "body": text,
        "isBase64Encoded": encoded,
    }
