"""Find every Lambda function of a service by reading its handler modules, never importing them.

Importing user code to discover it would run its import-time side effects (connections,
environment reads) on the build machine, and would need every dependency installed for the
build's platform. The AST has all we need: the `handler` function and the routes declared with
Powertools' resolver decorators (`@app.get("/orders/<order_id>")`).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import get_args

from pydantic import BaseModel, ConfigDict

from lambdapress.bundle.imports import parse_module
from lambdapress.config.aws_rules import ROUTE_FIX, route_path_problem
from lambdapress.config.workspace import Service
from lambdapress.errors import BundleError
from lambdapress.model.triggers import HttpMethod, HttpRoute, Trigger

HANDLER_FUNCTION = "handler"
_METHOD_DECORATORS = {"get", "post", "put", "patch", "delete", "head", "options"}
_METHODS: frozenset[str] = frozenset(get_args(HttpMethod))
_RESOLVER_SUFFIXES = ("Resolver", "Router")
_PARAMETER = re.compile(r"<([A-Za-z_][A-Za-z0-9_]*)>")
_PLACEHOLDER = re.compile(r"\{[^/}]+\}")


class HandlerModule(BaseModel):
    """One handler module of a service, as found in its source."""

    model_config = ConfigDict(frozen=True)

    name: str  # `orders.get_order`
    service: str
    module: str  # `orders.handlers.get_order`
    source: Path
    routes: tuple[HttpRoute, ...]
    route_lines: tuple[int, ...]
    handler_line: int = 1
    """The line of `def handler`: where a problem with the function's own name is shown."""

    @property
    def triggers(self) -> tuple[Trigger, ...]:
        """What invokes it, as the model records it: its routes."""
        return self.routes

    @property
    def handler(self) -> str:
        """Lambda's handler string, `module.handler`."""
        return f"{self.module}.{HANDLER_FUNCTION}"


def handlers_folder(service: Service) -> Path:
    """The folder whose modules are the service's handlers, one function each."""
    src = service.path / "src"
    return (src if src.is_dir() else service.path) / service.import_name / "handlers"


def discover_service(service: Service) -> tuple[HandlerModule, ...]:
    """Every handler module of one service, sorted by name."""
    folder = handlers_folder(service)
    if not folder.is_dir():
        return ()
    functions = [
        _function(service, path)
        for path in sorted(folder.glob("*.py"))
        if path.name != "__init__.py" and not path.name.startswith(("test_", "_"))
    ]
    return tuple(functions)


def check_unique_routes(functions: tuple[HandlerModule, ...]) -> None:
    """Two functions on one route would make API Gateway's routing ambiguous: refuse."""
    seen: dict[str, tuple[HandlerModule, int]] = {}
    for function in functions:
        for route, line in zip(function.routes, function.route_lines, strict=True):
            # /items/{id} and /items/{item_id} are one route to API Gateway.
            key = _PLACEHOLDER.sub("{}", route.route_key)
            if key in seen:
                other, other_line = seen[key]
                raise BundleError(
                    f"route {route.route_key} is declared twice: here and in "
                    f"{other.source}:{other_line} "
                    f"({other.name})",
                    path=function.source,
                    line=line,
                    hint="give each route to exactly one handler module",
                )
            seen[key] = (function, line)


def _function(service: Service, path: Path) -> HandlerModule:
    if not path.stem.isidentifier():
        raise BundleError(
            f"handler module file name {path.name!r} is not a Python module name, so Lambda "
            "cannot import it",
            path=path,
            hint="rename it to letters, digits and underscores (e.g. get_order.py), or move "
            "it out of handlers/",
        )
    tree = parse_module(path)
    handler_line = next(
        (
            node.lineno
            for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name == HANDLER_FUNCTION
        ),
        None,
    )
    if handler_line is None:
        raise BundleError(
            f"handler module {path.stem!r} of service {service.name!r} has no "
            f"`{HANDLER_FUNCTION}` function",
            path=path,
            line=1,
            hint=f"define `def {HANDLER_FUNCTION}(event, context)` at module level, or move "
            "the module out of handlers/",
        )
    routes, lines = _routes(tree, path)
    return HandlerModule(
        name=f"{service.name}.{path.stem}",
        service=service.name,
        module=f"{service.import_name}.handlers.{path.stem}",
        source=path,
        routes=routes,
        route_lines=lines,
        handler_line=handler_line,
    )


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


def _routes(tree: ast.Module, path: Path) -> tuple[tuple[HttpRoute, ...], tuple[int, ...]]:
    resolvers = _resolver_names(tree)
    routes: list[HttpRoute] = []
    lines: list[int] = []
    for node in ast.walk(tree):
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
                methods = _route_methods(decorator, path)
            else:
                continue
            template = _route_path(decorator, path)
            for method in methods:
                routes.append(HttpRoute.model_validate({"method": method, "path": template}))
                lines.append(decorator.lineno)
    return tuple(routes), tuple(lines)


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
        if method not in _METHODS:
            raise BundleError(
                f"the route's method {value.value!r} is not an HTTP method API Gateway routes",
                path=path,
                line=decorator.lineno,
                hint=f"use one of {', '.join(sorted(_METHODS))}",
            )
        methods.append(method)
    return methods


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)
