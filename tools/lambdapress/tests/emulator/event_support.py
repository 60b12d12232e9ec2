"""What the tests of local event delivery share: a handler artifact, the kinds, a delivery log.

The trigger kinds' modules (`lambdapress.triggers.sqs`...) are the discovery's; until they are
registered, `stand_in_kinds` registers kinds whose local source and sample are exactly what
those modules call (`event_source`, `sample_event_for`), so the delivery is tested through
the same seam `serve` uses.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from lambdapress.emulator._delivery import DeliveryRecord
from lambdapress.emulator.event_sources import event_source
from lambdapress.emulator.sample_events import sample_event_for
from lambdapress.model.application import Application, Function
from lambdapress.model.kinds import TRIGGERS
from lambdapress.model.trigger_kinds import (
    LocalOptions,
    TriggerKind,
    register_trigger_kind,
    trigger_kinds,
    unregister_trigger_kind,
)
from lambdapress.model.triggers import (
    DynamoDBStreamTrigger,
    EventRuleTrigger,
    S3Trigger,
    ScheduleTrigger,
    SnsTrigger,
    SqsTrigger,
)

# Plain standard library: the artifact is all a worker can import.
HANDLERS = """
import json
import os


def consume(event, context):
    # An SQS or stream batch: items that say "fail" are reported failed, "crash" fails it all.
    failures = []
    records = event["Records"]
    keys = [r["body"] if "body" in r else r["dynamodb"]["Keys"]["id"]["S"] for r in records]
    print("BATCH " + json.dumps(keys))
    for record in event["Records"]:
        if "body" in record:
            text, identifier = record["body"], record["messageId"]
        else:
            text = json.dumps(record["dynamodb"])
            identifier = record["dynamodb"]["SequenceNumber"]
        if "fail" in text:
            failures.append({"itemIdentifier": identifier})
        if "crash" in text:
            raise ValueError("crash in the batch")
    return {"batchItemFailures": failures, "event": event}


def echo(event, context):
    return {"event": event}


def environment(event, context):
    return {name: value for name, value in os.environ.items() if name.endswith(
        ("_QUEUE_URL", "_QUEUE_ARN", "_TOPIC_ARN", "_BUS_NAME", "_BUCKET_NAME"))
        or name.startswith("AWS_ENDPOINT_URL")}
"""

KIND_MODELS = (
    SqsTrigger,
    SnsTrigger,
    ScheduleTrigger,
    EventRuleTrigger,
    S3Trigger,
    DynamoDBStreamTrigger,
)


class StandInKind(TriggerKind[Any]):
    """A kind that delivers and samples through the local-delivery seams, and does no more."""

    def __init__(self, model: type[Any]) -> None:
        self.model = model

    def discover(self, source: Any) -> tuple[Any, ...]:
        return ()

    def render(self, stack: Any, application: Application) -> None:
        raise AssertionError("not rendered in these tests")

    def local_source(self, host: Any, options: LocalOptions) -> Any:
        return event_source(host, options, self.name)

    def sample_event(self, function: Function, trigger: Any) -> Any:
        return sample_event_for(function, trigger)


@contextmanager
def stand_in_kinds() -> Iterator[None]:
    """The event kinds, registered for the block when the tool has none of its own yet."""
    known = {kind.name for kind in trigger_kinds()}
    added = [StandInKind(model) for model in KIND_MODELS]
    added = [kind for kind in added if kind.name not in known]
    for kind in added:
        register_trigger_kind(kind)
    try:
        yield
    finally:
        for kind in added:
            unregister_trigger_kind(kind.name)
            TRIGGERS.register(kind.model)  # the model's class stays: manifests must still read


class Deliveries:
    """Every delivery a source reports, and a wait for the ones a test expects."""

    def __init__(self) -> None:
        self.records: list[DeliveryRecord] = []
        self._changed = threading.Condition()

    def __call__(self, record: Any) -> None:
        with self._changed:
            self.records.append(record)
            self._changed.notify_all()

    def wait(
        self, done: Callable[[list[DeliveryRecord]], bool], timeout: float = 20.0
    ) -> list[DeliveryRecord]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not done(self.records):
                left = deadline - time.monotonic()
                assert left > 0, f"deliveries so far: {[str(r) for r in self.records]}"
                self._changed.wait(min(left, 0.2))  # a condition may not be a delivery
            return list(self.records)

    def of(self, function: str) -> list[DeliveryRecord]:
        with self._changed:
            return [r for r in self.records if r.function == function]


def delivered_events(records: list[DeliveryRecord]) -> list[dict[str, Any]]:
    """The events the invocations received (the handlers send them back)."""
    return [r.result.response["event"] for r in records if r.result is not None and r.result.ok]


def batches(records: list[DeliveryRecord]) -> list[list[str]]:
    """What each invocation of `consume` was given (bodies or keys), failed ones included."""
    found = []
    for record in records:
        if record.result is None:
            continue
        for line in record.result.readable_logs().splitlines():
            if "BATCH " in line:
                found.append(json.loads(line.split("BATCH ", 1)[1]))
    return found
