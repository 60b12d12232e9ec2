"""Local delivery of event sources beyond HTTP, on moto's server, through the emulator.

`serve` asks each trigger kind for its local source (`model.trigger_kinds`), and the kinds of
`lambdapress.triggers` answer with `event_source(host, options, kind)`:

- `sqs`, `sns`, `eventbridge`, `s3`: sources that read SQS queues on the events server
  (`_queue_sources`: the function's own queue, or a private queue that moto's SNS
  subscription, EventBridge rule or S3 notification fills);
- `dynamodb-stream`: the table's stream (`_stream_source`);
- `schedule`: a local clock (`_scheduler`).

`host` is the emulator: its `events` (a `storage.events.EventsEndpoint`: the server and the
stage's names) says where queues, topics, buses and buckets are, its `storage` where the
tables are. Each delivery is told to `options.on_delivery` as a `DeliveryRecord` (function,
trigger, records, outcome, milliseconds), which `serve` prints like an HTTP access line.
"""

from __future__ import annotations

from typing import Any

from lambdapress.errors import EmulatorError
from lambdapress.model.trigger_kinds import LocalHost, LocalOptions, LocalSource

QUEUE_KINDS = ("sqs", "sns", "eventbridge", "s3")
STREAM_KIND = "dynamodb-stream"
SCHEDULE_KIND = "schedule"
KINDS = (*QUEUE_KINDS, STREAM_KIND, SCHEDULE_KIND)


def event_source(host: LocalHost[Any], options: LocalOptions, kind: str) -> LocalSource:
    """What delivers `kind`'s triggers of `host.manifest` locally, not started yet."""
    if kind in QUEUE_KINDS:
        from lambdapress.emulator._queue_sources import queue_source

        return queue_source(host, options, kind)
    if kind == STREAM_KIND:
        from lambdapress.emulator._stream_source import stream_source

        return stream_source(host, options)
    if kind == SCHEDULE_KIND:
        from lambdapress.emulator._scheduler import ScheduleSource

        return ScheduleSource(host, options)
    raise EmulatorError(
        f"no local delivery for trigger kind {kind!r}",
        hint=f"the emulator delivers {', '.join(KINDS)} (and http through its HTTP API)",
    )
