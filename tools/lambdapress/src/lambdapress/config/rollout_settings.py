"""A stage's `rollout` and `alarms` tables: how a new version takes traffic, and what watches it.

```toml
[tool.lambdapress.deploy.stages.prod.rollout]
strategy = "canary"          # "all-at-once" | "canary" | "linear"; default: canary on
percent = 10                 #   production stages, all-at-once elsewhere
minutes = 5                  # canary: how long the slice runs; linear: minutes per step
pre-traffic-hook = "orders.smoke_test"    # optional: functions (manifest names) CodeDeploy
post-traffic-hook = "orders.after_check"  #   runs before / after shifting traffic

[tool.lambdapress.deploy.stages.prod.alarms]
errors = 1                   # errors of the live alias in one minute that raise the alarm
throttles = 1                # throttles in one minute
duration-p99-ms = 2000       # default: 80% of each function's timeout
iterator-age-ms = 60000      # dynamodb-stream sources: how far behind the stream may be
queue-age-seconds = 300      # sqs sources: the oldest message's age
notify = "arn:aws:sns:eu-west-1:123456789012:oncall"    # optional: alarms notify this topic
```

A gradual rollout is CodeDeploy moving the `live` alias from the old version to the new one
while the function's errors and p99 duration alarms watch it; either going off stops the
shift and moves the alias back. On a production stage that is worth the minutes it costs
each deploy; elsewhere a deploy should be as fast as possible, hence the defaults. A function
opts out (or in) with `rollout = "all-at-once"` in its service's
`[tool.lambdapress.functions.<handler>]`.

CodeDeploy's predefined configurations cover 10% for 5, 10, 15 or 30 minutes and 10% every 1,
2, 3 or 10 minutes; any other percent or minutes becomes a custom deployment configuration in
the stack (`deployment_config`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

RolloutStrategy = Literal["all-at-once", "canary", "linear"]
ALL_AT_ONCE: RolloutStrategy = "all-at-once"
DEFAULT_PERCENT = 10
DEFAULT_MINUTES = 5
MAX_MINUTES = 2880  # CodeDeploy's longest canary interval (two days)
DEFAULT_DURATION_FRACTION = 0.8
"""The p99 alarm's default threshold: this fraction of the function's timeout."""

# `orders.get_order`: a service and a handler module, as the manifest names functions.
_FUNCTION_NAME = re.compile(r"^[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")
_SNS_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")
# CodeDeploy's own configurations for Lambda: (strategy, percent, minutes) -> name.
_PREDEFINED: dict[tuple[str, int, int], str] = {
    ("canary", 10, 5): "CodeDeployDefault.LambdaCanary10Percent5Minutes",
    ("canary", 10, 10): "CodeDeployDefault.LambdaCanary10Percent10Minutes",
    ("canary", 10, 15): "CodeDeployDefault.LambdaCanary10Percent15Minutes",
    ("canary", 10, 30): "CodeDeployDefault.LambdaCanary10Percent30Minutes",
    ("linear", 10, 1): "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
    ("linear", 10, 2): "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes",
    ("linear", 10, 3): "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes",
    ("linear", 10, 10): "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes",
}


class RolloutSettings(BaseModel):
    """`[...stages.<stage>.rollout]` as written; `strategy` None means the stage's default."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, populate_by_name=True)

    strategy: RolloutStrategy | None = None
    percent: int = Field(default=DEFAULT_PERCENT, ge=1, le=99)
    minutes: int = Field(default=DEFAULT_MINUTES, ge=1, le=MAX_MINUTES)
    pre_traffic_hook: str | None = Field(default=None, alias="pre-traffic-hook")
    post_traffic_hook: str | None = Field(default=None, alias="post-traffic-hook")

    @field_validator("pre_traffic_hook", "post_traffic_hook")
    @classmethod
    def _check_hook(cls, value: str | None) -> str | None:
        if value is not None and not _FUNCTION_NAME.match(value):
            raise ValueError(
                f"{value!r} is not a function's name; name it as the manifest does, "
                "service.handler (orders.smoke_test)"
            )
        return value

    def for_stage(self, production: bool) -> RolloutStrategy:
        """The strategy these settings give a stage (its default decided by `production`)."""
        if self.strategy is not None:
            return self.strategy
        return "canary" if production else ALL_AT_ONCE


class AlarmSettings(BaseModel):
    """`[...stages.<stage>.alarms]`: the thresholds of every function's alarms."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, populate_by_name=True)

    errors: int = Field(default=1, ge=1)
    throttles: int = Field(default=1, ge=1)
    duration_p99_ms: int | None = Field(default=None, ge=1, le=900_000, alias="duration-p99-ms")
    iterator_age_ms: int = Field(default=60_000, ge=1, alias="iterator-age-ms")
    queue_age_seconds: int = Field(default=300, ge=1, alias="queue-age-seconds")
    notify: str | None = None

    @field_validator("notify")
    @classmethod
    def _check_topic(cls, value: str | None) -> str | None:
        if value is not None and not _SNS_ARN.match(value):
            raise ValueError(
                f"{value!r} is not an SNS topic's ARN (arn:aws:sns:REGION:ACCOUNT:NAME)"
            )
        return value

    def duration_threshold_ms(self, timeout_seconds: int) -> int:
        """The p99 threshold of a function: as set, else a fraction of its timeout."""
        if self.duration_p99_ms is not None:
            return self.duration_p99_ms
        return int(timeout_seconds * 1000 * DEFAULT_DURATION_FRACTION)


@dataclass(frozen=True)
class Rollout:
    """One function's resolved rollout: its strategy and the traffic steps."""

    strategy: RolloutStrategy
    percent: int
    minutes: int

    @property
    def gradual(self) -> bool:
        """Whether CodeDeploy shifts the traffic (not all at once)."""
        return self.strategy != ALL_AT_ONCE

    def predefined_config(self) -> str | None:
        """CodeDeploy's own configuration name for it, or None when it needs a custom one."""
        if not self.gradual:
            return "CodeDeployDefault.LambdaAllAtOnce"
        return _PREDEFINED.get((self.strategy, self.percent, self.minutes))

    def describe(self) -> str:
        """`canary 10% 5 min`, `linear 10% every 1 min`, `all-at-once`."""
        if self.strategy == "canary":
            return f"canary {self.percent}% {self.minutes} min"
        if self.strategy == "linear":
            return f"linear {self.percent}% every {self.minutes} min"
        return ALL_AT_ONCE

    def traffic_routing(self) -> dict[str, object]:
        """The `TrafficRoutingConfig` of a custom `AWS::CodeDeploy::DeploymentConfig`."""
        if self.strategy == "canary":
            return {
                "Type": "TimeBasedCanary",
                "TimeBasedCanary": {
                    "CanaryPercentage": self.percent,
                    "CanaryInterval": self.minutes,
                },
            }
        return {
            "Type": "TimeBasedLinear",
            "TimeBasedLinear": {"LinearPercentage": self.percent, "LinearInterval": self.minutes},
        }


ROLLOUT_FIXES = {
    "rollout": 'write strategy = "all-at-once", "canary" or "linear", percent (1 to 99), '
    f"minutes (1 to {MAX_MINUTES}), pre-traffic-hook / post-traffic-hook = "
    '"service.handler"',
    "alarms": "write errors, throttles (counts per minute), duration-p99-ms, iterator-age-ms, "
    'queue-age-seconds (whole numbers), notify = "arn:aws:sns:REGION:ACCOUNT:TOPIC"',
}
