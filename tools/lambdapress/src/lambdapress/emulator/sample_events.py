"""Realistic sample events of each event source, as AWS sends them to a function.

`sample_event_for(function, trigger)` is what `invoke --sample`, `bench`, `lambdapress trigger`
and `lambdapress event KIND --function F` send: the trigger's own event, shaped by its
declaration so that the handler's happy path runs:

- sqs: a batch of one message from the trigger's queue (`{"message": "sample"}`);
- sns: one notification from the trigger's topic, with message attributes (or, for a body
  filter, a body) that its filter policy accepts;
- schedule: the trigger's `input`, or EventBridge's scheduled event;
- eventbridge: an event its pattern matches (`source`, `detail-type` and `detail` fields from
  the pattern's first allowed values);
- s3: the first of its events on a key with its prefix and suffix (`in/sample.csv`);
- dynamodb-stream: an INSERT of one item keyed `id` (the table's key names are not the
  trigger's to know).

ARNs name the resource as `<service>-<name>` in the emulator's account and region (a sample
knows no project or stage). `sample_event_of_kind(kind)` is the same without a declaration.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from lambdapress.emulator.context import ACCOUNT_ID, DEFAULT_REGION
from lambdapress.emulator.trigger_events import (
    dynamodb_record,
    dynamodb_stream_event,
    eventbridge_event,
    s3_event,
    sns_event,
    sqs_event,
    sqs_record,
)
from lambdapress.errors import EmulatorError
from lambdapress.model.application import Function
from lambdapress.model.triggers import (
    DynamoDBStreamTrigger,
    EventRuleTrigger,
    S3Trigger,
    ScheduleTrigger,
    SnsTrigger,
    SqsTrigger,
    Trigger,
)

SAMPLE_BODY = {"message": "sample"}
SAMPLE_KINDS = ("sqs", "sns", "schedule", "eventbridge", "s3", "dynamodb-stream")


def sample_event_for(function: Function, trigger: Trigger) -> Any:
    """The event `trigger` sends `function` (JSON-serialisable)."""
    if isinstance(trigger, SqsTrigger):
        return sqs_event([SAMPLE_BODY], queue_arn=_arn("sqs", trigger.queue))
    if isinstance(trigger, SnsTrigger):
        policy = trigger.filter_policy or {}
        if trigger.filter_policy_scope == "MessageBody":
            return sns_event(
                {**SAMPLE_BODY, **_example(policy)}, topic_arn=_arn("sns", trigger.topic)
            )
        attributes = {k: v for k, v in _example(policy).items() if isinstance(v, str | int | float)}
        return sns_event(SAMPLE_BODY, topic_arn=_arn("sns", trigger.topic), attributes=attributes)
    if isinstance(trigger, ScheduleTrigger):
        from lambdapress.emulator._scheduler import schedule_event

        return schedule_event(function, trigger)
    if isinstance(trigger, EventRuleTrigger):
        return _rule_event(trigger.pattern)
    if isinstance(trigger, S3Trigger):
        event = trigger.events[0].removeprefix("s3:").replace("*", "")
        name = event + (
            "Delete" if event == "ObjectRemoved:" else "Put" if event.endswith(":") else ""
        )
        bucket = _physical(trigger.bucket)
        return s3_event(
            bucket, [f"{trigger.prefix}sample{trigger.suffix or '.json'}"], event_name=name
        )
    if isinstance(trigger, DynamoDBStreamTrigger):
        table = f"arn:aws:dynamodb:{DEFAULT_REGION}:{ACCOUNT_ID}:table/{_physical(trigger.table)}"
        item = {"id": "sample-id", **SAMPLE_BODY}
        return dynamodb_stream_event(
            [dynamodb_record(keys={"id": "sample-id"}, new_image=item, table_arn=table)]
        )
    raise EmulatorError(
        f"no sample event for trigger kind {trigger.kind!r}",
        hint=f"the emulator has samples of {', '.join(SAMPLE_KINDS)} and http",
    )


def sample_event_of_kind(kind: str) -> Any:
    """A sample event of `kind` for no trigger in particular (`lambdapress event KIND`)."""
    samples: dict[str, Trigger] = {
        "sqs": SqsTrigger(queue="sample/sqs-queue/queue"),
        "sns": SnsTrigger(topic="sample/sns-topic/topic"),
        "schedule": ScheduleTrigger(expression="rate(5 minutes)"),
        "eventbridge": EventRuleTrigger(
            pattern={"source": ["sample.orders"], "detail-type": ["OrderPlaced"]}
        ),
        "s3": S3Trigger(bucket="sample/s3-bucket/bucket", prefix="in/", suffix=".csv"),
        "dynamodb-stream": DynamoDBStreamTrigger(table="sample/dynamodb-table/table"),
    }
    trigger = samples.get(kind)
    if trigger is None:
        raise EmulatorError(
            f"no sample event of kind {kind!r}",
            hint=f"use one of {', '.join(SAMPLE_KINDS)} (http: `invoke --http METHOD PATH`)",
        )
    function = Function.model_construct(name="sample.handler", triggers=(trigger,))
    return sample_event_for(function, trigger)


def _physical(resource_id: str) -> str:
    """`workers-order-placed` for `workers/sqs-queue/order-placed`."""
    parts = resource_id.split("/")
    return f"{parts[0]}-{parts[-1]}" if len(parts) == 3 else resource_id


def _arn(service: str, resource_id: str) -> str:
    return f"arn:aws:{service}:{DEFAULT_REGION}:{ACCOUNT_ID}:{_physical(resource_id)}"


def _rule_event(pattern: Mapping[str, Any]) -> Any:
    example = _example(pattern)
    detail = example.get("detail")
    return eventbridge_event(
        detail if isinstance(detail, dict) else {},
        source=str(example.get("source", "lambdapress.sample")),
        detail_type=str(example.get("detail-type", "Sample Event")),
    )


def _example(pattern: Mapping[str, Any]) -> dict[str, Any]:
    """Values an EventBridge pattern (or SNS filter policy) accepts, one per field."""
    found: dict[str, Any] = {}
    for key, value in pattern.items():
        if isinstance(value, Mapping):
            found[key] = _example(value)
        elif isinstance(value, list):
            example = _accepted(value)
            if example is not None:
                found[key] = example
    return found


def _accepted(values: list[Any]) -> Any:
    """The first value a list of a pattern accepts: a literal, or one a matcher accepts."""
    for value in values:
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return value
        if isinstance(value, Mapping):
            if "prefix" in value and isinstance(value["prefix"], str):
                return f"{value['prefix']}sample"
            if "suffix" in value and isinstance(value["suffix"], str):
                return f"sample{value['suffix']}"
            if "numeric" in value:
                return _numeric(value["numeric"])
            if "anything-but" in value or value.get("exists") is True:
                return "sample"
    return None


def _numeric(conditions: list[Any]) -> float:
    """A number EventBridge's `numeric` matcher accepts (`[">", 0, "<=", 5]`: 2.5)."""
    low, high = float("-inf"), float("inf")
    for operator, bound in zip(conditions[::2], conditions[1::2], strict=False):
        if operator == "=":
            return float(bound)
        if operator in (">", ">="):
            low = float(bound)
        elif operator in ("<", "<="):
            high = float(bound)
    if low > float("-inf") and high < float("inf"):
        return (low + high) / 2
    return low + 1 if low > float("-inf") else high - 1 if high < float("inf") else 1.0


BODY_KINDS = ("sqs", "sns", "eventbridge")
"""The kinds whose events carry a body `with_body` can set."""


def with_body(event: Any, kind: str, body: str) -> Any:
    """`event` of `kind` with `body` as its payload.

    sqs: each record's body; sns: each message; eventbridge: its `detail`, which must then be
    a JSON object. What `lambdapress event KIND --body TEXT` prints: a sample whose envelope is the
    trigger's and whose payload is the caller's.
    """
    if kind == "sqs":
        records = [
            sqs_record(body, queue_arn=record["eventSourceARN"]) for record in event["Records"]
        ]
        return {**event, "Records": records}
    if kind == "sns":
        for record in event["Records"]:
            record["Sns"]["Message"] = body
        return event
    if kind == "eventbridge":
        try:
            detail = json.loads(body)
        except ValueError as error:
            raise EmulatorError(
                f"an EventBridge event's detail is a JSON object, and the body is not JSON "
                f"({error})",
                hint='pass --body \'{"order_id": "o-1"}\'',
            ) from None
        if not isinstance(detail, dict):
            raise EmulatorError(
                "an EventBridge event's detail is a JSON object",
                hint='pass --body \'{"order_id": "o-1"}\'',
            )
        return {**event, "detail": detail}
    raise EmulatorError(
        f"--body sets the payload of {', '.join(BODY_KINDS)} events, not of {kind}",
        hint="leave --body out, or edit the printed event",
    )
