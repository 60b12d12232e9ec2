"""A production stage deployed to moto's server: traced functions, X-Ray rights, the dashboard,
and `lambdapress logs` reading the log group the stack made; destroy removes the dashboard.

moto's CloudFormation creates `AWS::CloudWatch::Dashboard` (PutDashboard with the resolved
`Fn::Sub`, so the region is the stack's) and the roles' inline policies. It drops a function's
`TracingConfig` (moto 5.2.5 passes only a few optional properties to CreateFunction, as it
drops `Architectures` and `Tags`), so the stack's template is read back for it instead; and
nothing sends traces here (Lambda does, not lambdapress).
"""

from __future__ import annotations

import ast
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from lambdapress.cli import main
from lambdapress.model.manifest import manifest_path, read_manifest

STACK = "shop-prod"


def _iam_statements(role: str) -> list[dict[str, Any]]:
    iam = boto3.client("iam")
    statements: list[dict[str, Any]] = []
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        if isinstance(document, str):  # moto keeps a stack's inline policy as the dict's repr
            document = ast.literal_eval(document)
        statements += document["Statement"]
    return statements


@pytest.mark.e2e
def test_a_production_stage_is_traced_with_a_dashboard_and_its_logs_are_readable(
    shop: Path, moto_server: object, capsys: pytest.CaptureFixture[str]
) -> None:
    root = shop
    assert main(["deploy", "--stage", "prod", "--yes", "--root", str(root)]) == 0, (
        capsys.readouterr().err
    )
    capsys.readouterr()
    manifest = read_manifest(manifest_path(root))
    names = {f.name: f"{STACK}-{f.name.replace('.', '-')}" for f in manifest.functions}
    lambdas = boto3.client("lambda")
    deployed = boto3.client("cloudformation").get_template(StackName=STACK)["TemplateBody"]
    if isinstance(deployed, str):
        deployed = json.loads(deployed)
    functions = [
        r["Properties"]
        for r in deployed["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    ]
    assert sorted(f["FunctionName"] for f in functions) == sorted(names.values())
    assert all(f["TracingConfig"] == {"Mode": "Active"} for f in functions)
    for physical in names.values():
        configuration = lambdas.get_function_configuration(FunctionName=physical)
        role = configuration["Role"].rpartition("/")[2]
        xray = [s for s in _iam_statements(role) if "xray:PutTraceSegments" in s["Action"]]
        assert xray == [
            {
                "Effect": "Allow",
                "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                "Resource": "*",
            }
        ]

    cloudwatch = boto3.client("cloudwatch")
    body = json.loads(cloudwatch.get_dashboard(DashboardName=STACK)["DashboardBody"])
    assert {w["properties"]["region"] for w in body["widgets"]} == {"us-east-1"}
    shown = {m[3] for w in body["widgets"] for m in w["properties"]["metrics"]}
    assert shown == set(names.values())
    assert len(body["widgets"]) == 3 * len(names)

    # The log group `logs` reads is the one the stack made for the function.
    logs = boto3.client("logs")
    group = f"/aws/lambda/{names['shop.greet']}"
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["logGroupName"] == (
        group
    )
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    line = {"level": "WARNING", "message": "slow", "service": "shop", "ms": 812}
    logs.put_log_events(
        logGroupName=group,
        logStreamName="s",
        logEvents=[
            {"timestamp": int(datetime.now(UTC).timestamp() * 1000), "message": json.dumps(line)}
        ],
    )
    assert main(["logs", "shop.greet", "--stage", "prod", "--root", str(root)]) == 0
    assert capsys.readouterr().out.splitlines()[0][24:] == "WARNING slow  ms=812"

    assert main(["destroy", "--stage", "prod", "--yes", "--root", str(root)]) == 0
    assert cloudwatch.list_dashboards()["DashboardEntries"] == []
