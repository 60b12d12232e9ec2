"""An application with every event source, built in memory.

The deploy renderers are tested without discovery: functions carry their triggers, uses and
permissions as `package` records them (the built-in kinds render them through
`deploy.template_events`); `test_template_packaged_events` starts from handler code instead.
"""

from __future__ import annotations

from typing import Any

from lambdapress.model.application import Application, Capacity, Function
from lambdapress.model.permissions import (
    Permission,
    objects_ref,
    resource_ref,
    stream_ref,
    writes_its_logs,
)
from lambdapress.model.resources import (
    DynamoDBTable,
    EventBus,
    S3Bucket,
    SnsTopic,
    SqsQueue,
    TopicSubscription,
)
from lambdapress.model.triggers import (
    DynamoDBStreamTrigger,
    EventRuleTrigger,
    S3Trigger,
    ScheduleTrigger,
    SnsTrigger,
    SqsTrigger,
)

from .stacks import entry

TOPIC = "orders/sns-topic/order-events"
BUS = "orders/event-bus/orders"
QUEUE = "workers/sqs-queue/order-placed"
DEAD_LETTER = "workers/sqs-queue/order-placed-dlq"
LEDGER = "workers/sqs-queue/ledger"
LEDGER_DEAD = "workers/sqs-queue/ledger-dead"
FIFO_TOPIC = "orders/sns-topic/ledger"
BUCKET = "imports/s3-bucket/uploads"
TABLE = "inventory/dynamodb-table/stock"
PLAIN_TABLE = "inventory/dynamodb-table/prices"

RESOURCES = (
    SnsTopic(service="orders", name="order-events"),
    SnsTopic(service="orders", name="ledger", fifo=True),
    EventBus(service="orders", name="orders"),
    SqsQueue(
        service="workers",
        name="order-placed",
        visibility_timeout=60,
        retention_seconds=86_400,
        dead_letter=DEAD_LETTER,
        max_receives=3,
        subscriptions=(TopicSubscription(topic=TOPIC, filter_policy={"type": ["OrderPlaced"]}),),
    ),
    SqsQueue(service="workers", name="order-placed-dlq", retention_seconds=1_209_600),
    SqsQueue(
        service="workers",
        name="ledger",
        fifo=True,
        dead_letter=LEDGER_DEAD,
        max_receives=5,
        subscriptions=(TopicSubscription(topic=FIFO_TOPIC, raw_message_delivery=False),),
    ),
    SqsQueue(service="workers", name="ledger-dead", fifo=True),
    S3Bucket(service="imports", name="uploads"),
    DynamoDBTable(service="inventory", name="stock", partition_key="sku", stream="NEW_IMAGE"),
    DynamoDBTable(service="inventory", name="prices", partition_key="sku"),
)
SQS_CONSUMER = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
STREAM_READER = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)


def _grant(actions: tuple[str, ...], *resources: str) -> Permission:
    return Permission(actions=actions, resources=resources, reason="test")


def event_functions() -> list[Function]:
    """One function per source (two on a bucket, two schedules, two rules) and a publisher.

    Each writes its logs first, as `package` makes every function's permissions.
    """
    functions = [
        entry(
            "orders.place_order",
            "POST /orders",
            uses=(TOPIC, BUS, BUCKET, QUEUE),
            permissions=(
                _grant(("sns:Publish",), resource_ref(TOPIC)),
                _grant(("events:PutEvents",), resource_ref(BUS)),
                _grant(("sqs:SendMessage",), resource_ref(QUEUE)),
                _grant(("s3:PutObject",), objects_ref(BUCKET, "in/*")),
            ),
        ),
        entry(
            "workers.consume",
            triggers=(SqsTrigger(queue=QUEUE, batch_size=5, batch_window=2, max_concurrency=4),),
            uses=(QUEUE,),
            permissions=(_grant(SQS_CONSUMER, resource_ref(QUEUE)),),
        ),
        entry(
            "workers.ledger",
            triggers=(SqsTrigger(queue=LEDGER),),
            permissions=(_grant(SQS_CONSUMER, resource_ref(LEDGER)),),
            capacity=Capacity(provisioned_concurrency=1),
        ),
        entry(
            "workers.notify",
            triggers=(
                SnsTrigger(topic=TOPIC, filter_policy={"amount": [{"numeric": [">", 100]}]}),
            ),
        ),
        entry(
            "workers.sweep",
            triggers=(
                ScheduleTrigger(expression="rate(5 minutes)", input={"job": "sweep"}),
                ScheduleTrigger(expression="cron(0 12 * * ? *)", enabled=False),
            ),
            capacity=Capacity(warm_every_minutes=10),
        ),
        entry(
            "workers.audit",
            triggers=(
                EventRuleTrigger(pattern={"source": ["orders"]}, bus=BUS),
                EventRuleTrigger(pattern={"source": ["aws.s3"]}),
            ),
        ),
        entry(
            "imports.load",
            triggers=(
                S3Trigger(bucket=BUCKET, prefix="in/", suffix=".csv"),
                S3Trigger(bucket=BUCKET, events=("s3:ObjectRemoved:*",), prefix="gone/"),
            ),
            uses=(BUCKET,),
            permissions=(_grant(("s3:GetObject",), objects_ref(BUCKET, "in/*")),),
        ),
        entry(
            "inventory.changes",
            triggers=(
                DynamoDBStreamTrigger(
                    table=TABLE,
                    batch_size=50,
                    starting_position="TRIM_HORIZON",
                    bisect_on_error=True,
                    max_retries=2,
                ),
            ),
            permissions=(_grant(STREAM_READER, stream_ref(TABLE)),),
        ),
    ]
    return [
        f.model_copy(update={"permissions": (writes_its_logs(f.name), *f.permissions)})
        for f in functions
    ]


def event_application(**updates: Any) -> Application:
    """Every event source at once (`updates` replace fields of the application)."""
    return Application(
        functions=tuple(sorted(event_functions(), key=lambda f: f.name)),
        resources=tuple(sorted(RESOURCES, key=lambda r: r.id)),
    ).model_copy(update=updates)
