"""CloudFormation's drift-detection answers through botocore's Stubber (moto has none).

`cloudformation` (a fixture, in conftest.py) makes every CloudFormation client answer from one
Stubber's queue; the functions queue the answers of one detection.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from lambdapress.deploy import drift

STACK = "acme-prod"
STACK_ID = f"arn:aws:cloudformation:us-east-1:123456789012:stack/{STACK}/1a2b"
NOW = datetime.datetime(2026, 12, 7, tzinfo=datetime.UTC)


def stubbed_cloudformation(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """Every CloudFormation client made from now on answers from this Stubber's queue."""
    original = boto3.session.Session.client
    probe = boto3.session.Session(region_name="us-east-1").client("cloudformation")
    stubber = Stubber(probe)

    def client(self: boto3.session.Session, name: str, *args: Any, **kwargs: Any) -> Any:
        return probe if name == "cloudformation" else original(self, name, *args, **kwargs)

    monkeypatch.setattr(boto3.session.Session, "client", client)
    monkeypatch.setattr(drift, "_POLL", 0.01)
    with stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def stack_found(stubber: Stubber) -> None:
    """The stack exists; its detection starts as `d-1`."""
    stubber.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackId": STACK_ID,
                    "StackName": STACK,
                    "CreationTime": NOW,
                    "StackStatus": "UPDATE_COMPLETE",
                }
            ]
        },
        {"StackName": STACK},
    )
    stubber.add_response(
        "detect_stack_drift", {"StackDriftDetectionId": "d-1"}, {"StackName": STACK_ID}
    )


def detection(stubber: Stubber, state: str, **fields: Any) -> None:
    """`d-1` is in `state` (DETECTION_IN_PROGRESS, _COMPLETE, _FAILED) with `fields`."""
    stubber.add_response(
        "describe_stack_drift_detection_status",
        {
            "StackId": STACK_ID,
            "StackDriftDetectionId": "d-1",
            "DetectionStatus": state,
            "Timestamp": NOW,
            **fields,
        },
        {"StackDriftDetectionId": "d-1"},
    )


def drifts(stubber: Stubber, items: list[dict[str, Any]], token: str | None = None) -> None:
    """A page of drifted resources (`page-1` says a `page-2` follows)."""
    request: dict[str, Any] = {
        "StackName": STACK_ID,
        "StackResourceDriftStatusFilters": [
            "MODIFIED",
            "DELETED",
            "NOT_CHECKED",
            "UNSUPPORTED",
            "UNKNOWN",
        ],
    }
    if token == "page-2":
        request["NextToken"] = token
    answer: dict[str, Any] = {
        "StackResourceDrifts": [{"StackId": STACK_ID, "Timestamp": NOW, **item} for item in items]
    }
    if token == "page-1":
        answer["NextToken"] = "page-2"
    stubber.add_response("describe_stack_resource_drifts", answer, request)
