"""`lambdapress drift`: what changed in a stage's stack outside the tool.

CloudFormation compares each resource's live configuration with the template
(DetectStackDrift, then DescribeStackDriftDetectionStatus until it is done, then
DescribeStackResourceDrifts for every resource not IN_SYNC). Each difference becomes one row:
the resource, its type, the property, what the template says and what is there. A resource
CloudFormation did not check (a type drift detection does not support, such as the HTTP API's
routes) is listed as not checked, never passed over as in sync.

Exit status (the CLI): 0 in sync, 1 drifted (or an error); so a pipeline can gate on it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdapress.config.workspace import find_root
from lambdapress.deploy._secret_values import Secrets
from lambdapress.deploy.aws import Aws
from lambdapress.deploy.config import load_deploy_config
from lambdapress.errors import DeployError

_POLL = 2.0
_CHANGED = ("MODIFIED", "DELETED")


@dataclass(frozen=True)
class Drift:
    """One difference between the template and what is deployed."""

    logical_id: str
    resource_type: str
    property: str
    """The property's path (`/Properties/MemorySize`); `-` for a deleted resource."""
    expected: str
    actual: str
    change: str
    """ADD, REMOVE or NOT_EQUAL for a property; DELETED for a resource."""


@dataclass(frozen=True)
class DriftReport:
    """The outcome of one detection."""

    stack_name: str
    drifted: bool
    drifts: tuple[Drift, ...]
    drifted_resources: int
    not_checked: tuple[str, ...]
    """The logical ids of the resources CloudFormation did not check (sorted)."""


def detect(
    root: Path,
    stage: str,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
) -> DriftReport:
    """Run drift detection on `stage`'s stack and wait for it (at most `timeout` seconds)."""
    config = load_deploy_config(find_root(root))
    stack_name = config.stack_name(stage)
    aws = Aws(Secrets.gather())
    stack = aws.stack(stack_name)
    if stack is None:
        raise DeployError(
            f"there is no stack {stack_name} to check",
            hint=f"deploy it first: lambdapress deploy --stage {stage}",
        )
    detection_id = aws.detect_drift(stack.stack_id)
    deadline = time.monotonic() + timeout
    while True:
        detection = aws.drift_detection(detection_id)
        if detection.status != "DETECTION_IN_PROGRESS":
            break
        if time.monotonic() > deadline:
            raise DeployError(
                f"drift detection on {stack_name} did not finish in {timeout:g} seconds",
                hint="run `lambdapress drift` again later, or see the stack's drifts in the "
                "CloudFormation console",
            )
        sleep(_POLL)
    if detection.status == "DETECTION_FAILED":
        raise DeployError(
            f"drift detection on {stack_name} failed: {detection.reason or 'no reason given'}",
            hint="the role running it needs read access to every resource of the stack "
            "(the reason names what it could not read)",
        )
    items = aws.resource_drifts(stack.stack_id)
    changed = [i for i in items if i.get("StackResourceDriftStatus") in _CHANGED]
    drifts = [row for item in changed for row in _rows(item)]
    return DriftReport(
        stack_name=stack_name,
        drifted=detection.drift_status == "DRIFTED",
        drifts=tuple(sorted(drifts, key=lambda d: (d.logical_id, d.property))),
        drifted_resources=detection.drifted_count,
        not_checked=tuple(
            sorted(str(i.get("LogicalResourceId", "")) for i in items if i not in changed)
        ),
    )


def _rows(item: dict[str, Any]) -> list[Drift]:
    """A drifted resource as rows: one per property that differs, one for a deleted resource."""
    logical_id = str(item.get("LogicalResourceId", ""))
    resource_type = str(item.get("ResourceType", ""))
    if item.get("StackResourceDriftStatus") == "DELETED":
        return [Drift(logical_id, resource_type, "-", "exists", "deleted", "DELETED")]
    return [
        Drift(
            logical_id,
            resource_type,
            str(difference.get("PropertyPath", "")),
            _shown(difference.get("ExpectedValue")),
            _shown(difference.get("ActualValue")),
            str(difference.get("DifferenceType", "")),
        )
        for difference in item.get("PropertyDifferences", [])
    ]


def _shown(value: object) -> str:
    """A property's value as CloudFormation gives it (JSON text), compacted for a table."""
    if value is None:
        return "-"
    text = str(value)
    try:
        return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    except ValueError:
        return text
