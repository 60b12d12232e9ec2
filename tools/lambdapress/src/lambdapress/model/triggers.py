"""What makes a function run: its triggers, one registered kind each.

HTTP routes, queues, topics, schedules, event rules, bucket events and table streams: each a
subclass of `Trigger` with a `kind` of its own, registered in `TRIGGERS` (`model.kinds`), and
the rest of the model takes them unchanged. A trigger names the resource it reads by its id
(`service/kind/name`, `model.resources`); how it is declared, checked, rendered and delivered
is its kind's (`model.trigger_kinds`, one module each in `lambdapress.triggers`).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator

from lambdapress.model.kinds import TRIGGERS, Kinded, registered

StartingPosition = Literal["LATEST", "TRIM_HORIZON"]
"""Where a new stream consumer starts: new records only, or the oldest the stream keeps."""
HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"]
AUTHORIZER_NAME = r"^[A-Za-z][A-Za-z0-9_-]{0,63}$"
"""An authorizer's name: what routes and `[tool.lambdapress.deploy.authorizers.NAME]` say."""
IDENTITY_SOURCE = (
    r"^\$(request\.(header|querystring)\.[^\s]+|context\.[^\s]+|stageVariables\.[^\s]+)$"
)
"""An HTTP API identity source: `$request.header.Authorization`, `$request.querystring.key`,
`$context.X`, `$stageVariables.X`."""


class Trigger(Kinded):
    """Something that invokes a function: a route, a queue, a schedule..."""

    @property
    def label(self) -> str:
        """How people name it after its kind, in messages and tables.

        `GET /orders/{id}`, `workers/order-placed`: `f"{trigger.kind} {trigger.label}"` says
        both.
        """
        return self.kind


@registered(TRIGGERS)
class HttpRoute(Trigger):
    """One HTTP API route in API Gateway syntax (`/orders/{order_id}`).

    Whatever the handler wrote: Powertools' `/orders/<order_id>` is written this way.
    """

    kind: Literal["http"] = "http"
    method: HttpMethod
    path: str = Field(pattern=r"^/")
    authorizer: str | None = Field(default=None, pattern=AUTHORIZER_NAME)
    """The authorizer every request must pass (`@triggers.authorized("users")`), or None."""
    scopes: tuple[str, ...] = ()
    """OAuth scopes a JWT authorizer requires: the token must carry at least one of them."""

    @property
    def route_key(self) -> str:
        """API Gateway's name for the route: `GET /orders/{order_id}`."""
        return f"{self.method} {self.path}"

    @property
    def label(self) -> str:
        """The route key."""
        return self.route_key


@registered(TRIGGERS)
class HttpAuthorizer(Trigger):
    """This function is a Lambda authorizer of the HTTP API (`@triggers.authorizer("partners")`).

    API Gateway invokes it with a payload 2.0 REQUEST event before each request to a route
    that names it, and it answers with a simple response (`{"isAuthorized": bool, "context":
    {...}}`); the answer is cached `ttl` seconds per value of the identity source.
    """

    kind: Literal["http-authorizer"] = "http-authorizer"
    name: str = Field(pattern=AUTHORIZER_NAME)
    ttl: int = Field(default=300, ge=0, le=3600)
    """Seconds API Gateway keeps an answer (AuthorizerResultTtlInSeconds); 0: no cache."""
    identity_source: tuple[str, ...] = Field(
        default=("$request.header.Authorization",), min_length=1
    )
    """Where the caller's identity is; a request without one of them is 401 unasked."""

    @field_validator("identity_source")
    @classmethod
    def _identity_sources(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for source in value:
            if not re.match(IDENTITY_SOURCE, source):
                raise ValueError(
                    f"{source!r} is not an identity source: write $request.header.NAME, "
                    "$request.querystring.NAME, $context.NAME or $stageVariables.NAME"
                )
        return value

    @property
    def label(self) -> str:
        """`partners`: the authorizer's name."""
        return self.name


@registered(TRIGGERS)
class SqsTrigger(Trigger):
    """A queue drained in batches (`@triggers.sqs("order-placed")`).

    The function reports the items that failed (`ReportBatchItemFailures`, Powertools' batch
    processor); only those come back after the visibility timeout, and a message received
    `max_receives` times goes to the queue's dead-letter queue.
    """

    kind: Literal["sqs"] = "sqs"
    queue: str
    """The queue's resource id (`workers/sqs-queue/order-placed`)."""
    batch_size: int = Field(default=10, ge=1, le=10_000)
    batch_window: int = Field(default=0, ge=0, le=300)
    """Seconds to gather a batch before invoking (MaximumBatchingWindowInSeconds)."""
    max_concurrency: int | None = Field(default=None, ge=2, le=1_000)

    @property
    def label(self) -> str:
        """`workers/order-placed`: the queue."""
        return _short(self.queue)


@registered(TRIGGERS)
class SnsTrigger(Trigger):
    """A topic's messages, one per invocation (`@triggers.sns("orders/order-events")`)."""

    kind: Literal["sns"] = "sns"
    topic: str
    """The topic's resource id (`orders/sns-topic/order-events`)."""
    filter_policy: dict[str, Any] | None = None
    filter_policy_scope: Literal["MessageAttributes", "MessageBody"] = "MessageAttributes"

    @property
    def label(self) -> str:
        """`orders/order-events`: the topic."""
        return _short(self.topic)


@registered(TRIGGERS)
class ScheduleTrigger(Trigger):
    """An EventBridge schedule (`@triggers.schedule("rate(5 minutes)")`).

    `expression` is EventBridge's: `rate(N minute|minutes|hour|hours|day|days)` or a six-field
    `cron(minutes hours day-of-month month day-of-week year)`.
    """

    kind: Literal["schedule"] = "schedule"
    expression: str
    input: dict[str, Any] | None = None
    """The fixed event sent on each firing; None sends EventBridge's scheduled event."""
    enabled: bool = True

    @property
    def label(self) -> str:
        """`rate(5 minutes)`: the expression."""
        return self.expression


@registered(TRIGGERS)
class EventRuleTrigger(Trigger):
    """An EventBridge rule's matches (`@triggers.rule({"source": ["orders"]})`)."""

    kind: Literal["eventbridge"] = "eventbridge"
    pattern: dict[str, Any]
    """EventBridge's event pattern."""
    bus: str = "default"
    """`default` (the account's bus) or an event bus's resource id."""

    @property
    def label(self) -> str:
        """`on default`, `on orders/orders`: the bus the rule watches."""
        return f"on {_short(self.bus)}"


@registered(TRIGGERS)
class S3Trigger(Trigger):
    """A bucket's object events (`@triggers.s3("uploads", prefix="in/")`)."""

    kind: Literal["s3"] = "s3"
    bucket: str
    """The bucket's resource id (`imports/s3-bucket/uploads`)."""
    events: tuple[str, ...] = ("s3:ObjectCreated:*",)
    prefix: str = ""
    suffix: str = ""

    @property
    def label(self) -> str:
        """`imports/uploads/in/*.csv`: the bucket and the keys."""
        return f"{_short(self.bucket)}/{self.prefix}*{self.suffix}"


@registered(TRIGGERS)
class DynamoDBStreamTrigger(Trigger):
    """A table's stream, in batches (`@triggers.dynamodb_stream("inventory")`)."""

    kind: Literal["dynamodb-stream"] = "dynamodb-stream"
    table: str
    """The table's resource id (`inventory/dynamodb-table/inventory`); it must have a stream."""
    batch_size: int = Field(default=100, ge=1, le=10_000)
    batch_window: int = Field(default=0, ge=0, le=300)
    starting_position: StartingPosition = "LATEST"
    bisect_on_error: bool = False
    """Split a failing batch in two and retry each half (BisectBatchOnFunctionError)."""
    max_retries: int | None = Field(default=None, ge=-1, le=10_000)

    @property
    def label(self) -> str:
        """`inventory/inventory`: the table."""
        return _short(self.table)


def _short(resource_id: str) -> str:
    """`workers/order-placed` for `workers/sqs-queue/order-placed`."""
    parts = resource_id.split("/")
    return f"{parts[0]}/{parts[-1]}" if len(parts) == 3 else resource_id
