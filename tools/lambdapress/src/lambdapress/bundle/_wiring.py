"""What each function uses and may do: the resources, uses, permissions and capacity of the model.

`package` derives them once, from the service's `[tool.lambdapress]` (its storage, its queues,
topics, buses and buckets, its IAM statements, its per-function settings), the function's
triggers and what its code uses, so no target has to read a pyproject again: a function uses
its service's storage, may do with it what the storage backend grants
(`model.storage_backends`: item access to DynamoDB tables, read-only for read handlers;
reading its URL's secret for a PostgreSQL database), uses the queues, topics, buses and buckets
its module holds handles for (`triggers.Topic("order-events")`, each with what using it takes:
`sns:Publish` on that topic), reads the secrets and parameters its service declares
(`model.config_resources`: read access to exactly those), writes its own log group, and has
the statements its service declares; SnapStart comes from the service's or the function's
`snapstart`, refused where Lambda refuses it (`_snapstart`). A service's queues and topics are
resources of the service whether or not a function uses them (a dead-letter queue is nobody's
trigger). A per-function setting naming no function of the service is an error here, at
package time, with its line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lambdapress.bundle._event_resources import event_resources
from lambdapress.bundle._snapstart import check_snapstart, snapstart_of
from lambdapress.config.pyproject import PYPROJECT, find_key_line
from lambdapress.config.workspace import Service
from lambdapress.errors import BundleError
from lambdapress.model.application import Capacity
from lambdapress.model.config_resources import (
    Parameter,
    Secret,
    default_parameter_path,
    default_secret_name,
    is_config_resource,
    read_permissions,
)
from lambdapress.model.permissions import Access, Permission, access_of, writes_its_logs
from lambdapress.model.resources import Resource
from lambdapress.model.storage_backends import by_backend, storage_declaration, stored_resources
from lambdapress.model.trigger_kinds import Used
from lambdapress.model.triggers import HttpRoute, Trigger


@dataclass(frozen=True)
class Wiring:
    """One function's place in the model besides its code."""

    uses: tuple[str, ...]
    permissions: tuple[Permission, ...]
    capacity: Capacity
    access: Access
    """What it does with its storage (read only, or read and write)."""


def service_resources(service: Service, root: Path) -> tuple[Resource, ...]:
    """The service's resources, sorted by id: storage, events, secrets and parameters.

    Its storage's, its queues, topics, buses and buckets, and the secrets and parameters it
    reads. The storage backend validates `[tool.lambdapress.storage]` first (a wrong key stops
    `package` at its line).
    """
    declaration = storage_declaration(service, root)
    made = [
        *declaration.backend.resources(declaration),
        *event_resources(service),
        *config_resources(service),
    ]
    return tuple(sorted(made, key=lambda r: r.id))


def config_resources(service: Service) -> tuple[Resource, ...]:
    """The secrets and parameters `service` declares, with their default names filled in."""
    settings, name = service.settings, service.name
    secrets = [
        Secret(
            service=name,
            name=secret,
            secret_name=declared.name or default_secret_name(name, secret),
            max_age=declared.max_age,
            kms_key=declared.kms_key,
        )
        for secret, declared in settings.secrets.items()
    ]
    parameters = [
        Parameter(
            service=name,
            name=parameter,
            path=declared.path or default_parameter_path(name, parameter),
            max_age=declared.max_age,
            kms_key=declared.kms_key,
        )
        for parameter, declared in settings.parameters.items()
    ]
    return (*secrets, *parameters)


def function_wiring(
    service: Service,
    function: str,
    resources: Sequence[Resource],
    used: Sequence[Used] = (),
    triggers: Sequence[Trigger] = (),
) -> Wiring:
    """What `function` (`orders.get_order`) of `service` uses, may do, and its capacity.

    `resources` are the service's (`service_resources`): the function uses its storage;
    `used` what its code holds handles for, with the permissions each takes; `triggers` decide
    its access to the storage unless its settings say it (`access`).
    """
    settings = service.settings.functions.get(function.removeprefix(f"{service.name}."))
    access = (settings.access if settings is not None else None) or access_of(
        t.method if isinstance(t, HttpRoute) else None for t in triggers
    )
    stored = stored_resources(resources)
    read = [r for r in resources if is_config_resource(r) and r.service == service.name]
    permissions = [writes_its_logs(function)]
    for backend, backend_resources in by_backend(stored):
        permissions += backend.permissions(service.name, backend_resources, access)
    for config in read:
        assert isinstance(config, Secret | Parameter)
        permissions += read_permissions(config)
    for use in used:
        permissions += use.permissions
    for statement in service.settings.iam.statements:
        permissions.append(
            Permission(
                effect=statement.effect,
                actions=tuple(statement.actions),
                resources=tuple(statement.resources),
                reason=f"[tool.lambdapress.iam] of service {service.name}",
            )
        )
    snapstart = snapstart_of(service, function)
    capacity = (
        Capacity(
            reserved_concurrency=settings.reserved_concurrency,
            provisioned_concurrency=settings.provisioned_concurrency,
            warm_every_minutes=settings.warm_every_minutes,
            rollout=settings.rollout,
            snapstart=snapstart,
            vpc=settings.vpc,
        )
        if settings is not None
        else Capacity(snapstart=snapstart)
    )
    uses = sorted({*(r.id for r in (*stored, *read)), *(u.resource for u in used)})
    return Wiring(tuple(uses), tuple(dict.fromkeys(permissions)), capacity, access)


def check_function_settings(service: Service, functions: list[str]) -> None:
    """Each `[tool.lambdapress.functions.<handler>]` names a function; no SnapStart is refused.

    Every table must name a function of the service, and no function may have SnapStart where
    Lambda refuses it (`_snapstart`). A renamed handler would otherwise silently lose its
    concurrency settings. Both are checked before anything is installed or built.
    """
    names = sorted(f.removeprefix(f"{service.name}.") for f in functions)
    for handler in sorted(service.settings.functions):
        if handler not in names:
            path = service.path / PYPROJECT
            raise BundleError(
                f"[tool.lambdapress.functions.{handler}] names no function of service "
                f"{service.name} (its functions: {', '.join(names) or 'none'})",
                path=path,
                line=find_key_line(path, ["tool", "lambdapress", "functions", handler]),
                hint="use the handler module's name, or run `nox -s package` after adding it",
            )
    for function in functions:
        check_snapstart(service, function)
