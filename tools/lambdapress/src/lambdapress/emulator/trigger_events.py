"""Build the events SQS, SNS, EventBridge, S3 and DynamoDB Streams send a Lambda function.

    sqs_event(["first", {"order_id": "42"}])          # a batch of two messages
    sns_event("hello", subject="greeting", attributes={"type": "OrderPlaced"})
    eventbridge_event({"order_id": "42"}, source="orders", detail_type="OrderPlaced")
    scheduled_event(rule_arn)                          # what a schedule without input sends
    s3_event("uploads", ["in/a.csv"])                  # ObjectCreated:Put of each key
    dynamodb_stream_event([dynamodb_record(keys={"id": "1"}, new_image={"id": "1"})])

One set of builders serves the tests (the pytest plugin's `sqs_event`... fixtures), the sample
events (`lambdapress event KIND`, `invoke --sample`) and the local delivery loops, which fill
them with what moto's server holds: a test feeds a handler what `serve` feeds it. Each shape is
Lambda's, field for field, as AWS documents it ("Using Lambda with Amazon SQS", "... with
Amazon SNS", "... with Amazon S3", "... with DynamoDB", EventBridge's "Amazon EventBridge
events"), and each parses with the Powertools parser model of its kind (SqsModel, SnsModel,
EventBridgeModel, S3Model, DynamoDBStreamModel; a test holds that):

- SQS: `attributes` are strings (`ApproximateReceiveCount`, epoch milliseconds), FIFO queues add
  `MessageGroupId`, `MessageDeduplicationId` and `SequenceNumber`; `messageAttributes` use
  Lambda's lower-camel keys (`stringValue`, `dataType`, empty `stringListValues`...);
- SNS: one record per invocation; `Subject` is null when none was given, `MessageAttributes`
  `{}`; Lambda spells `SigningCertUrl`/`UnsubscribeUrl` (an SQS subscriber gets `...URL`);
- S3: `eventName` without the `s3:` prefix (`ObjectCreated:Put`), the key URL-encoded as S3
  sends it (a space is `+`);
- DynamoDB: images in DynamoDB's typed JSON (`{"S": "x"}`), `ApproximateCreationDateTime` in
  epoch seconds, `eventSourceARN` the stream's ARN.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import quote_plus

from lambdapress.emulator.context import ACCOUNT_ID, DEFAULT_REGION

Body = str | Mapping[str, Any] | Sequence[Any]
"""A message body: text as it is, anything else as JSON."""
AttributeValue = str | int | float | bytes
StreamEvent = Literal["INSERT", "MODIFY", "REMOVE"]
StreamView = Literal["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"]

SAMPLE_QUEUE_ARN = f"arn:aws:sqs:{DEFAULT_REGION}:{ACCOUNT_ID}:sample-queue"
SAMPLE_TOPIC_ARN = f"arn:aws:sns:{DEFAULT_REGION}:{ACCOUNT_ID}:sample-topic"
SAMPLE_RULE_ARN = f"arn:aws:events:{DEFAULT_REGION}:{ACCOUNT_ID}:rule/sample-schedule"
SAMPLE_TABLE_ARN = f"arn:aws:dynamodb:{DEFAULT_REGION}:{ACCOUNT_ID}:table/sample-table"
SQS_SENDER_ID = "AIDAIENQZJOLO23YVJ4VO"
"""The SenderId AWS's own samples show (an IAM user's id)."""
S3_PRINCIPAL = "AWS:AIDAINPONIXQXHT3IKHL2"


def iso_time(seconds: float | None = None) -> str:
    """`2026-12-06T21:55:00.123Z`: the timestamps SNS and S3 write (UTC, milliseconds)."""
    now = time.time() if seconds is None else seconds
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
    return f"{whole}.{int(now * 1000) % 1000:03d}Z"


def iso_seconds(seconds: float | None = None) -> str:
    """`2026-12-06T21:55:00Z`: EventBridge's `time` (UTC, whole seconds)."""
    return time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if seconds is None else seconds)
    )


def body_text(body: Body) -> str:
    """A message body as sent: text as it is, anything else as JSON."""
    return body if isinstance(body, str) else json.dumps(body)


# -- SQS -------------------------------------------------------------------------------------


def sqs_message_attributes(values: Mapping[str, AttributeValue]) -> dict[str, dict[str, Any]]:
    """Message attributes as Lambda's SQS records carry them, from plain values."""
    result: dict[str, dict[str, Any]] = {}
    for name, value in values.items():
        entry: dict[str, Any] = {"stringListValues": [], "binaryListValues": []}
        if isinstance(value, bytes):
            entry.update(binaryValue=base64.b64encode(value).decode(), dataType="Binary")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            entry.update(stringValue=str(value), dataType="Number")
        else:
            entry.update(stringValue=str(value), dataType="String")
        result[name] = entry
    return result


def sqs_record(
    body: Body,
    *,
    queue_arn: str = SAMPLE_QUEUE_ARN,
    attributes: Mapping[str, AttributeValue] | None = None,
    receive_count: int = 1,
    group_id: str | None = None,
    message_id: str | None = None,
) -> dict[str, Any]:
    """One message of an SQS batch; a FIFO queue's (`.fifo` ARN) gets its group's fields."""
    text = body_text(body)
    sent = int(time.time() * 1000)
    system: dict[str, str] = {
        "ApproximateReceiveCount": str(receive_count),
        "SentTimestamp": str(sent),
        "SenderId": SQS_SENDER_ID,
        "ApproximateFirstReceiveTimestamp": str(sent + 2),
    }
    if queue_arn.endswith(".fifo"):
        system["SequenceNumber"] = str(18_849_496_460_467_696_128 + sent)
        system["MessageGroupId"] = group_id or "default"
        system["MessageDeduplicationId"] = hashlib.sha256(text.encode()).hexdigest()
    record: dict[str, Any] = {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": receipt_handle(),
        "body": text,
        "attributes": system,
        "messageAttributes": sqs_message_attributes(attributes or {}),
        "md5OfBody": hashlib.md5(text.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": arn_region(queue_arn),
    }
    return record


def sqs_event(
    bodies: Iterable[Body],
    *,
    queue_arn: str = SAMPLE_QUEUE_ARN,
    attributes: Mapping[str, AttributeValue] | None = None,
    group_id: str | None = None,
) -> dict[str, Any]:
    """A batch of SQS messages, one record per body, as an SQS trigger invokes a function."""
    return {
        "Records": [
            sqs_record(body, queue_arn=queue_arn, attributes=attributes, group_id=group_id)
            for body in bodies
        ]
    }


def receipt_handle() -> str:
    """An opaque receipt handle shaped like SQS's (base64 text)."""
    return base64.b64encode(secrets.token_bytes(96)).decode()


def arn_region(arn: str) -> str:
    """The region an ARN names (`arn:aws:sqs:<region>:...`), or the local one."""
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[3] else DEFAULT_REGION


# -- SNS -------------------------------------------------------------------------------------


def sns_record(
    message: Body,
    *,
    topic_arn: str = SAMPLE_TOPIC_ARN,
    subject: str | None = None,
    attributes: Mapping[str, AttributeValue] | None = None,
    message_id: str | None = None,
    timestamp: str | None = None,
    subscription_arn: str | None = None,
) -> dict[str, Any]:
    """One SNS notification as a topic's subscribed function receives it."""
    region = arn_region(topic_arn)
    subscription = subscription_arn or f"{topic_arn}:{uuid.uuid4()}"
    return {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription,
        "Sns": {
            "Type": "Notification",
            "MessageId": message_id or str(uuid.uuid4()),
            "TopicArn": topic_arn,
            "Subject": subject,
            "Message": body_text(message),
            "Timestamp": timestamp or iso_time(),
            "SignatureVersion": "1",
            "Signature": base64.b64encode(secrets.token_bytes(256)).decode(),
            "SigningCertUrl": f"https://sns.{region}.amazonaws.com/"
            f"SimpleNotificationService-{secrets.token_hex(16)}.pem",
            "UnsubscribeUrl": f"https://sns.{region}.amazonaws.com/"
            f"?Action=Unsubscribe&SubscriptionArn={subscription}",
            "MessageAttributes": sns_message_attributes(attributes or {}),
        },
    }


def sns_message_attributes(values: Mapping[str, AttributeValue]) -> dict[str, dict[str, str]]:
    """Message attributes as SNS's notifications carry them: `{"Type", "Value"}`, strings."""
    result: dict[str, dict[str, str]] = {}
    for name, value in values.items():
        if isinstance(value, bytes):
            result[name] = {"Type": "Binary", "Value": base64.b64encode(value).decode()}
        elif isinstance(value, int | float) and not isinstance(value, bool):
            result[name] = {"Type": "Number", "Value": str(value)}
        else:
            result[name] = {"Type": "String", "Value": str(value)}
    return result


def sns_event(
    message: Body,
    *,
    topic_arn: str = SAMPLE_TOPIC_ARN,
    subject: str | None = None,
    attributes: Mapping[str, AttributeValue] | None = None,
) -> dict[str, Any]:
    """The event of one SNS notification (SNS invokes a function once per message)."""
    record = sns_record(message, topic_arn=topic_arn, subject=subject, attributes=attributes)
    return {"Records": [record]}


# -- EventBridge -----------------------------------------------------------------------------


def eventbridge_event(
    detail: Mapping[str, Any] | None = None,
    *,
    source: str = "lambdapress.sample",
    detail_type: str = "Sample Event",
    resources: Sequence[str] = (),
    region: str = DEFAULT_REGION,
    event_id: str | None = None,
    at: float | None = None,
) -> dict[str, Any]:
    """An event a rule delivers: what PutEvents was given, with EventBridge's envelope."""
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": ACCOUNT_ID,
        "time": iso_seconds(at),
        "region": region,
        "resources": list(resources),
        "detail": dict(detail or {}),
    }


def scheduled_event(rule_arn: str = SAMPLE_RULE_ARN, *, at: float | None = None) -> dict[str, Any]:
    """What a schedule without an input sends: EventBridge's `Scheduled Event`."""
    return eventbridge_event(
        {},
        source="aws.events",
        detail_type="Scheduled Event",
        resources=[rule_arn],
        region=arn_region(rule_arn),
        at=at,
    )


# -- S3 --------------------------------------------------------------------------------------


def s3_record(
    bucket: str,
    key: str,
    *,
    event_name: str = "ObjectCreated:Put",
    size: int = 1024,
    etag: str | None = None,
    region: str = DEFAULT_REGION,
    configuration_id: str = "lambdapress",
    encoded: bool = False,
) -> dict[str, Any]:
    """One object event; `key` is URL-encoded as S3 sends it, unless it already is (`encoded`)."""
    name = event_name.removeprefix("s3:")
    obj: dict[str, Any] = {
        "key": key if encoded else quote_plus(key, safe="/"),
        "sequencer": f"{time.time_ns():X}"[:18],
    }
    if not name.startswith("ObjectRemoved"):
        obj["size"] = size
        obj["eTag"] = etag or hashlib.md5(key.encode(), usedforsecurity=False).hexdigest()
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": iso_time(),
        "eventName": name,
        "userIdentity": {"principalId": S3_PRINCIPAL},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {
            "x-amz-request-id": secrets.token_hex(8).upper(),
            "x-amz-id-2": base64.b64encode(secrets.token_bytes(48)).decode(),
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": S3_PRINCIPAL.removeprefix("AWS:")},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": obj,
        },
    }


def s3_event(
    bucket: str,
    keys: Iterable[str],
    *,
    event_name: str = "ObjectCreated:Put",
    size: int = 1024,
) -> dict[str, Any]:
    """The event of object events in `bucket`, one record per key (S3 sends one per event)."""
    return {"Records": [s3_record(bucket, k, event_name=event_name, size=size) for k in keys]}


# -- DynamoDB Streams ------------------------------------------------------------------------


def dynamodb_json(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item in DynamoDB's typed JSON (`{"S": "x"}`), from plain values (floats as numbers)."""
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    return {name: serializer.serialize(_decimals(value)) for name, value in item.items()}


def _decimals(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, Mapping):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_decimals(v) for v in value]
    return value


def dynamodb_record(
    *,
    keys: Mapping[str, Any],
    new_image: Mapping[str, Any] | None = None,
    old_image: Mapping[str, Any] | None = None,
    event_name: StreamEvent | None = None,
    view: StreamView = "NEW_AND_OLD_IMAGES",
    table_arn: str = SAMPLE_TABLE_ARN,
    sequence_number: str | None = None,
) -> dict[str, Any]:
    """One change of a table's stream (plain values; the images the view carries)."""
    name: StreamEvent = event_name or (
        "REMOVE" if new_image is None else "INSERT" if old_image is None else "MODIFY"
    )
    change: dict[str, Any] = {
        "ApproximateCreationDateTime": int(time.time()),
        "Keys": dynamodb_json(keys),
        "SequenceNumber": sequence_number or str(time.time_ns()),
        "StreamViewType": view,
    }
    if new_image is not None and view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
        change["NewImage"] = dynamodb_json(new_image)
    if old_image is not None and view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
        change["OldImage"] = dynamodb_json(old_image)
    change["SizeBytes"] = len(json.dumps(change))
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": arn_region(table_arn),
        "dynamodb": change,
        "eventSourceARN": stream_arn(table_arn),
    }


def stream_arn(table_arn: str, label: str = "2026-01-01T00:00:00.000") -> str:
    """A table's stream ARN (`<table ARN>/stream/<label>`); an ARN that is one stays."""
    return table_arn if "/stream/" in table_arn else f"{table_arn}/stream/{label}"


def dynamodb_stream_event(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A batch of stream records (`dynamodb_record(...)` each), as a stream trigger sends it."""
    return {"Records": [dict(record) for record in records]}
