"""A stage's private network, database proxy and custom domain: three sub-tables of a stage.

```toml
[tool.lambdapress.deploy.stages.prod.network]
subnets = ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"]  # or one of:
# subnets = { import = "shared-vpc-PrivateSubnets" }     # a CloudFormation export, comma-joined
# subnets = { ssm = "/acme/prod/subnets" }               # an SSM StringList parameter
security-groups = ["sg-0123456789abcdef0"]                # the same three forms
endpoints = ["dynamodb", "secretsmanager"]  # the VPC endpoints the network has
nat = false                                 # whether the subnets route to a NAT gateway

[tool.lambdapress.deploy.stages.prod.database]
proxy = true                                # an RDS Proxy in front of the database
instance = "acme-prod"                      # or cluster = "acme-prod" (Aurora)
secret-arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:acme/prod/db-AbCdEf"
user = "app"                                # the database user the functions connect as
# kms-key-arn = "arn:aws:kms:..."           # the secret's key, when not AWS's own

[tool.lambdapress.deploy.stages.prod.domain]
name = "api.example.com"
certificate-arn = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-..."
base-path = "v1"                            # optional: https://api.example.com/v1
hosted-zone-id = "Z0123456789ABCDEFGHIJ"    # optional: the DNS record too (Route 53)
```

The network and the database are the team's: the stack never creates a VPC, a subnet or a
database, it places functions in the network it is given and fronts the database it is told
about. Subnets and security groups are named by ID, or by where another stack or the platform
team publishes them (an export, a parameter), so one project deploys to accounts whose IDs
differ without a copy of the settings per account. Which functions join the network is the
model's (`deploy.template_network`): those with PostgreSQL storage, unless a function says
otherwise (`[tool.lambdapress.functions.<handler>] vpc = true|false`).

The endpoints and the NAT are declared, not discovered: a function in a private subnet reaches
an AWS API only through one of them, and `deploy --plan` warns about a function that needs one
the stage does not declare, before a timeout in production says so.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SUBNET_ID = re.compile(r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$")
SECURITY_GROUP_ID = re.compile(r"^sg-([0-9a-f]{8}|[0-9a-f]{17})$")
# CloudFormation export names: letters, digits, colons and dashes, 255 at most.
_EXPORT_NAME = re.compile(r"^[A-Za-z0-9:-]{1,255}$")
# SSM parameter names: letters, digits, `_.-` and `/` for the hierarchy; 2048 at most.
_PARAMETER_NAME = re.compile(r"^[A-Za-z0-9_.\-/]{1,2048}$")
_HOSTNAME = re.compile(
    r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"
)
_CERTIFICATE_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$")
_SECRET_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[^\s]+$")
# API Gateway's ApiMappingKey: path segments of letters, digits and `$-_.+!*'()`.
_BASE_PATH = re.compile(r"^[A-Za-z0-9$_.+!*'()-]+(/[A-Za-z0-9$_.+!*'()-]+)*$")
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
_HOSTED_ZONE = re.compile(r"^Z[A-Z0-9]{1,31}$")
# RDS identifiers: a letter, then letters, digits and single dashes, 63 at most.
_DB_IDENTIFIER = re.compile(r"^[A-Za-z](-?[A-Za-z0-9])*$")
_DB_USER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")
DATABASE_PROXY_HOST_ENV = "DATABASE_PROXY_HOST"
"""The proxy's endpoint on PostgreSQL functions of a stage with `database.proxy`: the runtime
(`lambdapress_runtime.secrets`) then connects through it with an IAM token."""
MAX_SUBNETS = 16
"""Lambda's limit of subnets per function (VpcConfig)."""
MAX_SECURITY_GROUPS = 5
"""Lambda's limit of security groups per function (VpcConfig)."""

Endpoint = Literal[
    "dynamodb", "s3", "sqs", "sns", "secretsmanager", "ssm", "events", "kms", "sts", "lambda",
    "monitoring", "xray", "states",
]  # fmt: skip
"""A VPC endpoint's service, as AWS names it (`com.amazonaws.<region>.<service>`)."""


class FromExport(BaseModel):
    """`{ import = "shared-vpc-PrivateSubnets" }`: IDs another stack exports, comma-joined."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, populate_by_name=True)

    export: str = Field(alias="import")

    @field_validator("export")
    @classmethod
    def _check(cls, value: str) -> str:
        if not _EXPORT_NAME.match(value):
            raise ValueError(
                f"{value!r} is not a CloudFormation export name (letters, digits, ':' and '-')"
            )
        return value


class FromParameter(BaseModel):
    """`{ ssm = "/acme/prod/subnets" }`: IDs in an SSM parameter (a StringList)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    ssm: str

    @field_validator("ssm")
    @classmethod
    def _check(cls, value: str) -> str:
        if not _PARAMETER_NAME.match(value):
            raise ValueError(
                f"{value!r} is not an SSM parameter name (letters, digits, '_.-' and '/')"
            )
        return value


IdSource = list[str] | FromExport | FromParameter
"""IDs as written, or where to find them at deploy time."""


def _check_ids(value: IdSource, pattern: re.Pattern[str], what: str, most: int) -> IdSource:
    if not isinstance(value, list):
        return value
    if not value or len(value) > most:
        raise ValueError(f"name 1 to {most} {what}s (Lambda's limit)")
    for item in value:
        if not pattern.match(item):
            raise ValueError(f"{item!r} is not a {what} ID")
    if len(set(value)) != len(value):
        raise ValueError(f"a {what} is named twice")
    return value


class NetworkSettings(BaseModel):
    """`[...stages.<stage>.network]`: the subnets and security groups functions run in."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, populate_by_name=True)

    subnets: IdSource
    security_groups: IdSource = Field(alias="security-groups")
    endpoints: list[Endpoint] = Field(default_factory=list)
    """The AWS services the network reaches through a VPC endpoint."""
    nat: bool = False
    """Whether the subnets reach the internet (every AWS API) through a NAT gateway."""

    @field_validator("subnets")
    @classmethod
    def _check_subnets(cls, value: IdSource) -> IdSource:
        return _check_ids(value, SUBNET_ID, "subnet", MAX_SUBNETS)

    @field_validator("security_groups")
    @classmethod
    def _check_groups(cls, value: IdSource) -> IdSource:
        return _check_ids(value, SECURITY_GROUP_ID, "security group", MAX_SECURITY_GROUPS)


class DatabaseSettings(BaseModel):
    """`[...stages.<stage>.database]`: an RDS Proxy with IAM auth in front of the database."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, populate_by_name=True)

    proxy: bool = False
    instance: str | None = None
    """The DB instance identifier behind the proxy."""
    cluster: str | None = None
    """The Aurora DB cluster identifier behind the proxy (instead of `instance`)."""
    secret_arn: str | None = Field(default=None, alias="secret-arn")
    """The secret holding the database user's name and password, which the proxy uses."""
    user: str | None = None
    """The database user the functions connect as (`rds-db:connect` names it)."""
    kms_key_arn: str | None = Field(default=None, alias="kms-key-arn")
    """The customer-managed KMS key the secret is encrypted with (none: AWS's own key)."""
    max_connections_percent: int = Field(default=100, ge=1, le=100, alias="max-connections-percent")
    """How much of the database's `max_connections` the proxy may open."""

    @field_validator("instance", "cluster")
    @classmethod
    def _check_identifier(cls, value: str | None) -> str | None:
        if value is not None and (len(value) > 63 or not _DB_IDENTIFIER.match(value)):
            raise ValueError(
                f"{value!r} is not an RDS identifier (a letter, then letters, digits and "
                "single dashes, 63 at most)"
            )
        return value

    @field_validator("secret_arn")
    @classmethod
    def _check_secret(cls, value: str | None) -> str | None:
        if value is not None and not _SECRET_ARN.match(value):
            raise ValueError(f"{value!r} is not a Secrets Manager secret's ARN")
        return value

    @field_validator("kms_key_arn")
    @classmethod
    def _check_key(cls, value: str | None) -> str | None:
        if value is not None and not _KMS_KEY_ARN.match(value):
            raise ValueError(
                f"{value!r} is not a KMS key's ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)"
            )
        return value

    @field_validator("user")
    @classmethod
    def _check_user(cls, value: str | None) -> str | None:
        if value is not None and not _DB_USER.match(value):
            raise ValueError(f"{value!r} is not a PostgreSQL user name")
        return value

    @model_validator(mode="after")
    def _a_proxy_names_its_database(self) -> DatabaseSettings:
        if not self.proxy:
            return self
        if (self.instance is None) == (self.cluster is None):
            raise ValueError("a proxy fronts one database: set instance or cluster (one of them)")
        given = (("secret-arn", self.secret_arn), ("user", self.user))
        missing = [key for key, value in given if value is None]
        if missing:
            raise ValueError(f"a proxy needs {' and '.join(missing)}")
        return self


class DomainSettings(BaseModel):
    """`[...stages.<stage>.domain]`: the HTTP API under a domain of the team's."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, populate_by_name=True)

    name: str
    certificate_arn: str = Field(alias="certificate-arn")
    """An ACM certificate for `name`, in the stack's region (a regional endpoint's rule)."""
    base_path: str | None = Field(default=None, alias="base-path")
    hosted_zone_id: str | None = Field(default=None, alias="hosted-zone-id")
    """A Route 53 hosted zone: the stack then writes the domain's alias record too."""

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _HOSTNAME.match(value):
            raise ValueError(f"{value!r} is not a lowercase domain name (api.example.com)")
        return value

    @field_validator("certificate_arn")
    @classmethod
    def _check_certificate(cls, value: str) -> str:
        if not _CERTIFICATE_ARN.match(value):
            raise ValueError(f"{value!r} is not an ACM certificate's ARN")
        return value

    @field_validator("base_path")
    @classmethod
    def _check_base_path(cls, value: str | None) -> str | None:
        if value is not None and not _BASE_PATH.match(value):
            raise ValueError(
                f"{value!r} is not a base path: segments without a leading or trailing '/' "
                "(v1, orders/v2)"
            )
        return value

    @field_validator("hosted_zone_id")
    @classmethod
    def _check_zone(cls, value: str | None) -> str | None:
        if value is not None and not _HOSTED_ZONE.match(value):
            raise ValueError(f"{value!r} is not a Route 53 hosted zone ID (Z...)")
        return value

    @property
    def url(self) -> str:
        """`https://api.example.com/v1`."""
        return f"https://{self.name}" + (f"/{self.base_path}" if self.base_path else "")


NETWORK_FIXES = {
    "network": 'write subnets = ["subnet-..."] and security-groups = ["sg-..."] (each also '
    '{ import = "EXPORT" } or { ssm = "/PARAMETER" }), endpoints = ["dynamodb", ...], nat',
    "database": 'write proxy = true, instance = "ID" (or cluster = "ID"), '
    'secret-arn = "arn:aws:secretsmanager:...", user = "NAME" (kms-key-arn optional); it needs a '
    "network table",
    "domain": 'write name = "api.example.com", certificate-arn = "arn:aws:acm:...", '
    'optional base-path = "v1" and hosted-zone-id = "Z..."',
}
"""How to write each table: the stage settings' fixes (`stage_settings.STAGE_FIXES`)."""
