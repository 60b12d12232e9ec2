"""`lambdapress drift` over a stubbed CloudFormation client.

moto (5.2.5) has no drift detection: its CloudFormation answers neither DetectStackDrift nor
DescribeStackResourceDrifts. So CloudFormation's answers are given with botocore's Stubber,
which also checks every request's parameters against the service model and that each
expected call was made, in order.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.stub import Stubber

from lambdapress.cli import main
from lambdapress.deploy import drift
from lambdapress.errors import DeployError

from .drift_stubs import STACK, detection, drifts, stack_found


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.uv.workspace]\nmembers = []\n\n[tool.lambdapress.deploy]\nproject = "acme"\n',
        encoding="utf-8",
    )
    return tmp_path


def test_a_drifted_stack_is_a_table_of_what_changed_and_exit_1(
    root: Path, cloudformation: Stubber, capsys: pytest.CaptureFixture[str]
) -> None:
    stack_found(cloudformation)
    detection(cloudformation, "DETECTION_IN_PROGRESS")
    detection(
        cloudformation,
        "DETECTION_COMPLETE",
        StackDriftStatus="DRIFTED",
        DriftedStackResourceCount=2,
    )
    memory = {
        "PropertyPath": "/MemorySize",
        "ExpectedValue": "256",
        "ActualValue": "1024",
        "DifferenceType": "NOT_EQUAL",
    }
    tags = {
        "PropertyPath": "/Environment/Variables/DEBUG",
        "ExpectedValue": "null",
        "ActualValue": '"1"',
        "DifferenceType": "ADD",
    }
    drifts(
        cloudformation,
        [
            {
                "LogicalResourceId": "ShopPingFunction",
                "ResourceType": "AWS::Lambda::Function",
                "StackResourceDriftStatus": "MODIFIED",
                "PropertyDifferences": [memory, tags],
            }
        ],
        "page-1",
    )
    drifts(
        cloudformation,
        [
            {
                "LogicalResourceId": "ShopPingLogGroup",
                "ResourceType": "AWS::Logs::LogGroup",
                "StackResourceDriftStatus": "DELETED",
            }
        ],
        "page-2",
    )
    code = main(["drift", "--stage", "prod", "--root", str(root)])
    out, err = capsys.readouterr()
    assert code == 1, err
    assert f"{STACK}: drifted, 2 resources changed outside lambdapress" in out
    rows = [line.split() for line in out.splitlines()]
    assert ["resource", "type", "property", "expected", "actual"] in rows
    assert [
        "ShopPingFunction",
        "AWS::Lambda::Function",
        "/Environment/Variables/DEBUG",
        "null",
        '"1"',
    ] in rows
    assert ["ShopPingFunction", "AWS::Lambda::Function", "/MemorySize", "256", "1024"] in rows
    assert ["ShopPingLogGroup", "AWS::Logs::LogGroup", "-", "exists", "deleted"] in rows
    assert "deploy --stage prod puts the template's values back" in out


def test_a_stack_in_sync_exits_0_and_names_what_was_not_checked(
    root: Path, cloudformation: Stubber, capsys: pytest.CaptureFixture[str]
) -> None:
    stack_found(cloudformation)
    detection(
        cloudformation,
        "DETECTION_COMPLETE",
        StackDriftStatus="IN_SYNC",
        DriftedStackResourceCount=0,
    )
    unchecked = [
        {
            "LogicalResourceId": logical_id,
            "ResourceType": "AWS::ApiGatewayV2::Route",
            "StackResourceDriftStatus": "NOT_CHECKED",
        }
        for logical_id in ("ShopPingRouteGetPing", "ShopAuditRouteGetAudit")
    ]
    drifts(cloudformation, unchecked)
    assert main(["drift", "--stage", "prod", "--root", str(root)]) == 0
    out, err = capsys.readouterr()
    assert out == f"{STACK}: in sync with its template\n"
    assert (
        "not checked by CloudFormation (drift detection does not support them): "
        "ShopAuditRouteGetAudit, ShopPingRouteGetPing"
    ) in err


def test_no_stack_is_an_error_saying_to_deploy_first(
    root: Path, cloudformation: Stubber, capsys: pytest.CaptureFixture[str]
) -> None:
    cloudformation.add_client_error(
        "describe_stacks",
        "ValidationError",
        f"Stack with id {STACK} does not exist",
        expected_params={"StackName": STACK},
    )
    assert main(["drift", "--stage", "prod", "--root", str(root)]) == 1
    err = capsys.readouterr().err
    assert f"there is no stack {STACK} to check" in err
    assert "lambdapress deploy --stage prod" in err


def test_a_failed_detection_says_why(
    root: Path, cloudformation: Stubber, capsys: pytest.CaptureFixture[str]
) -> None:
    stack_found(cloudformation)
    detection(
        cloudformation,
        "DETECTION_FAILED",
        DetectionStatusReason="Failed to detect drift on resource [OrdersTable]: access denied",
    )
    assert main(["drift", "--stage", "prod", "--root", str(root)]) == 1
    err = capsys.readouterr().err
    assert "failed: Failed to detect drift on resource [OrdersTable]: access denied" in err
    assert "Traceback" not in err


def test_a_detection_that_does_not_finish_in_time_is_an_error(
    root: Path, cloudformation: Stubber
) -> None:
    stack_found(cloudformation)
    detection(cloudformation, "DETECTION_IN_PROGRESS")
    with pytest.raises(DeployError, match="did not finish in 0 seconds"):
        drift.detect(root, "prod", timeout=0, sleep=lambda seconds: None)
