"""Event resources on moto's server, the variables functions find them with, and db's server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from model_functions import model_function

from lambdapress.config.workspace import load_workspace
from lambdapress.model.application import Application
from lambdapress.model.event_names import bucket_name, physical_name
from lambdapress.model.manifest import manifest_path, write_manifest
from lambdapress.model.resources import (
    DynamoDBTable,
    EventBus,
    S3Bucket,
    SnsTopic,
    SqsQueue,
    TopicSubscription,
)
from lambdapress.model.storage_backends import StageNames
from lambdapress.storage.events import (
    ACCOUNT,
    EventsEndpoint,
    create_event_resources,
    event_environment,
)
from lambdapress.storage.local import plan_local_storage, start_local_storage
from lambdapress.storage.state import read_state

NAMES = StageNames("acme", "local")
SQS = "arn:aws:sqs:us-east-1:123456789012"
SNS = "arn:aws:sns:us-east-1:123456789012"
TOPIC = SnsTopic(service="orders", name="order-events")
DEAD = SqsQueue(service="workers", name="jobs-dlq", fifo=True)
JOBS = SqsQueue(
    service="workers",
    name="jobs",
    fifo=True,
    visibility_timeout=7,
    retention_seconds=3600,
    dead_letter=DEAD.id,
    max_receives=4,
)
PLACED = SqsQueue(
    service="workers",
    name="placed",
    subscriptions=(TopicSubscription(topic=TOPIC.id, filter_policy={"type": ["OrderPlaced"]}),),
)
RESOURCES = (
    TOPIC,
    DEAD,
    JOBS,
    PLACED,
    EventBus(service="orders", name="orders"),
    S3Bucket(service="imports", name="raw_uploads"),
)


def test_every_resource_is_made_as_declared_and_making_them_again_changes_nothing(
    moto_endpoint: str,
) -> None:
    endpoint = EventsEndpoint(moto_endpoint, NAMES)
    application = Application(resources=RESOURCES)
    created = create_event_resources(endpoint, application)
    assert created == (
        "topic acme-local-orders-order-events",
        "event bus acme-local-orders-orders",
        "queue acme-local-workers-jobs-dlq.fifo",
        "queue acme-local-workers-jobs.fifo",
        "queue acme-local-workers-placed",
        "bucket acme-local-imports-raw-uploads-123456789012-us-east-1",
    )
    assert create_event_resources(endpoint, application) == ()

    sqs = endpoint.client("sqs")
    attributes = sqs.get_queue_attributes(
        QueueUrl=endpoint.queue_url(JOBS), AttributeNames=["All"]
    )["Attributes"]
    assert attributes["FifoQueue"] == "true"
    assert (attributes["VisibilityTimeout"], attributes["MessageRetentionPeriod"]) == ("7", "3600")
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": f"{SQS}:acme-local-workers-jobs-dlq.fifo",
        "maxReceiveCount": 4,
    }
    sns = endpoint.client("sns")
    (subscription,) = sns.list_subscriptions_by_topic(TopicArn=endpoint.arn(TOPIC))["Subscriptions"]
    assert subscription["Endpoint"] == endpoint.arn(PLACED)
    found = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])
    assert json.loads(found["Attributes"]["FilterPolicy"]) == {"type": ["OrderPlaced"]}
    assert found["Attributes"]["RawMessageDelivery"] == "true"


def test_a_function_gets_the_addresses_of_what_it_uses_by_how_its_code_names_them() -> None:
    endpoint = EventsEndpoint("http://127.0.0.1:4566", NAMES)
    worker = model_function("workers.consume", uses=(JOBS.id, TOPIC.id, RESOURCES[-1].id))
    variables = event_environment(
        endpoint, Application(functions=(worker,), resources=RESOURCES), worker
    )
    assert variables == {
        "AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:4566",
        "AWS_ENDPOINT_URL_SNS": "http://127.0.0.1:4566",
        "AWS_ENDPOINT_URL_EVENTBRIDGE": "http://127.0.0.1:4566",
        "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:4566",
        # Its own service's queue by its name, another service's by service/name.
        "JOBS_QUEUE_URL": "http://127.0.0.1:4566/123456789012/acme-local-workers-jobs.fifo",
        "JOBS_QUEUE_ARN": f"{SQS}:acme-local-workers-jobs.fifo",
        "ORDERS_ORDER_EVENTS_TOPIC_ARN": f"{SNS}:acme-local-orders-order-events",
        "IMPORTS_RAW_UPLOADS_BUCKET_NAME": "acme-local-imports-raw-uploads-123456789012-us-east-1",
    }


def test_a_table_the_function_uses_adds_no_event_address() -> None:
    """A service's DynamoDB tables are among its functions' uses: the storage variables say
    where they are (`<TABLE>_TABLE`), the events server has no name for them."""
    endpoint = EventsEndpoint("http://127.0.0.1:4566", NAMES)
    table = DynamoDBTable(service="workers", name="stock", partition_key="sku", stream="KEYS_ONLY")
    worker = model_function("workers.consume", uses=(table.id, JOBS.id))
    variables = event_environment(
        endpoint, Application(functions=(worker,), resources=(table, *RESOURCES)), worker
    )
    assert endpoint.addresses(table) == {}
    assert {name for name in variables if not name.startswith("AWS_ENDPOINT_URL_")} == {
        "JOBS_QUEUE_URL",
        "JOBS_QUEUE_ARN",
    }


def test_local_names_are_deploys_with_the_local_account_and_region() -> None:
    endpoint = EventsEndpoint("http://127.0.0.1:4566", StageNames("acme", "local"))
    bucket = S3Bucket(service="imports", name="raw-uploads")
    queue = SqsQueue(service="workers", name="jobs", fifo=True)

    assert endpoint.physical_name(bucket) == bucket_name(
        "acme", "local", bucket, ACCOUNT, endpoint.region
    )
    assert endpoint.physical_name(queue) == physical_name("acme", "local", queue)
    long = S3Bucket(service="s" * 30, name="b" * 40)
    assert len(endpoint.physical_name(long)) <= 63


@pytest.mark.e2e
def test_db_runs_an_events_server_with_the_builds_resources(builder: Any) -> None:
    builder.package("acme-models")
    builder.service("workers", settings="[tool.lambdapress.queues.jobs]\nvisibility_timeout = 5\n")
    workspace = load_workspace(builder.root)
    queue = SqsQueue(service="workers", name="jobs", visibility_timeout=5)
    write_manifest(Application(resources=(queue,)), manifest_path(builder.root))
    plan = plan_local_storage(workspace)
    assert plan.servers == () and plan.events_port is not None
    with start_local_storage(plan) as running:
        state = read_state(builder.root)
        assert state is not None and state.events is not None
        endpoint = state.events.endpoint
        assert endpoint.names == StageNames("repo", "local")
        url = endpoint.client("sqs").get_queue_url(QueueName="repo-local-workers-jobs")["QueueUrl"]
        assert url == endpoint.queue_url(queue)
        assert any("Events (moto" in line for line in running.report())
        assert any("queue repo-local-workers-jobs" in line for line in running.report())
        server = running.events
    assert server is not None and server.server is not None
    assert server.server.process.poll() is not None  # stopped with db
    assert read_state(builder.root) is None
