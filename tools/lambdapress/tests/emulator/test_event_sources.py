"""Local delivery of SQS, SNS, EventBridge and S3 triggers, through moto's server and artifacts.

Each test builds a manifest of real zips (plain handlers, run under the official runtime
client), its queues, topics, buses and buckets, starts `serve` with the events server (a moto
of the test's own), sends what AWS would receive through boto3, and checks what the function
was given and what became of the messages.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    EventBridgeModel,
    S3Model,
    SnsModel,
    SqsModel,
)

from lambdapress.emulator import ServeOptions, serve
from lambdapress.emulator._delivery import DeliveryRecord
from lambdapress.model.application import Application, Function
from lambdapress.model.resources import (
    EventBus,
    Resource,
    S3Bucket,
    SnsTopic,
    SqsQueue,
)
from lambdapress.model.storage_backends import StageNames
from lambdapress.model.triggers import EventRuleTrigger, S3Trigger, SnsTrigger, SqsTrigger, Trigger
from lambdapress.storage.events import EventsEndpoint, create_event_resources

from .conftest import EmulatorFactory, Repo, emulator_thread_names, entry_for
from .event_support import HANDLERS, Deliveries, delivered_events, stand_in_kinds

NAMES = StageNames("acme", "local")


@pytest.fixture(autouse=True)
def _kinds() -> Iterator[None]:
    with stand_in_kinds():
        yield


class Harness:
    """A manifest of the events artifact's handlers, served with a moto of the test's own."""

    def __init__(self, repo: Repo, make_emulator: EmulatorFactory, endpoint: str) -> None:
        self.repo = repo
        self.make_emulator = make_emulator
        self.events = EventsEndpoint(endpoint, NAMES)
        self.zip = repo.artifact("events", {"handlers.py": HANDLERS})
        self.deliveries = Deliveries()

    def function(
        self, name: str, handler: str, triggers: tuple[Trigger, ...], uses: tuple[str, ...] = ()
    ) -> Function:
        entry = entry_for(self.repo.root, self.zip, f"workers.{name}", f"handlers.{handler}")
        return entry.model_copy(update={"triggers": triggers, "uses": uses})

    def manifest(self, functions: list[Function], resources: list[Resource]) -> Application:
        """The application, its resources already on the server (as `lambdapress db` makes them)."""
        manifest = Application(functions=tuple(functions), resources=tuple(resources))
        create_event_resources(self.events, manifest)
        return manifest

    def serve(self, manifest: Application) -> Any:
        emulator = self.make_emulator(manifest, self.repo.root, events=self.events)
        serving = serve(emulator, ServeOptions(lambda_port=None, on_delivery=self.deliveries))
        return emulator, serving

    def client(self, service: str) -> Any:
        return self.events.client(service)


@pytest.fixture
def harness(repo: Repo, make_emulator: EmulatorFactory, moto_endpoint: str) -> Harness:
    return Harness(repo, make_emulator, moto_endpoint)


def _stopped_cleanly(serving: Any, emulator: Any) -> None:
    names = set()
    for source in serving.sources.values():
        names |= getattr(source, "thread_names", set())
    serving.close()
    left = [t.name for t in threading.enumerate() if t.name in names]
    assert left == [], f"threads left after close: {left}"
    assert emulator_thread_names(emulator)  # the emulator's own are checked by its fixture


# -- SQS -------------------------------------------------------------------------------------


def test_messages_arrive_in_batches_of_the_trigger_size_as_lambda_sqs_events(
    harness: Harness,
) -> None:
    queue = SqsQueue(service="workers", name="jobs", visibility_timeout=5)
    trigger = SqsTrigger(queue=queue.id, batch_size=2)
    consumer = harness.function("consume", "consume", (trigger,))
    manifest = harness.manifest([consumer], [queue])
    sqs = harness.client("sqs")
    url = harness.events.queue_url(queue)
    assert url == sqs.get_queue_url(QueueName="acme-local-workers-jobs")["QueueUrl"]
    # Sent before serving: each poll finds a full batch, as with a backlog on AWS.
    bodies = [json.dumps({"n": n}) for n in range(5)]
    for body in bodies:
        sqs.send_message(
            QueueUrl=url,
            MessageBody=body,
            MessageAttributes={"kind": {"DataType": "String", "StringValue": "job"}},
        )
    emulator, serving = harness.serve(manifest)
    try:
        done = harness.deliveries.wait(lambda found: sum(r.records for r in found) >= 5)
    finally:
        _stopped_cleanly(serving, emulator)
    assert len(done) == math.ceil(5 / 2)
    assert [r.records for r in done] == [2, 2, 1]
    assert all(r.ok for r in done), [str(r) for r in done]
    events = delivered_events(done)
    assert sorted(r["body"] for e in events for r in e["Records"]) == sorted(bodies)
    for event in events:
        parsed = SqsModel.model_validate(event)  # Lambda's shape, as Powertools reads it
        for record in parsed.Records:
            assert (
                record.eventSourceARN
                == "arn:aws:sqs:us-east-1:123456789012:acme-local-workers-jobs"
            )
            assert record.attributes.ApproximateReceiveCount == "1"
            assert record.messageAttributes["kind"].stringValue == "job"
    # Delivered messages were deleted: nothing comes back.
    left = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert left["ApproximateNumberOfMessages"] == "0"
    assert left["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert str(done[0]).startswith("sqs workers/jobs -> workers.consume: 2 records, ok (")


def test_failed_items_come_back_after_the_visibility_timeout_then_go_to_the_dead_letter_queue(
    harness: Harness,
) -> None:
    dead = SqsQueue(service="workers", name="jobs-dlq")
    queue = SqsQueue(
        service="workers",
        name="jobs",
        visibility_timeout=1,
        dead_letter=dead.id,
        max_receives=2,
    )
    consumer = harness.function("consume", "consume", (SqsTrigger(queue=queue.id),))
    emulator, serving = harness.serve(harness.manifest([consumer], [dead, queue]))
    sqs = harness.client("sqs")
    url = harness.events.queue_url(queue)
    try:
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": "good", "MessageBody": "good one"},
                {"Id": "poison", "MessageBody": "fail me"},
            ],
        )
        dead_url = harness.events.queue_url(dead)
        found: list[dict[str, Any]] = []

        def in_dead_letter_queue(_: list[DeliveryRecord]) -> bool:
            if not found:
                found.extend(sqs.receive_message(QueueUrl=dead_url).get("Messages", []))
            return bool(found)

        harness.deliveries.wait(lambda r: len(r) >= 2)
        harness.deliveries.wait(in_dead_letter_queue, timeout=15)
    finally:
        _stopped_cleanly(serving, emulator)
    records = [r for e in delivered_events(harness.deliveries.records) for r in e["Records"]]
    poison = [r for r in records if r["body"] == "fail me"]
    # Received max_receives (2) times, failed each time, then moved by the redrive policy.
    assert [r["attributes"]["ApproximateReceiveCount"] for r in poison] == ["1", "2"]
    assert [r["body"] for r in records].count("good one") == 1  # deleted after the first
    assert [m["Body"] for m in found] == ["fail me"]
    assert any(
        "failed, back after the visibility timeout" in r.outcome for r in harness.deliveries.records
    )


# -- SNS -------------------------------------------------------------------------------------


def test_a_topic_delivers_what_the_filter_policy_accepts_as_lambda_sns_events(
    harness: Harness,
) -> None:
    topic = SnsTopic(service="orders", name="order-events")
    trigger = SnsTrigger(topic=topic.id, filter_policy={"type": ["OrderPlaced"]})
    notify = harness.function("notify", "echo", (trigger,))
    publisher = harness.function("publish", "environment", (), uses=(topic.id,))
    emulator, serving = harness.serve(harness.manifest([notify, publisher], [topic]))
    arn = harness.events.arn(topic)
    sns = harness.client("sns")
    try:
        harness.deliveries.wait(lambda _: _subscribed(sns, arn))
        for text, kind in (
            ("dropped", "Other"),
            ("first", "OrderPlaced"),
            ("second", "OrderPlaced"),
        ):
            sns.publish(
                TopicArn=arn,
                Message=text,
                Subject="news",
                MessageAttributes={"type": {"DataType": "String", "StringValue": kind}},
            )
        done = harness.deliveries.wait(lambda r: len(r) >= 2)
        environment = emulator.invoke("workers.publish").response
    finally:
        _stopped_cleanly(serving, emulator)
    events = delivered_events(done)
    assert [e["Records"][0]["Sns"]["Message"] for e in events] == ["first", "second"]
    for event in events:
        record = SnsModel.model_validate(event).Records[0]
        assert record.Sns.TopicArn == arn
        assert record.Sns.Subject == "news"
        assert record.Sns.MessageAttributes is not None
        assert record.Sns.MessageAttributes["type"].Value == "OrderPlaced"
    # What the publisher's code finds its topic and moto with (`triggers.Topic(...)`).
    assert environment["ORDERS_ORDER_EVENTS_TOPIC_ARN"] == arn
    assert environment["AWS_ENDPOINT_URL_SNS"] == harness.events.url


def _subscribed(sns: Any, arn: str) -> bool:
    return bool(sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"])


# -- EventBridge -----------------------------------------------------------------------------


def test_a_rule_delivers_the_events_its_pattern_matches_on_its_bus(harness: Harness) -> None:
    bus = EventBus(service="orders", name="orders")
    trigger = EventRuleTrigger(
        pattern={"source": ["orders"], "detail": {"total": [{"numeric": [">", 100]}]}},
        bus=bus.id,
    )
    react = harness.function("react", "echo", (trigger,))
    emulator, serving = harness.serve(harness.manifest([react], [bus]))
    events_client = harness.client("events")
    name = harness.events.physical_name(bus)
    try:
        harness.deliveries.wait(lambda _: _rules(events_client, name))
        entries = [
            ("orders", {"order": "small", "total": 5}, name),
            ("billing", {"order": "other-source", "total": 500}, name),
            ("orders", {"order": "other-bus", "total": 500}, "default"),
            ("orders", {"order": "big", "total": 500}, name),
        ]
        events_client.put_events(
            Entries=[
                {
                    "Source": s,
                    "DetailType": "OrderPlaced",
                    "Detail": json.dumps(d),
                    "EventBusName": b,
                }
                for s, d, b in entries
            ]
        )
        done = harness.deliveries.wait(lambda r: len(r) >= 1)
        # The three others would have been queued by now (moto routes at PutEvents).
        sqs = harness.client("sqs")
        private = sqs.list_queues(QueueNamePrefix="acme-local-workers-react")["QueueUrls"]
        attributes = sqs.get_queue_attributes(QueueUrl=private[0], AttributeNames=["All"])
    finally:
        _stopped_cleanly(serving, emulator)
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "0"
    (event,) = delivered_events(done)
    parsed = EventBridgeModel.model_validate(event)
    assert parsed.source == "orders"
    assert parsed.detail_type == "OrderPlaced"
    assert parsed.detail == {"order": "big", "total": 500}
    assert "ingestion-time" not in event


def _rules(client: Any, bus: str) -> bool:
    return bool(client.list_rules(EventBusName=bus)["Rules"])


# -- S3 --------------------------------------------------------------------------------------


def test_object_events_reach_the_function_when_prefix_and_suffix_match(harness: Harness) -> None:
    bucket = S3Bucket(service="imports", name="uploads")
    trigger = S3Trigger(bucket=bucket.id, prefix="in/", suffix=".csv")
    load = harness.function("load", "echo", (trigger,))
    emulator, serving = harness.serve(harness.manifest([load], [bucket]))
    s3 = harness.client("s3")
    name = harness.events.physical_name(bucket)
    try:
        harness.deliveries.wait(lambda _: _notified(s3, name))
        for key in ("in/a.csv", "in/b.txt", "out/c.csv", "in/d e.csv"):
            s3.put_object(Bucket=name, Key=key, Body=b"id,total\n1,5\n")
        done = harness.deliveries.wait(lambda r: len(r) >= 2)
        s3.put_object(Bucket=name, Key="in/last.csv", Body=b"")  # after the two others
        harness.deliveries.wait(lambda r: len(r) >= 3)
    finally:
        _stopped_cleanly(serving, emulator)
    events = delivered_events(harness.deliveries.records)
    keys = [e["Records"][0]["s3"]["object"]["key"] for e in events]
    assert keys == ["in/a.csv", "in/d+e.csv", "in/last.csv"]  # URL-encoded, as S3 sends it
    for event in events:
        record = S3Model.model_validate(event).Records[0]
        assert record.eventName == "ObjectCreated:Put"
        assert record.s3.bucket.name == name
    assert done[0].trigger == "s3 imports/uploads/in/*.csv"


def _notified(s3: Any, bucket: str) -> bool:
    return bool(s3.get_bucket_notification_configuration(Bucket=bucket).get("QueueConfigurations"))
