"""The local HTTP front end: an API Gateway HTTP API (payload 2.0) in front of the emulator.

A real request becomes a 2.0 event (through the same builder tests use, `events`), goes to the
function that owns the route, and the function's answer becomes the HTTP response
(`gateway_response`), with API Gateway's rules and error answers:
- a path API Gateway refuses (`%25`, an invalid escape, not UTF-8: `request_paths`): 400;
- no route for the path as delivered (decoded): 404 `{"message":"Not Found"}`; a route for
  other methods only: 405;
- a request whose body cannot be read (a Content-Length that is not a number, a body without
  one, a broken chunked body): 400; a body above 10 MB or an event above Lambda's 6 MB: 413;
- a route with an authorizer (`authorizers`): 401 `{"message":"Unauthorized"}` without a
  valid token or identity source, 403 `{"message":"Forbidden"}` without the route's scopes or
  when a Lambda authorizer denies, 500 when it fails; what it lets through carries its claims
  or context in `requestContext.authorizer`;
- the function failed (exception, timeout, crash, out of memory): 500
  `{"message":"Internal Server Error"}`;
- the function answered something API Gateway cannot send (a bad statusCode, a header with a
  line break, bad base64...): the same 500, as a deployed HTTP API answers, with the reason
  reported to `on_request`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lambdapress.emulator._request_paths import RefusedPath, delivered_path, split_target
from lambdapress.emulator.authorizers import Guard
from lambdapress.emulator.context import MAX_REQUEST_PAYLOAD
from lambdapress.emulator.events import ApiContext, http_api_event
from lambdapress.emulator.gateway_response import (
    HttpResponse,
    MalformedResponse,
    gateway_message,
    malformed,
    proxy_response,
)
from lambdapress.emulator.reports import InvocationResult
from lambdapress.emulator.routes import RouteTable
from lambdapress.emulator.servers import (
    CLIENT_TIMEOUT,
    BadRequest,
    Handler,
    LoopbackEndpoint,
    LoopbackServer,
    PayloadTooLarge,
)
from lambdapress.errors import LambdapressError
from lambdapress.model.application import Application
from lambdapress.model.trigger_kinds import LocalHost

_BODY_LIMIT = 10 * 1024 * 1024  # API Gateway HTTP API's own request limit
_STATUS_MESSAGES = {401: "Unauthorized", 403: "Forbidden", 500: "Internal Server Error"}


@dataclass(frozen=True)
class AccessRecord:
    """One request through the front end, for the `serve` console (or a test)."""

    method: str
    path: str
    status: int
    duration_ms: float
    function: str | None = None
    result: InvocationResult | None = None
    problem: str | None = None
    """Why the front end (not the function) chose the status: malformed response, no route..."""


def _domain(host: str | None) -> str:
    """`requestContext.domainName`: the Host header without its port."""
    if not host:
        return "localhost"
    if host.startswith("["):  # an IPv6 literal, [::1]:3000
        return host.split("]")[0] + "]"
    return host.split(":")[0]


class _FrontEndHandler(Handler["HttpApi"]):
    body_limit = _BODY_LIMIT

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _handle(self) -> None:
        began = time.perf_counter()
        function: str | None = None
        result: InvocationResult | None = None
        problem: str | None = None
        try:
            body = self.read_body()
            # http.server read the request line as Latin-1: these are the bytes the client sent.
            sent_path, raw_query = split_target(self.path.encode("latin-1"))
            path = delivered_path(sent_path)
            match = self.owner.routes().match(self.command, path)
            target = match.target
            if target is None and match.allowed:
                response = gateway_message(405, "Method Not Allowed")
                response.headers.append(("Allow", ", ".join(match.allowed)))
                problem = f"no {self.command} route for {path}"
            elif target is None:
                response, problem = gateway_message(404, "Not Found"), f"no route for {path}"
            else:
                function = target.function
                event = http_api_event(
                    self.command,
                    sent_path.decode("utf-8"),
                    route=target.route_key,
                    path_parameters=match.parameters,
                    query=raw_query,
                    headers=list(self.headers.items()),
                    body=body or None,
                    source_ip=self.client_address[0],
                    protocol=self.request_version,
                    api=ApiContext(domain_name=_domain(self.headers.get("Host"))),
                )
                decision = self.owner.guard.admit(target.authorizer, target.scopes, event)
                if decision.context is not None:
                    event["requestContext"]["authorizer"] = decision.context
                payload = json.dumps(event).encode()
                if decision.status is not None:
                    response = gateway_message(decision.status, _STATUS_MESSAGES[decision.status])
                    problem = decision.reason
                elif len(payload) > MAX_REQUEST_PAYLOAD:
                    response = gateway_message(413, "Request Entity Too Large")
                    problem = f"the event is {len(payload)} bytes, above Lambda's 6 MB limit"
                else:
                    result = self.owner.emulator.invoke(target.function, payload=payload)
                    response, problem = _respond(result)
        except PayloadTooLarge:
            response = gateway_message(413, "Request Entity Too Large")
            problem = "body above 10 MB"
        except (BadRequest, RefusedPath) as exc:
            response, problem = gateway_message(400, "Bad Request"), str(exc)
        except LambdapressError as exc:
            response, problem = gateway_message(500, "Internal Server Error"), str(exc)
        headers = [*response.headers, ("apigw-requestid", result.request_id if result else "-")]
        # Recorded before answering, so whoever sent the request can read its record.
        self.owner.record(
            AccessRecord(
                method=self.command,
                path=self.path,
                status=response.status,
                duration_ms=(time.perf_counter() - began) * 1000,
                function=function,
                result=result,
                problem=problem,
            )
        )
        # Header values go out as UTF-8 (send_header writes Latin-1 text byte for byte).
        wire = [(name, value.encode("utf-8").decode("latin-1")) for name, value in headers]
        self.send(response.status, response.body, wire, content_type=None)


def _respond(result: InvocationResult) -> tuple[HttpResponse, str | None]:
    if result.error is not None:
        return gateway_message(500, "Internal Server Error"), None
    try:
        return proxy_response(result.payload), None
    except MalformedResponse as exc:
        return malformed(), f"the function's response is not one API Gateway can send: {exc}"


class HttpApi(LoopbackEndpoint):
    """An HTTP server on 127.0.0.1 routing every request to the function that owns it.

    The HTTP trigger kind's local source (`triggers.http`): `serve` starts it once the build
    has routes. `emulator` is the `Emulator` (or anything that invokes as one does).
    """

    name = "HTTP API"

    def __init__(
        self,
        emulator: LocalHost[InvocationResult],
        *,
        port: int = 0,
        on_request: Callable[[AccessRecord], None] | None = None,
        client_timeout: float = CLIENT_TIMEOUT,
        root: Path | None = None,
    ) -> None:
        self.emulator = emulator
        self.on_request = on_request
        self.guard = Guard(emulator, root)
        """Asks each protected route's authorizer; `root` keeps the local key pair."""
        self._manifest: Application | None = None
        self._routes = RouteTable(())
        self.routes()  # duplicate routes fail now, not on the first request
        self._server = LoopbackServer(
            _FrontEndHandler,
            self,
            port=port,
            name="http-api",
            what="HTTP API",
            client_timeout=client_timeout,
        )

    def routes(self) -> RouteTable:
        """The route table of the emulator's current manifest (rebuilt after a reload)."""
        manifest = self.emulator.manifest
        if manifest is not self._manifest:
            self._routes, self._manifest = RouteTable(manifest.functions), manifest
        return self._routes

    def record(self, record: AccessRecord) -> None:
        """Pass one access record to `on_request`, when there is one."""
        if self.on_request is not None:
            self.on_request(record)
