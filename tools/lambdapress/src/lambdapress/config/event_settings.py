"""The event resources of a service's `[tool.lambdapress]`: queues, topics, buses and buckets.

```toml
[tool.lambdapress.queues.order-placed]      # a standard queue of this service
visibility_timeout = 60                     # seconds a received message stays hidden
dead_letter = "order-placed-dlq"            # after max_receives receives, moved there
max_receives = 3
subscribe = [{ topic = "orders/order-events", filter_policy = { type = ["OrderPlaced"] } }]

[tool.lambdapress.queues.order-placed-dlq]  # declared, so it can be a dead-letter queue

[tool.lambdapress.topics.order-events]      # an SNS topic; `fifo = true` for a FIFO one
[tool.lambdapress.buses.orders]             # an EventBridge bus (rules may also use "default")
[tool.lambdapress.buckets.uploads]          # an S3 bucket
```

Resources are declared here, beside the service's storage, because they are shared: a queue
outlives its consumer, a topic has publishers in one service and subscribers in others, a
dead-letter queue is nobody's trigger. What makes a function run (`@triggers.sqs(...)`) and
what it sends to (`Topic("order-events")`) is declared next to its handler, in code
(`lambdapress_runtime.triggers`), and refers to these by name: `name` for one of the service's
own, `service/name` for another service's. Each table is validated when the workspace is
read, with AWS's limits; references between resources (a dead-letter queue that is not
declared, a subscription to a topic nobody declares) are checked at package time, when every
service is known.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

RESOURCE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
"""A queue, topic, bus or bucket name as a service declares it (its physical name adds the
project, stage and service)."""
REFERENCE = re.compile(r"^(?:(?P<service>[a-z][a-z0-9_-]*)/)?(?P<name>[a-z][a-z0-9-]{0,39})$")
"""How code and settings name a resource: `name` (this service's) or `service/name`."""
NAME_RULE = "lowercase letters, digits and '-', starting with a letter, at most 40 characters"

VISIBILITY_TIMEOUT_MAX = 43_200  # 12 hours (SQS)
RETENTION_MIN, RETENTION_MAX = 60, 1_209_600  # one minute to 14 days (SQS)
MAX_RECEIVES_MAX = 1_000  # SQS redrive policy's maxReceiveCount


def _resource_name(name: str) -> str:
    if not RESOURCE_NAME.match(name):
        raise ValueError(f"{name!r} is not a resource name: {NAME_RULE}")
    return name


def _reference(value: str) -> str:
    if not REFERENCE.match(value):
        raise ValueError(
            f"{value!r} is not a resource reference: write `name` for one of this service's "
            f"or `service/name` for another's ({NAME_RULE})"
        )
    return value


ResourceName = Annotated[str, AfterValidator(_resource_name)]
Reference = Annotated[str, AfterValidator(_reference)]


def split_reference(reference: str, service: str) -> tuple[str, str]:
    """(service, name) of a reference written in `service` (`order-events` is its own)."""
    found = REFERENCE.match(reference)
    if found is None:
        raise ValueError(f"{reference!r} is not a resource reference")
    return found.group("service") or service, found.group("name")


class Subscription(BaseModel):
    """A queue's subscription to a topic: what the topic delivers into the queue."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    topic: Reference
    filter_policy: dict[str, Any] | None = None
    """SNS's filter policy: only messages it matches reach the queue."""
    filter_policy_scope: str = Field(
        default="MessageAttributes", pattern=r"^(MessageAttributes|MessageBody)$"
    )
    raw_message_delivery: bool = True
    """The message body as published (True), or wrapped in SNS's JSON envelope (False)."""


class QueueSettings(BaseModel):
    """`[tool.lambdapress.queues.<name>]`: one SQS queue."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    fifo: bool = False
    visibility_timeout: int = Field(default=30, ge=0, le=VISIBILITY_TIMEOUT_MAX)
    """Seconds a received message is hidden: a message not deleted by then comes back. At
    least the consumer's timeout (checked at package time, as AWS's event source mapping
    requires)."""
    retention_seconds: int = Field(default=345_600, ge=RETENTION_MIN, le=RETENTION_MAX)
    dead_letter: Reference | None = None
    """The queue that takes a message received `max_receives` times without being deleted."""
    max_receives: int | None = Field(default=None, ge=1, le=MAX_RECEIVES_MAX)
    subscribe: list[Subscription] = Field(default_factory=list)

    @model_validator(mode="after")
    def _redrive_is_whole(self) -> QueueSettings:
        if (self.dead_letter is None) != (self.max_receives is None):
            raise ValueError(
                "dead_letter and max_receives go together: a dead-letter queue takes messages "
                "after max_receives receives"
            )
        return self


class TopicSettings(BaseModel):
    """`[tool.lambdapress.topics.<name>]`: one SNS topic."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    fifo: bool = False


class BusSettings(BaseModel):
    """`[tool.lambdapress.buses.<name>]`: one EventBridge event bus."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class BucketSettings(BaseModel):
    """`[tool.lambdapress.buckets.<name>]`: one S3 bucket (private, encrypted, versioned off)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


FIXES = {
    "queues": "declare each queue as [tool.lambdapress.queues.NAME] (NAME: "
    f"{NAME_RULE}), with optional fifo, visibility_timeout (0 to {VISIBILITY_TIMEOUT_MAX} "
    f"seconds), retention_seconds ({RETENTION_MIN} to {RETENTION_MAX}), dead_letter = "
    f'"other-queue" with max_receives (1 to {MAX_RECEIVES_MAX}), and subscribe = '
    '[{ topic = "service/topic" }]',
    "topics": f"declare each topic as [tool.lambdapress.topics.NAME] (NAME: {NAME_RULE}), "
    "with an optional fifo = true",
    "buses": f"declare each event bus as [tool.lambdapress.buses.NAME] (NAME: {NAME_RULE})",
    "buckets": f"declare each bucket as [tool.lambdapress.buckets.NAME] (NAME: {NAME_RULE})",
}
