"""`[tool.lambdapress.deploy.stages.<stage>.hardening]`: data kept, keys, connection budgets.

```toml
[tool.lambdapress.deploy.stages.prod.hardening]
retain-data = true               # tables outlive the stack (DeletionPolicy Retain); default:
                                 #   on for production stages
point-in-time-recovery = true    # DynamoDB's continuous backups; default: on for production
kms-key = "create"               # or a key's ARN: logs and functions' variables encrypted with
                                 #   it; default: AWS's own keys
database-connections = 100       # each PostgreSQL database's max_connections; default: 100
                                 #   (PostgreSQL's default) on production, no cap elsewhere
connections-held-back = 10       # kept for migrations, psql and the admin (default: 10)
```

What a security review asks of a production stack, and what costs money or blocks a clean
`destroy` elsewhere, so each default follows whether the stage is production
(`stage_settings`). The connection budget caps PostgreSQL functions' reserved concurrency: one
connection per container, so `(database-connections - connections-held-back)` shared out
among the functions of that database, floor, bounds what a burst can open
(`deploy.concurrency`); an explicit `reserved_concurrency` of a function wins and is taken off
the budget first. Only production stages are capped by default: any reserved concurrency
fails to deploy in an account still on Lambda's starting quota (10 concurrent executions,
all of which must stay unreserved), which is where a first `dev` deploy often goes; a stage
that sets `database-connections` is capped too.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CREATE_KEY = "create"
"""`kms-key = "create"`: the stack makes one customer managed key for the stage."""
DEFAULT_DATABASE_CONNECTIONS = 100
"""PostgreSQL's default `max_connections`."""
DEFAULT_CONNECTIONS_HELD_BACK = 10
"""For migrations, a psql session and the provider's own (RDS keeps a few for rdsadmin)."""
# arn:<partition>:kms:<region>:<account>:key/<id> (an alias ARN is refused: log groups and
# functions take a key ARN only).
_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")


class HardeningSettings(BaseModel):
    """One stage's protection of data, encryption keys and database connection budget."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, populate_by_name=True)

    retain_data: bool | None = Field(default=None, alias="retain-data")
    point_in_time_recovery: bool | None = Field(default=None, alias="point-in-time-recovery")
    kms_key: str | None = Field(default=None, alias="kms-key")
    database_connections: int | None = Field(
        default=None, ge=1, le=262_143, alias="database-connections"
    )
    connections_held_back: int = Field(
        default=DEFAULT_CONNECTIONS_HELD_BACK, ge=0, alias="connections-held-back"
    )

    @field_validator("kms_key")
    @classmethod
    def _check_key(cls, value: str | None) -> str | None:
        if value is not None and value != CREATE_KEY and not _KEY_ARN.match(value):
            raise ValueError(
                f"{value!r} is neither {CREATE_KEY!r} nor a KMS key ARN "
                "(arn:aws:kms:REGION:ACCOUNT:key/ID)"
            )
        return value

    @model_validator(mode="after")
    def _budget_leaves_connections(self) -> HardeningSettings:
        total = self.database_connections or DEFAULT_DATABASE_CONNECTIONS
        if self.connections_held_back >= total:
            raise ValueError(
                f"connections-held-back ({self.connections_held_back}) leaves none of "
                f"database-connections ({total}) to the functions"
            )
        return self

    def retains_data(self, production: bool) -> bool:
        """Whether tables outlive the stack (set, else on for production)."""
        return production if self.retain_data is None else self.retain_data

    def recovers_to_a_point_in_time(self, production: bool) -> bool:
        """Whether tables keep continuous backups (set, else on for production)."""
        return production if self.point_in_time_recovery is None else self.point_in_time_recovery

    @property
    def creates_key(self) -> bool:
        """Whether the stack makes its own KMS key."""
        return self.kms_key == CREATE_KEY

    def connection_budget(self, production: bool) -> int | None:
        """Each PostgreSQL database's connections (set, else 100 on production, else None)."""
        if self.database_connections is not None:
            return self.database_connections
        return DEFAULT_DATABASE_CONNECTIONS if production else None


HARDENING_FIX = (
    "write [tool.lambdapress.deploy.stages.NAME.hardening] with retain-data and "
    'point-in-time-recovery (true or false), kms-key ("create" or a KMS key ARN), '
    "database-connections and connections-held-back (whole numbers, fewer held back)"
)
