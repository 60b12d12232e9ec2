"""`[tool.lambdapress.deploy.stages.<stage>]`: what differs between a project's stages.

```toml
[tool.lambdapress.deploy.stages.prod]
production = true        # default: true for a stage named like production (prod, live...)
```

The application model is stage-independent (`model.application`); a stage's stack is the model
plus these settings. Each concern of production (rollouts, alarms, networks, domains,
protection of data) is a table of its own under the stage, validated here with the rest of
`[tool.lambdapress.deploy]`, so a mistake names the file, the key and the fix before any AWS
call. A stage that is not listed gets every default: `dev` needs no configuration.

Whether a stage is production decides the defaults that cost money or slow a release down
(gradual rollouts, kept data), so it is explicit when a name does not say it.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lambdapress.config.authorizer_settings import (
    AUTHORIZERS_FIX,
    JwtAuthorizerTable,
)
from lambdapress.config.hardening_settings import HARDENING_FIX, HardeningSettings
from lambdapress.config.network_settings import (
    DATABASE_PROXY_HOST_ENV,
    NETWORK_FIXES,
    DatabaseSettings,
    DomainSettings,
    NetworkSettings,
)
from lambdapress.config.observability_settings import (
    OBSERVABILITY_FIX,
    TRACING_ENV,
    ObservabilitySettings,
)
from lambdapress.config.rollout_settings import ROLLOUT_FIXES, AlarmSettings, RolloutSettings

# Stage names that read as production: `prod`, `production`, `prd`, `live`, alone or as a
# dash-separated word (`eu-prod`, `prod-2`).
_PRODUCTION = re.compile(r"(^|-)(prod|production|prd|live)(-|$)")


def looks_like_production(stage: str) -> bool:
    """A stage named like production (prod, production, prd, live)."""
    return _PRODUCTION.search(stage) is not None


# What a stage's settings may add to a function's environment, at their longest, for Lambda's
# 4 KB that `package` checks before any stage is known: tracing's switch, and an RDS Proxy's
# endpoint (`<proxy>.proxy-<id>.<region>.rds.amazonaws.com`, well under 128 characters).
STAGE_VARIABLES_AT_LONGEST = {TRACING_ENV: "xray", DATABASE_PROXY_HOST_ENV: "h" * 128}


class StageSettings(BaseModel):
    """One stage's settings as written; `resolved` fills what the stage's name decides."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    production: bool | None = Field(
        default=None,
        description="production defaults (gradual rollouts, data kept on delete); "
        "default: whether the name reads as production",
    )
    rollout: RolloutSettings = Field(default_factory=RolloutSettings)
    """How a new version takes traffic (`rollout_settings`)."""
    alarms: AlarmSettings = Field(default_factory=AlarmSettings)
    """The thresholds of every function's alarms (`rollout_settings`)."""
    network: NetworkSettings | None = Field(
        default=None, description="the subnets and security groups of VPC functions"
    )
    database: DatabaseSettings | None = Field(
        default=None, description="an RDS Proxy in front of the PostgreSQL database"
    )
    domain: DomainSettings | None = Field(default=None, description="the HTTP API's custom domain")
    authorizers: JwtAuthorizerTable = Field(
        default_factory=dict,
        description="JWT authorizers of this stage: the project's, keys overridden "
        "(`config.authorizer_settings`)",
    )
    observability: ObservabilitySettings = Field(
        default_factory=ObservabilitySettings,
        description="tracing and the stage's dashboard (`config.observability_settings`)",
    )
    hardening: HardeningSettings = Field(default_factory=HardeningSettings)
    """Data kept on delete, KMS keys, the PostgreSQL connection budget (`hardening_settings`)."""

    @model_validator(mode="after")
    def _a_proxy_lives_in_the_network(self) -> StageSettings:
        if self.database is not None and self.database.proxy and self.network is None:
            raise ValueError(
                "database.proxy needs the stage's network table: the proxy is placed in its "
                "subnets, and only functions in the VPC can reach it"
            )
        return self

    def resolved(self, stage: str) -> StageSettings:
        """These settings with `production` decided (from the stage's name when not set)."""
        if self.production is not None:
            return self
        return self.model_copy(update={"production": looks_like_production(stage)})

    @property
    def is_production(self) -> bool:
        """Whether production defaults apply (call on `resolved` settings)."""
        return bool(self.production)


STAGE_FIXES = {
    "production": "write production = true or false",
    "observability": OBSERVABILITY_FIX,
    "authorizers": AUTHORIZERS_FIX,
    "hardening": HARDENING_FIX,
    **NETWORK_FIXES,
    **ROLLOUT_FIXES,
}
