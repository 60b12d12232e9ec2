"""The example platform's events: deployed to moto's server, and run locally from its zips.

The example (packaged once for the session by `lambdapress package`, conftest's
`packaged_examples`): orders publishes `OrderPlaced` to its `order-events` topic; fulfilment's
`order-placed` queue subscribes to it (filter `type = ["OrderPlaced"]`, raw delivery) and
`ship_order` drains it, one pending shipment per event in the `shipments` table; a message
that fails three receives moves to `order-placed-dlq`.

1. Deployed: `lambdapress template` passes cfn-lint, `lambdapress deploy` creates the stack on
   moto's server, each function's role names only its own event sources, and a message sent to
   the deployed queue's URL, and one published to the deployed topic, reach the deployed table
   when the local delivery loop (serve's, through the emulator) drains the deployed queue.
   moto's CloudFormation skips `AWS::SNS::Subscription` (it has no model for it), so the test
   subscribes the queue through boto3 with the properties the template gives it, as
   CloudFormation would; everything else is what the deploy made.
2. Locally, as `lambdapress serve` runs it on a moto of its own: a malformed message in a batch
   of good ones fails alone, comes back after the visibility timeout, and after three receives
   waits in the dead-letter queue, while the good ones are stored.
"""

from __future__ import annotations

import ast
import contextlib
import datetime
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from emulator.event_support import Deliveries

from lambdapress.backends.postgres import database_secret_name
from lambdapress.cli import main
from lambdapress.emulator import Emulator, Listeners, ServeOptions, serve
from lambdapress.model.application import Application
from lambdapress.model.resources import DynamoDBTable, SqsQueue
from lambdapress.model.storage_backends import StageNames
from lambdapress.storage.dynamodb import create_tables
from lambdapress.storage.environment import storage_environment
from lambdapress.storage.events import EventsEndpoint, create_event_resources
from lambdapress.triggers.sqs import CONSUMER_ACTIONS
from orders.events import publish_created
from orders.models import Order

pytestmark = pytest.mark.e2e

PROJECT, STAGE = "acme", "dev"
STACK = f"{PROJECT}-{STAGE}"
QUEUE = "fulfilment/sqs-queue/order-placed"
DEAD_LETTER = "fulfilment/sqs-queue/order-placed-dlq"
TABLE = "fulfilment/dynamodb-table/shipments"
QUIET = Listeners(on_warning=lambda _message: None)
EVENT_ARNS = ("arn:aws:sqs:", "arn:aws:sns:", "arn:aws:events:", "arn:aws:s3:::")
"""Where a role's statement names an event source (or a table's `/stream/`)."""


@pytest.fixture
def aws(moto_server: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """moto's server (the storage plugin's: fresh, 127.0.0.1), where boto3 and deploy go; its
    CloudFormation creates the functions' aliases and alarms (`moto_cloudformation`)."""
    import moto_cloudformation

    moto_cloudformation.register(monkeypatch)
    host, port = moto_server.get_host_and_port()
    url = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    return url


def placed(order_id: str, name: str) -> Order:
    """An order as the orders service stores it."""
    at = datetime.datetime(2026, 3, 6, 10, 0, tzinfo=datetime.UTC)
    return Order(id=order_id, name=name, created_at=at, updated_at=at)


def shipments(table: str) -> dict[str, dict[str, Any]]:
    """The table's items by order id."""
    items: list[dict[str, Any]] = boto3.resource("dynamodb").Table(table).scan()["Items"]
    return {str(item["order_id"]): item for item in items}


@contextlib.contextmanager
def running(
    manifest: Application, root: Path, events: EventsEndpoint, storage: dict[str, str]
) -> Iterator[tuple[Emulator, Deliveries]]:
    """The build served as `lambdapress serve` serves it, its event sources on `events`."""
    deliveries = Deliveries()
    with (
        Emulator(
            manifest, root, listeners=QUIET, events=events, storage={"fulfilment": storage}
        ) as emulator,
        serve(emulator, ServeOptions(port=0, lambda_port=None, on_delivery=deliveries)),
    ):
        yield emulator, deliveries


# -- deployed --------------------------------------------------------------------------------


def lint(sh: Any, template: Path) -> None:
    """cfn-lint's command line, informational checks included; any finding fails."""
    result = sh.run(
        [
            sh.bin("cfn-lint"),
            "--include-checks",
            "I",
            "--regions",
            "us-east-1",
            "--",
            str(template),
        ],
        cwd=template.parent,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def statements(function: str) -> list[dict[str, Any]]:
    """The statements of the deployed function's execution role."""
    iam, lambda_ = boto3.client("iam"), boto3.client("lambda")
    role = lambda_.get_function(FunctionName=function)["Configuration"]["Role"].rsplit("/", 1)[1]
    found: list[dict[str, Any]] = []
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        if isinstance(document, str):  # moto keeps a stack's inline policy as the dict's repr
            document = ast.literal_eval(document)
        found += document["Statement"]
    return found


def event_sources(function: str) -> dict[str, set[str]]:
    """Each event source the function's role names, with the actions it allows on it."""
    found: dict[str, set[str]] = {}
    for statement in statements(function):
        for resource in statement["Resource"]:
            if resource.startswith(EVENT_ARNS) or "/stream/" in resource:
                found.setdefault(resource, set()).update(statement["Action"])
    return found


def stack_resources() -> dict[str, dict[str, Any]]:
    """The stack's resources by logical id."""
    summaries = boto3.client("cloudformation").list_stack_resources(StackName=STACK)
    return {r["LogicalResourceId"]: dict(r) for r in summaries["StackResourceSummaries"]}


def physical(resources: dict[str, dict[str, Any]], kind: str, name: str) -> str:
    """The physical id of the stack's only resource of `kind` whose id ends with `name`."""
    (found,) = [
        r["PhysicalResourceId"]
        for r in resources.values()
        if r["ResourceType"] == kind and r["PhysicalResourceId"].endswith(name)
    ]
    return str(found)


def subscribe_as_the_template_says(
    template: dict[str, Any], resources: dict[str, dict[str, Any]]
) -> None:
    """Each `AWS::SNS::Subscription` of the template, made through boto3 (moto skips them)."""
    sns, sqs = boto3.client("sns"), boto3.client("sqs")

    def resolved(value: Any) -> str:
        if "Ref" in value:  # a topic's Ref is its ARN
            return str(resources[value["Ref"]]["PhysicalResourceId"])
        logical, attribute = value["Fn::GetAtt"]
        assert attribute == "Arn"
        url = resources[logical]["PhysicalResourceId"]
        found = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return str(found["Attributes"]["QueueArn"])

    made = [r for r in template["Resources"].values() if r["Type"] == "AWS::SNS::Subscription"]
    assert made, "the example's queue subscribes to the orders topic"
    for subscription in made:
        properties = subscription["Properties"]
        arn = sns.subscribe(
            TopicArn=resolved(properties["TopicArn"]),
            Protocol=properties["Protocol"],
            Endpoint=resolved(properties["Endpoint"]),
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        for name in ("RawMessageDelivery", "FilterPolicyScope", "FilterPolicy"):
            value = properties[name]
            text = value if isinstance(value, str) else json.dumps(value)  # true, {...}
            sns.set_subscription_attributes(
                SubscriptionArn=arn, AttributeName=name, AttributeValue=text
            )


def test_the_deployed_example_ships_what_its_queue_and_topic_receive(
    packaged_examples: tuple[Path, Application],
    aws: str,
    sh: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root, manifest = packaged_examples
    output = tmp_path / "stack.json"
    template_command = ["--stage", STAGE, "--output", str(output), "--root", str(root)]
    assert main(["template", *template_command]) == 0, capsys.readouterr().err
    lint(sh, output)
    template = json.loads(output.read_text())

    # orders' functions read their URL from this secret: deploy checks that it exists first.
    boto3.client("secretsmanager").create_secret(
        Name=database_secret_name(PROJECT, STAGE, "orders"),
        SecretString="postgresql://orders@db.internal/orders",
    )
    code = main(["deploy", "--stage", STAGE, "--yes", "--no-build", "--root", str(root)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"{STACK}: CREATE_COMPLETE" in out

    # Every role names only its own event sources: the consumer its queue (not the dead-letter
    # queue), the publisher its topic; the scheduled sweep and the others none.
    resources = stack_resources()
    queue_url = physical(resources, "AWS::SQS::Queue", "fulfilment-order-placed")
    sqs = boto3.client("sqs")
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    topic_arn = physical(resources, "AWS::SNS::Topic", "orders-order-events")
    expected = {
        "fulfilment.ship_order": {queue_arn: set(CONSUMER_ACTIONS)},
        "orders.create_order": {topic_arn: {"sns:Publish"}},
    }
    for function in manifest.functions:
        deployed = f"{STACK}-{function.name.replace('.', '-')}"
        assert event_sources(deployed) == expected.get(function.name, {}), function.name
    assert {t.kind for t in manifest.function("fulfilment.release_shipments").triggers} == {
        "schedule"
    }

    # The topic delivers OrderPlaced (and only it: the subscription's filter) to the queue,
    # which also takes a message sent to its URL.
    subscribe_as_the_template_says(template, resources)
    sns = boto3.client("sns")
    publish_created(sns, topic_arn, placed("o-published", "Grace"))
    sns.publish(
        TopicArn=topic_arn,
        Message=json.dumps({"type": "OrderCancelled", "order_id": "o-cancelled"}),
        MessageAttributes={"type": {"DataType": "String", "StringValue": "OrderCancelled"}},
    )
    sent = {
        "type": "OrderPlaced",
        "order_id": "o-sent",
        "name": "Ada",
        "created_at": "2026-03-06T10:00:00+00:00",
    }
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(sent))
    waiting = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert waiting["ApproximateNumberOfMessages"] == "2"

    # The local delivery loop drains the deployed queue into the deployed table.
    table = physical(resources, "AWS::DynamoDB::Table", "fulfilment-shipments")
    configuration = boto3.client("lambda").get_function_configuration(
        FunctionName=f"{STACK}-fulfilment-ship_order"
    )
    assert configuration["Environment"]["Variables"]["SHIPMENTS_TABLE"] == table
    events = EventsEndpoint(aws, StageNames(PROJECT, STAGE))
    storage = {"AWS_ENDPOINT_URL_DYNAMODB": aws, "SHIPMENTS_TABLE": table}
    with running(manifest, root, events, storage) as (_, deliveries):
        done = deliveries.wait(lambda found: sum(r.records for r in found if r.ok) >= 2, 60)
    assert all(r.function == "fulfilment.ship_order" for r in done), [str(r) for r in done]
    stored = shipments(table)
    assert set(stored) == {"o-sent", "o-published"}
    assert stored["o-published"]["name"] == "Grace"
    assert {item["status"] for item in stored.values()} == {"pending"}
    left = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert (left["ApproximateNumberOfMessages"], left["ApproximateNumberOfMessagesNotVisible"]) == (
        "0",
        "0",
    )


# -- local -----------------------------------------------------------------------------------


def test_a_malformed_message_goes_to_the_dead_letter_queue_and_the_good_ones_are_stored(
    packaged_examples: tuple[Path, Application], aws: str
) -> None:
    root, packaged = packaged_examples
    # The queue hides a received message for 120 s (the consumer's timeout is 20): three
    # receives would take six minutes. Here it is 2 s; the rest is the example's as packaged.
    queue = packaged.resource(QUEUE)
    assert isinstance(queue, SqsQueue) and queue.max_receives == 3
    shorter = queue.model_copy(update={"visibility_timeout": 2})
    manifest = packaged.model_copy(
        update={"resources": tuple(shorter if r.id == QUEUE else r for r in packaged.resources)}
    )
    # What `lambdapress db` makes on its servers: the event resources, the service's table
    # (found as serve finds it, from the caller's moto).
    events = EventsEndpoint(aws, StageNames(PROJECT, "local"))
    create_event_resources(events, manifest)
    found = storage_environment(
        manifest, PROJECT, {"fulfilment"}, None, environ={"AWS_ENDPOINT_URL_DYNAMODB": aws}
    )
    storage = found.variables["fulfilment"]
    table = manifest.resource(TABLE)
    assert isinstance(table, DynamoDBTable)
    create_tables(aws, {storage["SHIPMENTS_TABLE"]: table})

    sqs = events.client("sqs")
    malformed = json.dumps({"type": "OrderPlaced", "order_id": "", "name": "No one"})
    good = [
        json.dumps({"type": "OrderPlaced", "order_id": f"o-{n}", "name": name, "created_at": at})
        for n, (name, at) in enumerate(
            [("Ada", "2026-03-06T10:00:00Z"), ("Grace", "2026-03-06T10:05:00Z")]
        )
    ]
    sqs.send_message_batch(
        QueueUrl=events.queue_url(shorter),
        Entries=[
            {"Id": str(n), "MessageBody": body}
            for n, body in enumerate([good[0], malformed, good[1]])
        ],
    )
    dead_url = events.queue_url(manifest.resource(DEAD_LETTER))
    dead: list[dict[str, Any]] = []

    def in_dead_letter_queue(_: object) -> bool:
        if not dead:
            dead.extend(
                sqs.receive_message(
                    QueueUrl=dead_url, MessageSystemAttributeNames=["ApproximateReceiveCount"]
                ).get("Messages", [])
            )
        return bool(dead)

    with running(manifest, root, events, storage) as (_, deliveries):
        deliveries.wait(in_dead_letter_queue, timeout=60)
    consumed = deliveries.of("fulfilment.ship_order")

    assert [m["Body"] for m in dead] == [malformed]
    # Received three times (the first time in the batch of the good ones), then moved.
    assert [r.records for r in consumed] == [3, 1, 1], [str(r) for r in consumed]
    assert consumed[0].outcome == "1 of 3 failed, back after the visibility timeout"
    # Alone in its batch, it fails the whole batch: Powertools' batch processor raises when
    # every record failed (Lambda then returns them all), so it comes back the same way.
    for again in consumed[1:]:
        assert again.outcome.startswith("error: BatchProcessingError: All records failed"), again
        assert again.outcome.endswith("; all back after the visibility timeout"), again
    stored = shipments(storage["SHIPMENTS_TABLE"])
    assert set(stored) == {"o-0", "o-1"}
    assert stored["o-1"]["name"] == "Grace"
