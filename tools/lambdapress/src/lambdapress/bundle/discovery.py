"""Find every Lambda function of a service by reading its handler modules, never importing them.

Importing user code to discover it would run its import-time side effects (connections,
environment reads) on the build machine, and would need every dependency installed for the
build's platform. The AST has all we need: the `handler` function, and the triggers each
registered kind finds in the module (`model.trigger_kinds`: HTTP routes declared with
Powertools' resolver decorators, `@app.get("/orders/<order_id>")`, are the built-in one).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdapress.bundle.imports import parse_module
from lambdapress.config.workspace import Service
from lambdapress.errors import BundleError
from lambdapress.model.trigger_kinds import (
    Declared,
    HandlerSource,
    check_triggers,
    discover_triggers,
)
from lambdapress.model.triggers import HttpRoute, Trigger

HANDLER_FUNCTION = "handler"
SERVICE_FUNCTION = "api"
"""The one function of a service bundled whole (`bundle = "service"`): `<service>.api`."""


@dataclass(frozen=True)
class HandlerModule:
    """One handler module of a service, as found in its source."""

    name: str  # `orders.get_order`
    service: str
    module: str  # `orders.handlers.get_order`
    source: Path
    declared: tuple[Declared[Any], ...] = ()
    """Its triggers, each with its line, as the registered kinds found them."""
    handler_line: int = 1
    """The line of `def handler`: where a problem with the function's own name is shown."""

    @property
    def triggers(self) -> tuple[Trigger, ...]:
        """What invokes it, as the model records it."""
        return tuple(found.trigger for found in self.declared)

    @property
    def routes(self) -> tuple[HttpRoute, ...]:
        """Its HTTP routes (what the entry module of a service bundled whole dispatches on)."""
        return tuple(t for t in self.triggers if isinstance(t, HttpRoute))

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


def check_all_triggers(functions: Iterable[HandlerModule]) -> None:
    """Each trigger kind's rules across the application (one function per HTTP route...)."""
    check_triggers(found for function in functions for found in function.declared)


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
    name = f"{service.name}.{path.stem}"
    module = f"{service.import_name}.handlers.{path.stem}"
    whole = service.settings.bundle == "service"
    source = HandlerSource(
        path=path,
        tree=tree,
        module=module,
        function=name,
        deployed_as=f"{service.name}.{SERVICE_FUNCTION}" if whole else name,
    )
    return HandlerModule(
        name=name,
        service=service.name,
        module=module,
        source=path,
        declared=discover_triggers(source),
        handler_line=handler_line,
    )
