"""A production stage deployed with `lambdapress deploy` to moto's server, then read back.

The stack has a version and a `live` alias per function, the CodeDeploy application and a
deployment group per gradual function (with its configuration, alarms and rollbacks), and
every function's alarms. moto's CloudFormation creates aliases, alarms and CodeDeploy's
resources only through the test's models (`moto_cloudformation`, calling moto's own Lambda,
CloudWatch and CodeDeploy APIs); it runs no CodeDeploy deployment (the alias moves at once),
so a rollback is tested against stubbed services in test_rollback_report.py.
"""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from lambdapress.cli import main

STACK = "shop-prod"


@pytest.mark.e2e
def test_a_production_deploy_creates_versions_aliases_codedeploy_and_alarms(
    shop: Path, moto_server: object, capsys: pytest.CaptureFixture[str]
) -> None:
    root = Path(shop)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text()
        + "\n[tool.lambdapress.deploy.stages.prod.alarms]\nerrors = 2\n"
        + 'notify = "arn:aws:sns:us-east-1:123456789012:oncall"\n'
    )
    service = root / "services" / "shop" / "pyproject.toml"
    service.write_text(
        service.read_text().replace(
            "[tool.lambdapress.functions.stock]\n",
            '[tool.lambdapress.functions.stock]\nrollout = "all-at-once"\n',
        )
    )

    code = main(["deploy", "--stage", "prod", "--yes", "--root", str(root)])

    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"{STACK}: CREATE_COMPLETE" in out
    lambda_ = boto3.client("lambda")
    names = [f"{STACK}-shop-{name}" for name in ("audit", "greet", "stock")]
    for name in names:
        alias = lambda_.get_alias(FunctionName=name, Name="live")
        versions = lambda_.list_versions_by_function(FunctionName=name)["Versions"]
        assert alias["FunctionVersion"] in {v["Version"] for v in versions} - {"$LATEST"}
    codedeploy = boto3.client("codedeploy")
    assert codedeploy.list_applications()["applications"] == [STACK]
    groups = codedeploy.list_deployment_groups(applicationName=STACK)["deploymentGroups"]
    assert sorted(groups) == [f"{STACK}-shop-audit", f"{STACK}-shop-greet"]  # stock: at once
    group = codedeploy.get_deployment_group(
        applicationName=STACK, deploymentGroupName=f"{STACK}-shop-greet"
    )["deploymentGroupInfo"]
    assert group["deploymentConfigName"] == "CodeDeployDefault.LambdaCanary10Percent5Minutes"
    assert group["computePlatform"] == "Lambda"
    assert group["autoRollbackConfiguration"] == {
        "enabled": True,
        "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"],
    }
    assert group["serviceRoleArn"].split("/")[-1].startswith(f"{STACK}-CodeDeployServiceRole")
    alarms = {
        a["AlarmName"]: a for a in boto3.client("cloudwatch").describe_alarms()["MetricAlarms"]
    }
    assert set(alarms) == {
        f"{name}-{kind}" for name in names for kind in ("errors", "duration-p99", "throttles")
    }
    errors = alarms[f"{STACK}-shop-greet-errors"]
    assert errors["Threshold"] == 2.0
    assert errors["AlarmActions"] == ["arn:aws:sns:us-east-1:123456789012:oncall"]
    assert {d["Name"]: d["Value"] for d in errors["Dimensions"]} == {
        "FunctionName": f"{STACK}-shop-greet",
        "Resource": f"{STACK}-shop-greet:live",
    }
    assert alarms[f"{STACK}-shop-greet-duration-p99"]["ExtendedStatistic"] == "p99"
