"""A typed wrapper over the boto3 calls of deploy, sync and destroy; their errors, in words.

The calls go to S3, CloudFormation, Lambda, Secrets Manager and SSM; those that read a running
stage (CodeDeploy, CloudWatch, its logs, drift, the network) are `_aws_operations`', and the
session, its timeouts and the wording of every failure as a `DeployError` are `_aws_session`'s.

Everything else in `lambdapress.deploy` talks to AWS through `Aws` only, so the rest of the
package sees small frozen values (`StackState`, `ChangeSetState`, `StackEvent`) instead of
response dictionaries, and every failure reads the same way: what AWS refused, in words, and
the fix. Credentials come from boto3's usual chain (variables, profile, SSO, instance role) and
are never read or printed here; every message that comes back from AWS goes through `Secrets`
before it reaches an error, in case a service echoes a value it was sent.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import BotoCoreError, ClientError, WaiterError
from pydantic import BaseModel, ConfigDict, ValidationError

from lambdapress.deploy._aws_errors import NOT_FOUND, code, message
from lambdapress.deploy._aws_operations import (
    DRIFT_STATES,
    AlarmBreach,
    DeploymentFacts,
    DriftDetection,
    LogEvent,
    OperationsCalls,
)
from lambdapress.deploy._aws_session import (
    CLIENT_CONFIG,
    CONNECT_TIMEOUT,
    FAILURES,
    MALFORMED,
    READ_TIMEOUT,
)
from lambdapress.errors import DeployError

__all__ = [
    "CONNECT_TIMEOUT",
    "DRIFT_STATES",
    "READ_TIMEOUT",
    "TEMPLATE_BODY_LIMIT",
    "AlarmBreach",
    "Aws",
    "ChangeSetState",
    "DeploymentFacts",
    "DriftDetection",
    "LogEvent",
    "ParameterFacts",
    "ResourceChange",
    "SecretFacts",
    "StackEvent",
    "StackResource",
    "StackState",
]

if TYPE_CHECKING:
    pass

TEMPLATE_BODY_LIMIT = 51_200
"""CloudFormation's limit on an inline template body, in bytes; larger ones go through S3."""


@dataclass(frozen=True)
class StackState:
    """A stack as `DescribeStacks` reports it."""

    stack_id: str
    status: str
    reason: str
    outputs: dict[str, str]

    @property
    def in_review(self) -> bool:
        """Created by a change set never executed: it has no resources yet (CREATE again)."""
        return self.status == "REVIEW_IN_PROGRESS"


Action = Literal["Add", "Modify", "Remove", "Import", "Dynamic"]


@dataclass(frozen=True)
class ResourceChange:
    """One line of a change set: a resource added, modified (replaced or not) or removed."""

    action: str
    logical_id: str
    resource_type: str
    replacement: str  # "True" | "False" | "Conditional" | "" (an add or a remove)


@dataclass(frozen=True)
class ChangeSetState:
    """A change set once CloudFormation has finished computing it."""

    change_set_id: str
    status: str
    reason: str
    execution_status: str
    changes: tuple[ResourceChange, ...]


@dataclass(frozen=True)
class StackResource:
    """One resource of a stack, as `ListStackResources` reports it."""

    logical_id: str
    resource_type: str
    physical_id: str
    status: str


@dataclass(frozen=True)
class SecretFacts:
    """What `DescribeSecret` says of a secret (never its value)."""

    deleted: bool
    versions: frozenset[str]
    """Its version ids and stages (`AWSCURRENT`, ...)."""


@dataclass(frozen=True)
class ParameterFacts:
    """What `GetParameter` says of a parameter's type (its value is not kept)."""

    kind: str


@dataclass(frozen=True)
class StackEvent:
    """One stack event: a resource (or the stack itself) entering a status."""

    event_id: str
    logical_id: str
    resource_type: str
    status: str
    reason: str


class Aws(OperationsCalls):
    """Every call deploy, sync and destroy make (and, inherited, those reading a running stage)."""

    # -- S3 ---------------------------------------------------------------------------------
    def bucket_exists(self, bucket: str) -> bool:
        """Whether `bucket` exists (and is ours to use: someone else's is an access error)."""
        try:
            self._s3.head_bucket(Bucket=bucket)
        except ClientError as exc:
            if code(exc) in NOT_FOUND:
                return False
            raise self.error(f"cannot use bucket {bucket}", exc) from None
        except (BotoCoreError, *MALFORMED) as exc:
            raise self.error(f"cannot use bucket {bucket}", exc) from None
        return True

    def create_bucket(self, bucket: str, tags: dict[str, str]) -> None:
        """A private, encrypted bucket: public access blocked, SSE-S3, tagged."""
        try:
            if self.region == "us-east-1":  # the one region that refuses a location constraint
                self._s3.create_bucket(Bucket=bucket)
            else:
                self._s3.create_bucket(
                    Bucket=bucket,
                    CreateBucketConfiguration={"LocationConstraint": self.region},  # type: ignore[typeddict-item]
                )
            self._s3.put_public_access_block(
                Bucket=bucket,
                PublicAccessBlockConfiguration={
                    "BlockPublicAcls": True,
                    "IgnorePublicAcls": True,
                    "BlockPublicPolicy": True,
                    "RestrictPublicBuckets": True,
                },
            )
            self._s3.put_bucket_encryption(
                Bucket=bucket,
                ServerSideEncryptionConfiguration={
                    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                },
            )
            self._s3.put_bucket_tagging(
                Bucket=bucket,
                Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]},
            )
        except FAILURES as exc:
            raise self.error(f"cannot create the artifact bucket {bucket}", exc) from None

    def object_exists(self, bucket: str, key: str) -> bool:
        """Whether `key` is in `bucket` (a complete object: S3 never shows a partial one)."""
        try:
            self._s3.head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if code(exc) in NOT_FOUND:
                return False
            raise self.error(f"cannot read s3://{bucket}/{key}", exc) from None
        except (BotoCoreError, *MALFORMED) as exc:
            raise self.error(f"cannot read s3://{bucket}/{key}", exc) from None
        return True

    def put_file(self, bucket: str, key: str, path: Path, sha256_hex: str) -> None:
        """Upload `path` as `key` with its SHA-256, which S3 checks before storing anything.

        A PUT is all or nothing: an upload cut short, or bytes changed on the way, never
        becomes an object, so a key that exists is always a whole, correct zip.
        """
        checksum = base64.b64encode(bytes.fromhex(sha256_hex)).decode("ascii")
        try:
            with path.open("rb") as body:
                self._s3.put_object(Bucket=bucket, Key=key, Body=body, ChecksumSHA256=checksum)
        except FAILURES as exc:
            raise self.error(f"cannot upload {path.name} to s3://{bucket}/{key}", exc) from None

    def put_text(self, bucket: str, key: str, text: str) -> str:
        """Upload a small text object (a template too large to send inline); its URL."""
        try:
            self._s3.put_object(Bucket=bucket, Key=key, Body=text.encode("utf-8"))
        except FAILURES as exc:
            raise self.error(f"cannot upload s3://{bucket}/{key}", exc) from None
        return f"https://{bucket}.s3.{self.region}.amazonaws.com/{key}"

    def keys(self, bucket: str) -> Iterator[str]:
        """Every key in `bucket`."""
        try:
            for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                for item in page.get("Contents", []):
                    yield item["Key"]
        except FAILURES as exc:
            raise self.error(f"cannot list bucket {bucket}", exc) from None

    def delete_bucket(self, bucket: str) -> None:
        """Delete every object (and version) of `bucket`, then the bucket."""
        try:
            pages = self._s3.get_paginator("list_object_versions").paginate(Bucket=bucket)
            for page in pages:
                doomed = [
                    {"Key": v["Key"], "VersionId": v["VersionId"]}
                    for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
                ]
                if doomed:
                    self._s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed})  # type: ignore[typeddict-item]
            self._s3.delete_bucket(Bucket=bucket)
        except FAILURES as exc:
            raise self.error(f"cannot delete bucket {bucket}", exc) from None

    # -- CloudFormation ---------------------------------------------------------------------
    def stack(self, name: str) -> StackState | None:
        """The stack called `name`, or None when there is none (or it was deleted)."""
        try:
            stacks = self._cfn.describe_stacks(StackName=name)["Stacks"]
        except ClientError as exc:
            if code(exc) == "ValidationError" and "does not exist" in message(exc):
                return None
            raise self.error(f"cannot describe stack {name}", exc) from None
        except (BotoCoreError, *MALFORMED) as exc:
            raise self.error(f"cannot describe stack {name}", exc) from None
        if not stacks or stacks[0]["StackStatus"] == "DELETE_COMPLETE":
            return None
        found = stacks[0]
        try:
            outputs = _Outputs.model_validate({"outputs": found.get("Outputs", [])})
        except ValidationError as exc:
            problem = exc.errors()[0]
            raise DeployError(
                f"the outputs CloudFormation reports for stack {name} cannot be read "
                f"({'.'.join(str(p) for p in problem['loc'][1:])}: {problem['msg']}); "
                "nothing was changed",
                hint="describe the stack in the CloudFormation console; check AWS_ENDPOINT_URL",
            ) from None
        return StackState(
            stack_id=found["StackId"],
            status=found["StackStatus"],
            reason=self.secrets.redact(found.get("StackStatusReason", "")),
            outputs={o.OutputKey: o.OutputValue for o in outputs.outputs},
        )

    def project_stacks(self, tag: str, project: str) -> list[str]:
        """The names of the live stacks tagged `tag` = `project` (every stage of a project)."""
        found: list[str] = []
        try:
            for page in self._cfn.get_paginator("describe_stacks").paginate():
                for item in page["Stacks"]:
                    tags = {t["Key"]: t["Value"] for t in item.get("Tags", [])}
                    if tags.get(tag) == project and item["StackStatus"] != "DELETE_COMPLETE":
                        found.append(item["StackName"])
        except FAILURES as exc:
            raise self.error("cannot list the stacks", exc) from None
        return sorted(found)

    def create_change_set(
        self,
        stack: str,
        name: str,
        template: dict[str, str],
        kind: Literal["CREATE", "UPDATE"],
        tags: dict[str, str],
        capabilities: tuple[str, ...],
    ) -> str:
        """Ask for a change set; its id. CloudFormation computes it later (`wait_change_set`).

        `template` is `{"TemplateBody": ...}` or `{"TemplateURL": ...}`.
        """
        try:
            response = self._cfn.create_change_set(
                StackName=stack,
                ChangeSetName=name,
                ChangeSetType=kind,
                Capabilities=list(capabilities),  # type: ignore[arg-type]
                Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())],
                **template,  # type: ignore[arg-type]
            )
        except FAILURES as exc:
            raise self.error(f"CloudFormation refused the change set for {stack}", exc) from None
        return response["Id"]

    def wait_change_set(self, change_set_id: str) -> ChangeSetState:
        """The change set once computed (CREATE_COMPLETE or FAILED), with every change."""
        try:
            self._cfn.get_waiter("change_set_create_complete").wait(
                ChangeSetName=change_set_id, WaiterConfig={"Delay": 2, "MaxAttempts": 300}
            )
        except WaiterError:
            pass  # FAILED is an answer too: described below
        except (BotoCoreError, *MALFORMED) as exc:
            raise self.error("cannot wait for the change set", exc) from None
        changes: list[ResourceChange] = []
        token: str | None = None
        while True:
            try:
                page = (
                    self._cfn.describe_change_set(ChangeSetName=change_set_id, NextToken=token)
                    if token
                    else self._cfn.describe_change_set(ChangeSetName=change_set_id)
                )
            except FAILURES as exc:
                raise self.error("cannot describe the change set", exc) from None
            for change in page.get("Changes", []):
                resource = change.get("ResourceChange", {})
                changes.append(
                    ResourceChange(
                        action=resource.get("Action", ""),
                        logical_id=resource.get("LogicalResourceId", ""),
                        resource_type=resource.get("ResourceType", ""),
                        replacement=resource.get("Replacement", ""),
                    )
                )
            token = page.get("NextToken")
            if not token:
                break
        return ChangeSetState(
            change_set_id=change_set_id,
            status=page["Status"],
            reason=self.secrets.redact(page.get("StatusReason", "")),
            execution_status=page.get("ExecutionStatus", ""),
            changes=tuple(changes),
        )

    def delete_change_set(self, change_set_id: str) -> None:
        """Remove a change set that will not be executed."""
        try:
            self._cfn.delete_change_set(ChangeSetName=change_set_id)
        except FAILURES as exc:
            raise self.error("cannot delete the change set", exc) from None

    def execute_change_set(self, change_set_id: str) -> None:
        """Start applying a change set; the stack's events tell how it goes."""
        try:
            self._cfn.execute_change_set(ChangeSetName=change_set_id)
        except FAILURES as exc:
            raise self.error("CloudFormation refused to execute the change set", exc) from None

    def events(self, stack_id: str, after: set[str] | None = None) -> list[StackEvent]:
        """The stack's events newer than any in `after` (all when None), oldest first.

        CloudFormation lists the newest first, so reading stops at the first event already
        seen: following a stack with a long history reads one page per poll, not all of them.
        """
        found: list[StackEvent] = []
        try:
            pages = self._cfn.get_paginator("describe_stack_events").paginate(StackName=stack_id)
            for page in pages:
                for event in page["StackEvents"]:
                    if after is not None and event["EventId"] in after:
                        return found[::-1]
                    found.append(
                        StackEvent(
                            event_id=event["EventId"],
                            logical_id=event.get("LogicalResourceId", ""),
                            resource_type=event.get("ResourceType", ""),
                            status=event.get("ResourceStatus", ""),
                            reason=self.secrets.redact(event.get("ResourceStatusReason", "")),
                        )
                    )
                if after is not None and not after:  # only the newest page was wanted
                    break
        except FAILURES as exc:
            raise self.error("cannot read the stack's events", exc) from None
        return found[::-1]

    def template(self, stack: str) -> Any:
        """The template the stack runs, as deployed: a dict (JSON) or text (YAML)."""
        try:
            return self._cfn.get_template(StackName=stack, TemplateStage="Original")["TemplateBody"]
        except FAILURES as exc:
            raise self.error(f"cannot read the template of {stack}", exc) from None

    def stack_resources(self, stack_id: str) -> list[StackResource]:
        """The stack's resources (what deleting it deletes), in logical id order."""
        found: list[StackResource] = []
        try:
            pages = self._cfn.get_paginator("list_stack_resources").paginate(StackName=stack_id)
            for page in pages:
                for item in page["StackResourceSummaries"]:
                    found.append(
                        StackResource(
                            logical_id=item.get("LogicalResourceId", ""),
                            resource_type=item.get("ResourceType", ""),
                            physical_id=item.get("PhysicalResourceId", ""),
                            status=item.get("ResourceStatus", ""),
                        )
                    )
        except (ClientError, BotoCoreError) as exc:
            raise self.error("cannot list the stack's resources", exc) from None
        return sorted(found, key=lambda r: r.logical_id)

    def delete_stack(self, stack_id: str) -> None:
        """Start deleting the stack; its events tell how it goes."""
        try:
            self._cfn.delete_stack(StackName=stack_id)
        except FAILURES as exc:
            raise self.error("CloudFormation refused to delete the stack", exc) from None

    # -- Lambda -----------------------------------------------------------------------------
    def code_sha256(self, function_name: str) -> str | None:
        """The deployed function's CodeSha256, or None when there is no such function."""
        try:
            response = self._lambda.get_function(FunctionName=function_name)
        except ClientError as exc:
            if code(exc) in NOT_FOUND:
                return None
            raise self.error(f"cannot read function {function_name}", exc) from None
        except (BotoCoreError, *MALFORMED) as exc:
            raise self.error(f"cannot read function {function_name}", exc) from None
        return response["Configuration"].get("CodeSha256")

    def update_code(self, function_name: str, bucket: str, key: str) -> str:
        """Point the function at a zip in S3; the CodeSha256 Lambda computed from it."""
        try:
            response = self._lambda.update_function_code(
                FunctionName=function_name, S3Bucket=bucket, S3Key=key
            )
        except FAILURES as exc:
            raise self.error(f"cannot update the code of {function_name}", exc) from None
        return response.get("CodeSha256", "")

    def wait_updated(self, function_name: str, timeout: float = 300.0) -> str:
        """Wait until the last update is over: its final status (Successful or Failed...)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                config = self._lambda.get_function_configuration(FunctionName=function_name)
            except FAILURES as exc:
                raise self.error(f"cannot read function {function_name}", exc) from None
            status = config.get("LastUpdateStatus", "Successful")
            if status != "InProgress" or time.monotonic() > deadline:
                reason = config.get("LastUpdateStatusReason", "")
                return status if not reason else f"{status}: {self.secrets.redact(reason)}"
            time.sleep(1.0)

    def publish_to_alias(self, function_name: str, code_sha256: str, alias: str) -> str:
        """Publish `$LATEST` as a version (only if it runs `code_sha256`), point `alias` at it.

        What `sync` does after new code: every invoker calls the alias, so code that is not
        published behind it would never run. Returns the version.
        """
        try:
            published = self._lambda.publish_version(
                FunctionName=function_name, CodeSha256=code_sha256
            )
            version = published["Version"]
            self._lambda.update_alias(
                FunctionName=function_name, Name=alias, FunctionVersion=version
            )
        except FAILURES as exc:
            raise self.error(f"cannot publish {function_name} behind {alias}", exc) from None
        return version

    # -- Secrets Manager and SSM: what the template's dynamic references resolve ---------------
    def secret(self, secret_id: str) -> SecretFacts | None:
        """The secret's state, or None when there is none (`DescribeSecret`: no value read)."""
        # Any: the project's boto3 stubs cover the clients deploy always uses, not these two.
        client: Any = self._session.client("secretsmanager", config=CLIENT_CONFIG)
        try:
            described = client.describe_secret(SecretId=secret_id)
        except ClientError as exc:
            if code(exc) in NOT_FOUND:
                return None
            raise self.error(f"cannot check that secret {secret_id} exists", exc) from None
        except BotoCoreError as exc:
            raise self.error(f"cannot check that secret {secret_id} exists", exc) from None
        versions = set(described.get("VersionIdsToStages", {}))
        for stages in described.get("VersionIdsToStages", {}).values():
            versions.update(stages)
        return SecretFacts(deleted="DeletedDate" in described, versions=frozenset(versions))

    def parameter(self, name: str, version: str | None = None) -> ParameterFacts | None:
        """The parameter's type, or None when it (or that version) does not exist.

        `GetParameter` without decryption: a SecureString's value stays encrypted, and the
        value is dropped here either way.
        """
        client: Any = self._session.client("ssm", config=CLIENT_CONFIG)
        selector = f"{name}:{version}" if version else name
        try:
            found = client.get_parameter(Name=selector, WithDecryption=False)["Parameter"]
        except ClientError as exc:
            if code(exc) in {"ParameterNotFound", "ParameterVersionNotFound", *NOT_FOUND}:
                return None
            raise self.error(f"cannot check that parameter {name} exists", exc) from None
        except BotoCoreError as exc:
            raise self.error(f"cannot check that parameter {name} exists", exc) from None
        return ParameterFacts(kind=found.get("Type", "String"))


class _Output(BaseModel):
    """One stack output as DescribeStacks lists it (the two keys read here)."""

    model_config = ConfigDict(frozen=True, extra="allow", strict=True)

    OutputKey: str
    OutputValue: str


class _Outputs(BaseModel):
    model_config = ConfigDict(frozen=True, strict=True)

    outputs: list[_Output]
