"""From what a handler module writes to the model: resource ids, trigger models, uses; and back.

Code names a resource as its service's `[tool.lambdapress]` declares it: `order-placed` for one
of its own service's, `orders/order-events` for another's (`config.event_settings.REFERENCE`).
At discovery the name becomes the resource's id (`workers/sqs-queue/order-placed`); a name
that is not one, or one that qualifies the module's own service (write `order-placed`), is
refused at its line. Whether a service declares it is known only once every service is read:
`check` asks `declared` with the application's `CheckContext`, and a resource nobody declares
is refused at the line that names it, with the pyproject table that would declare it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, TypeVar

from pydantic import ValidationError

from lambdapress.config.event_settings import NAME_RULE, REFERENCE
from lambdapress.errors import BundleError
from lambdapress.model.permissions import Permission
from lambdapress.model.resources import Resource
from lambdapress.model.trigger_kinds import CheckContext, Declared, HandlerSource, Used
from lambdapress.model.triggers import Trigger
from lambdapress.triggers._declarations import Decoration, declarations

_T = TypeVar("_T", bound=Trigger)

TABLES: Final = {
    "sqs-queue": "queues",
    "sns-topic": "topics",
    "event-bus": "buses",
    "s3-bucket": "buckets",
}
"""Where a service's pyproject declares each kind of resource (`[tool.lambdapress.queues.N]`)."""
WORDS: Final = {
    "sqs-queue": "queue",
    "sns-topic": "topic",
    "event-bus": "event bus",
    "s3-bucket": "bucket",
    "dynamodb-table": "table",
}


def resource_id(
    source: HandlerSource, reference: object, resource_kind: str, line: int, what: str
) -> str:
    """The id of the resource `reference` names, written in `source` (`what` names it)."""
    found = REFERENCE.fullmatch(reference) if isinstance(reference, str) else None
    if not isinstance(reference, str) or found is None:
        raise BundleError(
            f"{what} is {reference!r}, which is not a resource's name",
            path=source.path,
            line=line,
            hint=f"write `name` for one of this service's {TABLES[resource_kind]} or "
            f"`service/name` for another service's ({NAME_RULE})",
        )
    service, name = found.group("service"), found.group("name")
    if service == source.service:
        raise BundleError(
            f"{what} is {reference!r}: {service} is this module's own service",
            path=source.path,
            line=line,
            hint=f"write {name!r}: `service/name` is for another service's {WORDS[resource_kind]}",
        )
    return f"{service or source.service}/{resource_kind}/{name}"


def trigger(
    source: HandlerSource, model: type[_T], decoration: Decoration, values: dict[str, Any]
) -> Declared[_T]:
    """The trigger `decoration` declares, `values` its fields (references made ids).

    Validated strictly, as JSON: `batch_size="10"` is refused, not read as 10.
    """
    try:
        made = model.model_validate_json(json.dumps(values), strict=True)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'it'}: {error['msg'].lower()}"
            for error in exc.errors()
        )
        raise BundleError(
            f"{decoration.shown}: {problems}",
            path=source.path,
            line=decoration.line,
            hint=f"see {decoration.shown}'s arguments in lambdapress_runtime.triggers; each "
            "limit is AWS's",
        ) from None
    return source.declare(made, decoration.line)


def handle_uses(
    source: HandlerSource,
    kind: str,
    handle: str,
    resource_kind: str,
    permissions: Callable[[str, str], tuple[Permission, ...]],
) -> tuple[Used, ...]:
    """What the module's `handle`s (`Queue`) use, each with `permissions(id, where)`.

    `where` says where the handle is (`Queue ORDERS at orders.handlers.place:3`), for the
    permission's reason: module and line, never a path of the machine that packaged.
    """
    found: list[Used] = []
    for declared in declarations(source).handles_of(handle):
        line = declared.line
        what = f"the {WORDS[resource_kind]} of triggers.{handle}"
        resource = resource_id(source, declared.reference, resource_kind, line, what)
        where = f"{handle} {declared.variable} at {source.module}:{line}"
        found.append(source.use(kind, resource, line, permissions(resource, where)))
    return tuple(found)


def declared_resource(
    context: CheckContext, resource: str, path: Path, line: int, what: str
) -> Resource:
    """The resource `resource` (an id), or a BundleError at `path:line`: nobody declares it."""
    found = context.resources.get(resource)
    if found is not None:
        return found
    service, resource_kind, name = resource.split("/")
    words = WORDS.get(resource_kind, resource_kind)
    facts = context.services.get(service)
    if facts is None:
        known = ", ".join(sorted(context.services)) or "none"
        raise BundleError(
            f"{what} names {service}/{name}, but there is no service {service!r} (services: "
            f"{known})",
            path=path,
            line=line,
            hint=f"name the {words} as `service/name` with the folder name of a service in "
            "services/, or `name` for one of this service's",
        )
    table = TABLES.get(resource_kind)
    raise BundleError(
        f"{what} names the {words} {name!r} of service {service}, which its pyproject does not "
        "declare",
        path=path,
        line=line,
        hint=f"declare it in {facts.pyproject} as [tool.lambdapress.{table}.{name}]"
        if table is not None
        else f"declare it in {facts.pyproject}",
    )


def check_uses(context: CheckContext, kind: str, handle: str) -> None:
    """Every resource the kind's handles (`Queue`) name is declared by its service."""
    for used in context.uses:
        if used.kind == kind:
            declared_resource(
                context, used.resource, used.path, used.line, f"triggers.{handle}(...)"
            )
