"""`lambdapress db`: the local servers every storage service of the workspace needs, started once.

    plan = plan_local_storage(workspace, port=None, dynamodb_port=None)
    with start_local_storage(plan) as running:   # servers up, databases migrated, tables made
        running.state                            # what serve and invoke read

The pipeline, each step a small function: plan (which services need what, which ports) ->
PostgreSQL (initdb once, start, one database per postgres service, its migrations) -> moto's
server (each dynamodb service's tables) -> the state file. Leaving the `with` block removes the
state file first (so no function is sent to a server that is going away), then stops the
servers. Only the servers the workspace needs are started.

One `db` per workspace: the first step takes `.cache/lambdapress/db/db.lock` (see
`server_lock`), held until the servers have stopped. A second start, even at the same instant,
is refused at once, naming the running process and how to stop it (the running servers are
already the ones serve and invoke use; another set on other ports could not share the data
folder). After a `db` killed outright the lock is free again; a PostgreSQL it left on the data
folder (still shutting down: it is told to stop when its parent dies) is stopped first, and a
state file naming a dead process is ignored and replaced.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lambdapress.config.project import project_name
from lambdapress.config.storage_settings import TableSettings
from lambdapress.config.workspace import Workspace
from lambdapress.errors import StorageError
from lambdapress.storage.dynamodb import REGION, MotoServer, create_tables, start_moto
from lambdapress.storage.environment import local_table_name
from lambdapress.storage.migrations import (
    Migration,
    MigrationReport,
    apply_migrations,
    create_database,
    find_migrations,
)
from lambdapress.storage.postgres import HOST, PostgresServer, database_url, start_postgres
from lambdapress.storage.state import (
    LocalStorageState,
    db_folder,
    read_state,
    remove_state,
    write_state,
)
from lambdapress.support.closing import ClosesOnExit
from lambdapress.support.lifetime import running
from lambdapress.support.server_lock import Holder, ServerLock, acquire, lock_path

Progress = Callable[[str], None]
LOCK = "db"
"""`<db folder>/db.lock`: held by the running `lambdapress db`."""
ORPHAN_WAIT = 30.0
"""Seconds to wait for a PostgreSQL left by a killed `db` to finish shutting down."""


@dataclass(frozen=True)
class PostgresService:
    """A service on PostgreSQL: its database and its migrations."""

    service: str
    database: str
    migrations: tuple[Migration, ...]


@dataclass(frozen=True)
class DynamoService:
    """A service on DynamoDB: its tables, by declared name -> (physical name, key schema)."""

    service: str
    tables: dict[str, tuple[str, TableSettings]]


@dataclass(frozen=True)
class LocalStoragePlan:
    """What `lambdapress db` will start, where, and for which services."""

    root: Path
    folder: Path
    postgres: tuple[PostgresService, ...]
    dynamodb: tuple[DynamoService, ...]
    postgres_port: int
    dynamodb_port: int
    settings: dict[str, str] = field(default_factory=dict)
    """Extra PostgreSQL server parameters (max_connections, ...)."""


def plan_local_storage(
    workspace: Workspace,
    *,
    port: int | None = None,
    dynamodb_port: int | None = None,
    settings: dict[str, str] | None = None,
) -> LocalStoragePlan:
    """Which servers the workspace's services need; `None` ports mean any free one."""
    postgres: list[PostgresService] = []
    dynamodb: list[DynamoService] = []
    project = project_name(workspace.root)
    for service in workspace.services:
        storage = service.settings.storage
        if storage.kind == "postgres":
            postgres.append(
                PostgresService(service.name, service.name, find_migrations(service.path))
            )
        elif storage.kind == "dynamodb":
            tables = {
                name: (local_table_name(project, service.name, name), table)
                for name, table in storage.tables.items()
            }
            dynamodb.append(DynamoService(service.name, tables))
    if not postgres and not dynamodb:
        raise StorageError(
            "no service of this workspace keeps its data in PostgreSQL or DynamoDB",
            path=workspace.root / "services",
            hint="declare it in a service's pyproject.toml: [tool.lambdapress.storage] kind = "
            '"postgres" (or "dynamodb" with [tool.lambdapress.storage.tables.NAME])',
        )
    return LocalStoragePlan(
        root=workspace.root,
        folder=db_folder(workspace.root),
        postgres=tuple(postgres),
        dynamodb=tuple(dynamodb),
        postgres_port=port or free_port(),
        dynamodb_port=dynamodb_port or free_port(),
        settings=dict(settings or {}),
    )


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


class LocalStorage(ClosesOnExit):
    """The running servers of one `lambdapress db`, and what was done to them."""

    def __init__(self, plan: LocalStoragePlan, lock: ServerLock | None = None) -> None:
        self.plan = plan
        self.lock = lock
        self.postgres: PostgresServer | None = None
        self.moto: MotoServer | None = None
        self.migrations: dict[str, MigrationReport] = {}
        self.created_databases: list[str] = []
        self.created_tables: list[str] = []
        self.state: LocalStorageState | None = None

    def close(self) -> None:
        """Withdraw the state file, then stop moto and PostgreSQL."""
        if self.state is not None:
            remove_state(self.plan.root, self.state.pid)
            self.state = None
        try:
            if self.moto is not None:
                self.moto.stop()
            if self.postgres is not None:
                self.postgres.stop()
        finally:
            if self.lock is not None:  # only once nothing of ours runs on the data folder
                self.lock.release()


def start_local_storage(
    plan: LocalStoragePlan, on_progress: Progress | None = None
) -> LocalStorage:
    """Start what `plan` needs, prepare every service's database or tables, publish the state."""
    say = on_progress or (lambda _: None)
    storage = LocalStorage(plan, _take_the_lock(plan))
    try:
        _stop_an_orphaned_postgres(plan.folder / "postgres", say)
        if plan.postgres:
            say(f"PostgreSQL: starting on {HOST}:{plan.postgres_port}")
            storage.postgres = start_postgres(
                plan.folder / "postgres", plan.postgres_port, settings=plan.settings
            )
            _prepare_databases(storage, storage.postgres, say)
        if plan.dynamodb:
            say(f"DynamoDB (moto): starting on {HOST}:{plan.dynamodb_port}")
            storage.moto = start_moto(plan.dynamodb_port, plan.folder / "moto.log")
            _prepare_tables(storage, storage.moto)
        storage.state = _state_of(storage)
        write_state(plan.root, storage.state)
        assert storage.lock is not None
        storage.lock.describe(**_where(storage.state))
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


def _where(state: LocalStorageState) -> dict[str, str]:
    where = {}
    if state.postgres_port is not None:
        where["PostgreSQL"] = f"{HOST}:{state.postgres_port}"
    if state.dynamodb_endpoint is not None:
        where["DynamoDB"] = state.dynamodb_endpoint
    return where


def _serves(pid: int, data: Path) -> bool:
    """Whether `pid` is a PostgreSQL server on `data` (its command line says so; Linux).

    A pid in a stale postmaster.pid may have been reused by any process since: only a server
    whose command line names this data folder is ever signalled.
    """
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return str(data).encode() in arguments and any(b"postgres" in a for a in arguments[:1])


def _stop_an_orphaned_postgres(data: Path, say: Progress) -> None:
    """Stop a PostgreSQL still running on `data` although no `db` holds the lock.

    Only a `db` killed outright leaves one: its server was told to stop (PDEATHSIG) and may
    still be shutting down. It holds the data folder until it exits, so a new server could not
    start there; it is ours, so it gets a fast shutdown (SIGINT) and is waited for.
    """
    try:
        pid = int((data / "postmaster.pid").read_text(encoding="utf-8").split()[0])
    except (OSError, ValueError, IndexError):
        return
    if pid <= 0 or pid == os.getpid() or not running(pid) or not _serves(pid, data):
        return
    say(f"PostgreSQL: stopping the server a killed `lambdapress db` left (process {pid})")
    try:
        os.kill(pid, signal.SIGINT)
    except OSError:
        return
    deadline = time.monotonic() + ORPHAN_WAIT
    while running(pid):
        if time.monotonic() > deadline:
            raise StorageError(
                f"a PostgreSQL left by an earlier `lambdapress db` (process {pid}) still runs "
                f"on {data}",
                path=data / "postmaster.pid",
                hint=f"stop it (`kill {pid}`), then start `lambdapress db` again",
            )
        time.sleep(0.1)


def _prepare_databases(storage: LocalStorage, server: PostgresServer, say: Progress) -> None:
    for service in storage.plan.postgres:
        if create_database(server.url(), service.database):
            storage.created_databases.append(service.database)
        report = apply_migrations(server.url(service.database), service.migrations)
        storage.migrations[service.service] = report
        if report.applied:
            say(f"{service.service}: applied migrations {report.applied_text()}")


def _prepare_tables(storage: LocalStorage, server: MotoServer) -> None:
    wanted = {
        physical: table
        for service in storage.plan.dynamodb
        for physical, table in service.tables.values()
    }
    storage.created_tables += create_tables(server.endpoint, wanted)


def _state_of(storage: LocalStorage) -> LocalStorageState:
    plan = storage.plan
    return LocalStorageState(
        pid=os.getpid(),
        postgres_port=storage.postgres.port if storage.postgres else None,
        dynamodb_endpoint=storage.moto.endpoint if storage.moto else None,
        region=REGION,
        databases={s.service: database_url(plan.postgres_port, s.database) for s in plan.postgres},
        tables={
            s.service: {name: physical for name, (physical, _) in s.tables.items()}
            for s in plan.dynamodb
        },
    )


def migrate(
    workspace: Workspace, *, url: str | None = None, service: str | None = None
) -> dict[str, MigrationReport]:
    """`lambdapress db --migrate`: apply pending migrations without restarting anything.

    To the running local servers (their state file), or with `url` to any database (then
    `service` names whose migrations, unless only one service is on PostgreSQL).
    """
    services = [s for s in workspace.services if s.settings.storage.kind == "postgres"]
    if service is not None:
        services = [s for s in services if s.name == service]
        if not services:
            raise StorageError(
                f"{service!r} is not a service on PostgreSQL",
                hint='name a service whose [tool.lambdapress.storage] kind is "postgres"',
            )
    if not services:
        raise StorageError(
            "no service of this workspace keeps its data in PostgreSQL",
            hint='declare one: [tool.lambdapress.storage] kind = "postgres"',
        )
    if url is not None:
        if len(services) > 1:
            names = ", ".join(s.name for s in services)
            raise StorageError(
                f"--database-url is one database; these services each have their own: {names}",
                hint="add --service NAME",
            )
        return {services[0].name: apply_migrations(url, find_migrations(services[0].path))}
    state = read_state(workspace.root)
    if state is None:
        raise StorageError(
            "the local servers are not running",
            hint="start them with `nox -s db` (that also migrates), or pass --database-url",
        )
    reports: dict[str, MigrationReport] = {}
    for member in services:
        target = state.databases.get(member.name)
        if target is None:
            raise StorageError(
                f"the running local servers have no database for {member.name}",
                hint="restart `nox -s db` so it creates it",
            )
        reports[member.name] = apply_migrations(target, find_migrations(member.path))
    return reports
