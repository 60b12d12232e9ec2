"""`dynamodb-stream` triggers: a table's stream on moto's server, read as Lambda reads it.

Each trigger reads the stream of its table (DescribeTable's `LatestStreamArn`, DescribeStream's
shards, one shard iterator each, from `LATEST` or `TRIM_HORIZON`) about twice a second, and
invokes the function with batches of up to `batch_size` records, gathered for up to
`batch_window` seconds. What Lambda does when a batch fails, it does too:

- the function returns `batchItemFailures`: the records before the first failed one are done,
  the next batch starts at it (an identifier that is not a record's sequence number fails the
  whole batch);
- the function fails: the batch is retried; with `bisect_on_error` it is split in two first
  (the halves are retried one after the other, down to single records; a split does not count
  as a retry); after `max_retries` retries (None or -1: until it succeeds, as AWS does until
  the records expire) the batch is discarded and reading goes on.

The table is found where the function finds it: its service's storage variables (the running
`lambdapress db`'s DynamoDB: `AWS_ENDPOINT_URL_DYNAMODB`, `<TABLE>_TABLE`), else the events
server and the stage's table name (`<project>-<stage>-<service>-<table>`, `_` as `-`, the
DynamoDB backend's rule). Records are held in memory between retries, so a restart of `serve`
starts again from its starting position.
"""

from __future__ import annotations

import base64
import datetime
import threading
import time
from typing import Any

from lambdapress.emulator._delivery import (
    Binding,
    DeliverySource,
    error_text,
    events_of,
    failed_items,
    storage_of,
)
from lambdapress.errors import EmulatorError
from lambdapress.model.application import Application, Function
from lambdapress.model.resources import DynamoDBTable
from lambdapress.model.trigger_kinds import LocalHost, LocalOptions
from lambdapress.model.triggers import DynamoDBStreamTrigger, Trigger
from lambdapress.storage.dynamodb import FAKE_CREDENTIALS

POLL = 0.5
"""Seconds between two reads of an idle stream (Lambda polls shards four times a second)."""
RETRY_DELAY = 0.5
ENDPOINT_ENV = "AWS_ENDPOINT_URL_DYNAMODB"


def table_name(project: str, stage: str, table: DynamoDBTable) -> str:
    """The table's physical name, as the DynamoDB backend names it."""
    return f"{project}-{stage}-{table.service}-{table.name}".replace("_", "-")


def lambda_stream_record(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A record as GetRecords returns it (boto3), as Lambda hands it to the function."""
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime.datetime):
        change["ApproximateCreationDateTime"] = int(created.timestamp())
    for image in ("Keys", "NewImage", "OldImage"):
        if image in change:
            change[image] = _json_safe(change[image])
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": change,
        "eventSourceARN": stream_arn,
    }


def _json_safe(value: Any) -> Any:
    """Typed JSON with binary values as base64 text, as Lambda's event carries them."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_json_safe(v) for v in value]
    return value


class StreamBinding(Binding):
    """One stream trigger (module doc)."""

    def __init__(
        self,
        source: DeliverySource,
        function: Function,
        trigger: DynamoDBStreamTrigger,
        table: str,
        endpoint: str,
    ) -> None:
        super().__init__(source, function, trigger)
        self.settings = trigger
        self.table = table
        self.region = events_of(source.host, trigger.kind).region
        self._dynamodb = _client("dynamodb", endpoint, self.region)
        self._streams = _client("dynamodbstreams", endpoint, self.region)
        self.stream_arn = ""
        self._iterators: dict[str, str] = {}
        self.pending: list[dict[str, Any]] = []
        self._retries = 0
        self._narrow = 0
        """Records left of a batch that was split: batches stay this small until they are done."""
        self._limit = trigger.batch_size

    def _open(self) -> None:
        description = self._dynamodb.describe_table(TableName=self.table)["Table"]
        arn = description.get("LatestStreamArn")
        if not arn:
            raise EmulatorError(
                f"table {self.table} has no stream",
                hint='declare stream = "NEW_AND_OLD_IMAGES" (or another view) on the table in '
                "the service's [tool.lambdapress.storage.tables], and restart `lambdapress db`",
            )
        stream = self._streams.describe_stream(StreamArn=arn)["StreamDescription"]
        for shard in stream.get("Shards", []):
            found = self._streams.get_shard_iterator(
                StreamArn=arn,
                ShardId=shard["ShardId"],
                ShardIteratorType=self.settings.starting_position,
            )
            self._iterators[shard["ShardId"]] = found["ShardIterator"]
        self.stream_arn = arn

    def _read(self) -> int:
        """Records of every shard into `pending`; how many came."""
        came = 0
        for shard, iterator in list(self._iterators.items()):
            found = self._streams.get_records(ShardIterator=iterator, Limit=1000)
            records = found.get("Records", [])
            self.pending.extend(
                lambda_stream_record(r, self.stream_arn, self.region) for r in records
            )
            came += len(records)
            following = found.get("NextShardIterator")
            if following:
                self._iterators[shard] = following
            else:  # the shard is closed
                del self._iterators[shard]
        return came

    def _gather(self, stop: threading.Event) -> None:
        if not self.pending:
            self._read()
        if not self.pending:
            stop.wait(POLL)
            return
        deadline = time.monotonic() + self.settings.batch_window
        while len(self.pending) < self.settings.batch_size and time.monotonic() < deadline:
            if stop.wait(POLL):
                return
            self._read()

    def step(self, stop: threading.Event) -> None:
        """One batch, if the stream has records."""
        if not self.stream_arn:
            self._open()
        self._gather(stop)
        if not self.pending or stop.is_set():
            return
        size = min(self._limit, self.settings.batch_size)
        batch = self.pending[:size]
        result, duration = self.invoke({"Records": batch})
        sequence = [r["dynamodb"]["SequenceNumber"] for r in batch]
        if result.error is not None:
            self._failed(batch, f"error: {error_text(result)}", duration, result)
            return
        failed = failed_items(result, sequence)
        if failed is None:
            self._failed(batch, "batchItemFailures names no record of the batch", duration, result)
            return
        if failed:
            first = min(sequence.index(s) for s in failed)
            self._done(first)
            why = f"{len(failed)} of {len(batch)} failed"
            if self._exhausted():
                self._done(len(batch) - first)
                self._retries = 0
                retries = self.settings.max_retries
                why += f"; the rest of the batch discarded after {retries} retries"
            else:
                why += f"; retried from record {sequence[first]}"
            self.report(len(batch), why, duration, result)
            return
        self._done(len(batch))
        self._retries = 0
        self.report(len(batch), "ok", duration, result)

    def _exhausted(self) -> bool:
        """Count a retry; whether it is one more than `max_retries` allows."""
        self._retries += 1
        limit = self.settings.max_retries
        return limit is not None and limit >= 0 and self._retries > limit

    def _done(self, count: int) -> None:
        del self.pending[:count]
        self._narrow -= count
        if self._narrow <= 0:
            self._narrow, self._limit = 0, self.settings.batch_size

    def _failed(self, batch: list[dict[str, Any]], why: str, duration: float, result: Any) -> None:
        if self.settings.bisect_on_error and len(batch) > 1:
            self._limit = (len(batch) + 1) // 2
            self._narrow = max(self._narrow, len(batch))
            self.report(len(batch), f"{why}; split in two and retried", duration, result)
            return
        if self._exhausted():
            self._done(len(batch))
            self._retries = 0
            retries = self.settings.max_retries
            self.report(len(batch), f"{why}; discarded after {retries} retries", duration, result)
            return
        self.report(len(batch), f"{why}; retried", duration, result)
        time.sleep(RETRY_DELAY)


def _client(service: str, endpoint: str, region: str) -> Any:
    import boto3

    return boto3.session.Session().client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint,
        region_name=region,
        **FAKE_CREDENTIALS,
    )


class StreamSource(DeliverySource):
    """`dynamodb-stream` triggers."""

    kind = "dynamodb-stream"
    label = "DynamoDB Streams"

    def bind(self, manifest: Application, function: Function, trigger: Trigger) -> Binding:
        """A reader of the trigger's table's stream."""
        assert isinstance(trigger, DynamoDBStreamTrigger)
        table = manifest.resource(trigger.table)
        assert isinstance(table, DynamoDBTable)
        events = events_of(self.host, self.kind)
        variables = storage_of(self.host, table.service)
        name = variables.get(f"{table.name.upper()}_TABLE") or table_name(
            events.names.project, events.names.stage, table
        )
        endpoint = variables.get(ENDPOINT_ENV) or events.url
        return StreamBinding(self, function, trigger, name, endpoint)


def stream_source(host: LocalHost[Any], options: LocalOptions) -> StreamSource:
    """The `dynamodb-stream` source."""
    events_of(host, StreamSource.kind)
    return StreamSource(host, options)
