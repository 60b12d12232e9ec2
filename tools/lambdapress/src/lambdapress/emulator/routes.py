"""API Gateway route templates: `/orders/{order_id}`, `/files/{proxy+}`, matched like an HTTP API.

Routes are tried most specific first, as API Gateway does: at each segment a literal beats a
`{variable}`, which beats a greedy `{variable+}`; then a route for the exact method beats
`ANY`. A path that matches a route for other methods only is reported as such, so the front
end can answer 405 instead of 404.

Routes match the path as API Gateway delivers it (`request_paths`): an HTTP API decodes the path
before it routes, so `/orders/a%2Fb` is `/orders/a/b` and `/orders/{order_id}` does not match
it, and a parameter's value is its segment as delivered, never decoded a second time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from lambdapress.errors import EmulatorError
from lambdapress.model.application import Function

_VARIABLE = re.compile(r"^\{([A-Za-z0-9_.:-]+)(\+?)\}$")


@dataclass(frozen=True)
class RouteTemplate:
    """One compiled route path, e.g. `/orders/{order_id}`."""

    path: str
    names: tuple[str, ...]
    pattern: re.Pattern[str]
    rank: tuple[int, ...]
    """Per segment: 0 literal, 1 variable, 2 greedy (lower sorts first: more specific)."""

    @classmethod
    def compile(cls, path: str) -> RouteTemplate:
        """The template of an API Gateway route path such as `/orders/{order_id}`."""
        if not path.startswith("/"):
            raise EmulatorError(f"route path {path!r} must start with '/'")
        segments = path.strip("/").split("/") if path != "/" else []
        names: list[str] = []
        parts: list[str] = []
        rank: list[int] = []
        for index, segment in enumerate(segments):
            variable = _VARIABLE.match(segment)
            if variable is None:
                if "{" in segment or "}" in segment:
                    raise EmulatorError(
                        f"route {path!r}: {segment!r} mixes text and a variable",
                        hint="API Gateway variables take a whole segment: /items/{item_id}",
                    )
                parts.append(re.escape(segment))
                rank.append(0)
                continue
            name, greedy = variable.group(1), bool(variable.group(2))
            if greedy and index != len(segments) - 1:
                raise EmulatorError(
                    f"route {path!r}: the greedy variable {{{name}+}} must be the last segment"
                )
            names.append(name)
            parts.append("(.+)" if greedy else "([^/]+)")
            rank.append(2 if greedy else 1)
        trailing = "/" if path.endswith("/") and path != "/" else ""
        regex = "^/" + "/".join(parts) + trailing + "$"
        return cls(path, tuple(names), re.compile(regex, re.DOTALL), tuple(rank))

    def match(self, path: str) -> dict[str, str] | None:
        """Path parameters when `path` (as delivered: decoded) matches, else None."""
        found = self.pattern.fullmatch(path)  # a decoded path may hold a newline
        if found is None:
            return None
        return dict(zip(self.names, found.groups(), strict=True))


@dataclass(frozen=True)
class Target:
    """A route and the function it invokes."""

    function: str
    method: str
    template: RouteTemplate
    authorizer: str | None = None
    """The authorizer the route names (`HttpRoute.authorizer`)."""
    scopes: tuple[str, ...] = ()

    @property
    def route_key(self) -> str:
        """API Gateway's `routeKey`, e.g. `GET /orders/{order_id}`."""
        return f"{self.method} {self.template.path}"


@dataclass(frozen=True)
class Match:
    """The route a request matched (if any), its path parameters, and the methods allowed."""

    target: Target | None
    parameters: dict[str, str]
    allowed: tuple[str, ...] = ()
    """Methods the path accepts, when it matched no route for the request's method."""


class RouteTable:
    """Every route of a manifest's functions; duplicate routes are an error."""

    def __init__(self, functions: Iterable[Function]) -> None:
        targets: dict[tuple[str, str], Target] = {}
        for entry in functions:
            for route in entry.routes:
                key = (route.method, route.path)
                if key in targets:
                    raise EmulatorError(
                        f"route {route.method} {route.path} belongs to both "
                        f"{targets[key].function} and {entry.name}",
                        hint="give each route to one handler, then rebuild",
                    )
                targets[key] = Target(
                    entry.name,
                    route.method,
                    RouteTemplate.compile(route.path),
                    route.authorizer,
                    route.scopes,
                )
        self.targets = sorted(
            targets.values(),
            key=lambda t: (t.template.rank, t.method == "ANY", t.template.path, t.method),
        )

    def match(self, method: str, path: str) -> Match:
        """The route for a request to `path` (as delivered), or the methods the path allows."""
        allowed: list[str] = []
        for target in self.targets:
            parameters = target.template.match(path)
            if parameters is None:
                continue
            if target.method in (method, "ANY"):
                return Match(target, parameters)
            allowed.append(target.method)
        return Match(None, {}, tuple(sorted(set(allowed))))
