"""What the repository declares, read and checked as a whole before anything is planned.

Every service's handler modules (their triggers and what their code uses, `discovery`) and every
service's resources (storage, queues, topics, buses, buckets, `_wiring`) are read first, then
checked against each other: the references between resources (`_event_resources`), each trigger
kind's rules with every resource known (a trigger naming a queue nobody declares), and the
names a deploy will hand AWS (`_aws_names`). A partial `package` (one service, one function)
checks all of it too: a trigger may name another service's queue.
"""

from __future__ import annotations

from dataclasses import dataclass

from lambdapress.bundle._aws_names import check_for_aws
from lambdapress.bundle._event_resources import check_event_resources
from lambdapress.bundle._facts import FileFacts
from lambdapress.bundle._wiring import service_resources
from lambdapress.bundle.discovery import (
    HandlerModule,
    check_all_triggers,
    check_context,
    discover_service,
)
from lambdapress.config.workspace import Workspace
from lambdapress.model.resources import Resource


@dataclass(frozen=True)
class Checked:
    """Every handler module and every service's resources, checked."""

    functions: tuple[HandlerModule, ...]
    resources: dict[str, tuple[Resource, ...]]
    """Each service's resources (`service_resources`), by service name."""


def checked_declarations(workspace: Workspace, facts: FileFacts | None = None) -> Checked:
    """Read every service's functions and resources, and refuse what does not fit (module doc)."""
    functions = tuple(f for s in workspace.services for f in discover_service(s, facts))
    resources = {s.name: service_resources(s, workspace.root) for s in workspace.services}
    every = [r for owned in resources.values() for r in owned]
    check_event_resources(workspace.services, {r.id: r for r in every})
    check_all_triggers(functions, check_context(workspace.services, every))
    check_for_aws(workspace, functions)
    return Checked(functions, resources)
