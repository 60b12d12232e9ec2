"""The `[tool.lambdapress.storage]` table of a service: where its data lives.

One declaration serves three readers that must agree: the local servers (`lambdapress db`
creates the service's database or tables), the emulator (it passes the connection settings to
the functions through their environment) and the deploy template (it declares the tables and
grants the service's role access to them). Keeping the names of the environment variables here
means a handler, the emulator and CloudFormation can never disagree about them.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

StorageKind = Literal["postgres", "dynamodb", "memory"]

# The libpq connection URL a PostgreSQL service reads (psycopg.connect(os.environ[...])).
DATABASE_URL_ENV = "DATABASE_URL"

# The event a scheduled warm-up ping sends; the runtime answers it before any provider or
# business logic runs. The deploy template schedules exactly this payload.
WARMUP_EVENT: dict[str, str] = {"lambdapress": "warmup"}

_TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
_ATTRIBUTE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")


def table_env_name(table: str) -> str:
    """The variable holding a table's physical name: `customers` -> `CUSTOMERS_TABLE`."""
    return f"{table.upper()}_TABLE"


class TableSettings(BaseModel):
    """One DynamoDB table of a service: its key schema (string attributes)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    partition_key: str = Field(pattern=_ATTRIBUTE.pattern)
    sort_key: str | None = Field(default=None, pattern=_ATTRIBUTE.pattern)


class StorageSettings(BaseModel):
    """Where a service keeps its data; `memory` is one container's dict, for demos only."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: StorageKind = "memory"
    tables: dict[str, TableSettings] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _tables_match_kind(self) -> StorageSettings:
        if self.tables and self.kind != "dynamodb":
            raise ValueError(f'tables are declared but kind is "{self.kind}"; use "dynamodb"')
        if self.kind == "dynamodb" and not self.tables:
            raise ValueError(
                'kind "dynamodb" needs at least one table: '
                '[tool.lambdapress.storage.tables.NAME] partition_key = "id"'
            )
        for name in self.tables:
            if not _TABLE_NAME.match(name):
                raise ValueError(
                    f"{name!r} is not a table name: lowercase letters, digits and underscores, "
                    "starting with a letter"
                )
        return self


def physical_table_name(project: str, stage: str, service: str, table: str) -> str:
    """The table's name in an account: one per project, stage, service and table."""
    return f"{project}-{stage}-{service}-{table}".replace("_", "-")
