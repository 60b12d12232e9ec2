"""What functions use: tables, databases, queues, topics, event buses and buckets.

A resource belongs to one service and is named within it; its `id` (`customers/dynamodb-table/
customers`) is how functions' `uses` and permissions refer to it. Each kind is a subclass of
`Resource` registered in `RESOURCES` (`model.kinds`). Where a resource lives in an account
(its physical name, its ARN) depends on the stage and is decided by the renderer, never here:
the model is the same for every stage.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from lambdapress.model.kinds import RESOURCES, Kinded, registered

StreamView = Literal["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"]
"""DynamoDB's StreamViewType: what each record of a table's stream holds."""
AttributeName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")]
"""A DynamoDB key attribute as lambdapress declares it (the settings' and the model's)."""
DELETED_WITH_STACK: Final = {"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"}
"""What every renderer writes on the stateful things a stack holds (tables, log groups, function
versions): deleted with the stack, and when replaced. `lambdapress destroy` removes the stack and
what it holds; keeping data beyond it is a backup's job (or a resource managed outside the
stack). A stage that retains its data (production: `hardening.retain-data`) writes
`KEPT_WITH_STACK` on its tables instead."""
KEPT_WITH_STACK: Final = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
"""What a stage that retains its data writes on its tables: deleting the stack (or a change that
replaces the table) leaves the table and its items in the account."""


class Resource(Kinded):
    """Something a service's functions use, named within the service."""

    service: str
    name: str

    @property
    def id(self) -> str:
        """`<service>/<kind>/<name>`: unique in the application."""
        return f"{self.service}/{self.kind}/{self.name}"


@registered(RESOURCES)
class DynamoDBTable(Resource):
    """One on-demand DynamoDB table of a service, with string key attributes."""

    kind: Literal["dynamodb-table"] = "dynamodb-table"
    partition_key: AttributeName
    sort_key: AttributeName | None = None
    stream: StreamView | None = None
    """What its DynamoDB stream carries of each change, when it has one (a stream trigger
    needs one)."""


def table_definition(
    partition_key: str,
    sort_key: str | None,
    stream: StreamView | None = None,
    *,
    api: bool = False,
) -> dict[str, Any]:
    """A table's billing, keys and stream as CloudFormation (or DynamoDB's CreateTable) takes them.

    On demand, with string key attributes, and a stream carrying `stream` of each change when
    it has one: the deployed table and the local one (moto, created by `lambdapress db`) are
    made from this one definition. The two spell a stream differently: CreateTable (`api`)
    wants `StreamEnabled` beside the view type, which CloudFormation's property refuses.
    """
    keys = [(partition_key, "HASH")]
    if sort_key is not None:
        keys.append((sort_key, "RANGE"))
    definition: dict[str, Any] = {
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": key, "AttributeType": "S"} for key, _ in keys],
        "KeySchema": [{"AttributeName": key, "KeyType": kind} for key, kind in keys],
    }
    if stream is not None:
        enabled = {"StreamEnabled": True} if api else {}
        definition["StreamSpecification"] = {**enabled, "StreamViewType": stream}
    return definition


@registered(RESOURCES)
class PostgresDatabase(Resource):
    """A service's PostgreSQL database, reached through the `DATABASE_URL` of its stage.

    A Secrets Manager secret when deployed, `lambdapress db`'s server locally.
    """

    kind: Literal["postgres-database"] = "postgres-database"
    migrations: str | None = None
    """The folder of its SQL migrations, relative to the repository root, if it has one."""


class TopicSubscription(BaseModel):
    """A queue's subscription to a topic (part of `SqsQueue`, never a resource of its own)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: str
    """The topic's resource id (`orders/sns-topic/order-events`)."""
    filter_policy: dict[str, Any] | None = None
    filter_policy_scope: Literal["MessageAttributes", "MessageBody"] = "MessageAttributes"
    raw_message_delivery: bool = True


@registered(RESOURCES)
class SqsQueue(Resource):
    """An SQS queue of a service: what its consumers drain and its senders send to."""

    kind: Literal["sqs-queue"] = "sqs-queue"
    fifo: bool = False
    visibility_timeout: int = Field(default=30, ge=0, le=43_200)
    retention_seconds: int = Field(default=345_600, ge=60, le=1_209_600)
    dead_letter: str | None = None
    """The resource id of the queue that takes what was received `max_receives` times."""
    max_receives: int | None = Field(default=None, ge=1, le=1_000)
    subscriptions: tuple[TopicSubscription, ...] = ()


@registered(RESOURCES)
class SnsTopic(Resource):
    """An SNS topic of a service: its publishers send, queues and functions subscribe."""

    kind: Literal["sns-topic"] = "sns-topic"
    fifo: bool = False


@registered(RESOURCES)
class EventBus(Resource):
    """An EventBridge bus of a service (rules may also watch the account's default bus)."""

    kind: Literal["event-bus"] = "event-bus"


@registered(RESOURCES)
class S3Bucket(Resource):
    """An S3 bucket of a service: private, its object events may trigger functions."""

    kind: Literal["s3-bucket"] = "s3-bucket"


ADDRESS_VARIABLES: Final[dict[str, tuple[str, ...]]] = {
    "sqs-queue": ("QUEUE_URL", "QUEUE_ARN"),
    "sns-topic": ("TOPIC_ARN",),
    "event-bus": ("BUS_NAME",),
    "s3-bucket": ("BUCKET_NAME",),
}
"""The variables a function that uses a resource of each kind gets (`<NAME>_QUEUE_URL`...):
what `lambdapress_runtime.triggers`' handles read."""


def environment_name(reference: str, suffix: str) -> str:
    """The variable holding a used resource's address (`ORDERS_ORDER_EVENTS_TOPIC_ARN`).

    `reference` as the function's code writes it (`name` for its own service's,
    `service/name` for another's), `suffix` one of `ADDRESS_VARIABLES`. The runtime's
    `lambdapress_runtime.triggers.environment_name` is the same rule (a test holds them equal;
    the tool cannot import the runtime).
    """
    return f"{reference.replace('/', '_').replace('-', '_').upper()}_{suffix}"


def reference_in(service: str, resource: Resource) -> str:
    """How code of `service` names `resource`: its name, or `service/name` for another's."""
    return resource.name if resource.service == service else f"{resource.service}/{resource.name}"
