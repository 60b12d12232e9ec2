"""What connects a trigger to its function in the stack: mappings, subscriptions, rules, grants.

- `sqs`, `dynamodb-stream`: an `AWS::Lambda::EventSourceMapping` (Lambda polls the queue or
  the stream), always with `ReportBatchItemFailures`, so only the items a handler reports
  failed come back (Powertools' batch processor reports them);
- `sns`: an `AWS::SNS::Subscription` of protocol `lambda` (with the filter policy) and the
  permission letting that topic invoke the function;
- `schedule`: an `AWS::Events::Rule` with the expression (and the fixed input) and the
  permission letting that rule invoke; the keep-warm ping is such a schedule
  (`template_functions`), under ids of its own;
- `eventbridge`: an `AWS::Events::Rule` with the pattern on the default bus or the stack's
  bus, and its permission;
- `s3`: the permission letting S3 invoke for that bucket (from this account). The bucket's
  notification configuration itself is written with the bucket (`bucket_notifications`, asked
  by `_event_resources`), which depends on these permissions: S3 checks, when it is given the
  configuration, that it may invoke each function.

Every permission names its source (`SourceArn`, and `SourceAccount` for S3), so nothing else
may invoke the function. Logical ids are the function's (`template_ids.function_id`) and the
source's words (`OrdersAuditSqsWorkersOrderPlacedMapping`); schedules and rules, which have no
name, end in a digest of what identifies them (the expression and input; the bus and pattern),
so two of one function differ, and editing one replaces only that rule (rules hold no state).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from lambdapress.config.aws_rules import camel
from lambdapress.deploy import _event_refs as refs
from lambdapress.deploy.template_ids import function_id
from lambdapress.errors import ConfigError
from lambdapress.model.application import Application, Function
from lambdapress.model.resources import Resource
from lambdapress.model.trigger_kinds import StackBuilder
from lambdapress.model.triggers import (
    DynamoDBStreamTrigger,
    EventRuleTrigger,
    S3Trigger,
    ScheduleTrigger,
    SnsTrigger,
    SqsTrigger,
    Trigger,
)

PARTIAL_FAILURES: Final = ["ReportBatchItemFailures"]
TARGET_ID: Final = "lambdapress-function"
"""The id of a rule's one target (unique within the rule)."""
DEFAULT_BUS: Final = "default"
_DIGEST = 8


class Adds(Protocol):
    """What a resource is added to: the template's `Resources` or a trigger kind's stack."""

    def add(self, logical_id: str, resource: dict[str, Any], owner: str) -> str:
        """Add `resource` as `logical_id`; `owner` names it if the id is taken."""
        ...


@dataclass(frozen=True)
class ScheduleIds:
    """The logical ids of one schedule's rule and permission, and how it describes itself."""

    rule: str
    permission: str
    target: str
    description: str


def words(resource_id: str) -> str:
    """`WorkersOrderPlaced` for `workers/sqs-queue/order-placed` (`Default` for `default`)."""
    parts = resource_id.split("/")
    return camel(f"{parts[0]}_{parts[-1]}")


def digest(*identity: Any) -> str:
    """A short, stable digest of what identifies an unnamed trigger."""
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:_DIGEST]


def _owner(function: Function, trigger: Trigger) -> str:
    return f"{trigger.kind} {trigger.label} of function {function.name}"


def _of_kind(application: Application, resource_id: str, kind: str, trigger: str) -> Resource:
    """The application's resource `resource_id`, which must be of `kind`."""
    resource = application.resource(resource_id)
    if resource.kind != kind:
        raise ConfigError(
            f"{trigger} names {resource_id}, a {resource.kind}, where a {kind} is needed",
            hint="package again: the manifest is not one lambdapress wrote",
        )
    return resource


def _invoke_permission(target: Any, principal: str, source_arn: Any) -> dict[str, Any]:
    """A resource-based permission letting `principal`, from `source_arn` only, invoke."""
    return {
        "Type": "AWS::Lambda::Permission",
        "Properties": {
            "Action": "lambda:InvokeFunction",
            "FunctionName": target,
            "Principal": principal,
            "SourceArn": source_arn,
        },
    }


# -- polled sources: event source mappings --------------------------------------------------------


def add_queue_mapping(
    stack: StackBuilder, application: Application, function: Function, trigger: SqsTrigger
) -> str:
    """Lambda drains the queue in batches; failed items come back, the rest are deleted."""
    queue = _of_kind(application, trigger.queue, "sqs-queue", _owner(function, trigger))
    properties: dict[str, Any] = {
        "EventSourceArn": {"Fn::GetAtt": [refs.resource_id(queue), "Arn"]},
        "FunctionName": stack.invoke_target(function.name),
        "BatchSize": trigger.batch_size,
        "FunctionResponseTypes": PARTIAL_FAILURES,
    }
    if trigger.batch_window:  # FIFO queues take no batching window: only when asked
        properties["MaximumBatchingWindowInSeconds"] = trigger.batch_window
    if trigger.max_concurrency is not None:
        properties["ScalingConfig"] = {"MaximumConcurrency": trigger.max_concurrency}
    return stack.add(
        stack.function_id(function.name, f"Sqs{words(queue.id)}Mapping"),
        {"Type": "AWS::Lambda::EventSourceMapping", "Properties": properties},
        _owner(function, trigger),
    )


def add_stream_mapping(
    stack: StackBuilder,
    application: Application,
    function: Function,
    trigger: DynamoDBStreamTrigger,
) -> str:
    """Lambda reads the table's stream in batches, from `starting_position`."""
    table = _of_kind(application, trigger.table, "dynamodb-table", _owner(function, trigger))
    properties: dict[str, Any] = {
        "EventSourceArn": refs.stream_arn(table),
        "FunctionName": stack.invoke_target(function.name),
        "BatchSize": trigger.batch_size,
        "StartingPosition": trigger.starting_position,
        "BisectBatchOnFunctionError": trigger.bisect_on_error,
        "FunctionResponseTypes": PARTIAL_FAILURES,
    }
    if trigger.batch_window:
        properties["MaximumBatchingWindowInSeconds"] = trigger.batch_window
    if trigger.max_retries is not None:
        properties["MaximumRetryAttempts"] = trigger.max_retries
    return stack.add(
        stack.function_id(function.name, f"Stream{words(table.id)}Mapping"),
        {"Type": "AWS::Lambda::EventSourceMapping", "Properties": properties},
        _owner(function, trigger),
    )


# -- pushed sources: subscriptions, rules, bucket notifications ----------------------------------


def add_topic_subscription(
    stack: StackBuilder, application: Application, function: Function, trigger: SnsTrigger
) -> str:
    """The function subscribed to the topic (with its filter policy), allowed to be invoked."""
    topic = _of_kind(application, trigger.topic, "sns-topic", _owner(function, trigger))
    target = stack.invoke_target(function.name)
    topic_arn = {"Ref": refs.resource_id(topic)}
    base = f"Sns{words(topic.id)}"
    permission = stack.add(
        stack.function_id(function.name, f"{base}Permission"),
        _invoke_permission(target, "sns.amazonaws.com", topic_arn),
        _owner(function, trigger),
    )
    properties: dict[str, Any] = {"TopicArn": topic_arn, "Protocol": "lambda", "Endpoint": target}
    if trigger.filter_policy is not None:
        properties["FilterPolicy"] = trigger.filter_policy
        properties["FilterPolicyScope"] = trigger.filter_policy_scope
    return stack.add(
        stack.function_id(function.name, f"{base}Subscription"),
        # Subscribed once it may be invoked: no message is lost to a refused invocation.
        {"Type": "AWS::SNS::Subscription", "DependsOn": [permission], "Properties": properties},
        _owner(function, trigger),
    )


def schedule_ids(function: str, trigger: ScheduleTrigger) -> ScheduleIds:
    """A schedule trigger's ids: `OrdersSweepSchedule1a2b3c4d` and its permission."""
    rule = function_id(function, f"Schedule{digest(trigger.expression, trigger.input)}")
    return ScheduleIds(
        rule=rule,
        permission=f"{rule}Permission",
        target=TARGET_ID,
        description=f"lambdapress: {trigger.kind} {trigger.label} of {function}",
    )


def add_schedule(
    stack: Adds, function: str, trigger: ScheduleTrigger, target: Any, ids: ScheduleIds
) -> str:
    """A rule invoking `target` on `trigger`'s schedule, with its input, allowed to invoke.

    The one path of every schedule: a `@triggers.schedule` and the keep-warm ping alike.
    """
    rule_target: dict[str, Any] = {"Id": ids.target, "Arn": target}
    if trigger.input is not None:
        rule_target["Input"] = json.dumps(trigger.input, sort_keys=True)
    rule = stack.add(
        ids.rule,
        {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Description": ids.description,
                "ScheduleExpression": trigger.expression,
                "State": "ENABLED" if trigger.enabled else "DISABLED",
                "Targets": [rule_target],
            },
        },
        f"{trigger.kind} {trigger.label} of function {function}",
    )
    stack.add(
        ids.permission,
        _invoke_permission(target, "events.amazonaws.com", {"Fn::GetAtt": [rule, "Arn"]}),
        f"{trigger.kind} {trigger.label} of function {function}",
    )
    return rule


def add_event_rule(
    stack: StackBuilder, application: Application, function: Function, trigger: EventRuleTrigger
) -> str:
    """A rule matching `trigger.pattern` on its bus, invoking the function."""
    bus: Any = DEFAULT_BUS
    if trigger.bus != DEFAULT_BUS:
        resource = _of_kind(application, trigger.bus, "event-bus", _owner(function, trigger))
        bus = refs.bus_name(resource)
    target = stack.invoke_target(function.name)
    rule_id = stack.function_id(function.name, f"Rule{digest(trigger.bus, trigger.pattern)}")
    rule = stack.add(
        rule_id,
        {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Description": f"lambdapress: {trigger.kind} {trigger.label} of {function.name}",
                "EventBusName": bus,
                "EventPattern": trigger.pattern,
                "State": "ENABLED",
                "Targets": [{"Id": TARGET_ID, "Arn": target}],
            },
        },
        _owner(function, trigger),
    )
    stack.add(
        f"{rule_id}Permission",
        _invoke_permission(target, "events.amazonaws.com", {"Fn::GetAtt": [rule, "Arn"]}),
        _owner(function, trigger),
    )
    return rule


def s3_permission_id(function: str, bucket: Resource) -> str:
    """`ImportsLoadS3ImportsUploadsPermission`: one per function and bucket."""
    return function_id(function, f"S3{words(bucket.id)}Permission")


def add_bucket_permission(
    stack: StackBuilder, application: Application, function: Function, bucket_id: str
) -> str:
    """S3 may invoke the function for events of this bucket of this account only."""
    bucket = _of_kind(application, bucket_id, "s3-bucket", f"function {function.name}")
    permission = _invoke_permission(
        stack.invoke_target(function.name),
        "s3.amazonaws.com",
        refs.bucket_arn(bucket, stack.project, stack.stage),
    )
    # A bucket's ARN has no account: another account's bucket of that name may not invoke.
    permission["Properties"]["SourceAccount"] = {"Ref": "AWS::AccountId"}
    return stack.add(
        s3_permission_id(function.name, bucket),
        permission,
        f"the s3 triggers of function {function.name} on {bucket.id}",
    )


def s3_triggers(application: Application, bucket: Resource) -> Iterator[tuple[Function, S3Trigger]]:
    """Each function's triggers on `bucket`, functions in name order."""
    for function in sorted(application.functions, key=lambda f: f.name):
        for trigger in function.triggers_of(S3Trigger):
            if trigger.bucket == bucket.id:
                yield function, trigger


def bucket_notifications(
    stack: StackBuilder, application: Application, bucket: Resource
) -> tuple[list[dict[str, Any]], list[str]]:
    """The bucket's `LambdaConfigurations` and the permissions it must be created after."""
    configurations: list[dict[str, Any]] = []
    permissions: list[str] = []
    for function, trigger in s3_triggers(application, bucket):
        permission = s3_permission_id(function.name, bucket)
        if permission not in permissions:
            permissions.append(permission)
        rules = _key_rules(trigger)
        for event in trigger.events:
            configuration: dict[str, Any] = {
                "Event": event,
                "Function": stack.invoke_target(function.name),
            }
            if rules:
                configuration["Filter"] = {"S3Key": {"Rules": rules}}
            configurations.append(configuration)
    return configurations, permissions


def _key_rules(trigger: S3Trigger) -> list[dict[str, str]]:
    rules = [{"Name": "prefix", "Value": trigger.prefix}] if trigger.prefix else []
    if trigger.suffix:
        rules.append({"Name": "suffix", "Value": trigger.suffix})
    return rules


def buckets_triggered(function: Function) -> Sequence[str]:
    """The buckets `function` has s3 triggers on, each once, in its triggers' order."""
    return tuple(dict.fromkeys(t.bucket for t in function.triggers_of(S3Trigger)))
