"""The sources that read an SQS queue on moto's server: SQS, SNS, EventBridge and S3 triggers.

- `sqs`: the function's own queue, as Lambda's event source mapping polls it: long polls (a
  second, so `close()` is quick) of up to ten messages, gathered into batches of up to
  `batch_size` for up to `batch_window` seconds; a batch is one invocation, and what Lambda
  then deletes is deleted: every message when the function returns (except the ones its
  `batchItemFailures` names), none when it fails or reports an item not in the batch. The rest
  come back after the queue's visibility timeout, and moto's redrive moves a message received
  `max_receives` times to the dead-letter queue, as SQS does.
- `sns`, `eventbridge`, `s3`: AWS invokes the function asynchronously, one notification, event
  or object event per invocation. Locally each trigger gets a private queue on moto's server
  (`<project>-<stage>-<function>-<kind><n>`), which moto fills: a subscription to the topic with
  the trigger's filter policy (SNS's JSON envelope, turned into Lambda's SNS record); a rule on
  the bus with the trigger's pattern and the queue as its target (the event as EventBridge
  sends it); the bucket's notification configuration, one queue configuration per trigger
  with its events, prefix and suffix (S3's test event is dropped, as Lambda never sees it).
  An invocation that fails is tried again after `ASYNC_RETRY` seconds, three times in all,
  then dropped, like Lambda's retries of an asynchronous invocation.

Private queues, subscriptions and rules stay on the server when `serve` stops (a message
published meanwhile is delivered at the next start, as AWS would have delivered it).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from lambdapress.emulator._delivery import (
    RESOURCES,
    Binding,
    DeliverySource,
    error_text,
    events_of,
    failed_items,
)
from lambdapress.emulator.context import lambda_name
from lambdapress.emulator.trigger_events import S3_PRINCIPAL, receipt_handle
from lambdapress.model.application import Application, Function
from lambdapress.model.resources import SqsQueue
from lambdapress.model.trigger_kinds import LocalHost, LocalOptions
from lambdapress.model.triggers import EventRuleTrigger, S3Trigger, SnsTrigger, SqsTrigger, Trigger
from lambdapress.storage.events import (
    EventsEndpoint,
    ensure_queue,
    subscribe_queue,
    subscription_attributes,
)

LONG_POLL = 1
"""Seconds one ReceiveMessage waits for messages (SQS allows up to 20)."""
RECEIVE_MAX = 10
ASYNC_RETRY = 60
"""Seconds before a failed asynchronous invocation is tried again (Lambda waits about a minute
before its first retry)."""
ASYNC_ATTEMPTS = 3
_QUEUE_NAME_MAX = 80
_RULE_NAME_MAX = 64
_EVENT_ORDER = ("version", "id", "detail-type", "source", "account", "time", "region", "resources")


def private_name(endpoint: EventsEndpoint, function: Function, suffix: str, limit: int) -> str:
    """`<project>-<stage>-<function>-<suffix>`, cut to `limit` characters with a stable hash."""
    name = f"{endpoint.names.project}-{endpoint.names.stage}-{lambda_name(function.name)}-{suffix}"
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: limit - 9]}-{digest}"


def lambda_sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """An SQS message as ReceiveMessage returns it, as Lambda hands it to the function."""
    attributes: dict[str, dict[str, Any]] = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        entry: dict[str, Any] = {
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value["DataType"],
        }
        if "StringValue" in value:
            entry["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            entry["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
        attributes[name] = entry
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": attributes,
        "md5OfBody": message["MD5OfBody"],
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    record.update(eventSource="aws:sqs", eventSourceARN=queue_arn, awsRegion=region)
    return record


class _QueueReader:
    """Receives from one queue and deletes what was handled."""

    def __init__(self, endpoint: EventsEndpoint, queue_url: str) -> None:
        self.endpoint = endpoint
        self.queue_url = queue_url
        self.sqs = endpoint.client("sqs")

    def receive(self, count: int, wait: float) -> list[dict[str, Any]]:
        found = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max(1, min(RECEIVE_MAX, count)),
            WaitTimeSeconds=max(0, round(wait)),
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = found.get("Messages", [])
        return messages

    def gather(self, stop: threading.Event, size: int, window: float) -> list[dict[str, Any]]:
        """Up to `size` messages: the first long poll's, then more for up to `window` seconds.

        Without a window, only what is there at once is added (Lambda's batches then hold what
        one poll finds).
        """
        messages = self.receive(size, LONG_POLL)
        if not messages:
            return []
        deadline = time.monotonic() + window
        while len(messages) < size and not stop.is_set():
            left = deadline - time.monotonic()
            more = self.receive(size - len(messages), min(LONG_POLL, left) if left > 0 else 0)
            if not more and left <= 0:
                break
            messages.extend(more)
        return messages

    def delete(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), RECEIVE_MAX):
            chunk = messages[start : start + RECEIVE_MAX]
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]}
                    for index, m in enumerate(chunk)
                ],
            )


# -- SQS -------------------------------------------------------------------------------------


class SqsBinding(Binding):
    """A queue drained in batches (module doc)."""

    def __init__(
        self, source: DeliverySource, function: Function, trigger: SqsTrigger, queue: SqsQueue
    ) -> None:
        super().__init__(source, function, trigger)
        self.settings = trigger
        self.endpoint = events_of(source.host, trigger.kind)
        self.queue_arn = self.endpoint.arn(queue)
        self.reader = _QueueReader(self.endpoint, self.endpoint.queue_url(queue))

    def step(self, stop: threading.Event) -> None:
        """One batch, if messages came."""
        messages = self.reader.gather(stop, self.settings.batch_size, self.settings.batch_window)
        if not messages:
            return
        region = self.endpoint.region
        event = {"Records": [lambda_sqs_record(m, self.queue_arn, region) for m in messages]}
        result, duration = self.invoke(event)
        count = len(messages)
        if result.error is not None:
            outcome = f"error: {error_text(result)}; all back after the visibility timeout"
            self.report(count, outcome, duration, result)
            return
        failed = failed_items(result, [m["MessageId"] for m in messages])
        if failed is None:
            self.report(
                count,
                "batchItemFailures names an item not in the batch: all back after the "
                "visibility timeout",
                duration,
                result,
            )
            return
        self.reader.delete([m for m in messages if m["MessageId"] not in failed])
        outcome = (
            f"{len(failed)} of {count} failed, back after the visibility timeout"
            if failed
            else "ok"
        )
        self.report(count, outcome, duration, result)


class SqsSource(DeliverySource):
    """`sqs` triggers: each function's queue, polled."""

    kind = "sqs"
    label = "SQS"

    def prepare(self, manifest: Application, bindings: list[tuple[Function, Trigger]]) -> None:
        """The build's queues (and the rest of its event resources) on the server."""
        RESOURCES.ensure(events_of(self.host, self.kind), manifest)

    def bind(self, manifest: Application, function: Function, trigger: Trigger) -> Binding:
        """A poller of the trigger's queue."""
        assert isinstance(trigger, SqsTrigger)
        queue = manifest.resource(trigger.queue)
        assert isinstance(queue, SqsQueue)
        return SqsBinding(self, function, trigger, queue)


# -- asynchronous invocations through a private queue ----------------------------------------


class _AsyncBinding(Binding):
    """One message of a private queue per invocation, retried as Lambda retries async calls."""

    def __init__(
        self, source: DeliverySource, function: Function, trigger: Trigger, queue: str
    ) -> None:
        super().__init__(source, function, trigger)
        self.endpoint = events_of(source.host, trigger.kind)
        self.reader = _QueueReader(self.endpoint, f"{self.endpoint.url}/{_account()}/{queue}")

    def event_of(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """The event the message becomes; None to drop it unseen (S3's test event)."""
        return body

    def step(self, stop: threading.Event) -> None:
        """Deliver what one long poll brings, one invocation per message."""
        for message in self.reader.receive(RECEIVE_MAX, LONG_POLL):
            if stop.is_set():
                return  # not deleted: it comes back after the visibility timeout
            event = self.event_of(json.loads(message["Body"]))
            if event is None:
                self.reader.delete([message])
                continue
            result, duration = self.invoke(event)
            records = len(event.get("Records", [])) or 1
            if result.error is None:
                self.reader.delete([message])
                self.report(records, "ok", duration, result)
                continue
            attempt = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
            if attempt >= ASYNC_ATTEMPTS:
                self.reader.delete([message])
                outcome = f"error: {error_text(result)}; dropped after {attempt} attempts"
            else:
                outcome = f"error: {error_text(result)}; tried again in {ASYNC_RETRY} s"
            self.report(records, outcome, duration, result)


def _account() -> str:
    from lambdapress.storage.events import ACCOUNT

    return ACCOUNT


def _private_queue(endpoint: EventsEndpoint, function: Function, suffix: str) -> tuple[str, str]:
    """The private queue `suffix` of `function`, created if need be: its name and ARN."""
    name = private_name(endpoint, function, suffix, _QUEUE_NAME_MAX)
    ensure_queue(endpoint, name, {"VisibilityTimeout": str(ASYNC_RETRY)})
    return name, endpoint.queue_arn(name)


def _suffix(function: Function, trigger: Trigger) -> str:
    """`sns0` for the function's first SNS trigger."""
    same = [t for t in function.triggers if t.kind == trigger.kind]
    return f"{trigger.kind.replace('-', '')}{same.index(trigger)}"


class SnsBinding(_AsyncBinding):
    """A topic's notifications (module doc)."""

    subscription_arn = ""

    def event_of(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """SNS's envelope as Lambda's SNS record."""
        subscription = self.subscription_arn
        region = self.endpoint.region
        notification = {
            "Type": body.get("Type", "Notification"),
            "MessageId": body["MessageId"],
            "TopicArn": body["TopicArn"],
            "Subject": body.get("Subject"),
            "Message": body["Message"],
            "Timestamp": body["Timestamp"],
            "SignatureVersion": body.get("SignatureVersion", "1"),
            "Signature": body.get("Signature", ""),
            "SigningCertUrl": body.get("SigningCertURL", ""),
            "UnsubscribeUrl": f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe"
            f"&SubscriptionArn={subscription}",
            "MessageAttributes": body.get("MessageAttributes") or {},
        }
        return {
            "Records": [
                {
                    "EventSource": "aws:sns",
                    "EventVersion": "1.0",
                    "EventSubscriptionArn": subscription,
                    "Sns": notification,
                }
            ]
        }


class SnsSource(DeliverySource):
    """`sns` triggers: a private queue subscribed to each trigger's topic."""

    kind = "sns"
    label = "SNS"

    def prepare(self, manifest: Application, bindings: list[tuple[Function, Trigger]]) -> None:
        """The build's event resources; each trigger's queue and subscription."""
        endpoint = events_of(self.host, self.kind)
        RESOURCES.ensure(endpoint, manifest)
        self._subscriptions: dict[tuple[str, str], str] = {}
        for function, trigger in bindings:
            assert isinstance(trigger, SnsTrigger)
            name, arn = _private_queue(endpoint, function, _suffix(function, trigger))
            self._subscriptions[(function.name, name)] = subscribe_queue(
                endpoint,
                topic_arn=endpoint.arn(manifest.resource(trigger.topic)),
                queue_arn=arn,
                attributes=subscription_attributes(
                    trigger.filter_policy, trigger.filter_policy_scope, raw=False
                ),
            )

    def bind(self, manifest: Application, function: Function, trigger: Trigger) -> Binding:
        """A reader of the trigger's private queue."""
        endpoint = events_of(self.host, self.kind)
        name = private_name(endpoint, function, _suffix(function, trigger), _QUEUE_NAME_MAX)
        binding = SnsBinding(self, function, trigger, name)
        binding.subscription_arn = self._subscriptions[(function.name, name)]
        return binding


class EventRuleSource(DeliverySource):
    """`eventbridge` triggers: a rule per trigger on its bus, targeting a private queue."""

    kind = "eventbridge"
    label = "EventBridge"

    def prepare(self, manifest: Application, bindings: list[tuple[Function, Trigger]]) -> None:
        """The build's event resources; each trigger's queue, rule and target."""
        endpoint = events_of(self.host, self.kind)
        RESOURCES.ensure(endpoint, manifest)
        events = endpoint.client("events")
        for function, trigger in bindings:
            assert isinstance(trigger, EventRuleTrigger)
            suffix = _suffix(function, trigger)
            _, arn = _private_queue(endpoint, function, suffix)
            rule = private_name(endpoint, function, suffix, _RULE_NAME_MAX)
            bus = endpoint.bus_name(manifest, trigger)
            events.put_rule(
                Name=rule,
                EventBusName=bus,
                EventPattern=json.dumps(trigger.pattern),
                State="ENABLED",
            )
            events.put_targets(
                Rule=rule, EventBusName=bus, Targets=[{"Id": "lambdapress-local", "Arn": arn}]
            )

    def bind(self, manifest: Application, function: Function, trigger: Trigger) -> Binding:
        """A reader of the trigger's private queue: each message is the event itself."""
        endpoint = events_of(self.host, self.kind)
        name = private_name(endpoint, function, _suffix(function, trigger), _QUEUE_NAME_MAX)
        return _EventBinding(self, function, trigger, name)


class _EventBinding(_AsyncBinding):
    def event_of(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """The event as EventBridge delivers it.

        moto's default target input leaves out `account` (its template lacks it, moto 5.2
        `events/utils.py`), and may carry its bookkeeping `ingestion-time`: both put right.
        """
        body.pop("ingestion-time", None)
        body.setdefault("account", _account())
        return {key: body[key] for key in _EVENT_ORDER if key in body} | body


class S3Binding(_AsyncBinding):
    """A bucket's object events (module doc)."""

    def event_of(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """moto's notification completed with the fields Lambda's S3 records also have.

        moto 5.2 (`s3/notifications.py`) leaves out `userIdentity`, `requestParameters`,
        `responseElements`, the bucket's `ownerIdentity` and the object's `sequencer`.
        """
        if body.get("Event") == "s3:TestEvent" or "Records" not in body:
            return None
        for record in body["Records"]:
            record.setdefault("userIdentity", {"principalId": S3_PRINCIPAL})
            record.setdefault("requestParameters", {"sourceIPAddress": "127.0.0.1"})
            record.setdefault(
                "responseElements",
                {
                    "x-amz-request-id": receipt_handle()[:16].upper(),
                    "x-amz-id-2": receipt_handle()[:64],
                },
            )
            s3 = record["s3"]
            s3["bucket"].setdefault(
                "ownerIdentity", {"principalId": S3_PRINCIPAL.removeprefix("AWS:")}
            )
            s3["object"].setdefault("sequencer", f"{time.time_ns():X}"[:18])
            # moto encodes `/` too (`in%2Fa.csv`); S3 leaves it as it is (`in/a+b.csv`).
            s3["object"]["key"] = quote_plus(unquote_plus(s3["object"]["key"]), safe="/")
        return body


class S3Source(DeliverySource):
    """`s3` triggers: each bucket's notification configuration, one private queue per trigger."""

    kind = "s3"
    label = "S3"

    def prepare(self, manifest: Application, bindings: list[tuple[Function, Trigger]]) -> None:
        """The build's event resources; each trigger's queue; each bucket's notifications."""
        endpoint = events_of(self.host, self.kind)
        RESOURCES.ensure(endpoint, manifest)
        buckets: dict[str, list[dict[str, Any]]] = {}
        for function, trigger in bindings:
            assert isinstance(trigger, S3Trigger)
            name, arn = _private_queue(endpoint, function, _suffix(function, trigger))
            configuration: dict[str, Any] = {
                "Id": name,
                "QueueArn": arn,
                "Events": list(trigger.events),
            }
            rules = [
                {"Name": rule, "Value": value}
                for rule, value in (("prefix", trigger.prefix), ("suffix", trigger.suffix))
                if value
            ]
            if rules:
                configuration["Filter"] = {"Key": {"FilterRules": rules}}
            bucket = endpoint.physical_name(manifest.resource(trigger.bucket))
            buckets.setdefault(bucket, []).append(configuration)
        s3 = endpoint.client("s3")
        for bucket, configurations in buckets.items():
            s3.put_bucket_notification_configuration(
                Bucket=bucket,
                NotificationConfiguration={"QueueConfigurations": configurations},
            )

    def bind(self, manifest: Application, function: Function, trigger: Trigger) -> Binding:
        """A reader of the trigger's private queue."""
        endpoint = events_of(self.host, self.kind)
        name = private_name(endpoint, function, _suffix(function, trigger), _QUEUE_NAME_MAX)
        return S3Binding(self, function, trigger, name)


SOURCES: dict[str, type[DeliverySource]] = {
    SqsSource.kind: SqsSource,
    SnsSource.kind: SnsSource,
    EventRuleSource.kind: EventRuleSource,
    S3Source.kind: S3Source,
}


def queue_source(host: LocalHost[Any], options: LocalOptions, kind: str) -> DeliverySource:
    """The source of `kind` (one of `SOURCES`)."""
    events_of(host, kind)  # refuse at once, not in a thread, when there is no server
    return SOURCES[kind](host, options)
