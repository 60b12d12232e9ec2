"""Rollouts and alarms in the template: aliases everything invokes, CodeDeploy, CloudWatch.

Every function is published behind `live` and nothing invokes the bare function; a production
stage rolls out through CodeDeploy (canary 10% 5 minutes unless told), other stages all at
once; each function gets alarms on its alias's metrics (and its sources' ages), and a gradual
rollout watches the errors and p99 alarms.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from formats.rich import translate

from lambdapress.deploy.template import template_body
from lambdapress.errors import ConfigError
from lambdapress.formats._sam import render_sam

from .event_stacks import event_application
from .stacks import application, config, entry, lint_findings, of_type, render, service

FUNCTIONS = [
    entry("orders.get_order", "GET /orders/{order_id}", timeout=20),
    entry("orders.create_order", "POST /orders"),
    entry("orders.smoke", timeout=60),
]
SERVICES = [service("orders", {"functions": {"create_order": {"warm_every_minutes": 5}}})]
NOTIFY = "arn:aws:sns:us-east-1:123456789012:oncall"
# Where a resource names what it invokes.
_INVOKER_KEYS = {"FunctionName", "IntegrationUri", "Endpoint", "Arn", "Function"}


def _prod(**stage: Any) -> Any:
    return config(stages={"prod": stage})


def _invokers(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every (path, target) where the template names a function to invoke."""
    found: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in _INVOKER_KEYS and isinstance(item, dict):
                found.append((f"{path}/{key}", item))
            found += _invokers(item, f"{path}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _invokers(item, f"{path}/{index}")
    return found


def _names_the_bare_function(document: dict[str, Any], target: dict[str, Any]) -> bool:
    functions = set(of_type(document, "AWS::Lambda::Function"))
    got = target.get("Fn::GetAtt", [None])[0]
    return got in functions or target.get("Ref") in functions


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_every_route_source_rule_and_permission_invokes_the_live_alias(stage: str) -> None:
    documents = [
        render(FUNCTIONS, SERVICES, stage=stage),
        json.loads(template_body(event_application(), config(), stage, "acme-artifacts")),
    ]
    for document in documents:
        resources = document["Resources"]
        skipped = {"AWS::Lambda::Version", "AWS::Lambda::Alias"}  # what the alias is made of
        checked = 0
        for logical_id, resource in resources.items():
            if resource["Type"] in skipped:
                continue
            for path, target in _invokers(resource.get("Properties", {})):
                if "Ref" in target and resources.get(target["Ref"], {}).get("Type") in {
                    "AWS::Lambda::Alias"
                }:
                    checked += 1
                assert not _names_the_bare_function(document, target), f"{logical_id}{path}"
        for alias in of_type(document, "AWS::Lambda::Alias").values():
            assert alias["Properties"]["Name"] == "live"
        assert checked >= len(of_type(document, "AWS::Lambda::Permission"))


def test_a_production_stage_rolls_out_canary_10_percent_5_minutes_watched_by_two_alarms() -> None:
    document = render(FUNCTIONS, SERVICES, stage="prod")
    resources = document["Resources"]
    application = resources["CodeDeployApplication"]["Properties"]
    assert application["ComputePlatform"] == "Lambda"
    assert application["ApplicationName"] == "acme-prod"
    role = resources["CodeDeployServiceRole"]["Properties"]
    assert role["ManagedPolicyArns"] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/"
            "AWSCodeDeployRoleForLambdaLimited"
        }
    ]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "codedeploy.amazonaws.com"
    }
    group = resources["OrdersGetOrderDeploymentGroup"]["Properties"]
    assert group["DeploymentConfigName"] == "CodeDeployDefault.LambdaCanary10Percent5Minutes"
    assert group["DeploymentGroupName"] == "acme-prod-orders-get_order"
    assert group["AlarmConfiguration"] == {
        "Enabled": True,
        "Alarms": [
            {"Name": {"Ref": "OrdersGetOrderErrorsAlarm"}},
            {"Name": {"Ref": "OrdersGetOrderDurationAlarm"}},
        ],
    }
    assert group["AutoRollbackConfiguration"] == {
        "Enabled": True,
        "Events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"],
    }
    assert group["DeploymentStyle"] == {
        "DeploymentType": "BLUE_GREEN",
        "DeploymentOption": "WITH_TRAFFIC_CONTROL",
    }
    alias = resources["OrdersGetOrderLiveAlias"]
    assert alias["UpdatePolicy"] == {
        "CodeDeployLambdaAliasUpdate": {
            "ApplicationName": {"Ref": "CodeDeployApplication"},
            "DeploymentGroupName": {"Ref": "OrdersGetOrderDeploymentGroup"},
        }
    }
    assert len(of_type(document, "AWS::CodeDeploy::DeploymentGroup")) == len(FUNCTIONS)


def test_other_stages_and_opted_out_functions_shift_all_at_once_without_codedeploy() -> None:
    dev = render(FUNCTIONS, SERVICES, stage="dev")
    assert not [r for r in dev["Resources"].values() if r["Type"].startswith("AWS::CodeDeploy")]
    assert not [r for r in dev["Resources"].values() if "UpdatePolicy" in r]
    opted = [service("orders", {"functions": {"get_order": {"rollout": "all-at-once"}}})]
    prod = render(FUNCTIONS, opted, stage="prod")
    assert "OrdersGetOrderDeploymentGroup" not in prod["Resources"]
    assert "UpdatePolicy" not in prod["Resources"]["OrdersGetOrderLiveAlias"]
    assert "OrdersCreateOrderDeploymentGroup" in prod["Resources"]
    everywhere = render(FUNCTIONS, SERVICES, _prod(production=False), stage="prod")
    assert "CodeDeployApplication" not in everywhere["Resources"]
    canary_on_dev = [service("orders", {"functions": {"smoke": {"rollout": "canary"}}})]
    dev_canary = render(FUNCTIONS, canary_on_dev, stage="dev")
    assert set(of_type(dev_canary, "AWS::CodeDeploy::DeploymentGroup")) == {
        "OrdersSmokeDeploymentGroup"
    }


def test_other_percents_and_minutes_are_a_custom_deployment_configuration() -> None:
    document = render(
        FUNCTIONS,
        SERVICES,
        _prod(rollout={"strategy": "linear", "percent": 25, "minutes": 4}),
        "prod",
    )
    (custom,) = of_type(document, "AWS::CodeDeploy::DeploymentConfig").items()
    assert custom[0] == "RolloutLinear25Percent4Minutes"
    assert custom[1]["Properties"] == {
        "ComputePlatform": "Lambda",
        "TrafficRoutingConfig": {
            "Type": "TimeBasedLinear",
            "TimeBasedLinear": {"LinearPercentage": 25, "LinearInterval": 4},
        },
    }
    for group in of_type(document, "AWS::CodeDeploy::DeploymentGroup").values():
        assert group["Properties"]["DeploymentConfigName"] == {"Ref": custom[0]}
    linear = render(
        FUNCTIONS, SERVICES, _prod(rollout={"strategy": "linear", "minutes": 1}), "prod"
    )
    group = linear["Resources"]["OrdersGetOrderDeploymentGroup"]["Properties"]
    assert group["DeploymentConfigName"] == "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"


def test_traffic_hooks_run_all_at_once_and_may_report_to_exactly_the_groups() -> None:
    rollout = {"pre-traffic-hook": "orders.smoke", "post-traffic-hook": "orders.smoke"}
    document = render(FUNCTIONS, SERVICES, _prod(rollout=rollout), "prod")
    resources = document["Resources"]
    update = resources["OrdersGetOrderLiveAlias"]["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
    assert update["BeforeAllowTrafficHook"] == {"Ref": "OrdersSmokeFunction"}
    assert update["AfterAllowTrafficHook"] == {"Ref": "OrdersSmokeFunction"}
    assert resources["OrdersGetOrderLiveAlias"]["DependsOn"] == ["OrdersSmokeHookPolicy"]
    assert "OrdersSmokeDeploymentGroup" not in resources  # the hook itself: all at once
    policy = resources["OrdersSmokeHookPolicy"]["Properties"]
    assert policy["Roles"] == [{"Ref": "OrdersSmokeRole"}]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == "codedeploy:PutLifecycleEventHookExecutionStatus"
    assert [r["Fn::Sub"].rsplit("/", 1)[1] for r in statement["Resource"]] == [
        "${OrdersCreateOrderDeploymentGroup}",
        "${OrdersGetOrderDeploymentGroup}",
    ]
    invoke = resources["CodeDeployServiceRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    assert invoke["Statement"] == [
        {
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": [{"Fn::GetAtt": ["OrdersSmokeFunction", "Arn"]}],
        }
    ]


def test_a_hook_that_is_no_function_is_refused_with_the_names_there_are() -> None:
    with pytest.raises(
        ConfigError, match=r"pre-traffic-hook = 'orders\.nope' names no function"
    ) as e:
        render(FUNCTIONS, SERVICES, _prod(rollout={"pre-traffic-hook": "orders.nope"}), "prod")
    assert "orders.smoke" in (e.value.hint or "")


def test_each_function_s_alarms_watch_its_alias_with_the_stage_s_thresholds() -> None:
    alarms = {"errors": 3, "throttles": 2, "notify": NOTIFY}
    document = render(FUNCTIONS, SERVICES, _prod(alarms=alarms), "prod")
    resources = document["Resources"]
    errors = resources["OrdersGetOrderErrorsAlarm"]["Properties"]
    assert errors["AlarmName"] == "acme-prod-orders-get_order-errors"
    assert (errors["Namespace"], errors["MetricName"], errors["Statistic"]) == (
        "AWS/Lambda",
        "Errors",
        "Sum",
    )
    assert errors["Dimensions"] == [
        {"Name": "FunctionName", "Value": "acme-prod-orders-get_order"},
        {"Name": "Resource", "Value": "acme-prod-orders-get_order:live"},
    ]
    assert (errors["Threshold"], errors["ComparisonOperator"]) == (
        3,
        "GreaterThanOrEqualToThreshold",
    )
    assert (errors["AlarmActions"], errors["OKActions"]) == ([NOTIFY], [NOTIFY])
    assert errors["TreatMissingData"] == "notBreaching"
    assert resources["OrdersGetOrderThrottlesAlarm"]["Properties"]["Threshold"] == 2
    duration = resources["OrdersGetOrderDurationAlarm"]["Properties"]
    assert duration["ExtendedStatistic"] == "p99"
    assert duration["Threshold"] == 16_000  # 80% of its 20-second timeout
    assert resources["OrdersSmokeDurationAlarm"]["Properties"]["Threshold"] == 48_000
    set_ms = render(FUNCTIONS, SERVICES, _prod(alarms={"duration-p99-ms": 900}), "prod")
    assert set_ms["Resources"]["OrdersSmokeDurationAlarm"]["Properties"]["Threshold"] == 900
    quiet = render(FUNCTIONS, SERVICES, stage="dev")
    assert "AlarmActions" not in quiet["Resources"]["OrdersGetOrderErrorsAlarm"]["Properties"]


def test_stream_and_queue_sources_get_an_age_alarm() -> None:
    body = template_body(event_application(), config(), "dev", "acme-artifacts")
    resources = json.loads(body)["Resources"]
    iterator = resources["InventoryChangesIteratorAgeAlarm"]["Properties"]
    assert (iterator["MetricName"], iterator["Statistic"], iterator["Threshold"]) == (
        "IteratorAge",
        "Maximum",
        60_000,
    )
    queue_ages = {
        k: v["Properties"]
        for k, v in resources.items()
        if v["Type"] == "AWS::CloudWatch::Alarm"
        and v["Properties"]["MetricName"] == "ApproximateAgeOfOldestMessage"
    }
    consume = queue_ages["WorkersConsumeWorkersOrderPlacedQueueAgeAlarm"]
    assert consume["Namespace"] == "AWS/SQS"
    assert consume["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["WorkersOrderPlacedQueue", "QueueName"]}}
    ]
    assert consume["Threshold"] == 300
    mapped = {
        k.removesuffix("Mapping")
        for k, v in resources.items()
        if v["Type"] == "AWS::Lambda::EventSourceMapping" and "Sqs" in k
    }
    assert len(queue_ages) == len(mapped)


def test_the_production_stack_lints_clean_and_sam_writes_deployment_preferences() -> None:
    stage = {
        "rollout": {"percent": 20, "minutes": 7, "pre-traffic-hook": "orders.smoke"},
        "alarms": {"notify": NOTIFY},
    }
    model = application(FUNCTIONS, SERVICES)
    body = template_body(model, _prod(**stage), "prod", "acme-artifacts")
    assert lint_findings(body) == []
    sam = render_sam(model, _prod(**stage), "prod", "acme-artifacts")
    assert lint_findings(sam) == []
    function = yaml.safe_load(sam)["Resources"]["OrdersGetOrderFunction"]["Properties"]
    assert function["DeploymentPreference"] == {
        "Type": {"Ref": "RolloutCanary20Percent7Minutes"},
        "Alarms": [{"Ref": "OrdersGetOrderErrorsAlarm"}, {"Ref": "OrdersGetOrderDurationAlarm"}],
        "Hooks": {"PreTraffic": {"Ref": "OrdersSmokeFunction"}},
        "Role": {"Fn::GetAtt": ["CodeDeployServiceRole", "Arn"]},
    }
    translated = translate(sam)["Resources"]
    group = translated["OrdersGetOrderFunctionDeploymentGroup"]["Properties"]
    assert group["DeploymentConfigName"] == {"Ref": "RolloutCanary20Percent7Minutes"}
    assert group["ServiceRoleArn"] == {"Fn::GetAtt": ["CodeDeployServiceRole", "Arn"]}
    alias = translated["OrdersGetOrderFunctionAliaslive"]
    update = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
    assert update["DeploymentGroupName"] == {"Ref": "OrdersGetOrderFunctionDeploymentGroup"}
    assert update["BeforeAllowTrafficHook"] == {"Ref": "OrdersSmokeFunction"}
    hook = translated["OrdersSmokeHookPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert "${ServerlessDeploymentApplication}/${OrdersGetOrderFunctionDeploymentGroup}" in str(
        hook["Resource"]
    )
