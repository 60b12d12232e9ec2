"""`rollbacks.rolled_back` on recorded facts: the paths AWS takes less often.

The end-to-end report (deploy, stubbed CloudFormation, CodeDeploy and CloudWatch) is in
test_rollback_report.py; these cover the paths it does not: an alias event that names no
deployment, a deployment that failed without an alarm, and an alarm whose history holds
nothing since the deployment began.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from lambdapress.deploy.aws import AlarmBreach, DeploymentFacts, StackEvent
from lambdapress.deploy.rollbacks import report, rolled_back

AT = datetime.datetime(2026, 12, 7, 1, 0, tzinfo=datetime.UTC)
ALIASES = {"ShopGreetLiveAlias": ("shop.greet", "shop-prod-shop-greet")}


@dataclass
class Facts:
    """Recorded answers; `asked` lists every question, to check what was read."""

    deployments: dict[str, DeploymentFacts]
    latest: dict[str, str] = field(default_factory=dict)
    history: dict[str, list[AlarmBreach]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def deployment(self, application: str, deployment_id: str) -> DeploymentFacts | None:
        self.asked.append(f"deployment {application} {deployment_id}")
        return self.deployments.get(deployment_id)

    def latest_stopped_deployment(self, application: str, group: str) -> str | None:
        self.asked.append(f"latest {application} {group}")
        return self.latest.get(group)

    def breaches(self, alarm: str, since: datetime.datetime | None) -> list[AlarmBreach]:
        self.asked.append(f"history {alarm}")
        return [b for b in self.history.get(alarm, []) if since is None or b.at >= since]


def _event(reason: str, status: str = "UPDATE_FAILED") -> StackEvent:
    return StackEvent("e1", "ShopGreetLiveAlias", "AWS::Lambda::Alias", status, reason)


def _deployment(code: str | None, message: str | None) -> DeploymentFacts:
    return DeploymentFacts(
        deployment_id="d-AAAAAAAAA",
        group="shop-prod-shop-greet",
        status="Failed",
        error_code=code,
        error_message=message,
        rollback_message=None,
        started=AT,
        alarms=("shop-prod-shop-greet-errors", "shop-prod-shop-greet-duration-p99"),
    )


def test_an_event_naming_no_deployment_reads_the_group_s_latest_stopped_one() -> None:
    facts = Facts(
        deployments={"d-AAAAAAAAA": _deployment("HEALTH_CONSTRAINTS", "the hook said no")},
        latest={"shop-prod-shop-greet": "d-AAAAAAAAA"},
    )
    found = rolled_back(facts, [_event("Update failed")], "shop-prod", ALIASES)
    assert facts.asked == [
        "latest shop-prod shop-prod-shop-greet",
        "deployment shop-prod d-AAAAAAAAA",
    ]
    assert report(found) == (
        "\n  rolled back: function shop.greet: CodeDeploy deployment d-AAAAAAAAA failed: "
        "the hook said no"
    )


def test_an_alarm_named_by_codedeploy_is_the_one_reported_with_its_latest_breach() -> None:
    errors = "shop-prod-shop-greet-errors"
    facts = Facts(
        deployments={"d-AAAAAAAAA": _deployment("ALARM_ACTIVE", f"Activated alarms: <{errors}>")},
        history={
            errors: [
                AlarmBreach(errors, "old [9.0]", AT - datetime.timedelta(days=1)),
                AlarmBreach(errors, "[3.0] crossed", AT + datetime.timedelta(minutes=1)),
                AlarmBreach(errors, "[5.0] crossed", AT + datetime.timedelta(minutes=3)),
            ]
        },
    )
    (found,) = rolled_back(facts, [_event("d-AAAAAAAAA failed")], "shop-prod", ALIASES)
    assert [b.reason for b in found.breaches] == ["[5.0] crossed"]
    assert "history shop-prod-shop-greet-duration-p99" not in facts.asked


def test_other_failures_and_unknown_aliases_are_not_rollbacks() -> None:
    facts = Facts(deployments={})
    events = [
        _event("d-AAAAAAAAA failed", status="UPDATE_COMPLETE"),
        StackEvent("e2", "OtherLiveAlias", "AWS::Lambda::Alias", "UPDATE_FAILED", "d-BBBBBBBBB"),
        StackEvent("e3", "ShopGreetFunction", "AWS::Lambda::Function", "UPDATE_FAILED", "x"),
        _event("d-CCCCCCCCC failed"),  # CodeDeploy does not know it
    ]
    assert rolled_back(facts, events, "shop-prod", ALIASES) == []
    assert report([]) == ""
