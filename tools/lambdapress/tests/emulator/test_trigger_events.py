"""The event builders: Lambda's shapes, field for field, as Powertools' parser models read them."""

from __future__ import annotations

import base64

from aws_lambda_powertools.utilities.parser.models import (
    DynamoDBStreamModel,
    EventBridgeModel,
    S3Model,
    SnsModel,
    SqsModel,
)

from lambdapress.emulator.trigger_events import (
    dynamodb_record,
    dynamodb_stream_event,
    eventbridge_event,
    s3_event,
    scheduled_event,
    sns_event,
    sqs_event,
    stream_arn,
)


def test_an_sqs_batch_has_lambdas_record_fields_and_attribute_types() -> None:
    event = sqs_event(
        ["text", {"order_id": "42"}],
        attributes={"kind": "job", "priority": 3, "blob": b"\x00\x01"},
    )
    records = SqsModel.model_validate(event).Records
    assert [r.body for r in records] == ["text", '{"order_id": "42"}']
    assert records[0].attributes.ApproximateReceiveCount == "1"
    assert records[0].attributes.MessageGroupId is None
    attributes = event["Records"][0]["messageAttributes"]
    assert attributes["kind"] == {
        "stringValue": "job", "stringListValues": [], "binaryListValues": [], "dataType": "String",
    }  # fmt: skip
    assert attributes["priority"]["dataType"] == "Number"
    assert base64.b64decode(attributes["blob"]["binaryValue"]) == b"\x00\x01"
    assert records[0].md5OfBody == "1cb251ec0d568de6a929b520c4aed8d1"  # md5("text")
    assert len({r.messageId for r in records}) == 2


def test_a_fifo_queue_adds_its_group_deduplication_and_sequence() -> None:
    arn = "arn:aws:sqs:eu-west-1:123456789012:jobs.fifo"
    record = SqsModel.model_validate(sqs_event(["a"], queue_arn=arn, group_id="g1")).Records[0]
    assert record.attributes.MessageGroupId == "g1"
    assert record.attributes.MessageDeduplicationId
    assert record.attributes.SequenceNumber
    assert record.awsRegion == "eu-west-1"


def test_sns_eventbridge_s3_and_stream_events_parse_as_their_kinds() -> None:
    note = SnsModel.model_validate(sns_event({"a": 1}, attributes={"n": 2})).Records[0]
    assert note.Sns.Message == '{"a": 1}'
    assert note.Sns.Subject is None
    assert note.Sns.MessageAttributes is not None
    assert note.Sns.MessageAttributes["n"].Type == "Number"
    assert str(note.Sns.UnsubscribeUrl).endswith(note.EventSubscriptionArn)

    event = EventBridgeModel.model_validate(eventbridge_event({"x": 1}, source="orders"))
    assert (event.source, event.account, event.detail) == ("orders", "123456789012", {"x": 1})
    schedule = scheduled_event()
    assert EventBridgeModel.model_validate(schedule).detail_type == "Scheduled Event"

    removed = S3Model.model_validate(s3_event("b", ["k"], event_name="s3:ObjectRemoved:Delete"))
    assert removed.Records[0].eventName == "ObjectRemoved:Delete"
    assert removed.Records[0].s3.object.size is None  # a deleted object has none

    change = dynamodb_record(
        keys={"id": "1"}, old_image={"id": "1"}, new_image={"id": "1", "v": 1.5}
    )
    parsed = DynamoDBStreamModel.model_validate(dynamodb_stream_event([change])).Records[0]
    assert parsed.eventName == "MODIFY"
    assert change["dynamodb"]["NewImage"]["v"] == {"N": "1.5"}
    keys_only = dynamodb_record(keys={"id": "2"}, new_image={"id": "2"}, view="KEYS_ONLY")
    assert "NewImage" not in keys_only["dynamodb"]
    assert stream_arn(change["eventSourceARN"]) == change["eventSourceARN"]
