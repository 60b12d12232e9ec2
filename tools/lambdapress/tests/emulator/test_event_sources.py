"""Every event source, declared in handler code, packaged, and delivered locally through moto.

One workspace (`event_support.DECLARED`: four services whose handler modules declare an SQS
queue with a dead-letter queue, an SNS subscription with a filter policy, an EventBridge rule on
a bus of its own, an S3 prefix and suffix, two DynamoDB streams and three schedules with
`lambdapress_runtime.triggers`) is packaged once by `package`, as `lambdapress package` does.
Each test serves the functions it is about from `dist/` (their zips, under the official runtime
client), on a moto server of its own with the build's queues, topics, buses and buckets made as
`lambdapress db` makes them; it sends what AWS would receive through boto3, and checks what the
functions were given and what became of the messages.
"""

from __future__ import annotations

import datetime
import json
import math
import threading
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    DynamoDBStreamModel,
    EventBridgeModel,
    S3Model,
    SnsModel,
    SqsModel,
)

from lambdapress.bundle.pipeline import package
from lambdapress.cli import main
from lambdapress.emulator import ServeOptions, serve
from lambdapress.emulator._delivery import DeliveryRecord
from lambdapress.emulator._scheduler import FastClock, ScheduleSource
from lambdapress.emulator._stream_source import table_name
from lambdapress.model.application import Application
from lambdapress.model.resources import DynamoDBTable
from lambdapress.model.storage_backends import StageNames
from lambdapress.model.trigger_kinds import LocalOptions
from lambdapress.storage.dynamodb import create_tables, dynamodb_client
from lambdapress.storage.events import EventsEndpoint, create_event_resources

from .conftest import EmulatorFactory, emulator_thread_names
from .event_support import PROJECT, Deliveries, batches, delivered_events, write_declared_workspace

pytestmark = pytest.mark.e2e
NAMES = StageNames(PROJECT, "local")


class Declared:
    """The packaged workspace: its root and the manifest `package` wrote."""

    def __init__(self, root: Path, manifest: Application) -> None:
        self.root = root
        self.manifest = manifest

    def only(self, *names: str) -> Application:
        """The build with the named functions only (each test starts its own sources)."""
        functions = tuple(self.manifest.function(name) for name in names)
        return self.manifest.model_copy(update={"functions": functions})


@pytest.fixture(scope="module")
def declared(tmp_path_factory: pytest.TempPathFactory, runtime_cache: Path) -> Declared:
    """The workspace, written, locked and packaged once for the module."""
    root = write_declared_workspace(tmp_path_factory.mktemp("declared") / PROJECT)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAMBDAPRESS_CACHE", str(runtime_cache))
        manifest = package(root, jobs=2).manifest
    return Declared(root, manifest)


class Harness:
    """The packaged build served with a moto of the test's own, its event resources made."""

    def __init__(self, declared: Declared, make_emulator: EmulatorFactory, endpoint: str) -> None:
        self.declared = declared
        self.make_emulator = make_emulator
        self.events = EventsEndpoint(endpoint, NAMES)
        create_event_resources(self.events, declared.manifest)  # as `lambdapress db` does
        self.deliveries = Deliveries()

    def serve(self, *functions: str) -> Any:
        manifest = self.declared.only(*functions)
        emulator = self.make_emulator(manifest, self.declared.root, events=self.events)
        serving = serve(emulator, ServeOptions(lambda_port=None, on_delivery=self.deliveries))
        return emulator, serving

    def resource(self, resource_id: str) -> Any:
        return self.declared.manifest.resource(resource_id)

    def client(self, service: str) -> Any:
        return self.events.client(service)


@pytest.fixture
def harness(declared: Declared, make_emulator: EmulatorFactory, moto_endpoint: str) -> Harness:
    return Harness(declared, make_emulator, moto_endpoint)


def _stopped_cleanly(serving: Any, emulator: Any) -> None:
    names: set[str] = set()
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
    queue = harness.resource("workers/sqs-queue/jobs")  # @triggers.sqs("jobs", batch_size=2)
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
    emulator, serving = harness.serve("workers.consume")
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
    # [tool.lambdapress.queues.jobs]: visibility_timeout = 2, dead_letter = "jobs-dlq",
    # max_receives = 2.
    queue = harness.resource("workers/sqs-queue/jobs")
    dead = harness.resource("workers/sqs-queue/jobs-dlq")
    emulator, serving = harness.serve("workers.consume")
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
    # workers.notify: @triggers.sns("orders/order-events", filter_policy={"type": [...]}).
    topic = harness.resource("orders/sns-topic/order-events")
    emulator, serving = harness.serve("workers.notify", "workers.publish")
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
        published = emulator.invoke("workers.publish").response
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
    # What the publisher's code finds its topic and moto with: `triggers.Topic(...).arn`.
    assert published["arn"] == arn
    assert published["environment"]["ORDERS_ORDER_EVENTS_TOPIC_ARN"] == arn
    assert published["environment"]["AWS_ENDPOINT_URL_SNS"] == harness.events.url


def _subscribed(sns: Any, arn: str) -> bool:
    return bool(sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"])


# -- EventBridge -----------------------------------------------------------------------------


def test_a_rule_delivers_the_events_its_pattern_matches_on_its_bus(harness: Harness) -> None:
    # orders.react: @triggers.rule({"source": ["orders"], "detail": {"total": [{"numeric":
    # [">", 100]}]}}, bus="orders").
    bus = harness.resource("orders/event-bus/orders")
    emulator, serving = harness.serve("orders.react")
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
        private = sqs.list_queues(QueueNamePrefix="acme-local-orders-react")["QueueUrls"]
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
    bucket = harness.resource("orders/s3-bucket/uploads")  # prefix="in/", suffix=".csv"
    emulator, serving = harness.serve("orders.load")
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
    assert (done[0].kind, done[0].trigger) == ("s3", "orders/uploads/in/*.csv")


def _notified(s3: Any, bucket: str) -> bool:
    return bool(s3.get_bucket_notification_configuration(Bucket=bucket).get("QueueConfigurations"))


# -- DynamoDB Streams ------------------------------------------------------------------------


def test_stream_batches_partial_failures_and_bisection(
    harness: Harness, moto_endpoint: str
) -> None:
    """Two tables, each with a consumer of its stream from TRIM_HORIZON, served at once: one
    checks batches and partial failures (retried from the failed record, the rest of the
    batch discarded after `max_retries`), the other bisection of a failing batch down to the
    poison record."""
    tables = {name: harness.resource(f"stock/dynamodb-table/{name}") for name in ("items", "moves")}
    assert all(isinstance(t, DynamoDBTable) and t.stream for t in tables.values())
    names = {name: table_name(NAMES.project, NAMES.stage, t) for name, t in tables.items()}
    create_tables(moto_endpoint, {names[name]: t for name, t in tables.items()})
    client = dynamodb_client(moto_endpoint)
    # Written before serving: TRIM_HORIZON reads them all, in order.
    for item in ("a", "fail-b", "c", "d", "e"):
        client.put_item(TableName=names["items"], Item={"id": {"S": item}})
    for item in ("a", "b", "crash-c", "d"):
        client.put_item(TableName=names["moves"], Item={"id": {"S": item}})

    emulator, serving = harness.serve("stock.items", "stock.moves")
    deliveries = harness.deliveries
    try:
        deliveries.wait(lambda _: batches(deliveries.of("stock.items"))[-1:] == [["e"]])
        deliveries.wait(lambda _: batches(deliveries.of("stock.moves"))[-1:] == [["d"]])
    finally:
        _stopped_cleanly(serving, emulator)

    items = deliveries.of("stock.items")
    # a is done; b fails and is retried with the two after it; its second failure is one more
    # than max_retries (1), so that batch is discarded; e comes next.
    assert batches(items) == [["a", "fail-b", "c"], ["fail-b", "c", "d"], ["e"]]
    assert "retried from record" in items[0].outcome
    assert "discarded after 1 retries" in items[1].outcome
    assert items[2].ok

    moves = deliveries.of("stock.moves")
    # The batch of four fails; halves of two; the failing half split to single records; the
    # poison record fails past max_retries (0) and is discarded; d is delivered.
    assert batches(moves) == [
        ["a", "b", "crash-c", "d"], ["a", "b"], ["crash-c", "d"], ["crash-c"], ["d"],
    ]  # fmt: skip
    assert [m.outcome.split("; ")[-1] for m in moves] == [
        "split in two and retried", "ok", "split in two and retried",
        "discarded after 0 retries", "ok",
    ]  # fmt: skip

    for event in delivered_events(items + moves):
        parsed = DynamoDBStreamModel.model_validate(event)
        assert parsed.Records[0].eventSourceARN.startswith(
            "arn:aws:dynamodb:us-east-1:123456789012:table/acme-local-stock-"
        )
    # The views the tables declare: NEW_IMAGE for items, KEYS_ONLY for moves.
    assert delivered_events(items)[-1]["Records"][0]["dynamodb"]["NewImage"] == {"id": {"S": "e"}}
    assert "NewImage" not in delivered_events(moves)[-1]["Records"][0]["dynamodb"]


# -- schedules -------------------------------------------------------------------------------


def test_schedules_fire_on_their_rate_with_their_input_or_the_scheduled_event(
    declared: Declared, make_emulator: EmulatorFactory
) -> None:
    """`rate(1 minute)` is too slow for a test: the source runs on a clock sixty times faster
    (a minute a second) than the real one `serve` gives it."""
    emulator = make_emulator(declared.only("jobs.sweep", "jobs.tick", "jobs.off"), declared.root)
    deliveries = Deliveries()
    source = ScheduleSource(emulator, LocalOptions(on_delivery=deliveries), clock=FastClock(60))
    source.start()
    try:
        deliveries.wait(lambda _: len(deliveries.of("jobs.sweep")) >= 2, timeout=15)
        deliveries.wait(lambda _: len(deliveries.of("jobs.tick")) >= 1, timeout=15)
        sweeps, ticks = len(deliveries.of("jobs.sweep")), len(deliveries.of("jobs.tick"))
    finally:
        threads = source.thread_names
        source.close()
    assert [t.name for t in threading.enumerate() if t.name in threads] == []
    # Twice as often, on a clock where a minute is a second; the disabled one never fires.
    assert sweeps >= 2 * ticks - 1
    assert deliveries.of("jobs.off") == []
    assert delivered_events(deliveries.of("jobs.sweep"))[0] == {"job": "sweep"}
    scheduled = EventBridgeModel.model_validate(delivered_events(deliveries.of("jobs.tick"))[0])
    assert scheduled.detail_type == "Scheduled Event"
    assert scheduled.source == "aws.events"
    assert scheduled.resources == ["arn:aws:events:us-east-1:123456789012:rule/jobs-tick-schedule0"]
    assert str(deliveries.of("jobs.tick")[0]).startswith(
        "schedule rate(2 minutes) -> jobs.tick: 1 record, ok ("
    )


def test_lambdapress_trigger_fires_a_schedule_now(
    declared: Declared,
    runtime_cache: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No `serve` runs: `trigger` invokes the function in a new emulator, with the schedule's
    input, or EventBridge's scheduled event (timed now) when it has none."""
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(runtime_cache))
    root = str(declared.root)
    assert main(["trigger", "jobs.sweep", "--root", root]) == 0
    assert json.loads(capsys.readouterr().out) == {"event": {"job": "sweep"}}

    before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    assert main(["trigger", "jobs.off", "--root", root]) == 0  # disabled: fired by hand only
    scheduled = EventBridgeModel.model_validate(json.loads(capsys.readouterr().out)["event"])
    assert scheduled.detail_type == "Scheduled Event"
    assert scheduled.resources == ["arn:aws:events:us-east-1:123456789012:rule/jobs-off-schedule0"]
    assert scheduled.time >= before
