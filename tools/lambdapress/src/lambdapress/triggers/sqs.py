"""SQS queues: drained in batches by one function, with partial batch failures; sent to by any.

Declared in the handler module (`lambdapress_runtime.triggers`):

    from lambdapress_runtime import triggers

    RETRIES = triggers.Queue("order-retries")      # this function sends to it (its URL:
                                                   # RETRIES.url, from ORDER_RETRIES_QUEUE_URL)

    @triggers.sqs("order-placed", batch_size=10, batch_window=5, max_concurrency=5)
    def handler(event, context): ...               # Powertools' BatchProcessor reports the
                                                   # items that failed

Each queue is declared by its service's pyproject, `[tool.lambdapress.queues.order-placed]`
(`config.event_settings`); code names it `order-placed` in that service, `workers/order-placed`
in another.

Checked at package time, with the file, the line and the fix: the queue is declared (the
trigger's and each `Queue`'s); one function drains it (two event source mappings would split
its messages between them); a FIFO queue's trigger has no `batch_window` and a `batch_size` of
at most 10, and a standard queue's trigger over 10 gathers for a `batch_window` of at least a
second (Lambda refuses both otherwise); the queue's `visibility_timeout` is at least the
consumer's timeout (Lambda refuses the mapping: a message still being handled would come back).

Permissions: the consumer receives, deletes, and changes the visibility of the queue's messages
and reads its attributes, on that queue only; a `Queue` handle lets its function send to it.
Rendered by deploy (an event source mapping with `ReportBatchItemFailures`), delivered locally
on moto's server, sampled by the emulator (`_event_kind`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from lambdapress.config.pyproject import find_key_line
from lambdapress.errors import BundleError
from lambdapress.model.permissions import Permission, resource_ref
from lambdapress.model.resources import SqsQueue
from lambdapress.model.trigger_kinds import CheckContext, Declared, HandlerSource, Used
from lambdapress.model.triggers import SqsTrigger
from lambdapress.triggers._declarations import declarations
from lambdapress.triggers._event_kind import EventKind
from lambdapress.triggers._references import (
    check_uses,
    declared_resource,
    handle_uses,
    resource_id,
    trigger,
)

CONSUMER_ACTIONS: Final = (
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ChangeMessageVisibility",
)
"""What Lambda's event source mapping does with the queue, as the function's role."""
SENDER_ACTIONS: Final = ("sqs:SendMessage",)
FIFO_BATCH_MAX: Final = 10
"""Lambda Developer Guide, "Using Lambda with Amazon SQS": a FIFO queue's batch is at most 10."""
BATCH_WITHOUT_WINDOW_MAX: Final = 10
"""The same guide: a batch over 10 needs `MaximumBatchingWindowInSeconds` of at least 1."""


class SqsKind(EventKind[SqsTrigger]):
    """SQS queues (module doc)."""

    model = SqsTrigger

    def discover(self, source: HandlerSource) -> tuple[Declared[SqsTrigger], ...]:
        """The handler's `@triggers.sqs(...)`, each naming its queue by id."""
        found: list[Declared[SqsTrigger]] = []
        for decoration in declarations(source).of("sqs"):
            values = dict(decoration.arguments)
            values["queue"] = resource_id(
                source, values["queue"], "sqs-queue", decoration.line, "the queue of @triggers.sqs"
            )
            found.append(trigger(source, SqsTrigger, decoration, values))
        return tuple(found)

    def uses(self, source: HandlerSource) -> tuple[Used, ...]:
        """Each `triggers.Queue("name")`: the function sends to the queue."""
        return handle_uses(source, self.name, "Queue", "sqs-queue", _sends)

    def check(self, declared: Sequence[Declared[SqsTrigger]], context: CheckContext) -> None:
        """Declared queues, one consumer each, Lambda's batch rules, a long enough visibility."""
        check_uses(context, self.name, "Queue")
        consumers: dict[str, Declared[SqsTrigger]] = {}
        for found in declared:
            queue = _queue(context, found)
            other = consumers.setdefault(found.trigger.queue, found)
            if other is not found:
                raise BundleError(
                    f"queue {_named(queue)} is drained by two functions: here "
                    f"({found.function}) and at {other.path}:{other.line} ({other.function}); "
                    "each message would reach only one of them",
                    path=found.path,
                    line=found.line,
                    hint="pick one function to drain the queue; to give every consumer each "
                    "message, give each its own queue subscribed to a topic "
                    '(subscribe = [{ topic = "..." }])',
                )
            _check_batching(found, queue)
            _check_visibility(found, queue, context)

    def permissions(self, function: str, trigger: SqsTrigger) -> tuple[Permission, ...]:
        """Receiving and deleting the queue's messages, on that queue only."""
        return (
            Permission(
                actions=CONSUMER_ACTIONS,
                resources=(resource_ref(trigger.queue),),
                reason=f"drains {trigger.queue}",
            ),
        )


KIND = SqsKind()


def _sends(resource: str, where: str) -> tuple[Permission, ...]:
    return (
        Permission(
            actions=SENDER_ACTIONS,
            resources=(resource_ref(resource),),
            reason=f"sends to {resource} ({where})",
        ),
    )


def _queue(context: CheckContext, found: Declared[SqsTrigger]) -> SqsQueue:
    resource = declared_resource(
        context, found.trigger.queue, found.path, found.line, "@triggers.sqs"
    )
    if not isinstance(resource, SqsQueue):  # an id of kind sqs-queue names one
        raise TypeError(f"{resource.id} is not a queue")
    return resource


def _named(queue: SqsQueue) -> str:
    return f"{queue.service}/{queue.name}"


def _check_batching(found: Declared[SqsTrigger], queue: SqsQueue) -> None:
    """Lambda's rules for an SQS mapping's batch size and window."""
    sqs = found.trigger
    if queue.fifo and sqs.batch_window:
        raise BundleError(
            f"@triggers.sqs on the FIFO queue {_named(queue)} has batch_window={sqs.batch_window}"
            ": Lambda gathers no batches from FIFO queues",
            path=found.path,
            line=found.line,
            hint="remove batch_window (FIFO batches are what is ready, in order), or drain a "
            "standard queue",
        )
    if queue.fifo and sqs.batch_size > FIFO_BATCH_MAX:
        raise BundleError(
            f"@triggers.sqs on the FIFO queue {_named(queue)} has batch_size={sqs.batch_size}: "
            f"Lambda takes at most {FIFO_BATCH_MAX} messages at a time from a FIFO queue",
            path=found.path,
            line=found.line,
            hint=f"set batch_size to {FIFO_BATCH_MAX} or less",
        )
    if not queue.fifo and sqs.batch_size > BATCH_WITHOUT_WINDOW_MAX and sqs.batch_window < 1:
        raise BundleError(
            f"@triggers.sqs has batch_size={sqs.batch_size} without a batch_window: Lambda "
            f"takes batches over {BATCH_WITHOUT_WINDOW_MAX} only when it may wait to gather "
            "them",
            path=found.path,
            line=found.line,
            hint="add batch_window=1 (seconds, up to 300), or set batch_size to "
            f"{BATCH_WITHOUT_WINDOW_MAX} or less",
        )


def _check_visibility(found: Declared[SqsTrigger], queue: SqsQueue, context: CheckContext) -> None:
    """A message must stay hidden while its consumer may still be handling it."""
    facts = context.services.get(found.function.split(".", 1)[0])
    owner = context.services.get(queue.service)
    if facts is None or owner is None or queue.visibility_timeout >= facts.timeout:
        return
    pyproject = owner.pyproject
    keys = ["tool", "lambdapress", "queues", queue.name, "visibility_timeout"]
    raise BundleError(
        f"queue {_named(queue)} hides a received message for {queue.visibility_timeout} s "
        f"(visibility_timeout), less than the {facts.timeout} s timeout of its consumer "
        f"{found.function} ({found.path}:{found.line}): Lambda refuses the mapping, as the "
        "message could come back while still being handled",
        path=pyproject,
        line=find_key_line(pyproject, keys),
        hint=f"set visibility_timeout = {6 * facts.timeout} in [tool.lambdapress.queues."
        f"{queue.name}] (at least the timeout, {facts.timeout}; AWS advises six times it)",
    )
