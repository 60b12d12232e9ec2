"""Why a gradual rollout rolled back: which function, which alarm, what it measured.

When CodeDeploy stops a deployment because an alarm went off, CloudFormation sees the alias's
update fail (its event's reason names the deployment, `d-XXXXXXXXX`) and rolls the whole stack
back. The stack's events say only that; the answer a team wants is in CodeDeploy and
CloudWatch:

- `GetDeployment`: the deployment's group (named like the function), its status, its
  `errorInformation` (`ALARM_ACTIVE` and CodeDeploy's message) and `rollbackInfo`;
- `GetDeploymentGroup`: the alarms the group watches;
- `DescribeAlarmHistory`: each of those alarms' changes to ALARM since the deployment began;
  the change's state reason carries the value (`Threshold Crossed: 1 datapoint [7.0 ...] was
  greater than or equal to the threshold (1.0)`), which the alarm's current state no longer
  does once it has gone back to OK after the rollback.

An event that names no deployment (a reason worded otherwise) falls back to the group's most
recent stopped or failed deployment. What reads AWS is a `RolloutFacts` (`aws.Aws` is one), so
the report is tested against recorded answers: moto runs no CodeDeploy deployment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from lambdapress.deploy.aws import AlarmBreach, DeploymentFacts, StackEvent

# CodeDeploy's deployment ids: `d-` and nine capitals or digits.
DEPLOYMENT_ID = re.compile(r"\bd-[A-Z0-9]{9}\b")
_ALIAS = "AWS::Lambda::Alias"


class RolloutFacts(Protocol):
    """What the report reads of CodeDeploy and CloudWatch (`aws.Aws` implements it)."""

    def deployment(self, application: str, deployment_id: str) -> DeploymentFacts | None:
        """The deployment, None when CodeDeploy does not know it."""
        ...

    def latest_stopped_deployment(self, application: str, group: str) -> str | None:
        """The id of the group's most recent stopped or failed deployment, if any."""
        ...

    def breaches(self, alarm: str, since: datetime | None) -> list[AlarmBreach]:
        """The alarm's changes to ALARM since `since` (all kept in its history when None)."""
        ...


@dataclass(frozen=True)
class RolledBack:
    """One function whose rollout CodeDeploy stopped and rolled back."""

    function: str
    """The manifest's name (`orders.get_order`)."""
    deployment_id: str
    status: str
    breaches: tuple[AlarmBreach, ...]
    """The alarms that went off, with their values; empty when no alarm stopped it."""
    message: str
    """CodeDeploy's own words (its error, else its rollback message)."""

    def describe(self) -> str:
        """`function orders.get_order: deployment d-... stopped by alarm X (reason)`."""
        head = f"function {self.function}: CodeDeploy deployment {self.deployment_id} "
        if not self.breaches:
            return head + f"{self.status.lower()}: {self.message}"
        alarms = "; ".join(f"alarm {b.alarm}: {b.reason}" for b in self.breaches)
        return head + f"stopped and rolled back by {alarms}"


def rolled_back(
    facts: RolloutFacts,
    events: Iterable[StackEvent],
    application: str,
    aliases: Mapping[str, tuple[str, str]],
) -> list[RolledBack]:
    """The functions whose CodeDeploy deployment failed during this stack operation.

    `aliases` maps each `live` alias's logical id to its function's manifest name and physical
    name (the deployment group's name); `application` is the stage's CodeDeploy application.
    """
    found: list[RolledBack] = []
    reported: set[str] = set()
    for event in events:
        if event.resource_type != _ALIAS or not event.status.endswith("_FAILED"):
            continue
        if event.logical_id not in aliases or event.logical_id in reported:
            continue
        function, group = aliases[event.logical_id]
        named = DEPLOYMENT_ID.search(event.reason)
        deployment_id = (
            named.group(0) if named else facts.latest_stopped_deployment(application, group)
        )
        if deployment_id is None:
            continue
        deployment = facts.deployment(application, deployment_id)
        if deployment is None:
            continue
        reported.add(event.logical_id)
        found.append(_rolled_back(facts, function, deployment))
    return found


def _rolled_back(facts: RolloutFacts, function: str, deployment: DeploymentFacts) -> RolledBack:
    breaches: list[AlarmBreach] = []
    if deployment.error_code == "ALARM_ACTIVE":
        said = deployment.error_message or ""
        named = [a for a in deployment.alarms if a in said] or list(deployment.alarms)
        for alarm in named:
            history = facts.breaches(alarm, deployment.started)
            if history:
                breaches.append(max(history, key=lambda b: b.at))
    message = deployment.error_message or deployment.rollback_message or "no reason given"
    return RolledBack(
        function=function,
        deployment_id=deployment.deployment_id,
        status=deployment.status,
        breaches=tuple(breaches),
        message=message,
    )


def report(rollbacks: Iterable[RolledBack]) -> str:
    """The rollbacks as lines for a deploy's error (empty when there are none)."""
    return "".join(f"\n  rolled back: {r.describe()}" for r in rollbacks)
