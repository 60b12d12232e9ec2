"""DynamoDB Streams: each change to a table of the service's storage reaches the function.

Declared in the handler module (`lambdapress_runtime.triggers`):

    from lambdapress_runtime import triggers

    @triggers.dynamodb_stream("inventory", batch_size=100, starting_position="TRIM_HORIZON",
                              bisect_on_error=True, max_retries=3)
    def handler(event, context): ...

The table is one of the service's own DynamoDB tables, with a stream
(`[tool.lambdapress.storage.tables.inventory] stream = "NEW_AND_OLD_IMAGES"`): a stream is read
by the service that owns the table, so it is named without a service.

Checked at package time, with the file, the line and the fix: the table is the service's own,
its storage is DynamoDB, and the table has a stream.

Permissions: the consumer describes and reads the table's stream and lists streams, on that
table's stream only (never its items: those come with the service's storage). Rendered by
deploy (an event source mapping), delivered locally on moto's server, sampled by the emulator
(`_event_kind`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from lambdapress.config.pyproject import find_key_line
from lambdapress.errors import BundleError
from lambdapress.model.permissions import Permission, stream_ref
from lambdapress.model.resources import DynamoDBTable
from lambdapress.model.trigger_kinds import CheckContext, Declared, HandlerSource
from lambdapress.model.triggers import DynamoDBStreamTrigger
from lambdapress.triggers._declarations import Decoration, declarations
from lambdapress.triggers._event_kind import EventKind
from lambdapress.triggers._references import trigger

STREAM_ACTIONS: Final = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)
"""What Lambda's event source mapping does with a table's stream, as the function's role."""
TABLES_KEY: Final = ("tool", "lambdapress", "storage", "tables")
_TABLE = re.compile(r"[a-z][a-z0-9_]{0,47}")
"""A table's name as the DynamoDB backend declares it (`backends.dynamodb`)."""
_STREAM_FIX: Final = 'stream = "NEW_AND_OLD_IMAGES" (or "NEW_IMAGE", "OLD_IMAGE", "KEYS_ONLY")'


class DynamoDBStreamKind(EventKind[DynamoDBStreamTrigger]):
    """DynamoDB Streams (module doc)."""

    model = DynamoDBStreamTrigger

    def discover(self, source: HandlerSource) -> tuple[Declared[DynamoDBStreamTrigger], ...]:
        """The handler's `@triggers.dynamodb_stream(...)`, each naming its table by id."""
        found: list[Declared[DynamoDBStreamTrigger]] = []
        for decoration in declarations(source).of("dynamodb_stream"):
            values = dict(decoration.arguments)
            values["table"] = _table_id(source, decoration)
            found.append(trigger(source, DynamoDBStreamTrigger, decoration, values))
        return tuple(found)

    def check(
        self, declared: Sequence[Declared[DynamoDBStreamTrigger]], context: CheckContext
    ) -> None:
        """Each stream is of a DynamoDB table of the service's, which has one."""
        for found in declared:
            _check_table(found, context)

    def permissions(self, function: str, trigger: DynamoDBStreamTrigger) -> tuple[Permission, ...]:
        """Reading the table's stream, and only it."""
        return (
            Permission(
                actions=STREAM_ACTIONS,
                resources=(stream_ref(trigger.table),),
                reason=f"reads the stream of {trigger.table}",
            ),
        )


KIND = DynamoDBStreamKind()


def _table_id(source: HandlerSource, decoration: Decoration) -> str:
    table = decoration.arguments["table"]
    if isinstance(table, str) and "/" in table:
        owner = table.split("/", 1)[0]
        raise BundleError(
            f"@triggers.dynamodb_stream names {table!r}, a table of service {owner}: a stream "
            "is read by the service whose storage holds the table",
            path=source.path,
            line=decoration.line,
            hint=f"move this handler to service {owner} and name the table alone, or have "
            f"{owner} publish what changed (a topic or a bus) for this service",
        )
    if not isinstance(table, str) or _TABLE.fullmatch(table) is None:
        raise BundleError(
            f"@triggers.dynamodb_stream names {table!r}, which is not a table's name",
            path=source.path,
            line=decoration.line,
            hint="name one of the service's tables as [tool.lambdapress.storage.tables] "
            "declares it (lowercase letters, digits and underscores)",
        )
    return f"{source.service}/dynamodb-table/{table}"


def _check_table(found: Declared[DynamoDBStreamTrigger], context: CheckContext) -> None:
    service, _, name = found.trigger.table.split("/")
    facts = context.services.get(service)
    table = context.resources.get(found.trigger.table)
    if facts is None:  # the module's own service: known whenever a workspace is checked
        return
    pyproject = facts.pyproject
    if facts.storage != "dynamodb":
        raise BundleError(
            f"@triggers.dynamodb_stream names the table {name!r}, but service {service} keeps "
            f"its data in {facts.storage!r} storage: streams are DynamoDB's",
            path=found.path,
            line=found.line,
            hint=f'declare the table in {pyproject}: [tool.lambdapress.storage] kind = "dynamodb"'
            f', then [tool.lambdapress.storage.tables.{name}] partition_key = "id" and '
            f"{_STREAM_FIX}",
        )
    if not isinstance(table, DynamoDBTable):
        tables = sorted(
            r.name
            for r in context.resources.values()
            if isinstance(r, DynamoDBTable) and r.service == service
        )
        raise BundleError(
            f"@triggers.dynamodb_stream names the table {name!r}, which service {service} does "
            f"not declare (its tables: {', '.join(tables) or 'none'})",
            path=found.path,
            line=found.line,
            hint=f"name one of its tables, or declare [tool.lambdapress.storage.tables.{name}] "
            f"in {pyproject} with {_STREAM_FIX}",
        )
    if table.stream is None:
        line = find_key_line(pyproject, [*TABLES_KEY, name])
        raise BundleError(
            f"@triggers.dynamodb_stream names the table {name!r}, which has no stream",
            path=found.path,
            line=found.line,
            hint=f"add {_STREAM_FIX} to [tool.lambdapress.storage.tables.{name}] in "
            f"{pyproject}{f':{line}' if line else ''}",
        )
