"""What `lambdapress serve` lists of the functions it serves: every trigger, by its kind's label."""

from __future__ import annotations

from model_functions import model_function

from lambdapress.cli._serve import trigger_rows
from lambdapress.model.application import Application
from lambdapress.model.triggers import (
    DynamoDBStreamTrigger,
    EventRuleTrigger,
    HttpRoute,
    S3Trigger,
    ScheduleTrigger,
    SnsTrigger,
    SqsTrigger,
)


def test_every_kind_is_listed_by_its_label() -> None:
    drain = model_function(
        "work.drain",
        triggers=(
            SqsTrigger(queue="work/sqs-queue/jobs"),
            ScheduleTrigger(expression="rate(5 minutes)"),
            HttpRoute(method="GET", path="/jobs"),
        ),
    )
    react = model_function(
        "shop.react",
        triggers=(
            SnsTrigger(topic="orders/sns-topic/order-events"),
            EventRuleTrigger(pattern={"source": ["x"]}, bus="shop/event-bus/shop"),
            S3Trigger(bucket="shop/s3-bucket/uploads", prefix="in/", suffix=".csv"),
            DynamoDBStreamTrigger(table="shop/dynamodb-table/stock"),
        ),
    )
    quiet = model_function("shop.quiet")
    rows = trigger_rows(Application(functions=(react, drain, quiet)))
    assert rows == [
        ["dynamodb-stream", "shop/stock", "shop.react"],
        ["eventbridge", "on shop/shop", "shop.react"],
        ["http", "GET /jobs", "work.drain"],
        ["s3", "shop/uploads/in/*.csv", "shop.react"],
        ["schedule", "rate(5 minutes)", "work.drain"],
        ["sns", "orders/order-events", "shop.react"],
        ["sqs", "work/jobs", "work.drain"],
    ]
