"""`@triggers.authorized(...)`: which authorizer, with which scopes, protects a module's routes.

    from lambdapress_runtime import triggers

    @app.post("/orders")
    def create(): ...

    @triggers.authorized("users", scopes=["orders:write"])           # every route of the module
    @triggers.authorized("partners", routes=["GET /orders/{order_id}"])  # or the ones listed
    def handler(event, context): ...

Read statically like the other trigger decorators (`_declarations`). The routes are declared
with Powertools' resolver in the same module, so the decorator of the `handler` Lambda runs is
the one place that sees all of them; a route gets at most one authorizer, and a decorator that
protects nothing (no routes in the module, a `routes=` key the module does not declare) is
refused at its line: a route believed protected but open is the mistake that matters.
"""

from __future__ import annotations

import re

from lambdapress.errors import BundleError
from lambdapress.model.trigger_kinds import Declared, HandlerSource
from lambdapress.model.triggers import AUTHORIZER_NAME, HttpRoute
from lambdapress.triggers._declarations import Decoration, declarations

_PARAMETER = re.compile(r"<([A-Za-z_][A-Za-z0-9_]*)>")
_SCOPE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")  # RFC 6749's scope-token characters


def protect(
    source: HandlerSource, routes: tuple[Declared[HttpRoute], ...]
) -> tuple[Declared[HttpRoute], ...]:
    """`routes` with the authorizer and scopes the handler's `@triggers.authorized` give them."""
    decorations = declarations(source).of("authorized")
    if not decorations:
        return routes
    given: dict[str, Decoration] = {}
    protected: dict[str, tuple[str, tuple[str, ...]]] = {}
    keys = [found.trigger.route_key for found in routes]
    for decoration in decorations:
        name, scopes, chosen = _read(source, decoration, keys)
        for key in chosen:
            if key in given:
                raise BundleError(
                    f"route {key} is given two authorizers: here and at line {given[key].line}",
                    path=source.path,
                    line=decoration.line,
                    hint="a route has one authorizer: list each route in one "
                    "@triggers.authorized(..., routes=[...])",
                )
            given[key] = decoration
            protected[key] = (name, scopes)
    made: list[Declared[HttpRoute]] = []
    for found in routes:
        route = found.trigger
        if route.route_key in protected:
            name, scopes = protected[route.route_key]
            route = route.model_copy(update={"authorizer": name, "scopes": scopes})
        made.append(Declared(route, found.path, found.line, found.function, found.deployed_as))
    return tuple(made)


def _read(
    source: HandlerSource, decoration: Decoration, keys: list[str]
) -> tuple[str, tuple[str, ...], list[str]]:
    """The authorizer's name, its scopes and the route keys one decorator protects."""
    arguments = decoration.arguments
    name = arguments["authorizer"]
    if not isinstance(name, str) or not re.match(AUTHORIZER_NAME, name):
        raise BundleError(
            f"@triggers.authorized: {name!r} is not an authorizer's name",
            path=source.path,
            line=decoration.line,
            hint="use letters, digits, '-' and '_', starting with a letter (at most 64): the "
            "name of [tool.lambdapress.deploy.authorizers.NAME] or of a @triggers.authorizer",
        )
    scopes = arguments.get("scopes", [])
    if not isinstance(scopes, list) or not all(
        isinstance(s, str) and _SCOPE.match(s) for s in scopes
    ):
        raise BundleError(
            f"@triggers.authorized: scopes must be a list of OAuth scopes, not {scopes!r}",
            path=source.path,
            line=decoration.line,
            hint='write e.g. scopes=["orders:write"] (no spaces, quotes or backslashes)',
        )
    if not keys:
        raise BundleError(
            "@triggers.authorized decorates a handler whose module declares no HTTP route",
            path=source.path,
            line=decoration.line,
            hint="declare the routes in this module (@app.get(...)) or remove the decorator",
        )
    listed = arguments.get("routes")
    if listed is None:
        return name, tuple(scopes), keys
    if not isinstance(listed, list) or not all(isinstance(k, str) for k in listed):
        raise BundleError(
            "@triggers.authorized: routes must be a list of route keys",
            path=source.path,
            line=decoration.line,
            hint='write e.g. routes=["POST /orders", "GET /orders/{order_id}"]',
        )
    chosen: list[str] = []
    for key in listed:
        method, _, path = key.strip().partition(" ")
        normal = method.upper() + " " + _PARAMETER.sub(r"{\1}", path.strip())
        if normal not in keys:
            raise BundleError(
                f"@triggers.authorized names the route {key!r}, which this module does not "
                f"declare (its routes: {', '.join(keys)})",
                path=source.path,
                line=decoration.line,
                hint="name each route by its method and path, as `package` lists it",
            )
        chosen.append(normal)
    return name, tuple(scopes), chosen
