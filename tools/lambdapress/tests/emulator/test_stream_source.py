"""DynamoDB stream triggers: a table's stream on moto's server, delivered to real artifacts.

Two tables, each with a consumer of its stream from TRIM_HORIZON, served at once: one checks
batches and partial failures (retried from the failed record, the rest of the batch discarded
after `max_retries`), the other bisection of a failing batch down to the poison record.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel

from lambdapress.emulator import ServeOptions, serve
from lambdapress.emulator._stream_source import table_name
from lambdapress.model.application import Application
from lambdapress.model.resources import DynamoDBTable
from lambdapress.model.storage_backends import StageNames
from lambdapress.model.triggers import DynamoDBStreamTrigger
from lambdapress.storage.dynamodb import create_tables, dynamodb_client
from lambdapress.storage.events import EventsEndpoint

from .conftest import EmulatorFactory, Repo, entry_for
from .event_support import HANDLERS, Deliveries, batches, delivered_events, stand_in_kinds

NAMES = StageNames("acme", "local")


@pytest.fixture(autouse=True)
def _kinds() -> Iterator[None]:
    with stand_in_kinds():
        yield


def test_stream_batches_partial_failures_and_bisection(
    repo: Repo, make_emulator: EmulatorFactory, moto_endpoint: str
) -> None:
    retried = DynamoDBTable(service="stock", name="items", partition_key="id", stream="NEW_IMAGE")
    bisected = DynamoDBTable(service="stock", name="moves", partition_key="id", stream="KEYS_ONLY")
    names = {t.name: table_name(NAMES.project, NAMES.stage, t) for t in (retried, bisected)}
    create_tables(moto_endpoint, {names[t.name]: t for t in (retried, bisected)})
    client = dynamodb_client(moto_endpoint)
    # Written before serving: TRIM_HORIZON reads them all, in order.
    for item in ("a", "fail-b", "c", "d", "e"):
        client.put_item(TableName=names["items"], Item={"id": {"S": item}})
    for item in ("a", "b", "crash-c", "d"):
        client.put_item(TableName=names["moves"], Item={"id": {"S": item}})

    artifact = repo.artifact("events", {"handlers.py": HANDLERS})
    consumers = [
        entry_for(repo.root, artifact, f"stock.{name}", "handlers.consume").model_copy(
            update={"triggers": (trigger,)}
        )
        for name, trigger in (
            ("items", DynamoDBStreamTrigger(
                table=retried.id, batch_size=3, starting_position="TRIM_HORIZON", max_retries=1
            )),
            ("moves", DynamoDBStreamTrigger(
                table=bisected.id, batch_size=4, starting_position="TRIM_HORIZON",
                bisect_on_error=True, max_retries=0,
            )),
        )
    ]  # fmt: skip
    manifest = Application(functions=tuple(consumers), resources=(retried, bisected))
    emulator = make_emulator(manifest, repo.root, events=EventsEndpoint(moto_endpoint, NAMES))
    deliveries = Deliveries()
    serving = serve(emulator, ServeOptions(lambda_port=None, on_delivery=deliveries))
    try:
        deliveries.wait(lambda _: batches(deliveries.of("stock.items"))[-1:] == [["e"]])
        deliveries.wait(lambda _: batches(deliveries.of("stock.moves"))[-1:] == [["d"]])
    finally:
        threads = serving.sources["dynamodb-stream"].thread_names
        serving.close()
    assert [t.name for t in threading.enumerate() if t.name in threads] == []

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
    assert delivered_events(items)[-1]["Records"][0]["dynamodb"]["NewImage"] == {"id": {"S": "e"}}
