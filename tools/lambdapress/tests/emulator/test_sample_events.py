"""Each trigger's sample event: realistic, shaped by the trigger, and parsed by Powertools."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    DynamoDBStreamModel,
    EventBridgeModel,
    S3Model,
    SnsModel,
    SqsModel,
)
from model_functions import model_function
from pydantic import BaseModel

from lambdapress.emulator.sample_events import (
    SAMPLE_KINDS,
    sample_event_for,
    sample_event_of_kind,
)
from lambdapress.errors import EmulatorError
from lambdapress.model.trigger_kinds import sample_event
from lambdapress.model.triggers import (
    DynamoDBStreamTrigger,
    EventRuleTrigger,
    S3Trigger,
    ScheduleTrigger,
    SnsTrigger,
    SqsTrigger,
    Trigger,
)

MODELS: dict[str, type[BaseModel]] = {
    "sqs": SqsModel,
    "sns": SnsModel,
    "schedule": EventBridgeModel,
    "eventbridge": EventBridgeModel,
    "s3": S3Model,
    "dynamodb-stream": DynamoDBStreamModel,
}


def _sample(trigger: Trigger) -> Any:
    function = model_function("workers.handle", triggers=(trigger,))
    return sample_event_for(function, trigger)


@pytest.mark.parametrize("kind", SAMPLE_KINDS)
def test_every_kind_has_a_sample_that_its_powertools_model_parses(kind: str) -> None:
    MODELS[kind].model_validate(sample_event_of_kind(kind))


def test_samples_follow_their_trigger() -> None:
    queue = SqsModel.model_validate(_sample(SqsTrigger(queue="workers/sqs-queue/order-placed")))
    assert queue.Records[0].eventSourceARN.endswith(":workers-order-placed")

    topic = SnsTrigger(
        topic="orders/sns-topic/order-events",
        filter_policy={"type": ["OrderPlaced"], "total": [{"numeric": [">", 100, "<=", 200]}]},
    )
    note = SnsModel.model_validate(_sample(topic)).Records[0].Sns
    assert note.TopicArn.endswith(":orders-order-events")
    assert note.MessageAttributes is not None
    assert note.MessageAttributes["type"].Value == "OrderPlaced"
    assert 100 < float(note.MessageAttributes["total"].Value) <= 200

    body_scope = SnsTrigger(
        topic="orders/sns-topic/order-events",
        filter_policy={"status": [{"prefix": "paid"}]},
        filter_policy_scope="MessageBody",
    )
    assert '"status": "paidsample"' in _sample(body_scope)["Records"][0]["Sns"]["Message"]

    rule = EventRuleTrigger(
        pattern={"source": ["orders"], "detail-type": ["OrderPlaced"], "detail": {"x": ["y"]}}
    )
    event = EventBridgeModel.model_validate(_sample(rule))
    assert (event.source, event.detail_type, event.detail) == ("orders", "OrderPlaced", {"x": "y"})

    upload = _sample(S3Trigger(bucket="imports/s3-bucket/uploads", prefix="in/", suffix=".csv"))
    record = S3Model.model_validate(upload).Records[0]
    assert record.s3.object.key == "in/sample.csv"
    assert record.eventName == "ObjectCreated:Put"
    removed = _sample(S3Trigger(bucket="imports/s3-bucket/uploads", events=("s3:ObjectRemoved:*",)))
    assert removed["Records"][0]["eventName"] == "ObjectRemoved:Delete"

    stream = _sample(DynamoDBStreamTrigger(table="stock/dynamodb-table/items"))
    assert ":table/stock-items/stream/" in stream["Records"][0]["eventSourceARN"]


def test_a_schedule_sends_its_input_or_the_scheduled_event() -> None:
    assert _sample(ScheduleTrigger(expression="rate(1 hour)", input={"job": "sweep"})) == {
        "job": "sweep"
    }
    plain = EventBridgeModel.model_validate(_sample(ScheduleTrigger(expression="rate(1 hour)")))
    assert plain.resources == [
        "arn:aws:events:us-east-1:123456789012:rule/workers-handle-schedule0"
    ]


def test_the_registry_sends_a_functions_first_trigger_sample() -> None:
    trigger = SqsTrigger(queue="workers/sqs-queue/jobs")
    function = model_function("workers.handle", triggers=(trigger,))
    assert (
        SqsModel.model_validate(sample_event(function)).Records[0].body == '{"message": "sample"}'
    )


def test_an_unknown_kind_has_no_sample() -> None:
    with pytest.raises(EmulatorError, match="no sample event of kind 'kafka'"):
        sample_event_of_kind("kafka")
