"""DynamoDB: a service's on-demand tables, each found through `<TABLE>_TABLE`.

    [tool.lambdapress.storage]
    kind = "dynamodb"
    [tool.lambdapress.storage.tables.customers]
    partition_key = "id"         # sort_key = "..." optional; string attributes

Deployed, the stack creates each table (named `<project>-<stage>-<service>-<table>`), gives
each function of the service `<TABLE>_TABLE` (the table's name, a `Ref`) and lets it do with
its items what a handler does (`DYNAMODB_ITEM_ACTIONS`; only the reads, `DYNAMODB_READ_ACTIONS`,
for a function whose triggers are GET or HEAD routes), on those tables only. Locally,
`lambdapress db` runs moto's server (`lambdapress.storage.dynamodb`) with the tables, named for
the stage `local`; functions reach it through boto3's `AWS_ENDPOINT_URL_DYNAMODB`, so the same
code runs unchanged on Lambda, where the variable is absent. Without a `db`, the caller's own
`AWS_ENDPOINT_URL_DYNAMODB` is used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from lambdapress.config.aws_rules import TABLE_NAME
from lambdapress.config.names import PROJECT_MAX, STAGE_MAX
from lambdapress.errors import BundleError
from lambdapress.model.permissions import Access, Permission, resource_ref
from lambdapress.model.resources import (
    DELETED_WITH_STACK,
    KEPT_WITH_STACK,
    AttributeName,
    DynamoDBTable,
    Resource,
    StreamView,
    table_definition,
)
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
)
from lambdapress.support.loopback import LOOPBACK

if TYPE_CHECKING:
    from lambdapress.storage.dynamodb import MotoServer

ENDPOINT_ENV = "AWS_ENDPOINT_URL_DYNAMODB"
"""boto3's variable for DynamoDB's endpoint: set locally, absent on Lambda."""
# What a handler does with its own items; no table management (CreateTable, DeleteTable...),
# no streams, no access to other tables.
DYNAMODB_ITEM_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:UpdateItem",
)
# What a handler that only reads does (`access = "read"`): the item reads, nothing that
# changes an item. ConditionCheckItem reads (it fails a transaction on a condition).
DYNAMODB_READ_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
)
_TABLE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
_TABLES_FIX = (
    'declare each table as [tool.lambdapress.storage.tables.NAME] with partition_key = "id" '
    '(and an optional sort_key, and stream = "NEW_AND_OLD_IMAGES", "NEW_IMAGE", '
    '"OLD_IMAGE" or "KEYS_ONLY" for a table whose changes trigger functions); NAME: lowercase '
    "letters, digits and underscores, starting with a letter"
)


def table_env_name(table: str) -> str:
    """The variable holding a table's physical name: `customers` -> `CUSTOMERS_TABLE`."""
    return f"{table.upper()}_TABLE"


def physical_table_name(project: str, stage: str, service: str, table: str) -> str:
    """The table's name in an account: one per project, stage, service and table."""
    return f"{project}-{stage}-{service}-{table}".replace("_", "-")


def _table_name(name: str) -> str:
    if not _TABLE.match(name):
        raise ValueError(
            f"{name!r} is not a table name: lowercase letters, digits and underscores, starting "
            "with a letter"
        )
    return name


class TableSettings(BaseModel):
    """One DynamoDB table of a service: its key schema (string attributes)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    partition_key: AttributeName
    sort_key: AttributeName | None = None
    stream: StreamView | None = None
    """What the table's DynamoDB stream carries (`"NEW_AND_OLD_IMAGES"`...); no stream when
    unset. A `@triggers.dynamodb_stream` on the table needs one."""


class DynamoDBSettings(BaseModel):
    """`tables`: at least one, by name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tables: dict[Annotated[str, AfterValidator(_table_name)], TableSettings] = Field(
        default_factory=dict, validate_default=True
    )

    @field_validator("tables")
    @classmethod
    def _at_least_one(cls, value: dict[str, TableSettings]) -> dict[str, TableSettings]:
        if not value:
            raise ValueError(
                'kind "dynamodb" needs at least one table: '
                '[tool.lambdapress.storage.tables.NAME] partition_key = "id"'
            )
        return value


class DynamoDBState(BaseModel):
    """What a running `lambdapress db` records for `serve` and `invoke`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoint: str
    region: str
    tables: dict[str, dict[str, str]] = {}
    """service -> table -> physical table name."""


@dataclass
class LocalTables(StartedServer):
    """The moto server of one `lambdapress db`, and the tables made in it."""

    server: MotoServer
    region: str
    tables: dict[str, dict[str, str]]
    created: tuple[str, ...] = field(default_factory=tuple)

    @property
    def state(self) -> DynamoDBState:
        """The endpoint and each service's tables."""
        return DynamoDBState(endpoint=self.server.endpoint, region=self.region, tables=self.tables)

    @property
    def address(self) -> str:
        """The endpoint's URL."""
        return self.server.endpoint

    def report(self) -> tuple[str, ...]:
        """The endpoint, and each service's tables."""
        lines = [f"DynamoDB (moto) on {self.address} (data in memory: empty at each start)"]
        for service, tables in sorted(self.tables.items()):
            for table, physical in sorted(tables.items()):
                lines.append(f"  {service}: table {table} = {physical}")
        return tuple(lines)


class DynamoDBLocal:
    """`lambdapress db`'s part: moto's server, with every service's tables."""

    state_model = DynamoDBState

    def start(
        self, declarations: Sequence[StorageDeclaration[DynamoDBSettings]], host: LocalHost
    ) -> LocalTables:
        """Start moto and create the tables that are not there, named for the local stage."""
        from lambdapress.storage.dynamodb import REGION, create_tables, start_moto

        host.say(f"DynamoDB (moto): starting on {LOOPBACK}:{host.port}")
        server = start_moto(host.port, host.folder / "moto.log")
        names = host.names
        tables = {
            d.service: {
                table: physical_table_name(names.project, names.stage, d.service, table)
                for table in d.settings.tables
            }
            for d in declarations
        }
        wanted = {
            tables[d.service][table]: settings
            for d in declarations
            for table, settings in d.settings.tables.items()
        }
        try:
            created = create_tables(server.endpoint, wanted)
        except BaseException:
            server.stop()
            raise
        return LocalTables(server, REGION, tables, created)


class DynamoDBBackend:
    """`kind = "dynamodb"`."""

    name = "dynamodb"
    label = "DynamoDB"
    resource_kinds: tuple[type[Resource], ...] = (DynamoDBTable,)
    settings_model = DynamoDBSettings
    settings_fixes: Mapping[str, str] = {"tables": _TABLES_FIX}
    local = DynamoDBLocal()

    def check(self, declaration: StorageDeclaration[DynamoDBSettings], longest: StageNames) -> None:
        """Each table's name in the account, as long as the longest project and stage make it."""
        for table in sorted(declaration.settings.tables):
            name = physical_table_name(longest.project, longest.stage, declaration.service, table)
            problem = TABLE_NAME.problem(name)
            if problem is not None:
                raise BundleError(
                    f"table {table!r} of service {declaration.service}: {problem} with a "
                    f"project and a stage of the longest names allowed ({PROJECT_MAX} and "
                    f"{STAGE_MAX} characters) ({TABLE_NAME.source})",
                    path=declaration.pyproject,
                    line=declaration.line_of("tables", table),
                    hint="shorten the table's or the service's name: the table is named "
                    "<project>-<stage>-<service>-<table>",
                )

    def resources(
        self, declaration: StorageDeclaration[DynamoDBSettings]
    ) -> tuple[DynamoDBTable, ...]:
        """One table resource per declared table, sorted by name."""
        return tuple(
            DynamoDBTable(
                service=declaration.service,
                name=name,
                partition_key=table.partition_key,
                sort_key=table.sort_key,
                stream=table.stream,
            )
            for name, table in sorted(declaration.settings.tables.items())
        )

    def permissions(
        self, service: str, resources: Sequence[Resource], access: Access = "write"
    ) -> tuple[Permission, ...]:
        """Item access to the service's tables (reads only for `read`), and nothing else."""
        actions: tuple[str, ...]
        if access == "read":
            actions, reason = DYNAMODB_READ_ACTIONS, f"reads the tables of service {service}"
        else:
            actions, reason = DYNAMODB_ITEM_ACTIONS, f"uses the tables of service {service}"
        return (
            Permission(
                actions=actions,
                resources=tuple(resource_ref(r.id) for r in resources),
                reason=reason,
            ),
        )

    def deployed_environment(self, resource: Resource, stack: Stack) -> Mapping[str, object]:
        """`<TABLE>_TABLE`: the table's name, a `Ref` of the stack's table."""
        return {table_env_name(resource.name): {"Ref": _table_id(resource, stack)}}

    def environment_budget(self, resource: Resource, longest: StageNames) -> EnvironmentBudget:
        """`<TABLE>_TABLE` with the table's name as long as it can be."""
        physical = physical_table_name(
            longest.project, longest.stage, resource.service, resource.name
        )
        return EnvironmentBudget(
            {table_env_name(resource.name): physical},
            "table names as long as the longest project and stage make them",
        )

    def local_environment(
        self, resources: Sequence[Resource], lookup: LocalLookup
    ) -> Mapping[str, str] | Unavailable:
        """moto's endpoint and each table's local name (the running `db`'s, or the caller's)."""
        state = lookup.state if isinstance(lookup.state, DynamoDBState) else None
        endpoint = (state.endpoint if state is not None else None) or lookup.environ.get(
            ENDPOINT_ENV
        )
        if not endpoint:
            return Unavailable(self.label, ENDPOINT_ENV)
        variables = {ENDPOINT_ENV: endpoint}
        for table in resources:
            running = (state.tables.get(table.service) if state is not None else None) or {}
            variables[table_env_name(table.name)] = running.get(table.name) or (
                physical_table_name(
                    lookup.names.project, lookup.names.stage, table.service, table.name
                )
            )
        return variables

    def render(self, resource: Resource, stack: StackBuilder) -> None:
        """An on-demand table with the declared string keys (and its stream, if declared).

        A stage that protects its data (production) keeps the table when the stack goes or
        the table is replaced, and turns on point-in-time recovery (35 days of continuous
        backups, priced per GB stored).
        """
        if not isinstance(resource, DynamoDBTable):
            raise TypeError(f"not a DynamoDB table: {resource.id}")
        properties: dict[str, Any] = {
            "TableName": physical_table_name(
                stack.project, stack.stage, resource.service, resource.name
            ),
            **table_definition(resource.partition_key, resource.sort_key, resource.stream),
            "Tags": stack.tags(resource.service),
        }
        protection = stack.protection
        if protection.point_in_time_recovery:
            properties["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
        stack.add(
            _table_id(resource, stack),
            {
                "Type": "AWS::DynamoDB::Table",
                **(KEPT_WITH_STACK if protection.retain else DELETED_WITH_STACK),
                "Properties": properties,
            },
            f"table {resource.name} of service {resource.service}",
        )

    def arn(self, resource: Resource, stack: Stack) -> object | None:
        """The stack's table's ARN."""
        return {"Fn::GetAtt": [_table_id(resource, stack), "Arn"]}


def _table_id(table: Resource, stack: Stack) -> str:
    """`CustomersCustomersTable` for the table `customers` of the service `customers`."""
    return stack.logical_id(f"{table.service}_{table.name}", "Table")


BACKEND: StorageBackend[DynamoDBSettings] = DynamoDBBackend()
