"""A deploy CloudFormation refuses: the stack's own reasons printed, exit 1, nothing left over.

moto accepts any property (it validates none and never rolls back; see test_deploy_moto.py), so
CloudFormation's side of these tests is botocore's Stubber answering as AWS does for a function
whose MemorySize fails validation, checked against the service model; S3, STS and Lambda are
still moto's server. The template sent is the real one with the invalid property injected, and
the Stubber checks that this is what CloudFormation received.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from lambdapress.cli import main
from lambdapress.deploy import target as target_module
from lambdapress.deploy.aws import Aws
from lambdapress.deploy.template import StackTemplate

from .conftest import MARKER

STACK = "shop-dev"
NOW = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)
STACK_ID = f"arn:aws:cloudformation:us-east-1:123456789012:stack/{STACK}/1"
CHANGE_SET_ID = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/lambdapress-x/1"
# What CloudFormation says about a property outside its schema's bounds; it quotes the value,
# which here is the marker secret: the output must show it redacted.
REASON = (
    "Properties validation failed for resource ShopGreetFunction with message: "
    f"#/MemorySize: failed validation constraint for keyword [minimum] (value {MARKER})"
)


@pytest.fixture
def invalid_property(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Inject MemorySize 1 into the greet function of every template deploy builds."""
    bodies: list[str] = []
    build = target_module.build_template

    def injected(*args: Any) -> StackTemplate:
        template = build(*args)
        document = json.loads(template.body)
        document["Resources"]["ShopGreetFunction"]["Properties"]["MemorySize"] = 1
        body = json.dumps(document, indent=2, sort_keys=True)
        bodies.append(body)
        return template.model_copy(update={"body": body})

    monkeypatch.setattr(target_module, "build_template", injected)
    return bodies


@pytest.fixture
def cloudformation(monkeypatch: pytest.MonkeyPatch, moto_server: object) -> Iterator[Stubber]:
    """Every `Aws` gets this one stubbed CloudFormation client; all answers must be used."""
    client = boto3.client("cloudformation")
    stubber = Stubber(client)
    start = Aws.__init__

    def with_stub(self: Aws, *args: Any) -> None:
        start(self, *args)
        self._cfn = client

    monkeypatch.setattr(Aws, "__init__", with_stub)
    with stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def _no_stack(stubber: Stubber) -> None:
    stubber.add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message=f"Stack with id {STACK} does not exist",
        http_status_code=400,
        expected_params={"StackName": STACK},
    )


def _change_set(stubber: Stubber, bodies: list[str], status: str, reason: str = "") -> None:
    stubber.add_response(
        "create_change_set",
        {"Id": CHANGE_SET_ID, "StackId": STACK_ID},
        {
            "StackName": STACK,
            "ChangeSetName": ANY,
            "ChangeSetType": "CREATE",
            "Capabilities": ["CAPABILITY_IAM"],
            "Tags": ANY,
            "TemplateBody": _LastBody(bodies),
        },
    )
    described: dict[str, Any] = {
        "ChangeSetId": CHANGE_SET_ID,
        "StackId": STACK_ID,
        "StackName": STACK,
        "Status": status,
        "ExecutionStatus": "AVAILABLE" if status == "CREATE_COMPLETE" else "UNAVAILABLE",
        "Changes": [
            {
                "Type": "Resource",
                "ResourceChange": {
                    "Action": "Add",
                    "LogicalResourceId": "ShopGreetFunction",
                    "ResourceType": "AWS::Lambda::Function",
                },
            }
        ],
    }
    if reason:
        described["StatusReason"] = reason
    for _ in range(2):  # the waiter's poll, then the description read
        stubber.add_response("describe_change_set", described, {"ChangeSetName": CHANGE_SET_ID})


class _LastBody:
    """Equal to the template body deploy built last (known only once it has built it)."""

    def __init__(self, bodies: list[str]) -> None:
        self.bodies = bodies

    def __eq__(self, other: object) -> bool:
        return bool(self.bodies) and other == self.bodies[-1]

    def __hash__(self) -> int:
        return 0


def _stack(status: str) -> dict[str, Any]:
    return {
        "Stacks": [
            {
                "StackId": STACK_ID,
                "StackName": STACK,
                "CreationTime": NOW,
                "StackStatus": status,
            }
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
FUNCTION_TYPE = "AWS::Lambda::Function"


@pytest.mark.e2e
def test_a_stack_that_fails_and_rolls_back_prints_its_reason_and_exits_1(
    shop: Path,
    cloudformation: Stubber,
    invalid_property: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = shop
    review = ("shop-dev", STACK_TYPE, "REVIEW_IN_PROGRESS", "User Initiated")
    _no_stack(cloudformation)
    _change_set(cloudformation, invalid_property, "CREATE_COMPLETE")
    cloudformation.add_response("describe_stacks", _stack("REVIEW_IN_PROGRESS"))
    cloudformation.add_response("describe_stack_events", _events(review))
    cloudformation.add_response("execute_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})
    cloudformation.add_response("describe_stacks", _stack("ROLLBACK_COMPLETE"))
    cloudformation.add_response(
        "describe_stack_events",
        _events(
            review,
            ("shop-dev", STACK_TYPE, "CREATE_IN_PROGRESS", "User Initiated"),
            ("ShopRole", "AWS::IAM::Role", "CREATE_COMPLETE", ""),
            ("ShopGreetFunction", FUNCTION_TYPE, "CREATE_FAILED", REASON),
            ("ShopStockFunction", FUNCTION_TYPE, "CREATE_FAILED", "Resource creation cancelled"),
            ("shop-dev", STACK_TYPE, "ROLLBACK_IN_PROGRESS", "The following resource(s) failed"),
            ("shop-dev", STACK_TYPE, "ROLLBACK_COMPLETE", ""),
        ),
    )

    code = main(["deploy", "--stage", "dev", "--yes", "--root", str(root)])

    out, err = capsys.readouterr()
    assert code == 1
    error = err[err.index("error:") :]
    assert error.startswith("error: deploying shop-dev failed (ROLLBACK_COMPLETE)")
    assert "ShopGreetFunction (AWS::Lambda::Function): Properties validation failed" in error
    assert "cancelled" not in error  # the knock-on failures are not reasons
    assert "ShopGreetFunction CREATE_FAILED" in err  # followed as it happened
    assert "lambdapress destroy --stage dev" in error
    assert '"MemorySize": 1' in invalid_property[-1]
    assert MARKER not in out + err
    assert "(value ***)" in err


@pytest.mark.e2e
def test_a_change_set_cloudformation_cannot_create_is_an_error_and_is_removed(
    shop: Path,
    cloudformation: Stubber,
    invalid_property: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = shop
    _no_stack(cloudformation)
    _change_set(cloudformation, invalid_property, "FAILED", REASON)
    cloudformation.add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})
    cloudformation.add_response("describe_stacks", _stack("REVIEW_IN_PROGRESS"))
    cloudformation.add_response("delete_stack", {}, {"StackName": STACK_ID})

    code = main(["deploy", "--stage", "dev", "--yes", "--root", str(root)])

    out, err = capsys.readouterr()
    assert code == 1
    assert "could not create a change set for shop-dev: Properties validation failed" in err
    assert MARKER not in out + err
    assert not boto3.client("s3").list_buckets()["Buckets"]  # nothing uploaded
