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


def plan_local_storage(
    workspace: Workspace,
    *,
    ports: Mapping[str, int | None] | None = None,
    settings: Mapping[str, Mapping[str, str]] | None = None,
) -> LocalStoragePlan:
    """Which servers the workspace's services need; a backend without a port gets a free one.

    `ports` and `settings` (server parameters) are by backend name. Every service's storage
    declaration is validated by its backend here, so a wrong key stops `db` at its line.
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
    if not servers:
        local = [b for b in storage_backends() if b.local is not None]
        raise StorageError(
            "no service of this workspace keeps its data where `lambdapress db` serves it "
            f"({' or '.join(b.label for b in local)})",
            path=workspace.root / "services",
            hint="declare it in a service's pyproject.toml: [tool.lambdapress.storage] kind = "
            + " or ".join(f'"{b.name}"' for b in local),
        )
    return LocalStoragePlan(
        root=workspace.root,
        folder=db_folder(workspace.root),
        names=StageNames(project_name(workspace.root), LOCAL_STAGE),
        servers=servers,
    )


class LocalStorage(ClosesOnExit):
    """The running servers of one `lambdapress db`, by backend name."""

    def __init__(self, plan: LocalStoragePlan, lock: ServerLock | None = None) -> None:
        self.plan = plan
        self.lock = lock
        self.servers: dict[str, LocalServer] = {}
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
        finally:
            if self.lock is not None:  # only once nothing of ours runs on the data folder
                self.lock.release()

    def report(self) -> tuple[str, ...]:
        """What each server says about itself, in the order they started."""
        return tuple(line for server in self.servers.values() for line in server.report())


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
        storage.state = LocalStorageState(
            pid=os.getpid(),
            backends={
                name: running.state.model_dump(mode="json")
                for name, running in storage.servers.items()
            },
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
    return {labels[name]: running.address for name, running in storage.servers.items()}
