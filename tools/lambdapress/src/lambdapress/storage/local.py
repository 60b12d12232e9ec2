"""`lambdapress db`: the local servers every storage service of the workspace needs, started once.

    plan = plan_local_storage(workspace, ports={"postgres": 5433})
    with start_local_storage(plan) as running:   # servers up, databases migrated, tables made
        running.state                            # what serve and invoke read

The pipeline, each step a small function: plan (each service's storage declaration, validated
by its backend; the backends that have a local server; their ports) -> each backend's server,
started and prepared for its services (`LocalStorage.start` of `model.storage_backends`:
PostgreSQL with one migrated database per service, moto's server with the tables, ...) -> the
state file, one part per backend. Leaving the `with` block removes the state file first (so no
function is sent to a server that is going away), then stops the servers, the last started
first. Only the servers the workspace needs are started.

One `db` per workspace: the first step takes `.cache/lambdapress/db/db.lock` (see
`server_lock`), held until the servers have stopped. A second start, even at the same instant,
is refused at once, naming the running process and how to stop it (the running servers are
already the ones serve and invoke use; another set on other ports could not share the data
folder). After a `db` killed outright the lock is free again; a server it left on the data
folder is the backend's to stop (PostgreSQL's is, see `storage.postgres`), and a state file
naming a dead process is ignored and replaced.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambdapress.config.project import project_name
from lambdapress.config.workspace import Workspace
from lambdapress.errors import StorageError
from lambdapress.model.application import Application
from lambdapress.model.manifest import manifest_path, read_manifest
from lambdapress.model.storage_backends import (
    LOCAL_STAGE,
    AnyBackend,
    LocalHost,
    LocalServer,
    StageNames,
    StorageDeclaration,
    storage_backends,
    storage_declaration,
)
from lambdapress.storage.events_server import (
    EventsServer,
    declares_events,
    needs_events,
    start_events_server,
)
from lambdapress.storage.state import (
    LocalStorageState,
    db_folder,
    remove_state,
    write_state,
)
from lambdapress.support.closing import ClosesOnExit
from lambdapress.support.loopback import free_port
from lambdapress.support.server_lock import Holder, ServerLock, acquire, lock_path

Progress = Callable[[str], None]
LOCK = "db"
"""`<db folder>/db.lock`: held by the running `lambdapress db`."""


@dataclass(frozen=True)
class BackendPlan:
    """One backend's server: its port and parameters, and the services it serves."""

    backend: AnyBackend
    declarations: tuple[StorageDeclaration[Any], ...]
    port: int
    settings: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LocalStoragePlan:
    """What `lambdapress db` will start, where, and for which services."""

    root: Path
    folder: Path
    names: StageNames
    """The project, and the local stage resources are named for."""
    servers: tuple[BackendPlan, ...]
    """In the registry's order (PostgreSQL, then DynamoDB, then the ones registered later)."""
    events_port: int | None = None
    """The events server's port, when the workspace needs one (`storage.events_server`)."""
    manifest: Application | None = None
    """The build whose event resources the events server gets (None: nothing built yet)."""


def plan_local_storage(
    workspace: Workspace,
    *,
    ports: Mapping[str, int | None] | None = None,
    settings: Mapping[str, Mapping[str, str]] | None = None,
    events_port: int | None = None,
) -> LocalStoragePlan:
    """Which servers the workspace's services need; a backend without a port gets a free one.

    `ports` and `settings` (server parameters) are by backend name. Every service's storage
    declaration is validated by its backend here, so a wrong key stops `db` at its line. The
    events server is planned when a service declares queues, topics, buses or buckets, or the
    build (`dist/manifest.json`, if there is one) has triggers delivered from it.
    """
    declared: dict[str, list[StorageDeclaration[Any]]] = {}
    for service in workspace.services:
        declaration = storage_declaration(service, workspace.root)
        declared.setdefault(declaration.backend.name, []).append(declaration)
    servers = tuple(
        BackendPlan(
            backend,
            tuple(declared[backend.name]),
            (ports or {}).get(backend.name) or free_port(),
            dict((settings or {}).get(backend.name, {})),
        )
        for backend in storage_backends()
        if backend.local is not None and declared.get(backend.name)
    )
    built = manifest_path(workspace.root)
    manifest = read_manifest(built) if built.is_file() else None
    events = declares_events(workspace) or (manifest is not None and needs_events(manifest))
    if not servers and not events:
        local = [b for b in storage_backends() if b.local is not None]
        raise StorageError(
            "no service of this workspace keeps its data where `lambdapress db` serves it "
            f"({' or '.join(b.label for b in local)})",
            path=workspace.root / "services",
            hint="declare it in a service's pyproject.toml: [tool.lambdapress.storage] kind = "
            + " or ".join(f'"{b.name}"' for b in local)
            + " (or queues, topics, buses or buckets: [tool.lambdapress.queues.NAME]...)",
        )
    return LocalStoragePlan(
        root=workspace.root,
        folder=db_folder(workspace.root),
        names=StageNames(project_name(workspace.root), LOCAL_STAGE),
        servers=servers,
        events_port=(events_port or free_port()) if events else None,
        manifest=manifest,
    )


class LocalStorage(ClosesOnExit):
    """The running servers of one `lambdapress db`, by backend name."""

    def __init__(self, plan: LocalStoragePlan, lock: ServerLock | None = None) -> None:
        self.plan = plan
        self.lock = lock
        self.servers: dict[str, LocalServer] = {}
        self.events: EventsServer | None = None
        self.state: LocalStorageState | None = None

    def close(self) -> None:
        """Withdraw the state file, then stop the servers, the last started first."""
        if self.state is not None:
            remove_state(self.plan.root, self.state.pid)
            self.state = None
        try:
            with contextlib.ExitStack() as stopping:  # the last started first, each one
                for server in self.servers.values():
                    stopping.callback(server.close)
                if self.events is not None:
                    stopping.callback(self.events.close)
        finally:
            if self.lock is not None:  # only once nothing of ours runs on the data folder
                self.lock.release()

    def report(self) -> tuple[str, ...]:
        """What each server says about itself, in the order they started."""
        lines = [line for server in self.servers.values() for line in server.report()]
        if self.events is not None:
            lines.extend(self.events.report())
        return tuple(lines)


def start_local_storage(
    plan: LocalStoragePlan, on_progress: Progress | None = None
) -> LocalStorage:
    """Start what `plan` needs, prepare every service's resources, publish the state."""
    say = on_progress or (lambda _: None)
    storage = LocalStorage(plan, _take_the_lock(plan))
    try:
        for server in plan.servers:
            local = server.backend.local
            assert local is not None  # planned only when it has a local server
            host = LocalHost(
                root=plan.root,
                folder=plan.folder,
                names=plan.names,
                port=server.port,
                settings=server.settings,
                say=say,
            )
            storage.servers[server.backend.name] = local.start(server.declarations, host)
        if plan.events_port is not None:
            storage.events = start_events_server(
                plan.folder, plan.names, plan.events_port, plan.manifest, say, plan.root
            )
        storage.state = LocalStorageState(
            pid=os.getpid(),
            backends={
                name: running.state.model_dump(mode="json")
                for name, running in storage.servers.items()
            },
            events=storage.events.state if storage.events is not None else None,
        )
        write_state(plan.root, storage.state)
        assert storage.lock is not None
        storage.lock.describe(**_where(storage))
    except BaseException:
        storage.close()
        raise
    return storage


def _take_the_lock(plan: LocalStoragePlan) -> ServerLock:
    """The workspace's `db` lock, or a StorageError naming the `db` that holds it."""
    found = acquire(plan.folder, LOCK)
    if isinstance(found, ServerLock):
        return found
    raise StorageError(
        f"the local servers of this workspace are already running ({_describe(found)})",
        path=lock_path(plan.folder, LOCK),
        hint=f"use them (serve and invoke find them by themselves), or stop that `lambdapress "
        f"db` first: {found.stop_hint()}",
    )


def _describe(holder: Holder) -> str:
    who = f"lambdapress db, process {holder.pid}" if holder.pid else "a `lambdapress db` starting"
    where = ", ".join(f"{name} on {at}" for name, at in sorted(holder.details.items()))
    return f"{who}; {where}" if where else who


def _where(storage: LocalStorage) -> dict[str, str]:
    """What the lock says about the running servers: each backend's label and address."""
    labels = {server.backend.name: server.backend.label for server in storage.plan.servers}
    where = {labels[name]: running.address for name, running in storage.servers.items()}
    if storage.events is not None:
        where["Events"] = storage.events.endpoint.url
    return where
