"""The facets other parts fill in: each event source kind hands deploy and the emulator its name.

Rendering, local delivery and sample events of queues, topics, schedules, rules, buckets and
streams are deploy's and the emulator's (`deploy.template_events`, `emulator.event_sources`,
`emulator.sample_events`); every kind calls them with its own name, importing them only then.
"""

from __future__ import annotations

from typing import Any

import pytest
from model_functions import model_function

from lambdapress.deploy import template_events
from lambdapress.emulator import event_sources, sample_events
from lambdapress.model.application import Application
from lambdapress.model.trigger_kinds import LocalOptions, trigger_kind
from lambdapress.model.triggers import (
    DynamoDBStreamTrigger,
    EventRuleTrigger,
    S3Trigger,
    ScheduleTrigger,
    SnsTrigger,
    SqsTrigger,
    Trigger,
)

TRIGGERS: dict[str, Trigger] = {
    "sqs": SqsTrigger(queue="work/sqs-queue/jobs"),
    "sns": SnsTrigger(topic="shop/sns-topic/events"),
    "schedule": ScheduleTrigger(expression="rate(1 day)"),
    "eventbridge": EventRuleTrigger(pattern={"source": ["x"]}),
    "s3": S3Trigger(bucket="work/s3-bucket/uploads"),
    "dynamodb-stream": DynamoDBStreamTrigger(table="work/dynamodb-table/stock"),
}


@pytest.mark.parametrize("name", sorted(TRIGGERS))
def test_each_kind_calls_the_seams_with_its_name(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        template_events, "render_event_triggers", lambda *args: calls.append(("render", *args))
    )
    monkeypatch.setattr(event_sources, "event_source", lambda *args: ("source", *args))
    monkeypatch.setattr(sample_events, "sample_event_for", lambda *args: ("sample", *args))
    kind = trigger_kind(name)
    function = model_function("work.f", triggers=(TRIGGERS[name],))
    application = Application(functions=(function,))
    stack, host, options = object(), object(), LocalOptions()

    kind.render(stack, application)  # type: ignore[arg-type]
    assert calls == [("render", stack, application, name)]
    assert kind.local_source(host, options) == ("source", host, options, name)  # type: ignore[arg-type]
    assert kind.sample_event(function, TRIGGERS[name]) == ("sample", function, TRIGGERS[name])
