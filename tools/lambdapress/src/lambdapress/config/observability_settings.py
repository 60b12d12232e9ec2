"""`[tool.lambdapress.deploy.stages.<stage>.observability]`: tracing and the stage's dashboard.

```toml
[tool.lambdapress.deploy.stages.prod.observability]
tracing = "xray"      # "xray" | "off"; default: "xray" on production stages, "off" elsewhere
dashboard = true      # one CloudWatch dashboard for the stage; default: true
```

Tracing defaults to on where it pays for itself: a production stage is where a slow request
has to be explained after the fact, and Lambda samples (the first request each second and 5%
of the rest), so X-Ray's price stays small (100,000 traces a month free, then $5 per million
recorded). A development stage is debugged under the emulator, so it records nothing unless
asked. The dashboard costs $3 a month beyond CloudWatch's three free ones, and is on for every
stage: the first look at a stage that misbehaves should not need writing CloudWatch by hand.
Log retention is `log-retention-days` of `[tool.lambdapress.deploy]`, shared by all stages.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Tracing = Literal["xray", "off"]

TRACING_ENV = "LAMBDAPRESS_TRACING"
"""Set to `xray` on the functions of a stage that traces, absent elsewhere: the service
template's `tracing.py` imports Powertools' Tracer (and the X-Ray SDK, about 135 ms of a cold
start) only when it is set, so an untraced stage does not pay for tracing it never does."""


class ObservabilitySettings(BaseModel):
    """What a stage records about its functions beyond their logs."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    tracing: Tracing | None = Field(
        default=None,
        description='"xray": active X-Ray tracing of every function; "off": none; '
        "default: xray on production stages, off elsewhere",
    )
    dashboard: bool = Field(
        default=True, description="one CloudWatch dashboard for the stage, a row per function"
    )

    def traced(self, production: bool) -> bool:
        """Whether the stage's functions are traced (`tracing`, else whether it is production)."""
        if self.tracing is None:
            return production
        return self.tracing == "xray"


OBSERVABILITY_FIX = (
    'write [tool.lambdapress.deploy.stages.NAME.observability] with tracing = "xray" or '
    '"off" and dashboard = true or false'
)
