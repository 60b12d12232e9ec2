"""A gradual rollout an alarm stops: `deploy` names the function, the alarm and its value; exit 1.

moto runs no CodeDeploy deployment (its CloudFormation ignores the alias's `UpdatePolicy`, and
no alarm of its ever goes off), so CloudFormation, CodeDeploy and CloudWatch are botocore
Stubbers here answering as AWS does when a canary's errors alarm stops the deployment: the
alias's update fails naming the deployment, the stack rolls back, `GetDeployment` says
`ALARM_ACTIVE`, and the alarm's history holds its change to ALARM with the value. Each answer
and request is checked against the service's model. S3, STS and Lambda are moto's server.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from lambdapress.cli import main
from lambdapress.deploy.aws import Aws

STACK = "shop-prod"
NOW = datetime.datetime(2026, 12, 7, 1, 0, tzinfo=datetime.UTC)
STACK_ID = f"arn:aws:cloudformation:us-east-1:123456789012:stack/{STACK}/1"
CHANGE_SET_ID = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/lambdapress-x/1"
DEPLOYMENT = "d-7QX2BD1KZ"
GROUP = "shop-prod-shop-greet"
ERRORS_ALARM = f"{GROUP}-errors"
DURATION_ALARM = f"{GROUP}-duration-p99"
# CloudWatch's reason for the change to ALARM: it carries the measured value (7 errors).
ALARM_REASON = (
    "Threshold Crossed: 1 datapoint [7.0 (07/12/26 01:01:00)] was greater than or equal to "
    "the threshold (1.0)."
)
ALIAS_REASON = (
    f"Deployment {DEPLOYMENT} failed: One or more alarms have been activated according to "
    "the Amazon CloudWatch metrics you selected, and the affected deployments have been "
    f"stopped. Activated alarms: <{ERRORS_ALARM}>"
)


@dataclass
class Stubs:
    cloudformation: Stubber
    codedeploy: Stubber
    cloudwatch: Stubber


@pytest.fixture
def stubs(monkeypatch: pytest.MonkeyPatch, moto_server: object) -> Iterator[Stubs]:
    """Every `Aws` gets these stubbed clients; all their answers must be used."""
    clients = {name: boto3.client(name) for name in ("cloudformation", "codedeploy", "cloudwatch")}
    start = Aws.__init__

    def with_stubs(self: Aws, *args: Any) -> None:
        start(self, *args)
        self._cfn = clients["cloudformation"]
        self.__dict__["_codedeploy"] = clients["codedeploy"]
        self.__dict__["_cloudwatch"] = clients["cloudwatch"]

    monkeypatch.setattr(Aws, "__init__", with_stubs)
    stubbers = Stubs(*(Stubber(clients[n]) for n in ("cloudformation", "codedeploy", "cloudwatch")))
    for stubber in (stubbers.cloudformation, stubbers.codedeploy, stubbers.cloudwatch):
        stubber.activate()
    try:
        yield stubbers
        for stubber in (stubbers.cloudformation, stubbers.codedeploy, stubbers.cloudwatch):
            stubber.assert_no_pending_responses()
    finally:
        for stubber in (stubbers.cloudformation, stubbers.codedeploy, stubbers.cloudwatch):
            stubber.deactivate()


def _stack(status: str) -> dict[str, Any]:
    return {
        "Stacks": [
            {"StackId": STACK_ID, "StackName": STACK, "CreationTime": NOW, "StackStatus": status}
        ]
    }


def _events(*events: tuple[str, str, str, str]) -> dict[str, Any]:
    """Newest first, as CloudFormation lists them."""
    return {
        "StackEvents": [
            {
                "StackId": STACK_ID,
                "EventId": f"e{index}",
                "StackName": STACK,
                "LogicalResourceId": logical_id,
                "ResourceType": kind,
                "ResourceStatus": status,
                "ResourceStatusReason": reason,
                "Timestamp": NOW,
            }
            for index, (logical_id, kind, status, reason) in reversed(list(enumerate(events)))
        ]
    }


STACK_TYPE = "AWS::CloudFormation::Stack"
ALIAS_TYPE = "AWS::Lambda::Alias"


def _an_update_whose_canary_is_stopped(cloudformation: Stubber) -> None:
    """The plan (an update: an older template is deployed), then its execution rolling back."""
    cloudformation.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": STACK})
    cloudformation.add_response(
        "get_template",
        {"TemplateBody": json.dumps({"Resources": {}})},
        {"StackName": STACK, "TemplateStage": "Original"},
    )
    cloudformation.add_response(
        "create_change_set",
        {"Id": CHANGE_SET_ID, "StackId": STACK_ID},
        {
            "StackName": STACK,
            "ChangeSetName": ANY,
            "ChangeSetType": "UPDATE",
            "Capabilities": ["CAPABILITY_IAM"],
            "Tags": ANY,
            "TemplateBody": ANY,
        },
    )
    change = {
        "Type": "Resource",
        "ResourceChange": {
            "Action": "Modify",
            "LogicalResourceId": "ShopGreetLiveAlias",
            "ResourceType": ALIAS_TYPE,
            "Replacement": "False",
        },
    }
    described = {
        "ChangeSetId": CHANGE_SET_ID,
        "StackId": STACK_ID,
        "StackName": STACK,
        "Status": "CREATE_COMPLETE",
        "ExecutionStatus": "AVAILABLE",
        "Changes": [change],
    }
    for _ in range(2):  # the waiter's poll, then the description read
        cloudformation.add_response(
            "describe_change_set", described, {"ChangeSetName": CHANGE_SET_ID}
        )
    old = ("shop-prod", STACK_TYPE, "UPDATE_COMPLETE", "")
    cloudformation.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": STACK})
    cloudformation.add_response("describe_stack_events", _events(old), {"StackName": STACK_ID})
    cloudformation.add_response("execute_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})
    cloudformation.add_response(
        "describe_stacks", _stack("UPDATE_ROLLBACK_COMPLETE"), {"StackName": STACK_ID}
    )
    cloudformation.add_response(
        "describe_stack_events",
        _events(
            old,
            ("shop-prod", STACK_TYPE, "UPDATE_IN_PROGRESS", "User Initiated"),
            ("ShopGreetLiveAlias", ALIAS_TYPE, "UPDATE_IN_PROGRESS", ""),
            ("ShopGreetLiveAlias", ALIAS_TYPE, "UPDATE_FAILED", ALIAS_REASON),
            ("shop-prod", STACK_TYPE, "UPDATE_ROLLBACK_IN_PROGRESS", "The following failed"),
            ("shop-prod", STACK_TYPE, "UPDATE_ROLLBACK_COMPLETE", ""),
        ),
        {"StackName": STACK_ID},
    )


def _the_deployment_stopped_by_its_errors_alarm(codedeploy: Stubber, cloudwatch: Stubber) -> None:
    started = NOW + datetime.timedelta(seconds=30)
    codedeploy.add_response(
        "get_deployment",
        {
            "deploymentInfo": {
                "applicationName": STACK,
                "deploymentGroupName": GROUP,
                "deploymentId": DEPLOYMENT,
                "status": "Stopped",
                "createTime": started,
                "errorInformation": {
                    "code": "ALARM_ACTIVE",
                    "message": "One or more alarms have been activated according to the Amazon "
                    "CloudWatch metrics you selected, and the affected deployments have been "
                    f"stopped. Activated alarms: <{ERRORS_ALARM}>",
                },
                "rollbackInfo": {"rollbackMessage": "Automatic rollback triggered by alarm"},
            }
        },
        {"deploymentId": DEPLOYMENT},
    )
    codedeploy.add_response(
        "get_deployment_group",
        {
            "deploymentGroupInfo": {
                "applicationName": STACK,
                "deploymentGroupName": GROUP,
                "alarmConfiguration": {
                    "enabled": True,
                    "alarms": [{"name": ERRORS_ALARM}, {"name": DURATION_ALARM}],
                },
            }
        },
        {"applicationName": STACK, "deploymentGroupName": GROUP},
    )
    went_off = {
        "version": "1.0",
        "oldState": {"stateValue": "OK", "stateReason": "Threshold Crossed: no datapoints"},
        "newState": {"stateValue": "ALARM", "stateReason": ALARM_REASON},
    }
    back = {
        "version": "1.0",
        "oldState": {"stateValue": "ALARM", "stateReason": ALARM_REASON},
        "newState": {"stateValue": "OK", "stateReason": "Threshold Crossed: 1 datapoint [0.0]"},
    }
    cloudwatch.add_response(
        "describe_alarm_history",
        {
            "AlarmHistoryItems": [
                {
                    "AlarmName": ERRORS_ALARM,
                    "Timestamp": started + datetime.timedelta(minutes=4),
                    "HistoryItemType": "StateUpdate",
                    "HistorySummary": "Alarm updated from ALARM to OK",
                    "HistoryData": json.dumps(back),
                },
                {
                    "AlarmName": ERRORS_ALARM,
                    "Timestamp": started + datetime.timedelta(minutes=2),
                    "HistoryItemType": "StateUpdate",
                    "HistorySummary": "Alarm updated from OK to ALARM",
                    "HistoryData": json.dumps(went_off),
                },
            ]
        },
        {"AlarmName": ERRORS_ALARM, "HistoryItemType": "StateUpdate", "StartDate": started},
    )


@pytest.mark.e2e
def test_a_canary_stopped_by_its_errors_alarm_is_reported_with_the_value_and_exits_1(
    shop: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    _an_update_whose_canary_is_stopped(stubs.cloudformation)
    _the_deployment_stopped_by_its_errors_alarm(stubs.codedeploy, stubs.cloudwatch)

    code = main(["deploy", "--stage", "prod", "--yes", "--root", str(shop)])

    err = capsys.readouterr().err
    assert code == 1
    error = err[err.index("error:") :]
    assert error.startswith(f"error: deploying {STACK} failed (UPDATE_ROLLBACK_COMPLETE)")
    assert (
        f"rolled back: function shop.greet: CodeDeploy deployment {DEPLOYMENT} stopped and "
        f"rolled back by alarm {ERRORS_ALARM}: {ALARM_REASON}"
    ) in error
    assert "[7.0 " in error  # the value the alarm measured
    # The README shows this report line as it is.
    readme = (Path(__file__).resolve().parents[4] / "README.md").read_text(encoding="utf-8")
    (shown,) = [line for line in readme.splitlines() if line.startswith("  rolled back: ")]
    assert shown in error.splitlines()
    assert DURATION_ALARM not in error  # the alarm that did not go off is not blamed


@pytest.mark.e2e
def test_the_plan_shows_each_function_s_strategy_and_alarms(
    shop: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    stubs.cloudformation.add_response(
        "describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": STACK}
    )
    stubs.cloudformation.add_response(
        "get_template",
        {"TemplateBody": json.dumps({"Resources": {}})},
        {"StackName": STACK, "TemplateStage": "Original"},
    )
    stubs.cloudformation.add_response(
        "create_change_set", {"Id": CHANGE_SET_ID, "StackId": STACK_ID}, None
    )
    described = {
        "ChangeSetId": CHANGE_SET_ID,
        "StackId": STACK_ID,
        "StackName": STACK,
        "Status": "CREATE_COMPLETE",
        "ExecutionStatus": "AVAILABLE",
        "Changes": [
            {
                "Type": "Resource",
                "ResourceChange": {
                    "Action": "Modify",
                    "LogicalResourceId": "ShopGreetFunction",
                    "ResourceType": "AWS::Lambda::Function",
                    "Replacement": "False",
                },
            }
        ],
    }
    for _ in range(2):
        stubs.cloudformation.add_response("describe_change_set", described, None)
    stubs.cloudformation.add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})
    service = shop / "services" / "shop" / "pyproject.toml"
    service.write_text(
        service.read_text().replace(
            "[tool.lambdapress.functions.stock]\n",
            '[tool.lambdapress.functions.stock]\nrollout = "all-at-once"\n',
        )
    )

    code = main(["deploy", "--stage", "prod", "--plan", "--root", str(shop)])

    out, err = capsys.readouterr()
    assert code == 0, err
    rows = out[out.index("rollouts on stage prod (production):") :].splitlines()[1:]
    assert rows[0].split() == ["function", "rollout", "alarms"]
    found = {row.split()[0]: " ".join(row.split()[1:]) for row in rows[2:5]}
    assert found == {
        "shop.audit": "canary 10% 5 min errors, duration-p99, throttles",
        "shop.greet": "canary 10% 5 min errors, duration-p99, throttles",
        "shop.stock": "all-at-once errors, duration-p99, throttles",
    }
    # The README shows this command and exactly these lines.
    readme = (Path(__file__).resolve().parents[4] / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index("$ lambdapress deploy --stage prod --plan\n") :]
    shown = block[: block.index("```")].splitlines()[2:]
    assert out[out.index(shown[0]) :].splitlines()[: len(shown)] == shown
