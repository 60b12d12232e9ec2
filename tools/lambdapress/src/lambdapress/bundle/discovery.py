"""Find every Lambda function of a service by reading its handler modules, never importing them.

Importing user code to discover it would run its import-time side effects (connections,
environment reads) on the build machine, and would need every dependency installed for the
build's platform. The AST has all we need: the `handler` function, and the triggers each
registered kind finds in the module (`model.trigger_kinds`: HTTP routes declared with
Powertools' resolver decorators, `@app.get("/orders/<order_id>")`, queues, topics, schedules...
declared with `lambdapress_runtime.triggers`' decorators), and what its code uses (the same
module's handles, `triggers.Topic("order-events")`).

What a module declares depends only on its bytes, its names and the kinds' code, so with the
planning cache (`bundle.facts`) an unchanged handler is not parsed again: its `handler` line
triggers and uses are remembered by digest, under a key naming the module, its function and the
source files of every registered kind (its module, its trigger class's, and the private modules
beside its own, `lambdapress.triggers._declarations`: a kind that changes reads every module
again). A remembered value is checked as it is read (each trigger validated by its kind's
model); one that does not fit is read from the module again.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from lambdapress.bundle._facts import FileFacts
from lambdapress.bundle._imports import parse_module
from lambdapress.config.pyproject import PYPROJECT
from lambdapress.config.workspace import Service
from lambdapress.errors import BundleError
from lambdapress.model.kinds import TRIGGERS
from lambdapress.model.permissions import Permission
from lambdapress.model.resources import Resource
from lambdapress.model.trigger_kinds import (
    HANDLER_FUNCTION,
    CheckContext,
    Declared,
    HandlerSource,
    ServiceFacts,
    Used,
    check_triggers,
    discover_triggers,
    discover_uses,
    trigger_kinds,
)
from lambdapress.model.triggers import HttpRoute, Trigger

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
    used: tuple[Used, ...] = ()
    """The resources its code uses (its handles), each with its line and permissions."""

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


def discover_service(service: Service, facts: FileFacts | None = None) -> tuple[HandlerModule, ...]:
    """Every handler module of one service, sorted by name.

    With `facts`, a module whose bytes were read before is not parsed again.
    """
    folder = handlers_folder(service)
    if not folder.is_dir():
        return ()
    kinds = _kinds_fingerprint(facts) if facts is not None else None
    functions = [
        _function(service, path, facts, kinds)
        for path in sorted(folder.glob("*.py"))
        if path.name != "__init__.py" and not path.name.startswith(("test_", "_"))
    ]
    return tuple(functions)


def check_context(services: Iterable[Service], resources: Iterable[Resource]) -> CheckContext:
    """What the trigger kinds check declarations against: every service and its resources."""
    return CheckContext(
        resources={resource.id: resource for resource in resources},
        services={
            service.name: ServiceFacts(
                name=service.name,
                pyproject=service.path / PYPROJECT,
                timeout=service.settings.timeout,
                storage=service.settings.storage.kind,
            )
            for service in services
        },
    )


def check_all_triggers(
    functions: Iterable[HandlerModule], context: CheckContext | None = None
) -> None:
    """Each trigger kind's rules across the application (one function per HTTP route...).

    `context`: what the services declare (their resources); the functions' uses are added to it.
    """
    functions = tuple(functions)
    around = context if context is not None else CheckContext()
    uses = tuple(used for function in functions for used in function.used)
    check_triggers(
        (found for function in functions for found in function.declared),
        CheckContext(resources=around.resources, services=around.services, uses=uses),
    )


def _function(
    service: Service, path: Path, facts: FileFacts | None, kinds: str | None
) -> HandlerModule:
    if not path.stem.isidentifier():
        raise BundleError(
            f"handler module file name {path.name!r} is not a Python module name, so Lambda "
            "cannot import it",
            path=path,
            hint="rename it to letters, digits and underscores (e.g. get_order.py), or move "
            "it out of handlers/",
        )
    name = f"{service.name}.{path.stem}"
    module = f"{service.import_name}.handlers.{path.stem}"
    deployed_as = (
        f"{service.name}.{SERVICE_FUNCTION}" if service.settings.bundle == "service" else name
    )
    found = HandlerModule(name=name, service=service.name, module=module, source=path)
    if facts is None or kinds is None:
        return _read(found, deployed_as)
    key = f"discovery:{module}:{name}:{deployed_as}:{kinds}"
    try:
        remembered = _decoded(found, deployed_as, facts.derived(path, key))
    except OSError:  # unreadable: parsing it says so, naming the file
        return _read(found, deployed_as)
    if remembered is not None:
        return remembered
    function = _read(found, deployed_as)
    encoded = _encoded(function)
    if _decoded(found, deployed_as, encoded) == function:  # only what reads back the same
        facts.derive(path, key, encoded)
    return function


def _read(found: HandlerModule, deployed_as: str) -> HandlerModule:
    """The module's `handler` line and triggers, from its source."""
    path = found.source
    source = HandlerSource(
        path=path,
        tree=parse_module(path),
        module=found.module,
        function=found.name,
        deployed_as=deployed_as,
    )
    handler = source.handler
    if handler is None:
        raise BundleError(
            f"handler module {path.stem!r} of service {found.service!r} has no "
            f"`{HANDLER_FUNCTION}` function",
            path=path,
            line=1,
            hint=f"define `def {HANDLER_FUNCTION}(event, context)` at module level, or move "
            "the module out of handlers/",
        )
    return HandlerModule(
        name=found.name,
        service=found.service,
        module=found.module,
        source=path,
        declared=discover_triggers(source),
        handler_line=handler.lineno,
        used=discover_uses(source),
    )


def _encoded(function: HandlerModule) -> dict[str, Any]:
    """What the planning cache keeps of a module: its `handler` line, its triggers by line."""
    return {
        "handler_line": function.handler_line,
        "declared": [
            {"line": d.line, "trigger": d.trigger.model_dump(mode="json")}
            for d in function.declared
        ],
        "used": [
            {
                "kind": u.kind,
                "resource": u.resource,
                "line": u.line,
                "permissions": [p.model_dump(mode="json") for p in u.permissions],
            }
            for u in function.used
        ],
    }


def _decoded(found: HandlerModule, deployed_as: str, value: Any) -> HandlerModule | None:
    """The module `value` describes, or None when it does not describe one (read it again)."""
    if not isinstance(value, dict):
        return None
    try:
        declared = tuple(
            Declared(_trigger(item["trigger"]), found.source, item["line"], found.name, deployed_as)
            for item in value["declared"]
        )
        used = tuple(
            Used(
                str(item["kind"]),
                str(item["resource"]),
                tuple(Permission.model_validate(p) for p in item["permissions"]),
                found.source,
                item["line"],
                found.name,
                deployed_as,
            )
            for item in value["used"]
        )
        line = value["handler_line"]
    except (KeyError, TypeError, ValueError, ValidationError):
        return None
    lines = [line, *(d.line for d in declared), *(u.line for u in used)]
    if not all(isinstance(n, int) for n in lines):
        return None
    return HandlerModule(
        name=found.name,
        service=found.service,
        module=found.module,
        source=found.source,
        declared=declared,
        handler_line=line,
        used=used,
    )


def _trigger(value: Any) -> Trigger:
    trigger = TRIGGERS.parse(value)
    if not isinstance(trigger, Trigger):
        raise ValueError(f"{value!r} is not a trigger")
    return trigger


def _kinds_fingerprint(facts: FileFacts) -> str | None:
    """The registered kinds, by name and the digests of the files their code lives in.

    Discovery's own code is part of it (this file), and a kind's code is its module, its
    trigger class's, and the private modules loaded beside its own (`lambdapress.triggers.
    _declarations`, which the built-in kinds read handler modules with). None when a kind's code
    has no file to hash (defined in `python -c`, say): its modules are then read every run.
    """
    digest = hashlib.sha256()
    modules = [__name__]
    for kind in trigger_kinds():
        digest.update(kind.name.encode() + b"\0")
        modules += [type(kind).__module__, kind.model.__module__]
        modules += _private_siblings(type(kind).__module__)
    for name in sorted(set(modules)):
        file = getattr(sys.modules.get(name), "__file__", None)
        if file is None:
            return None
        try:
            digest.update(f"{name}={facts.digest(Path(file))}\0".encode())
        except OSError:
            return None
    return digest.hexdigest()[:16]


def _private_siblings(module: str) -> list[str]:
    """The loaded private modules of `module`'s package (`pkg._helpers` for `pkg.kind`)."""
    package = module.rpartition(".")[0]
    if not package:
        return []
    prefix = f"{package}._"
    return [
        name
        for name in list(sys.modules)
        if name.startswith(prefix) and "." not in name[len(prefix) :]
    ]
