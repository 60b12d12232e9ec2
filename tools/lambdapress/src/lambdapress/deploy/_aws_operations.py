"""The reads of a running stage: why a rollout rolled back, its logs, its drift, its network.

`deploy` reads CodeDeploy and CloudWatch only when a gradual rollout failed (`rollbacks`),
`lambdapress logs` reads CloudWatch Logs, `lambdapress drift` CloudFormation's drift
detection, and the checks before deploy the network a stage names (SSM parameters, exports,
subnets and security groups). Each returns small frozen values, like the calls of `aws`.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lambdapress.deploy._aws_errors import NOT_FOUND, code
from lambdapress.deploy._aws_session import (
    CLIENT_CONFIG,
    FAILURES,
    MALFORMED,
    AwsSession,
)


@dataclass(frozen=True)
class LogEvent:
    """One event of a log group, its message redacted like every text that comes from AWS."""

    event_id: str
    timestamp_ms: int
    stream: str
    message: str


DRIFT_STATES = ("MODIFIED", "DELETED", "NOT_CHECKED", "UNSUPPORTED", "UNKNOWN")
"""What `resource_drifts` asks for: every state but IN_SYNC."""


@dataclass(frozen=True)
class DriftDetection:
    """A drift detection's state: DETECTION_IN_PROGRESS, _COMPLETE or _FAILED, and the stack's."""

    status: str
    drift_status: str  # DRIFTED | IN_SYNC | UNKNOWN | NOT_CHECKED ("" while in progress)
    reason: str
    drifted_count: int


@dataclass(frozen=True)
class DeploymentFacts:
    """What `GetDeployment` and `GetDeploymentGroup` say of one deployment."""

    deployment_id: str
    group: str
    status: str
    error_code: str | None
    error_message: str | None
    rollback_message: str | None
    started: datetime | None
    alarms: tuple[str, ...]
    """The alarms its deployment group watches."""


@dataclass(frozen=True)
class AlarmBreach:
    """One change of an alarm to ALARM, with CloudWatch's reason (it carries the value)."""

    alarm: str
    reason: str
    at: datetime


class OperationsCalls(AwsSession):
    """The calls that read a running stage (see the module)."""

    # -- CodeDeploy and CloudWatch: why a gradual rollout rolled back (`rollbacks`) ------------
    # Made on first use: only a failed deploy reads them. Any: the project's boto3 stubs cover
    # the clients deploy always uses, not these two.
    @functools.cached_property
    def _codedeploy(self) -> Any:
        return self._session.client("codedeploy", config=CLIENT_CONFIG)

    @functools.cached_property
    def _cloudwatch(self) -> Any:
        return self._session.client("cloudwatch", config=CLIENT_CONFIG)

    def deployment(self, application: str, deployment_id: str) -> DeploymentFacts | None:
        """`GetDeployment` and its group's alarms (`GetDeploymentGroup`); None if unknown."""
        client = self._codedeploy
        try:
            info = client.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
            group = info.get("deploymentGroupName", "")
            configured = client.get_deployment_group(
                applicationName=info.get("applicationName", application),
                deploymentGroupName=group,
            )["deploymentGroupInfo"].get("alarmConfiguration", {})
        except ClientError as exc:
            if code(exc) in {"DeploymentDoesNotExistException", *NOT_FOUND}:
                return None
            raise self.error(f"cannot read CodeDeploy deployment {deployment_id}", exc) from None
        except (BotoCoreError, *MALFORMED) as exc:
            raise self.error(f"cannot read CodeDeploy deployment {deployment_id}", exc) from None
        error = info.get("errorInformation", {})
        return DeploymentFacts(
            deployment_id=deployment_id,
            group=group,
            status=info.get("status", ""),
            error_code=error.get("code"),
            error_message=self.secrets.redact(error["message"]) if "message" in error else None,
            rollback_message=info.get("rollbackInfo", {}).get("rollbackMessage"),
            started=info.get("createTime"),
            alarms=tuple(a["name"] for a in configured.get("alarms", [])),
        )

    def latest_stopped_deployment(self, application: str, group: str) -> str | None:
        """The group's most recent stopped or failed deployment (`ListDeployments`)."""
        client = self._codedeploy
        try:
            listed = client.list_deployments(
                applicationName=application,
                deploymentGroupName=group,
                includeOnlyStatuses=["Stopped", "Failed"],
            )
        except FAILURES as exc:
            raise self.error(f"cannot list the deployments of {group}", exc) from None
        deployments: list[str] = listed.get("deployments", [])
        return deployments[0] if deployments else None  # newest first

    def breaches(self, alarm: str, since: Any) -> list[AlarmBreach]:
        """The alarm's changes to ALARM since `since` (`DescribeAlarmHistory`)."""
        client = self._cloudwatch
        arguments: dict[str, Any] = {"AlarmName": alarm, "HistoryItemType": "StateUpdate"}
        if since is not None:
            arguments["StartDate"] = since
        found: list[AlarmBreach] = []
        try:
            for page in client.get_paginator("describe_alarm_history").paginate(**arguments):
                for item in page.get("AlarmHistoryItems", []):
                    data = json.loads(item.get("HistoryData") or "{}")
                    state = data.get("newState", {})
                    if state.get("stateValue") == "ALARM":
                        reason = state.get("stateReason") or item.get("HistorySummary", "")
                        found.append(AlarmBreach(alarm, reason, item["Timestamp"]))
        except (*FAILURES, ValueError) as exc:
            raise self.error(f"cannot read the history of alarm {alarm}", exc) from None
        return found

    # -- CloudWatch Logs: `lambdapress logs` ----------------------------------------------------
    def log_events(
        self, group: str, start_ms: int, token: str | None = None
    ) -> tuple[list[LogEvent], str | None]:
        """One page of `group`'s events from `start_ms` on (FilterLogEvents), and the next token.

        A group that does not exist yet is no events: Lambda creates it at the first
        invocation when the stack did not.
        """
        client: Any = self._session.client(
            "logs", config=CLIENT_CONFIG
        )  # no stubs installed for logs
        request: dict[str, Any] = {"logGroupName": group, "startTime": start_ms}
        if token:
            request["nextToken"] = token
        try:
            page = client.filter_log_events(**request)
        except ClientError as exc:
            if code(exc) in NOT_FOUND:
                return [], None
            raise self.error(f"cannot read log group {group}", exc) from None
        except (BotoCoreError, *MALFORMED) as exc:
            raise self.error(f"cannot read log group {group}", exc) from None
        events = [
            LogEvent(
                event_id=str(item.get("eventId", "")),
                timestamp_ms=int(item.get("timestamp", 0)),
                stream=str(item.get("logStreamName", "")),
                message=self.secrets.redact(str(item.get("message", ""))),
            )
            for item in page.get("events", [])
        ]
        return events, page.get("nextToken") or None

    # -- CloudFormation drift detection: `lambdapress drift` ----------------------------------
    def detect_drift(self, stack: str) -> str:
        """Start drift detection on `stack`; the detection's id."""
        try:
            return self._cfn.detect_stack_drift(StackName=stack)["StackDriftDetectionId"]
        except FAILURES as exc:
            raise self.error(f"cannot start drift detection on {stack}", exc) from None

    def drift_detection(self, detection_id: str) -> DriftDetection:
        """Where a drift detection is (DescribeStackDriftDetectionStatus)."""
        try:
            found = self._cfn.describe_stack_drift_detection_status(
                StackDriftDetectionId=detection_id
            )
        except FAILURES as exc:
            raise self.error("cannot read the drift detection's status", exc) from None
        return DriftDetection(
            status=found["DetectionStatus"],
            drift_status=found.get("StackDriftStatus", ""),
            reason=self.secrets.redact(found.get("DetectionStatusReason", "")),
            drifted_count=found.get("DriftedStackResourceCount", 0),
        )

    def resource_drifts(self, stack: str) -> list[dict[str, Any]]:
        """The stack's resources that drifted (modified, deleted) or that were not checked."""
        found: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "StackName": stack,
            "StackResourceDriftStatusFilters": list(DRIFT_STATES),
        }
        try:
            while True:
                page = self._cfn.describe_stack_resource_drifts(**request)
                found += [dict(item) for item in page["StackResourceDrifts"]]
                if not page.get("NextToken"):
                    return found
                request["NextToken"] = page["NextToken"]
        except FAILURES as exc:
            raise self.error(f"cannot read the drifted resources of {stack}", exc) from None

    def parameter_value(self, name: str) -> str | None:
        """A String or StringList parameter's value (never a SecureString's), or None."""
        client: Any = self._session.client("ssm", config=CLIENT_CONFIG)
        try:
            found = client.get_parameter(Name=name, WithDecryption=False)["Parameter"]
        except ClientError as exc:
            if code(exc) in {"ParameterNotFound", *NOT_FOUND}:
                return None
            raise self.error(f"cannot read parameter {name}", exc) from None
        except BotoCoreError as exc:
            raise self.error(f"cannot read parameter {name}", exc) from None
        return None if found.get("Type") == "SecureString" else str(found["Value"])

    # -- the network a stage's functions are placed in ---------------------------------------
    def export_value(self, name: str) -> str | None:
        """The value another stack exports under `name` in this region, or None."""
        try:
            for page in self._cfn.get_paginator("list_exports").paginate():
                for export in page.get("Exports", []):
                    if export.get("Name") == name:
                        return str(export.get("Value", ""))
        except FAILURES as exc:
            raise self.error(f"cannot read the export {name}", exc) from None
        return None

    def subnet_vpcs(self, subnets: list[str]) -> dict[str, str]:
        """The VPC of each of `subnets` that exists (a missing one is left out)."""
        client: Any = self._session.client("ec2", config=CLIENT_CONFIG)
        try:
            found = client.describe_subnets(Filters=[{"Name": "subnet-id", "Values": subnets}])
        except FAILURES as exc:
            raise self.error("cannot look the subnets up (ec2:DescribeSubnets)", exc) from None
        return {s["SubnetId"]: s["VpcId"] for s in found.get("Subnets", [])}

    def security_group_vpcs(self, groups: list[str]) -> dict[str, str]:
        """The VPC of each of `groups` that exists (a missing one is left out)."""
        client: Any = self._session.client("ec2", config=CLIENT_CONFIG)
        try:
            found = client.describe_security_groups(
                Filters=[{"Name": "group-id", "Values": groups}]
            )
        except FAILURES as exc:
            raise self.error(
                "cannot look the security groups up (ec2:DescribeSecurityGroups)", exc
            ) from None
        return {g["GroupId"]: g.get("VpcId", "") for g in found.get("SecurityGroups", [])}
