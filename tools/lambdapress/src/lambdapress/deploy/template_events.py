"""Event sources in the stage's stack: queues, topics, buses, buckets and what they trigger.

Two entry points. `render_event_resources` adds the application's queues, topics, buses and
buckets (with queues' subscriptions and buckets' notifications, see `_event_resources`); the
template builder calls it once every function is in the stack, when the application has any.
`render_event_triggers` adds what connects one kind's triggers to their functions (mappings,
subscriptions, rules, permissions, see `_event_triggers`); each event trigger kind's `render`
(`lambdapress.triggers`) calls it with its own name.

Names: `<project>-<stage>-<service>-<name>` (`.fifo` for FIFO queues and topics), buckets
`<project>-<stage>-<service>-<name>-<account>-<region>` (`model.event_names` says why).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lambdapress.deploy import _event_triggers as connect
from lambdapress.deploy._event_resources import render_resources
from lambdapress.model.application import Application, Function
from lambdapress.model.trigger_kinds import StackBuilder
from lambdapress.model.triggers import (
    DynamoDBStreamTrigger,
    EventRuleTrigger,
    ScheduleTrigger,
    SnsTrigger,
    SqsTrigger,
    Trigger,
)

_Renderer = Callable[[StackBuilder, Application, Function, Any], object]


def _schedule(
    stack: StackBuilder, application: Application, function: Function, trigger: ScheduleTrigger
) -> str:
    return connect.add_schedule(
        stack,
        function.name,
        trigger,
        stack.invoke_target(function.name),
        connect.schedule_ids(function.name, trigger),
    )


_RENDERERS: dict[str, tuple[type[Trigger], _Renderer]] = {
    "sqs": (SqsTrigger, connect.add_queue_mapping),
    "dynamodb-stream": (DynamoDBStreamTrigger, connect.add_stream_mapping),
    "sns": (SnsTrigger, connect.add_topic_subscription),
    "schedule": (ScheduleTrigger, _schedule),
    "eventbridge": (EventRuleTrigger, connect.add_event_rule),
}
EVENT_TRIGGER_KINDS = (*_RENDERERS, "s3")
"""The trigger kinds `render_event_triggers` renders."""


def render_event_resources(stack: StackBuilder, application: Application) -> None:
    """The application's queues, topics, buses and buckets (and subscriptions, notifications)."""
    render_resources(stack, application)


def render_event_triggers(stack: StackBuilder, application: Application, kind: str) -> None:
    """What connects each trigger of `kind` to its function (mappings, rules, permissions)."""
    functions = sorted(application.functions, key=lambda f: f.name)
    if kind == "s3":
        # One permission per function and bucket; the notifications are the bucket's own.
        for function in functions:
            for bucket in connect.buckets_triggered(function):
                connect.add_bucket_permission(stack, application, function, bucket)
        return
    if kind not in _RENDERERS:
        raise ValueError(f"no event trigger kind {kind!r} (known: {EVENT_TRIGGER_KINDS})")
    model, render = _RENDERERS[kind]
    for function in functions:
        for trigger in function.triggers_of(model):
            render(stack, application, function, trigger)
