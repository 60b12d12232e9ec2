"""PostgreSQL: a service's database, reached through its URL.

    [tool.lambdapress.storage]
    kind = "postgres"            # no other keys; SQL migrations in the service's migrations/

Deployed, the database lives outside the stack, its URL in the Secrets Manager secret
`<project>/<stage>/<service>/database-url`. Each function gets the secret's *name*
(`DATABASE_SECRET_NAME`, and `DATABASE_SECRET_MAX_AGE`), never the URL: the function reads it at
run time through `lambdapress_runtime.secrets.database_url()`, cached for that many seconds, so
neither the template nor the function's configuration holds the password, and a rotated
password is seen after the cache's max age without a redeploy. Its role may read exactly that
secret (`secretsmanager:GetSecretValue` on `...:secret:<name>-??????`). Locally, `lambdapress
db` runs PostgreSQL on 127.0.0.1 (the server, the migrations: `lambdapress.storage`), one
database per service, migrated, and functions get its `DATABASE_URL` (which the runtime
prefers); without it, the caller's own `DATABASE_URL` is used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from lambdapress.config.workspace import Workspace
from lambdapress.errors import StorageError
from lambdapress.model.config_resources import SECRET_ACTIONS, SECRET_SUFFIX
from lambdapress.model.permissions import Access, Permission, resource_ref
from lambdapress.model.resources import PostgresDatabase, Resource
from lambdapress.model.storage_backends import (
    EnvironmentBudget,
    LocalHost,
    LocalLookup,
    Stack,
    StackBuilder,
    StageNames,
    StartedServer,
    StorageBackend,
    StorageDeclaration,
    Unavailable,
    storage_declaration,
)
from lambdapress.support.loopback import LOOPBACK

if TYPE_CHECKING:
    from lambdapress.storage.migrations import MigrationReport
    from lambdapress.storage.postgres import PostgresServer

DATABASE_URL_ENV = "DATABASE_URL"
"""The libpq connection URL a PostgreSQL service connects with locally (`lambdapress db`'s)."""
DATABASE_SECRET_ENV = "DATABASE_SECRET_NAME"  # noqa: S105  (a variable's name)
"""The name of the secret holding the URL, deployed (`lambdapress_runtime.secrets` reads it)."""
DATABASE_SECRET_MAX_AGE_ENV = "DATABASE_SECRET_MAX_AGE"  # noqa: S105
DATABASE_SECRET_MAX_AGE = 300
"""Seconds a function reuses the URL it read: a rotated password is seen within five minutes
(connections already open stay open; a new one is made with the new password)."""


def database_secret_name(project: str, stage: str, service: str) -> str:
    """The Secrets Manager secret holding a PostgreSQL service's `DATABASE_URL`."""
    return f"{project}/{stage}/{service}/database-url"


class PostgresSettings(BaseModel):
    """No keys besides `kind`: the database is named after the service."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PostgresState(BaseModel):
    """What a running `lambdapress db` records for `serve` and `invoke` (no secret)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    port: int = Field(ge=1, le=65535)
    databases: dict[str, str] = {}
    """service -> its database's libpq URL (trust authentication: no password)."""


@dataclass
class LocalPostgres(StartedServer):
    """The PostgreSQL of one `lambdapress db`, and what it did to each service's database."""

    server: PostgresServer
    databases: dict[str, str]
    migrations: dict[str, MigrationReport] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)

    @property
    def state(self) -> PostgresState:
        """The port and each service's URL."""
        return PostgresState(port=self.server.port, databases=self.databases)

    @property
    def address(self) -> str:
        """`127.0.0.1:PORT`."""
        return f"{self.server.host}:{self.server.port}"

    def report(self) -> tuple[str, ...]:
        """The server, its data and log, and each service's URL and migrations."""
        server = self.server
        lines = [f"PostgreSQL on {self.address} (data in {server.data}, log {server.log})"]
        for service, url in sorted(self.databases.items()):
            report = self.migrations.get(service)
            applied = len(report.applied) + len(report.already) if report else 0
            lines.append(f"  {service}: {DATABASE_URL_ENV}={url}  ({applied} migrations applied)")
        return tuple(lines)


class PostgresLocal:
    """`lambdapress db`'s part: the server, one database per service, its migrations applied."""

    state_model = PostgresState

    def start(
        self, declarations: Sequence[StorageDeclaration[PostgresSettings]], host: LocalHost
    ) -> LocalPostgres:
        """Stop a server a killed `db` left, start one, create and migrate the databases."""
        from lambdapress.storage.migrations import (
            apply_migrations,
            create_database,
            find_migrations,
        )
        from lambdapress.storage.postgres import (
            database_url,
            start_postgres,
            stop_orphaned_postgres,
        )

        data = host.folder / "postgres"
        stop_orphaned_postgres(data, host.say)
        host.say(f"PostgreSQL: starting on {LOOPBACK}:{host.port}")
        server = start_postgres(data, host.port, settings=host.settings)
        local = LocalPostgres(
            server, {d.service: database_url(host.port, d.service) for d in declarations}
        )
        try:
            for declaration in declarations:
                if create_database(server.url(), declaration.service):
                    local.created.append(declaration.service)
                report = apply_migrations(
                    server.url(declaration.service), find_migrations(declaration.folder)
                )
                local.migrations[declaration.service] = report
                if report.applied:
                    host.say(f"{declaration.service}: applied migrations {report.applied_text()}")
        except BaseException:
            server.stop()
            raise
        return local


class PostgresBackend:
    """`kind = "postgres"`."""

    name = "postgres"
    label = "PostgreSQL"
    resource_kinds: tuple[type[Resource], ...] = (PostgresDatabase,)
    settings_model = PostgresSettings
    settings_fixes: Mapping[str, str] = {}
    local = PostgresLocal()

    def check(self, declaration: StorageDeclaration[PostgresSettings], longest: StageNames) -> None:
        """Nothing the stack makes is named after it: the secret is the team's."""

    def resources(
        self, declaration: StorageDeclaration[PostgresSettings]
    ) -> tuple[PostgresDatabase, ...]:
        """The service's database, named after it, with its migrations folder if it has one."""
        from lambdapress.storage.migrations import MIGRATIONS_FOLDER  # not for `template`

        folder = declaration.folder / MIGRATIONS_FOLDER
        migrations = folder.relative_to(declaration.root).as_posix() if folder.is_dir() else None
        service = declaration.service
        return (PostgresDatabase(service=service, name=service, migrations=migrations),)

    def permissions(
        self, service: str, resources: Sequence[Resource], access: Access = "write"
    ) -> tuple[Permission, ...]:
        """Reading the database's secret (its URL), exactly that one.

        `access` changes nothing in IAM: what a PostgreSQL user may do is the database's
        grants (a read-only role's URL in its own secret), not the function's role.
        """
        return tuple(
            Permission(
                actions=SECRET_ACTIONS,
                resources=(resource_ref(database.id),),
                reason=f"reads the URL of {database.id}",
            )
            for database in resources
            if isinstance(database, PostgresDatabase)
        )

    def deployed_environment(self, resource: Resource, stack: Stack) -> Mapping[str, object]:
        """`DATABASE_SECRET_NAME` (the stage's secret's name) and its max age: no URL."""
        secret = database_secret_name(stack.project, stack.stage, resource.service)
        return {
            DATABASE_SECRET_ENV: secret,
            DATABASE_SECRET_MAX_AGE_ENV: str(DATABASE_SECRET_MAX_AGE),
        }

    def environment_budget(self, resource: Resource, longest: StageNames) -> EnvironmentBudget:
        """The secret's name with the longest project and stage."""
        secret = database_secret_name(longest.project, longest.stage, resource.service)
        return EnvironmentBudget(
            {
                DATABASE_SECRET_ENV: secret,
                DATABASE_SECRET_MAX_AGE_ENV: str(DATABASE_SECRET_MAX_AGE),
            }
        )

    def local_environment(
        self, resources: Sequence[Resource], lookup: LocalLookup
    ) -> Mapping[str, str] | Unavailable:
        """The running `db`'s URL for the service's database, or the caller's `DATABASE_URL`."""
        url = None
        if isinstance(lookup.state, PostgresState):  # one database per service: its name's
            url = next((lookup.state.databases.get(r.service) for r in resources), None)
        url = url or lookup.environ.get(DATABASE_URL_ENV)
        if not url:
            return Unavailable(self.label, DATABASE_URL_ENV)
        return {DATABASE_URL_ENV: url}

    def render(self, resource: Resource, stack: StackBuilder) -> None:
        """Nothing: the database lives outside the stack."""

    def arn(self, resource: Resource, stack: Stack) -> object | None:
        """The ARN of the database's secret: its name, then Secrets Manager's random suffix."""
        secret = database_secret_name(stack.project, stack.stage, resource.service)
        return {
            "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:"
            f"secret:{secret}{SECRET_SUFFIX}"
        }


BACKEND: StorageBackend[PostgresSettings] = PostgresBackend()


def migrate(
    workspace: Workspace, *, url: str | None = None, service: str | None = None
) -> dict[str, MigrationReport]:
    """`lambdapress db --migrate`: apply pending migrations without restarting anything.

    To the running local servers (their state file), or with `url` to any database (then
    `service` names whose migrations, unless only one service is on PostgreSQL).
    """
    from lambdapress.storage.migrations import apply_migrations, find_migrations
    from lambdapress.storage.state import backend_state, read_state

    services = [s for s in workspace.services if s.settings.storage.kind == BACKEND.name]
    for member in services:
        storage_declaration(member, workspace.root)  # its keys checked, as `db` checks them
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
    running = backend_state(state, BACKEND)
    databases = running.databases if isinstance(running, PostgresState) else {}
    reports: dict[str, MigrationReport] = {}
    for member in services:
        target = databases.get(member.name)
        if target is None:
            raise StorageError(
                f"the running local servers have no database for {member.name}",
                hint="restart `nox -s db` so it creates it",
            )
        reports[member.name] = apply_migrations(target, find_migrations(member.path))
    return reports
