"""The resources of one function: the function, its log group, its version and `live` alias.

What is invoked (by the API, event sources, rules and the warm-up ping) is returned as a
CloudFormation expression: always the `live` alias, never the bare function. So a deploy
publishes a version and moves the alias; the alias is what CodeDeploy shifts gradually
(`_template_rollouts`), what provisioned concurrency is set on, what runs SnapStart's
snapshot (it applies to published versions only: `$LATEST` starts cold), and what every
invoker keeps calling while the function's `$LATEST` changes underneath.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from lambdapress.config.lambda_platform import EPHEMERAL_STORAGE_DEFAULT_MB
from lambdapress.config.observability_settings import TRACING_ENV
from lambdapress.config.storage_settings import WARMUP_EVENT
from lambdapress.deploy._event_triggers import ScheduleIds, add_schedule
from lambdapress.deploy.template_ids import (
    ARTIFACT_BUCKET,
    Resources,
    function_id,
    log_group_name,
    tags,
)
from lambdapress.model.application import Function
from lambdapress.model.resources import DELETED_WITH_STACK
from lambdapress.model.triggers import ScheduleTrigger

LIVE_ALIAS = "live"
WARMUP_TARGET_ID = "lambdapress-warmup"


@dataclass(frozen=True)
class StackFunction:
    """Everything the template says about one function, gathered before resources are made."""

    entry: Function
    function_name: str
    """The physical FunctionName (`acme-dev-orders-get_order`)."""
    key: str
    """The zip's S3 key (`<prefix>/<service>/<sha256>.zip`)."""
    role: str
    """The logical id of the function's execution role."""
    environment: dict[str, Any]
    """The model's variables plus those the stack provides (tables, database URL)."""
    project: str
    stage: str
    log_retention_days: int
    alias_update_policy: dict[str, Any] | None = None
    """The alias's `UpdatePolicy` when CodeDeploy shifts its traffic (`_template_rollouts`)."""
    alias_depends_on: tuple[str, ...] = ()
    """What the alias's update waits for (the traffic hooks' permissions)."""
    vpc_config: dict[str, Any] | None = None
    """Its `VpcConfig` when it runs in the stage's network (`template_network`)."""
    tracing: bool = False
    """Active X-Ray tracing (the stage's `observability`: `template_observability`)."""

    @property
    def logical_id(self) -> str:
        """The id of its `AWS::Lambda::Function`."""
        return function_id(self.entry.name)


def live_alias_id(function: str) -> str:
    """`OrdersGetOrderLiveAlias`: the logical id of a function's `live` alias."""
    return function_id(function, "LiveAlias")


def add_function(resources: Resources, function: StackFunction) -> dict[str, Any]:
    """Add the function and what belongs to it; returns what an invoker should call."""
    entry = function.entry
    log_group = resources.add(
        function_id(entry.name, "LogGroup"),
        {
            "Type": "AWS::Logs::LogGroup",
            **DELETED_WITH_STACK,
            "Properties": {
                "LogGroupName": log_group_name(function.function_name),
                "RetentionInDays": function.log_retention_days,
                "Tags": tags(function.project, function.stage, entry.service),
            },
        },
        f"function {entry.name}",
    )
    properties: dict[str, Any] = {
        "FunctionName": function.function_name,
        "Handler": entry.handler,
        "Runtime": entry.runtime,
        "Architectures": [entry.architecture],
        "MemorySize": entry.memory,
        "Timeout": entry.timeout,
        "Role": {"Fn::GetAtt": [function.role, "Arn"]},
        "Code": {"S3Bucket": {"Ref": ARTIFACT_BUCKET}, "S3Key": function.key},
        "LoggingConfig": {"LogGroup": {"Ref": log_group}, "LogFormat": "Text"},
        "Tags": tags(function.project, function.stage, entry.service),
    }
    environment = dict(function.environment)
    if function.tracing:
        properties["TracingConfig"] = {"Mode": "Active"}
        environment[TRACING_ENV] = "xray"  # the service's `tracing.py` imports the Tracer
    if environment:
        properties["Environment"] = {"Variables": environment}
    if entry.ephemeral_storage != EPHEMERAL_STORAGE_DEFAULT_MB:  # Lambda's default otherwise
        properties["EphemeralStorage"] = {"Size": entry.ephemeral_storage}
    if function.vpc_config is not None:
        properties["VpcConfig"] = function.vpc_config
    if function.entry.capacity.reserved_concurrency is not None:
        properties["ReservedConcurrentExecutions"] = function.entry.capacity.reserved_concurrency
    if function.entry.capacity.snapstart:  # `package` refused it where Lambda would
        properties["SnapStart"] = {"ApplyOn": "PublishedVersions"}
    resources.add(
        function.logical_id,
        {"Type": "AWS::Lambda::Function", "Properties": properties},
        f"function {entry.name}",
    )
    target = _live_alias(resources, function, properties)
    if function.entry.capacity.warm_every_minutes is not None:
        _warm_up(resources, function, target, function.entry.capacity.warm_every_minutes)
    return target


def _live_alias(
    resources: Resources, function: StackFunction, properties: dict[str, Any]
) -> dict[str, Any]:
    """A version and the alias `live` on it (with provisioned concurrency when asked).

    A version is immutable, so the `AWS::Lambda::Version` carries the code's hash and a digest
    of the function's properties: CloudFormation replaces it (publishes a new version and
    moves the alias) exactly when the code or the configuration changes, never otherwise.
    Publishing it is what takes SnapStart's snapshot, and the function's `SnapStart` is one of
    those properties: turning it on or off publishes a new version.
    """
    count = function.entry.capacity.provisioned_concurrency
    entry = function.entry
    digest = hashlib.sha256(json.dumps(properties, sort_keys=True).encode()).hexdigest()[:16]
    version = resources.add(
        function_id(entry.name, "Version"),
        {
            "Type": "AWS::Lambda::Version",
            **DELETED_WITH_STACK,
            "Properties": {
                "FunctionName": {"Ref": function.logical_id},
                "CodeSha256": entry.artifact.code_sha256,
                "Description": f"lambdapress configuration {digest}",
            },
        },
        f"function {entry.name}",
    )
    alias_properties: dict[str, Any] = {
        "Name": LIVE_ALIAS,
        "FunctionName": {"Ref": function.logical_id},
        "FunctionVersion": {"Fn::GetAtt": [version, "Version"]},
    }
    if count is not None:
        alias_properties["ProvisionedConcurrencyConfig"] = {
            "ProvisionedConcurrentExecutions": count
        }
    alias: dict[str, Any] = {"Type": "AWS::Lambda::Alias", "Properties": alias_properties}
    if function.alias_update_policy is not None:
        alias["UpdatePolicy"] = function.alias_update_policy
    if function.alias_depends_on:
        alias["DependsOn"] = list(function.alias_depends_on)
    alias_id = resources.add(live_alias_id(entry.name), alias, f"function {entry.name}")
    return {"Ref": alias_id}


def _warm_up(
    resources: Resources, function: StackFunction, target: dict[str, Any], every: int
) -> None:
    """A schedule sending `WARMUP_EVENT` every `every` minutes, allowed to invoke.

    Rendered as any `@triggers.schedule` is (`_event_triggers.add_schedule`), under ids of its
    own: turning the ping on or off never touches the function's other schedules.
    """
    entry = function.entry
    unit = "minute" if every == 1 else "minutes"
    ping = ScheduleTrigger(expression=f"rate({every} {unit})", input=WARMUP_EVENT)
    ids = ScheduleIds(
        rule=function_id(entry.name, "WarmUpRule"),
        permission=function_id(entry.name, "WarmUpPermission"),
        target=WARMUP_TARGET_ID,
        description=f"lambdapress warm-up of {entry.name} every {every} {unit}",
    )
    add_schedule(resources, entry.name, ping, target, ids)
