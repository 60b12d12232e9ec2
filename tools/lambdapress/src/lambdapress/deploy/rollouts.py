"""Each function's rollout on a stage: its strategy, the hooks and the alarms that watch it.

Decided once, from the model and the stage's settings, for the template (`_template_rollouts`
makes CodeDeploy's resources from it) and for `deploy --plan` (a row per function), so what the
plan shows is what the stack does.

The strategy of a function is its own `rollout` (`[tool.lambdapress.functions.<handler>]`),
else its stage's (`[tool.lambdapress.deploy.stages.<stage>.rollout]`, canary on production
stages). The traffic hooks run before and after a gradual function takes traffic, so they are
deployed all at once themselves: a hook that waited for a canary of its own would hold up the
deployment it checks.
"""

from __future__ import annotations

from dataclasses import dataclass

from lambdapress.config.rollout_settings import ALL_AT_ONCE, Rollout
from lambdapress.deploy.config import DeployConfig
from lambdapress.deploy.template_ids import physical_function_name
from lambdapress.errors import ConfigError
from lambdapress.model.application import Application, Function
from lambdapress.model.triggers import DynamoDBStreamTrigger, SqsTrigger

# The alarm kinds of a function, in the order the plan lists them; the first two are the ones
# a gradual rollout watches (`ROLLBACK_ALARMS`).
ERRORS = "errors"
DURATION = "duration-p99"
THROTTLES = "throttles"
ITERATOR_AGE = "iterator-age"
QUEUE_AGE = "queue-age"
ROLLBACK_ALARMS = (ERRORS, DURATION)


@dataclass(frozen=True)
class FunctionRollout:
    """One function's rollout on a stage and the alarms it has."""

    function: str
    """The manifest's name (`orders.get_order`)."""
    rollout: Rollout
    alarms: tuple[str, ...]
    """The alarm kinds it gets (`errors`, `duration-p99`, ...)."""
    hook: bool
    """Whether it is one of the stage's traffic hooks (then deployed all at once)."""


@dataclass(frozen=True)
class Hooks:
    """The stage's traffic hooks, as manifest names (None: no hook)."""

    before: str | None
    after: str | None

    def names(self) -> tuple[str, ...]:
        """The hook functions, each once."""
        return tuple(dict.fromkeys(h for h in (self.before, self.after) if h is not None))


def alarm_kinds(function: Function) -> tuple[str, ...]:
    """The alarms a function gets: errors, p99 duration, throttles, and its sources' ages."""
    kinds = [ERRORS, DURATION, THROTTLES]
    if function.triggers_of(DynamoDBStreamTrigger):
        kinds.append(ITERATOR_AGE)
    if function.triggers_of(SqsTrigger):
        kinds.append(QUEUE_AGE)
    return tuple(kinds)


def alarm_name(project: str, stage: str, function: str, kind: str) -> str:
    """`acme-prod-orders-get_order-errors`: the function's physical name and the kind."""
    return f"{physical_function_name(project, stage, function)}-{kind}"


def stage_hooks(application: Application, config: DeployConfig, stage: str) -> Hooks:
    """The stage's hooks, each checked to be a function of the application."""
    settings = config.stage_settings(stage).rollout
    hooks = Hooks(settings.pre_traffic_hook, settings.post_traffic_hook)
    known = {f.name for f in application.functions}
    for key, name in (("pre-traffic-hook", hooks.before), ("post-traffic-hook", hooks.after)):
        if name is not None and name not in known:
            raise ConfigError(
                f"[tool.lambdapress.deploy.stages.{stage}.rollout] {key} = {name!r} names no "
                "function of the project",
                hint=f"name a function as the manifest does (one of: {', '.join(sorted(known))})",
            )
    return hooks


def function_rollouts(
    application: Application, config: DeployConfig, stage: str
) -> tuple[FunctionRollout, ...]:
    """Every function's rollout on `stage`, functions in name order."""
    settings = config.stage_settings(stage)
    hooks = stage_hooks(application, config, stage).names()
    stage_strategy = settings.rollout.for_stage(settings.is_production)
    rollouts = []
    for function in sorted(application.functions, key=lambda f: f.name):
        hook = function.name in hooks
        strategy = ALL_AT_ONCE if hook else (function.capacity.rollout or stage_strategy)
        rollout = Rollout(strategy, settings.rollout.percent, settings.rollout.minutes)
        rollouts.append(FunctionRollout(function.name, rollout, alarm_kinds(function), hook))
    return tuple(rollouts)
