"""`[tool.lambdapress.deploy]` in the root pyproject: what every stack of the project shares.

```toml
[tool.lambdapress.deploy]
project = "acme"                 # stack `<project>-<stage>`; default: the copier answer
                                 #   project_name, else the root folder's name
bucket = "acme-artifacts"        # the zips' bucket; default: deploy picks one per account
prefix = "lambdapress"           # keys `<prefix>/<service>/<sha256>.zip`
log-retention-days = 14          # the functions' and the API's log groups

[tool.lambdapress.deploy.stages.prod]   # optional: one table per stage that differs
production = true                # (`config.stage_settings`)
# [tool.lambdapress.deploy.stages.prod.network], .database, .domain: a private network, an RDS
# Proxy, a custom domain (`config.network_settings`)

[tool.lambdapress.deploy.stages.prod.hardening]   # kept data, keys, connection budget
kms-key = "create"               # (`config.hardening_settings`)

[tool.lambdapress.deploy.stages.prod.observability]   # tracing, the stage's dashboard
tracing = "xray"                 # (`config.observability_settings`)

[tool.lambdapress.deploy.cors]   # optional: the HTTP API answers preflight requests itself
allow-origins = ["https://app.example.com"]
allow-methods = ["GET", "POST"]
allow-headers = ["content-type", "authorization"]
max-age = 600
```

Everything is optional, so a project deploys without configuration; every key is validated
with AWS's own limits so a mistake is reported with the file, the key and the fix before any
CloudFormation call. The stage is not configuration: it is chosen per command (`--stage dev`)
and checked here with the same rules as the project name, since both end up in resource names.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lambdapress.config.authorizer_settings import (
    AUTHORIZERS_FIX,
    JwtAuthorizer,
    JwtAuthorizerTable,
    resolve_authorizers,
)
from lambdapress.config.aws_rules import is_bucket_name
from lambdapress.config.names import PROJECT_MAX, STAGE_MAX
from lambdapress.config.project import DEPLOY_TABLE, default_project
from lambdapress.config.pyproject import PYPROJECT, get_table, load_toml
from lambdapress.config.stage_settings import STAGE_FIXES, StageSettings
from lambdapress.config.validation import Source, config_error
from lambdapress.errors import ConfigError

# The retention periods CloudWatch Logs accepts (PutRetentionPolicy), in days.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)  # fmt: skip
DEFAULT_LOG_RETENTION_DAYS = 14
DEFAULT_PREFIX = "lambdapress"
# Lowercase words and single dashes: valid in stack, table, log group and bucket names alike.
_NAME = re.compile(r"^[a-z]([a-z0-9]|-(?=[a-z0-9]))*$")
_PREFIX = re.compile(r"^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$")
CorsMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "*"]

_FIX = {
    "project": "use lowercase letters, digits and single dashes, starting with a letter, "
    f"at most {PROJECT_MAX} characters (e.g. acme-platform)",
    "bucket": "use an S3 bucket name: 3 to 63 lowercase letters, digits, dots and dashes",
    "prefix": 'use a key prefix without leading or trailing slashes (e.g. "lambdapress")',
    "log-retention-days": f"use one of {', '.join(map(str, LOG_RETENTION_DAYS))}",
    "stages": "write [tool.lambdapress.deploy.stages.NAME] tables, NAME a stage "
    f"({', '.join(f'{key}: {fix}' for key, fix in STAGE_FIXES.items())})",
    "authorizers": AUTHORIZERS_FIX,
    "cors": 'write [tool.lambdapress.deploy.cors] with allow-origins = ["https://..."] '
    "(and allow-methods, allow-headers, expose-headers, max-age, allow-credentials)",
}


def check_name(value: str, what: str, longest: int) -> str:
    """A project or stage name: lowercase words joined by single dashes, `longest` at most."""
    if not _NAME.match(value) or len(value) > longest:
        raise ValueError(
            f"{value!r} is not a valid {what} name: lowercase letters, digits and single "
            f"dashes, starting with a letter, at most {longest} characters"
        )
    return value


def _any_method() -> list[CorsMethod]:
    return ["*"]


class CorsSettings(BaseModel):
    """The HTTP API's CORS configuration; API Gateway then answers preflight requests itself."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, populate_by_name=True)

    allow_origins: list[str] = Field(alias="allow-origins", min_length=1)
    allow_methods: list[CorsMethod] = Field(default_factory=_any_method, alias="allow-methods")
    allow_headers: list[str] = Field(default_factory=list, alias="allow-headers")
    expose_headers: list[str] = Field(default_factory=list, alias="expose-headers")
    max_age: int | None = Field(default=None, ge=0, le=86400, alias="max-age")
    allow_credentials: bool = Field(default=False, alias="allow-credentials")

    @field_validator("allow_origins")
    @classmethod
    def _check_origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin != "*" and not re.match(r"^https?://[^/\s]+$", origin):
                raise ValueError(
                    f"{origin!r} is not an origin: scheme and host, no path "
                    "(https://app.example.com), or '*'"
                )
        return value

    @model_validator(mode="after")
    def _credentials_need_origins(self) -> CorsSettings:
        if self.allow_credentials and "*" in self.allow_origins:
            raise ValueError(
                "allow-credentials = true needs named origins: browsers (and API Gateway) "
                "refuse credentials with allow-origins = ['*']"
            )
        return self

    def configuration(self) -> dict[str, Any]:
        """The `CorsConfiguration` property of an `AWS::ApiGatewayV2::Api`."""
        config: dict[str, Any] = {
            "AllowOrigins": list(self.allow_origins),
            "AllowMethods": list(self.allow_methods),
            "AllowCredentials": self.allow_credentials,
        }
        if self.allow_headers:
            config["AllowHeaders"] = list(self.allow_headers)
        if self.expose_headers:
            config["ExposeHeaders"] = list(self.expose_headers)
        if self.max_age is not None:
            config["MaxAge"] = self.max_age
        return config


class DeployConfig(BaseModel):
    """The project's deploy settings, defaults filled in."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, populate_by_name=True)

    project: str
    """Stack `f"{project}-{stage}"`; also the first word of every physical name."""
    bucket: str | None = None
    """The artifact bucket; None: `deploy` picks `{project}-artifacts-{account}-{region}`."""
    prefix: str = DEFAULT_PREFIX
    log_retention_days: int = Field(default=DEFAULT_LOG_RETENTION_DAYS, alias="log-retention-days")
    cors: CorsSettings | None = None
    stages: dict[str, StageSettings] = Field(default_factory=dict)
    """The stages that differ from the defaults, by name."""
    authorizers: JwtAuthorizerTable = Field(default_factory=dict)
    """JWT authorizers every stage has, unless its own table overrides them."""

    @field_validator("project")
    @classmethod
    def _check_project(cls, value: str) -> str:
        return check_name(value, "project", PROJECT_MAX)

    @field_validator("bucket")
    @classmethod
    def _check_bucket(cls, value: str | None) -> str | None:
        if value is not None and not is_bucket_name(value):
            raise ValueError(f"{value!r} is not an S3 bucket name")
        return value

    @field_validator("prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if not _PREFIX.match(value) or ".." in value.split("/"):
            raise ValueError(f"{value!r} is not a key prefix")
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _check_retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(f"CloudWatch Logs keeps logs for set periods only, not {value} days")
        return value

    @field_validator("stages")
    @classmethod
    def _check_stages(cls, value: dict[str, StageSettings]) -> dict[str, StageSettings]:
        for stage in value:
            check_name(stage, "stage", STAGE_MAX)
        return value

    @model_validator(mode="after")
    def _authorizers_complete(self) -> DeployConfig:
        """Every stage named, and every other one, gets an issuer and audiences for each."""
        for stage, settings in self.stages.items():
            resolve_authorizers(self.authorizers, settings.authorizers, stage)
        resolve_authorizers(self.authorizers, {}, None)
        return self

    def jwt_authorizers(self, stage: str) -> dict[str, JwtAuthorizer]:
        """The JWT authorizers of `stage`, the project's overridden by the stage's table."""
        own = self.stages.get(check_stage(stage), StageSettings()).authorizers
        return resolve_authorizers(self.authorizers, own, stage)

    def stage_settings(self, stage: str) -> StageSettings:
        """The settings of `stage`: its table's, else the defaults; `production` decided."""
        return self.stages.get(check_stage(stage), StageSettings()).resolved(stage)

    def stack_name(self, stage: str) -> str:
        """The CloudFormation stack of one stage."""
        return f"{self.project}-{check_stage(stage)}"


def check_stage(stage: str) -> str:
    """The stage as given, or a ConfigError that says what a stage may be called."""
    try:
        return check_name(stage, "stage", STAGE_MAX)
    except ValueError as problem:
        raise ConfigError(
            str(problem), hint="pass a short lowercase name, e.g. --stage dev"
        ) from None


def load_deploy_config(root: Path) -> DeployConfig:
    """Read `[tool.lambdapress.deploy]` of the root pyproject (absent: every default)."""
    path = root / PYPROJECT
    table = get_table(load_toml(path), DEPLOY_TABLE, path) or {}
    return parse_deploy_config(table, path, default_project(root))


def parse_deploy_config(table: dict[str, Any], path: Path, project: str) -> DeployConfig:
    """Validate an already read table; `project` is used when the table does not name one."""
    try:
        return DeployConfig.model_validate({"project": project, **table})
    except ValidationError as exc:
        source = Source(path, tuple(DEPLOY_TABLE.split(".")), table, fixes=_FIX, known=list(_FIX))
        error = config_error(exc, source, f"invalid [{DEPLOY_TABLE}] settings")
        if "project" not in table and any(e["loc"][:1] == ("project",) for e in exc.errors()):
            error.hint = (
                f"the default project name {project!r} (from the folder's name) is not usable: "
                f'set project = "..." in [{DEPLOY_TABLE}]'
            )
        error.hint = _stage_table_fix(exc) or error.hint
        raise error from None


def _stage_table_fix(exc: ValidationError) -> str | None:
    """The fix of the stage sub-tables the errors are in, when they all are in known ones.

    Every stage sub-table has its fix (`STAGE_FIXES`); naming only the one at fault keeps the
    hint short as stages gain tables.
    """
    keys = set()
    for error in exc.errors():
        loc = error["loc"]
        if loc[:1] != ("stages",) or len(loc) < 3 or str(loc[2]) not in STAGE_FIXES:
            return None
        keys.add(str(loc[2]))
    return "; ".join(f"{key}: {STAGE_FIXES[key]}" for key in sorted(keys)) or None
