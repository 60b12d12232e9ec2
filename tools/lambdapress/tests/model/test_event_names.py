"""Physical names of queues, topics, buses and buckets: AWS's rules hold for any project, stage,
service and name lambdapress accepts, and the longest values count for the 4 KB."""

from __future__ import annotations

import re

import botocore.session
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdapress.config.aws_rules import BUCKET_NAME_MAX, is_bucket_name
from lambdapress.config.names import MAX_SERVICE_NAME, PROJECT_MAX, STAGE_MAX
from lambdapress.model.event_names import (
    QUEUE_NAME_MAX,
    address_budget,
    bucket_name,
    physical_name,
)
from lambdapress.model.resources import (
    ADDRESS_VARIABLES,
    EventBus,
    S3Bucket,
    SnsTopic,
    SqsQueue,
    environment_name,
)
from lambdapress_runtime.triggers import environment_name as runtime_environment_name

LONG_PROJECT, LONG_STAGE = "p" * PROJECT_MAX, "s" * STAGE_MAX
LONG_SERVICE, LONG_NAME = "a_" + "b" * (MAX_SERVICE_NAME - 2), "n" * 40
# SQS: alphanumerics, hyphens and underscores; SNS alike; EventBridge also `.` and `/`.
QUEUE_OR_TOPIC = re.compile(r"[A-Za-z0-9_-]+(\.fifo)?")


def test_names_are_project_stage_service_name() -> None:
    queue = SqsQueue(service="workers", name="order-placed")
    assert physical_name("acme", "dev", queue) == "acme-dev-workers-order-placed"
    fifo = SqsQueue(service="workers", name="ledger", fifo=True)
    assert physical_name("acme", "dev", fifo) == "acme-dev-workers-ledger.fifo"
    topic = SnsTopic(service="orders", name="order-events", fifo=True)
    assert physical_name("acme", "dev", topic) == "acme-dev-orders-order-events.fifo"
    bus = EventBus(service="order_api", name="orders")
    assert physical_name("acme", "dev", bus) == "acme-dev-order_api-orders"
    bucket = S3Bucket(service="order_api", name="uploads")
    assert (
        bucket_name("acme", "dev", bucket, "123456789012", "eu-west-1")
        == "acme-dev-order-api-uploads-123456789012-eu-west-1"
    )


@pytest.mark.parametrize("fifo", [False, True])
def test_the_longest_queue_name_fits_sqs_and_stays_distinct(fifo: bool) -> None:
    one = SqsQueue(service=LONG_SERVICE, name=LONG_NAME, fifo=fifo)
    other = SqsQueue(service=LONG_SERVICE, name="n" * 39 + "m", fifo=fifo)
    name = physical_name(LONG_PROJECT, LONG_STAGE, one)
    assert len(name) == QUEUE_NAME_MAX
    assert QUEUE_OR_TOPIC.fullmatch(name)
    assert name.endswith(".fifo") == fifo
    assert name.startswith(f"{LONG_PROJECT}-{LONG_STAGE}-a_")
    assert name != physical_name(LONG_PROJECT, LONG_STAGE, other)
    assert name == physical_name(LONG_PROJECT, LONG_STAGE, one)  # stable


def test_the_longest_bucket_name_fits_s3_in_any_region() -> None:
    bucket = S3Bucket(service=LONG_SERVICE, name=LONG_NAME)
    for region in ("us-east-1", "ap-southeast-7", "us-isof-south-1"):
        name = bucket_name(LONG_PROJECT, LONG_STAGE, bucket, "123456789012", region)
        assert len(name) <= BUCKET_NAME_MAX
        assert is_bucket_name(name), name
    short = bucket_name("acme", "dev", bucket, "123456789012", "us-east-1")
    assert len(short) <= BUCKET_NAME_MAX and is_bucket_name(short)


def test_a_bucket_s_prefix_is_the_same_in_every_region() -> None:
    bucket = S3Bucket(service=LONG_SERVICE, name=LONG_NAME)
    east = bucket_name(LONG_PROJECT, LONG_STAGE, bucket, "1" * 12, "us-east-1")
    west = bucket_name(LONG_PROJECT, LONG_STAGE, bucket, "1" * 12, "eu-west-1")
    assert east.removesuffix("-us-east-1") == west.removesuffix("-eu-west-1")


def test_the_budget_has_every_variable_at_its_longest() -> None:
    queue = SqsQueue(service="workers", name="order-placed")
    own = address_budget("workers", queue, "acme", "dev")
    assert set(own) == {"ORDER_PLACED_QUEUE_URL", "ORDER_PLACED_QUEUE_ARN"}
    other = address_budget("orders", queue, "acme", "dev")
    assert set(other) == {"WORKERS_ORDER_PLACED_QUEUE_URL", "WORKERS_ORDER_PLACED_QUEUE_ARN"}
    url = own["ORDER_PLACED_QUEUE_URL"]
    # The real value for a real region is never longer than the budget's.
    real = "https://sqs.ap-southeast-7.amazonaws.com/123456789012/acme-dev-workers-order-placed"
    assert url.endswith("/acme-dev-workers-order-placed") and len(url) >= len(real)
    real_arn = "arn:aws-us-gov:sqs:us-gov-west-1:123456789012:acme-dev-workers-order-placed"
    assert len(own["ORDER_PLACED_QUEUE_ARN"]) >= len(real_arn)
    bucket = address_budget("imports", S3Bucket(service="imports", name="uploads"), "acme", "dev")
    assert len(bucket["UPLOADS_BUCKET_NAME"]) >= len(
        "acme-dev-imports-uploads-123456789012-us-isof-south-1"
    )
    for resource in (SnsTopic(service="o", name="t"), EventBus(service="o", name="b")):
        assert len(address_budget("o", resource, "acme", "dev")) == len(
            ADDRESS_VARIABLES[resource.kind]
        )


@pytest.mark.parametrize("reference", ["order-events", "orders/order-events", "a_b/c-d"])
def test_the_tool_names_variables_as_the_runtime_reads_them(reference: str) -> None:
    for suffixes in ADDRESS_VARIABLES.values():
        for suffix in suffixes:
            assert environment_name(reference, suffix) == runtime_environment_name(
                reference, suffix
            )


# -- every name lambdapress accepts, against AWS's rules -----------------------------------------

# EventBridge's model (botocore `events` CreateEventBus: Name) carries its rule; SQS's and SNS's
# models carry none, their API references say: alphanumerics, `-` and `_`, at most 80 (SQS)
# or 256 (SNS) characters, `.fifo` ending a FIFO one's within them.
BUS_SHAPE = (
    botocore.session.get_session().get_service_model("events").shape_for("EventBusName").metadata
)
SQS_NAME = re.compile(r"[A-Za-z0-9_-]{1,75}\.fifo|[A-Za-z0-9_-]{1,80}")
SNS_NAME = re.compile(r"[A-Za-z0-9_-]{1,251}\.fifo|[A-Za-z0-9_-]{1,256}")
REGIONS = ("us-east-1", "eu-central-2", "ap-southeast-7", "us-gov-west-1", "us-isof-south-1")
NAMES = st.from_regex(r"[a-z](-?[a-z0-9])*", fullmatch=True)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    project=NAMES.filter(lambda n: len(n) <= PROJECT_MAX),
    stage=NAMES.filter(lambda n: len(n) <= STAGE_MAX),
    service=st.from_regex(r"[a-z][a-z0-9_]{0,40}", fullmatch=True),
    name=st.from_regex(r"[a-z][a-z0-9-]{0,39}", fullmatch=True),
    fifo=st.booleans(),
    region=st.sampled_from(REGIONS),
)
def test_every_accepted_name_makes_names_aws_accepts(
    project: str, stage: str, service: str, name: str, fifo: bool, region: str
) -> None:
    queue = physical_name(project, stage, SqsQueue(service=service, name=name, fifo=fifo))
    assert SQS_NAME.fullmatch(queue) and queue.endswith(".fifo") == fifo, queue
    topic = physical_name(project, stage, SnsTopic(service=service, name=name, fifo=fifo))
    assert SNS_NAME.fullmatch(topic), topic
    bus = physical_name(project, stage, EventBus(service=service, name=name))
    assert re.fullmatch(BUS_SHAPE["pattern"], bus) and len(bus) <= BUS_SHAPE["max"], bus
    bucket = bucket_name(project, stage, S3Bucket(service=service, name=name), "0" * 12, region)
    assert is_bucket_name(bucket), bucket
