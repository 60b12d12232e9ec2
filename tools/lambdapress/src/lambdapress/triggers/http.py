"""HTTP routes: declared with Powertools' resolver decorators, served by an HTTP API.

- declared: `@app.get("/orders/<order_id>")` (or `post`, `put`, `patch`, `delete`, `head`,
  `options`, `route(rule, method=[...])`) on a module-level `...Resolver()`/`...Router()`,
  read from the handler module's AST: paths and methods must be literals, checked with API
  Gateway's own rules at their line;
- protected: `@triggers.authorized("users", scopes=[...])` on the module's `handler` gives its
  routes (or the `routes=` keys it lists) an authorizer (`triggers._authorized`);
- checked across the application: a route belongs to one function (`/items/{id}` and
  `/items/{item_id}` are one route to API Gateway), and no two routes of a function share a
  logical id in the stack;
- permissions: none for the function's role; API Gateway's right to invoke it is a
  resource-based permission of each route, rendered with it;
- rendered: one `AWS::ApiGatewayV2::Api` for the stack once some function has a route, and per
  routed function its integration, routes and invoke permissions (`deploy.template_api`);
- delivered locally: `serve`'s HTTP API front end (`emulator.http_api`), payload format 2.0;
- sample event: a payload 2.0 request for the route (`emulator.events.http_api_event`).

The emulator and deploy are imported by the facets that use them, so `package` (which only
discovers and checks) loads neither.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, get_args

from lambdapress.config.aws_rules import ROUTE_FIX, route_path_problem
from lambdapress.deploy.template_ids import route_id
from lambdapress.errors import BundleError, EmulatorError
from lambdapress.model.application import Application, Function
from lambdapress.model.trigger_kinds import (
    CheckContext,
    Declared,
    HandlerSource,
    LocalHost,
    LocalOptions,
    LocalSource,
    StackBuilder,
    TriggerKind,
)
from lambdapress.model.triggers import HttpMethod, HttpRoute
from lambdapress.triggers._authorized import protect

METHODS: frozenset[str] = frozenset(get_args(HttpMethod))
_METHOD_DECORATORS = {"get", "post", "put", "patch", "delete", "head", "options"}
_RESOLVER_SUFFIXES = ("Resolver", "Router")
_PARAMETER = re.compile(r"<([A-Za-z_][A-Za-z0-9_]*)>")
_PLACEHOLDER = re.compile(r"\{[^/}]+\}")
_SAMPLE_VALUE = re.compile(r"\{([^/}+]+)\+?\}")


class HttpKind(TriggerKind[HttpRoute]):
    """HTTP API routes (module doc)."""

    model = HttpRoute

    def discover(self, source: HandlerSource) -> tuple[Declared[HttpRoute], ...]:
        """The routes of the module's resolver decorators, in API Gateway syntax.

        Each carries the authorizer and scopes the handler's `@triggers.authorized` gives it.
        """
        return protect(source, _routes(source))

    def check(self, declared: Sequence[Declared[HttpRoute]], context: CheckContext) -> None:
        """One function per route, and one logical id per route of a function."""
        check_unique_routes(declared)
        check_route_ids(declared)

    def render(self, stack: StackBuilder, application: Application) -> None:
        """The HTTP API and each routed function's integration, routes and permissions."""
        from lambdapress.deploy.template_api import render_http_api

        render_http_api(stack, application)

    def local_source(self, host: LocalHost[Any], options: LocalOptions) -> LocalSource:
        """`serve`'s HTTP API front end on `options.port`."""
        from lambdapress.emulator.http_api import HttpApi

        return HttpApi(
            host,
            port=options.port,
            on_request=options.on_delivery,
            client_timeout=options.client_timeout,
            root=options.root,
        )

    def sample_event(self, function: Function, trigger: HttpRoute) -> Any:
        """A request to the route, each path parameter's value its name (`/orders/order_id`).

        `ANY` routes are sent a GET.
        """
        from lambdapress.emulator.events import http_api_event

        method = "GET" if trigger.method == "ANY" else trigger.method
        path = _SAMPLE_VALUE.sub(lambda found: found.group(1), trigger.path)
        return http_api_event(method, path, route=trigger.route_key)


KIND = HttpKind()


def request_event(function: Function, method: str, path: str, body: str | None) -> Any:
    """A payload 2.0 event for the route of `function` that `method path` matches.

    What `lambdapress invoke FUNCTION --http METHOD PATH` sends; an EmulatorError listing the
    function's routes when none matches.
    """
    from lambdapress.emulator.events import http_api_event
    from lambdapress.emulator.routes import RouteTable

    match = RouteTable([function]).match(method.upper(), path.split("?")[0])
    if match.target is None:
        known = ", ".join(f"{r.method} {r.path}" for r in function.routes)
        raise EmulatorError(
            f"{method.upper()} {path} matches no route of {function.name}",
            hint=f"use one of its routes: {known}" if known else "check the function name",
        )
    return http_api_event(
        method, path, route=match.target.route_key, body=body.encode() if body else None
    )


# -- checked across the application --------------------------------------------------------------


def check_unique_routes(declared: Sequence[Declared[HttpRoute]]) -> None:
    """Two functions on one route would make API Gateway's routing ambiguous: refuse."""
    seen: dict[str, Declared[HttpRoute]] = {}
    for found in declared:
        route = found.trigger
        # /items/{id} and /items/{item_id} are one route to API Gateway.
        key = _PLACEHOLDER.sub("{}", route.route_key)
        other = seen.get(key)
        if other is not None:
            raise BundleError(
                f"route {route.route_key} is declared twice: here and in "
                f"{other.path}:{other.line} ({other.function})",
                path=found.path,
                line=found.line,
                hint="give each route to exactly one handler module",
            )
        seen[key] = found


def check_route_ids(declared: Sequence[Declared[HttpRoute]]) -> None:
    """No two routes of one function become one CloudFormation resource.

    The stack names a route's resources by the CamelCase words of its function, method and
    path (`deploy.template_ids.route_id`): `/items/{id}` and `/items/id` are both `ItemsId`,
    and CloudFormation keys resources by logical id, so such a pair cannot deploy.
    """
    seen: dict[str, Declared[HttpRoute]] = {}
    for found in declared:
        route = found.trigger
        logical_id = route_id(found.deployed_as, route)
        other = seen.get(logical_id)
        if other is not None and other.trigger.route_key != route.route_key:
            raise BundleError(
                f"routes {route.route_key} and {other.trigger.route_key} ({other.path}:"
                f"{other.line}) of function {found.deployed_as} both become the CloudFormation "
                f"resource {logical_id}: logical ids keep only the letters and digits of a path",
                path=found.path,
                line=found.line,
                hint="change one of the paths so that the two differ in more than "
                "punctuation, braces and letter case",
            )
        seen[logical_id] = found


# -- declared: Powertools' resolver decorators, read from the AST --------------------------------


def _resolver_names(tree: ast.Module) -> set[str]:
    """Module-level names bound to a Powertools resolver or router instance."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign):
            value, targets = node.value, node.targets
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            value, targets = node.value, [node.target]
        else:
            continue
        if not isinstance(value, ast.Call):
            continue
        func = value.func
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if called.endswith(_RESOLVER_SUFFIXES):
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def _routes(source: HandlerSource) -> tuple[Declared[HttpRoute], ...]:
    resolvers = _resolver_names(source.tree)
    found: list[Declared[HttpRoute]] = []
    for node in ast.walk(source.tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for decorator in node.decorator_list:
            if not (
                isinstance(decorator, ast.Call)
                and isinstance(decorator.func, ast.Attribute)
                and isinstance(decorator.func.value, ast.Name)
                and decorator.func.value.id in resolvers
            ):
                continue
            verb = decorator.func.attr
            if verb in _METHOD_DECORATORS:
                methods = [verb.upper()]
            elif verb == "route":
                methods = _route_methods(decorator, source.path)
            else:
                continue
            template = _route_path(decorator, source.path)
            for method in methods:
                route = HttpRoute.model_validate({"method": method, "path": template})
                found.append(source.declare(route, decorator.lineno))
    return tuple(found)


def _route_path(decorator: ast.Call, path: Path) -> str:
    """The decorator's path in API Gateway syntax: `<order_id>` becomes `{order_id}`."""
    argument = decorator.args[0] if decorator.args else _keyword(decorator, "rule")
    if not (isinstance(argument, ast.Constant) and isinstance(argument.value, str)):
        raise BundleError(
            "the route's path is not a string literal, so it cannot be read without running "
            "the module",
            path=path,
            line=decorator.lineno,
            hint='write the path literally, e.g. @app.get("/orders/<order_id>")',
        )
    converted = _PARAMETER.sub(r"{\1}", argument.value)
    if "<" in converted or ">" in converted or not converted.startswith("/"):
        raise BundleError(
            f"route path {argument.value!r} does not parse: it must start with '/' and use "
            "<name> for parameters",
            path=path,
            line=decorator.lineno,
            hint='e.g. "/orders" or "/orders/<order_id>"',
        )
    # The route key goes to API Gateway as it is: check it with API Gateway's rules now.
    problem = route_path_problem(converted)
    if problem is not None:
        raise BundleError(
            f"route path {argument.value!r} does not parse as an API Gateway route: {problem}",
            path=path,
            line=decorator.lineno,
            hint=ROUTE_FIX,
        )
    return converted


def _route_methods(decorator: ast.Call, path: Path) -> list[str]:
    argument = decorator.args[1] if len(decorator.args) > 1 else _keyword(decorator, "method")
    if argument is None:
        return ["GET"]
    values = argument.elts if isinstance(argument, ast.List | ast.Tuple) else [argument]
    methods: list[str] = []
    for value in values:
        if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
            raise BundleError(
                "the route's method is not a string literal",
                path=path,
                line=decorator.lineno,
                hint='write it literally, e.g. method="GET" or method=["GET", "POST"]',
            )
        method = value.value.upper()
        if method not in METHODS:
            raise BundleError(
                f"the route's method {value.value!r} is not an HTTP method API Gateway routes",
                path=path,
                line=decorator.lineno,
                hint=f"use one of {', '.join(sorted(METHODS))}",
            )
        methods.append(method)
    return methods


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)
