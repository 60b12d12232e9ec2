"""The HTTP API's authorizers under `serve`: each protected route asks its authorizer first.

What API Gateway does before it invokes a route's function, done by the local front end
(`http_api`) with the same answers:

- a JWT authorizer (any route authorizer that is not a function of the project): the token
  of its identity source (the `Authorization` header, or the project-wide `identity-source`
  of its table in the root pyproject) verified against the workspace's own key pair
  (`local_tokens`; `lambdapress token` signs one); no token or a bad one is 401
  `{"message":"Unauthorized"}`, a good one without the route's scopes 403
  `{"message":"Forbidden"}`; a good one puts `{"jwt": {"claims": ..., "scopes": ...}}` in
  `requestContext.authorizer`, each claim as a string as API Gateway writes them (a number as
  its digits, a list as `[a b]`), which Powertools reads as
  `app.current_event.request_context.authorizer.jwt_claim`;
- a Lambda authorizer (`@triggers.authorizer`): a request without one of its identity sources
  is 401 without asking it; otherwise its function (its own artifact, in its own worker) gets
  the payload 2.0 REQUEST event and answers a simple response: `isAuthorized` false is 403,
  true puts `{"lambda": <its context>}` in `requestContext.authorizer` (Powertools:
  `.authorizer.get_lambda`); an answer that is not one, or a failure, is 500. Answers are
  cached for the authorizer's TTL per value of the identity sources, as API Gateway does.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from lambdapress.config.authorizer_settings import (
    AUTHORIZERS_FIX,
    DEFAULT_IDENTITY_SOURCE,
    JwtAuthorizerSettings,
)
from lambdapress.config.project import DEPLOY_TABLE
from lambdapress.config.pyproject import PYPROJECT, get_table, load_toml
from lambdapress.emulator.context import ACCOUNT_ID, DEFAULT_REGION
from lambdapress.emulator.events import http_api_event
from lambdapress.emulator.local_tokens import Forbidden, LocalIssuer, Unauthorized
from lambdapress.emulator.reports import InvocationResult
from lambdapress.errors import ConfigError, EmulatorError
from lambdapress.model.application import Application
from lambdapress.model.authorizers import check_route_authorizers, lambda_authorizers
from lambdapress.model.trigger_kinds import LocalHost
from lambdapress.model.triggers import HttpAuthorizer


@dataclass(frozen=True)
class Decision:
    """An authorizer's answer: the status to refuse with, or what the route's event carries."""

    status: int | None = None
    """401, 403 or 500 to answer instead of invoking the route; None: let it through."""
    reason: str = ""
    context: dict[str, Any] | None = None
    """`requestContext.authorizer` of the route's event when let through."""


ALLOW_OPEN = Decision()


class Guard:
    """The authorizers of the served application (its current manifest, as `serve` rebuilds)."""

    def __init__(self, host: LocalHost[InvocationResult], root: Path | None) -> None:
        self.host = host
        self.root = root
        self._issuer: LocalIssuer | None = None
        self._cache: dict[tuple[str, tuple[str, ...]], tuple[float, Decision]] = {}
        self._lock = threading.Lock()
        self._checked: Application | None = None
        self._identity_sources: dict[str, str] = {}

    def issuer(self) -> LocalIssuer:
        """The workspace's key pair, read (or made) on the first protected request."""
        with self._lock:
            if self._issuer is None:
                if self.root is None:
                    raise EmulatorError(
                        "a route needs a JWT authorizer, but this HTTP API has no workspace "
                        "to keep the local key pair in",
                        hint="start it with the workspace's root (serve does)",
                    )
                self._issuer = LocalIssuer(self.root)
            return self._issuer

    def admit(self, authorizer: str | None, scopes: tuple[str, ...], event: Any) -> Decision:
        """Whether the request `event` may reach a route guarded by `authorizer`."""
        if authorizer is None:
            return ALLOW_OPEN
        manifest = self.host.manifest
        if manifest is not self._checked:
            check_route_authorizers(manifest, None)
            self._checked = manifest
        found = lambda_authorizers(manifest).get(authorizer)
        if found is not None:
            return self._ask_lambda(found.function.name, found.authorizer, event)
        return self._verify_jwt(authorizer, scopes, event)

    def _verify_jwt(self, name: str, scopes: tuple[str, ...], event: Any) -> Decision:
        source = self._identity_sources.get(name)
        if source is None:
            source = jwt_identity_source(self.root, name)
            self._identity_sources[name] = source
        where, _, field = source.removeprefix("$request.").partition(".")
        found = event.get("headers" if where == "header" else "queryStringParameters") or {}
        try:
            token = found.get(field.lower() if where == "header" else field)
            verified = self.issuer().verify(token, name, scopes)
        except Unauthorized as exc:
            return Decision(401, f"authorizer {name}: {exc}")
        except Forbidden as exc:
            return Decision(403, f"authorizer {name}: {exc}")
        claims = {key: claim_text(value) for key, value in verified.claims.items()}
        jwt = {"claims": claims, "scopes": list(verified.scopes) or None}
        return Decision(context={"jwt": jwt})

    def _ask_lambda(self, function: str, authorizer: HttpAuthorizer, event: Any) -> Decision:
        identity = identity_values(authorizer, event)
        if identity is None:
            missing = ", ".join(authorizer.identity_source)
            return Decision(401, f"authorizer {authorizer.name}: no {missing} in the request")
        key = (authorizer.name, tuple(identity))
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and cached[0] > now:
                return cached[1]
        request = authorizer_event(event, identity)
        result = self.host.invoke(function, payload=json.dumps(request).encode())
        decision = _simple_response(authorizer.name, result)
        if authorizer.ttl and decision.status in (None, 403):
            with self._lock:
                self._cache[key] = (now + authorizer.ttl, decision)
        return decision


def jwt_identity_source(root: Path | None, name: str) -> str:
    """Where the JWT authorizer `name` finds its token locally.

    The project-wide `identity-source` of `[tool.lambdapress.deploy.authorizers.NAME]` in the
    root pyproject, else the default. `serve` has no stage, so a stage's own table is not
    read (stages rarely move the token).
    """
    if root is None or not (root / PYPROJECT).is_file():
        return DEFAULT_IDENTITY_SOURCE
    path = root / PYPROJECT
    table = get_table(load_toml(path), f"{DEPLOY_TABLE}.authorizers", path) or {}
    written = table.get(name)
    if not isinstance(written, dict):
        return DEFAULT_IDENTITY_SOURCE
    try:
        settings = JwtAuthorizerSettings.model_validate(written)
    except ValidationError as exc:
        raise ConfigError(
            f"[{DEPLOY_TABLE}.authorizers.{name}] is not valid: {exc.errors()[0]['msg']}",
            path=path,
            hint=AUTHORIZERS_FIX,
        ) from None
    return settings.identity_source or DEFAULT_IDENTITY_SOURCE


def _simple_response(name: str, result: InvocationResult) -> Decision:
    """A Lambda authorizer's answer as a decision (payload 2.0 simple responses)."""
    if result.error is not None:
        return Decision(500, f"authorizer {name} failed: {result.error}")
    try:
        answer = result.response
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or not isinstance(answer.get("isAuthorized"), bool):
        return Decision(
            500, f'authorizer {name} answered {answer!r}, not {{"isAuthorized": true|false}}'
        )
    if not answer["isAuthorized"]:
        return Decision(403, f"authorizer {name} denied the request")
    context = answer.get("context") or {}
    if not isinstance(context, dict):
        return Decision(500, f"authorizer {name}'s context is not an object")
    return Decision(context={"lambda": context})


def identity_values(authorizer: HttpAuthorizer, event: Mapping[str, Any]) -> list[str] | None:
    """The value of each identity source in the request, or None when one is missing."""
    headers = event.get("headers") or {}
    query = event.get("queryStringParameters") or {}
    values: list[str] = []
    for source in authorizer.identity_source:
        where, _, name = source[1:].partition(".")
        value: Any = None
        if where == "request":
            part, _, field = name.partition(".")
            value = headers.get(field.lower()) if part == "header" else query.get(field)
        elif where == "context":
            value = event.get("requestContext", {})
            for step in name.split("."):
                value = value.get(step) if isinstance(value, dict) else None
        elif where == "stageVariables":
            value = (event.get("stageVariables") or {}).get(name)
        if value is None or value == "":
            return None
        values.append(str(value))
    return values


def authorizer_event(event: Mapping[str, Any], identity: list[str]) -> dict[str, Any]:
    """The payload 2.0 REQUEST authorizer event of a request's event (no body: AWS sends none)."""
    request = {
        key: copy.deepcopy(value)
        for key, value in event.items()
        if key not in ("body", "isBase64Encoded")
    }
    method, _, path = str(event.get("routeKey", "GET /")).partition(" ")
    stage = event.get("requestContext", {}).get("stage", "$default")
    api = event.get("requestContext", {}).get("apiId", "local")
    request["type"] = "REQUEST"
    request["routeArn"] = (
        f"arn:aws:execute-api:{DEFAULT_REGION}:{ACCOUNT_ID}:{api}/{stage}/{method}{path}"
    )
    request["identitySource"] = identity
    return request


def sample_authorizer_event(authorizer: HttpAuthorizer) -> dict[str, Any]:
    """A REQUEST event for `GET /` carrying a value for each of the identity sources."""
    headers = {"authorization": "Bearer sample-token"}
    query: dict[str, str] = {}
    for source in authorizer.identity_source:
        parts = source.split(".", 2)
        if parts[:2] == ["$request", "header"]:
            headers[parts[2].lower()] = "sample-value"
        elif parts[:2] == ["$request", "querystring"]:
            query[parts[2]] = "sample-value"
    event = http_api_event("GET", "/", route="GET /", headers=headers, query=query or None)
    return authorizer_event(event, identity_values(authorizer, event) or [])


def claim_text(value: Any) -> str:
    """A claim as API Gateway passes it on: text as it is, a list as `[a b]`, else JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + " ".join(claim_text(item) for item in value) + "]"
    return json.dumps(value, separators=(",", ":"))


class ThroughHttpApi:
    """The authorizer kind's local source: nothing of its own to start.

    The HTTP API front end asks a route's authorizer before each request (`Guard`), so the
    authorizer is served wherever the routes are.
    """

    name = "Lambda authorizers (asked by the HTTP API)"
    url: str | None = None

    def start(self) -> ThroughHttpApi:
        """Nothing to start: the front end invokes authorizers as requests come."""
        return self

    def close(self) -> None:
        """Nothing to stop."""
