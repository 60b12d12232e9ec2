"""Every event source deployed with `lambdapress deploy` to moto's server, then read back.

The application (`event_stacks`: queues with a dead-letter queue, FIFO ones, topics, a bus, a
bucket, a table with a stream, and a function on each) is written as `package` would write it:
`dist/manifest.json` and real zips. `deploy --plan` lists what would be created; `deploy`
creates it; boto3 then finds each resource as declared; `destroy` refuses while the bucket
holds objects (CloudFormation would stop halfway), then removes them all.

What moto 5.2's CloudFormation does NOT create, and so what this test cannot see (cfn-lint and
the template tests check them; the README's "verified by" table says so):
- `AWS::SNS::Subscription` and `AWS::SQS::QueuePolicy`: no CloudFormation model in moto, which
  skips them with a warning (no subscription of a queue or a function to a topic exists);
- `AWS::S3::Bucket`: created with its name, encryption and tags only: moto ignores its
  `NotificationConfiguration`, `PublicAccessBlockConfiguration` and `OwnershipControls`;
- `AWS::ApiGatewayV2::*` (see test_deploy_moto.py): the API is not created; aliases are, by the
  test's `moto_cloudformation` models, without provisioned concurrency.
What it does create, and this test checks: queues (FIFO, redrive), topics (FIFO), the event
bus, rules with their targets and input on both buses, event source mappings for a queue and a
table stream, the stream itself, the bucket's name, invoke permissions scoped to their source,
roles naming only their own sources, and the address variables resolved to real values.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from lambdapress.cli import main
from lambdapress.model.application import Application, Function
from lambdapress.model.manifest import manifest_path, write_manifest

from .event_stacks import event_application

pytestmark = pytest.mark.e2e
PROJECT, STAGE = "shop", "dev"
STACK = f"{PROJECT}-{STAGE}"
ACCOUNT, REGION = "123456789012", "us-east-1"
EVENTS_TOPIC = "shop-dev-orders-order-events"
HANDLER = b"def handler(event, context):\n    return {}\n"


def _with_zip(root: Path, function: Function) -> Function:
    """`function` with a real zip under dist/, its digests as `package` records them."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(function.handler.rsplit(".", 1)[0].replace(".", "/") + ".py", HANDLER)
    data = buffer.getvalue()
    path = root / function.artifact.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    digest = hashlib.sha256(data)
    artifact = function.artifact.model_copy(
        update={
            "sha256": digest.hexdigest(),
            "code_sha256": base64.b64encode(digest.digest()).decode(),
            "size": len(data),
        }
    )
    # The test's alias model (`moto_cloudformation`) sets no provisioned concurrency.
    capacity = function.capacity.model_copy(update={"provisioned_concurrency": None})
    return function.model_copy(update={"artifact": artifact, "capacity": capacity})


@pytest.fixture
def packaged(tmp_path: Path) -> Application:
    """A repository whose dist/ holds the event application, as `package` leaves it."""
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.uv.workspace]\nmembers = []\n\n[tool.lambdapress.deploy]\nproject = "{PROJECT}"\n',
        encoding="utf-8",
    )
    application = event_application()
    functions = tuple(_with_zip(tmp_path, f) for f in application.functions)
    packaged = application.model_copy(update={"functions": functions})
    write_manifest(packaged, manifest_path(tmp_path))
    return packaged


def _deploy(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(["deploy", "--stage", STAGE, "--no-build", *args, "--root", str(root)])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def _function(name: str) -> str:
    return f"{STACK}-{name.replace('.', '-')}"


def _mappings(lambda_: Any, function: str) -> list[dict[str, Any]]:
    """The function's event source mappings (moto filters by the name as the mapping gave it,
    here an ARN, so they are matched by ARN).

    Each invokes the `live` alias; moto reports the version the alias points at
    (`function:<name>:1`, where Lambda says `function:<name>:live`), so that is checked.
    """
    name = _function(function)
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    live = lambda_.get_alias(FunctionName=name, Name="live")["FunctionVersion"]
    mappings = lambda_.list_event_source_mappings()["EventSourceMappings"]
    return [m for m in mappings if m["FunctionArn"] == f"{arn}:{live}"]


def _rules(events: Any, bus: str = "default") -> dict[str, dict[str, Any]]:
    """The bus's rules by schedule or pattern, each with its targets."""
    found = {}
    for rule in events.list_rules(EventBusName=bus)["Rules"]:
        targets = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus)["Targets"]
        found[rule.get("ScheduleExpression") or rule["EventPattern"]] = {**rule, "targets": targets}
    return found


def _policy(role_of: str) -> list[dict[str, Any]]:
    """The statements of `role_of`'s execution role."""
    iam, lambda_ = boto3.client("iam"), boto3.client("lambda")
    role_arn = lambda_.get_function(FunctionName=_function(role_of))["Configuration"]["Role"]
    role = role_arn.rsplit("/", 1)[1]
    (name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    if isinstance(document, str):  # moto keeps a stack's inline policy as the dict's repr
        document = ast.literal_eval(document)
    statements: list[dict[str, Any]] = document["Statement"]
    return statements


def test_every_event_source_deploys_and_is_found_as_declared(
    packaged: Application, tmp_path: Path, moto_server: object, capsys: pytest.CaptureFixture[str]
) -> None:
    # 1. The plan lists the event resources to be created, and changes nothing.
    plan = _deploy(tmp_path, capsys, "--plan")
    for logical_id, kind in [
        ("WorkersOrderPlacedQueue", "AWS::SQS::Queue"),
        ("WorkersOrderPlacedQueuePolicy", "AWS::SQS::QueuePolicy"),
        ("WorkersOrderPlacedQueueSubscriptionOrdersOrderEvents", "AWS::SNS::Subscription"),
        ("OrdersOrderEventsTopic", "AWS::SNS::Topic"),
        ("OrdersOrdersEventBus", "AWS::Events::EventBus"),
        ("ImportsUploadsBucket", "AWS::S3::Bucket"),
        ("WorkersConsumeSqsWorkersOrderPlacedMapping", "AWS::Lambda::EventSourceMapping"),
        ("InventoryChangesStreamInventoryStockMapping", "AWS::Lambda::EventSourceMapping"),
        ("WorkersSweepWarmUpRule", "AWS::Events::Rule"),
        ("ImportsLoadS3ImportsUploadsPermission", "AWS::Lambda::Permission"),
    ]:
        assert any(
            logical_id in line and kind in line and "add" in line for line in plan.splitlines()
        ), f"{logical_id} ({kind}) is not in the plan:\n{plan}"
    assert "plan only" in plan
    sqs = boto3.client("sqs")
    assert sqs.list_queues().get("QueueUrls", []) == []

    # 2. The deploy creates them.
    out = _deploy(tmp_path, capsys, "--yes")
    assert f"{STACK}: CREATE_COMPLETE" in out

    # Queues: names, timeouts, FIFO, and the redrive to the dead-letter queue.
    urls = sorted(sqs.list_queues()["QueueUrls"])
    assert [url.rsplit("/", 1)[1] for url in urls] == [
        "shop-dev-workers-ledger-dead.fifo",
        "shop-dev-workers-ledger.fifo",
        "shop-dev-workers-order-placed",
        "shop-dev-workers-order-placed-dlq",
    ]
    placed_url = sqs.get_queue_url(QueueName="shop-dev-workers-order-placed")["QueueUrl"]
    placed = sqs.get_queue_attributes(QueueUrl=placed_url, AttributeNames=["All"])["Attributes"]
    dead_url = sqs.get_queue_url(QueueName="shop-dev-workers-order-placed-dlq")["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    assert json.loads(placed["RedrivePolicy"]) == {
        "deadLetterTargetArn": dead_arn,
        "maxReceiveCount": 3,
    }
    assert (placed["VisibilityTimeout"], placed["MessageRetentionPeriod"]) == ("60", "86400")
    assert placed["SqsManagedSseEnabled"] == "true"
    ledger_url = sqs.get_queue_url(QueueName="shop-dev-workers-ledger.fifo")["QueueUrl"]
    ledger = sqs.get_queue_attributes(QueueUrl=ledger_url, AttributeNames=["All"])["Attributes"]
    assert ledger["FifoQueue"] == "true" and "RedrivePolicy" in ledger

    # Topics and the bus.
    sns = boto3.client("sns")
    topics = sorted(t["TopicArn"] for t in sns.list_topics()["Topics"])
    prefix = f"arn:aws:sns:{REGION}:{ACCOUNT}:"
    assert topics == [f"{prefix}{name}" for name in ("shop-dev-orders-ledger.fifo", EVENTS_TOPIC)]
    fifo = sns.get_topic_attributes(TopicArn=topics[0])["Attributes"]
    assert (fifo["FifoTopic"], fifo["ContentBasedDeduplication"]) == ("true", "true")
    events = boto3.client("events")
    buses = {b["Name"] for b in events.list_event_buses()["EventBuses"]}
    assert "shop-dev-orders-orders" in buses

    # Rules: the schedules (and the keep-warm ping) on the default bus, patterns on both buses.
    default = _rules(events)
    sweep_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{_function('workers.sweep')}:live"
    every_five = default["rate(5 minutes)"]
    assert every_five["State"] == "ENABLED"
    (target,) = every_five["targets"]
    assert (target["Arn"], json.loads(target["Input"])) == (sweep_arn, {"job": "sweep"})
    assert default["cron(0 12 * * ? *)"]["State"] == "DISABLED"
    (warm,) = default["rate(10 minutes)"]["targets"]
    assert json.loads(warm["Input"]) == {"lambdapress": "warmup"}
    audit_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{_function('workers.audit')}:live"
    (on_default,) = [r for k, r in default.items() if "aws.s3" in k]
    assert [t["Arn"] for t in on_default["targets"]] == [audit_arn]
    (on_own,) = _rules(events, "shop-dev-orders-orders").values()
    assert json.loads(on_own["EventPattern"]) == {"source": ["orders"]}
    assert [t["Arn"] for t in on_own["targets"]] == [audit_arn]

    # Event source mappings: the queue's and the table stream's.
    lambda_ = boto3.client("lambda")
    (queue_mapping,) = _mappings(lambda_, "workers.consume")
    placed_arn = placed["QueueArn"]
    assert queue_mapping["EventSourceArn"] == placed_arn
    assert (queue_mapping["BatchSize"], queue_mapping["MaximumBatchingWindowInSeconds"]) == (5, 2)
    assert queue_mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert queue_mapping["ScalingConfig"] == {"MaximumConcurrency": 4}
    dynamodb = boto3.client("dynamodb")
    stock = dynamodb.describe_table(TableName="shop-dev-inventory-stock")["Table"]
    assert stock["StreamSpecification"]["StreamViewType"] == "NEW_IMAGE"
    (stream_mapping,) = _mappings(lambda_, "inventory.changes")
    assert stream_mapping["EventSourceArn"] == stock["LatestStreamArn"]
    assert stream_mapping["StartingPosition"] == "TRIM_HORIZON"
    assert stream_mapping["BisectBatchOnFunctionError"] is True

    # The bucket, named for the account and region; S3 may invoke its function for it only.
    bucket = f"shop-dev-imports-uploads-{ACCOUNT}-{REGION}"
    s3 = boto3.client("s3")
    assert bucket in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert encryption["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    (grant,) = json.loads(lambda_.get_policy(FunctionName=_function("imports.load"))["Policy"])[
        "Statement"
    ]
    assert grant["Principal"] == {"Service": "s3.amazonaws.com"}
    assert grant["Condition"]["ArnLike"]["AWS:SourceArn"] == f"arn:aws:s3:::{bucket}"
    assert grant["Condition"]["StringEquals"]["AWS:SourceAccount"] == ACCOUNT
    (grant,) = json.loads(lambda_.get_policy(FunctionName=_function("workers.notify"))["Policy"])[
        "Statement"
    ]
    assert grant["Condition"]["ArnLike"]["AWS:SourceArn"] == topics[1]

    # Roles name only their own sources; users find theirs by variable.
    _, consume = _policy("workers.consume")
    assert consume["Resource"] == [placed_arn]
    _, stream = _policy("inventory.changes")
    assert stream["Resource"] == [stock["LatestStreamArn"]]
    _, objects = _policy("imports.load")
    assert objects["Resource"] == [f"arn:aws:s3:::{bucket}/in/*"]
    variables = lambda_.get_function_configuration(FunctionName=_function("orders.place_order"))[
        "Environment"
    ]["Variables"]
    assert variables["ORDER_EVENTS_TOPIC_ARN"] == topics[1]
    # The queue's URL as AWS writes it (moto's own answers name its endpoint instead).
    assert variables["WORKERS_ORDER_PLACED_QUEUE_URL"] == (
        f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/shop-dev-workers-order-placed"
    )
    assert variables["WORKERS_ORDER_PLACED_QUEUE_ARN"] == placed_arn
    assert variables["ORDERS_BUS_NAME"] == "shop-dev-orders-orders"
    assert variables["IMPORTS_UPLOADS_BUCKET_NAME"] == bucket

    # 3. Deployed again, nothing changed: up to date.
    assert f"{STACK}: up to date" in _deploy(tmp_path, capsys, "--yes")

    # 4. destroy refuses, before deleting anything, while the bucket holds users' objects...
    s3.put_object(Bucket=bucket, Key="in/orders.csv", Body=b"id\n1\n")
    destroy = ["destroy", "--stage", STAGE, "--yes", "--root", str(tmp_path)]
    assert main(destroy) == 1
    err = capsys.readouterr().err
    assert f"bucket {bucket} (ImportsUploadsBucket of stack {STACK}) holds objects" in err
    assert f"aws s3 rm s3://{bucket} --recursive" in err
    assert len(sqs.list_queues()["QueueUrls"]) == 4  # the stack is whole
    # ... and removes everything with the stack once it is empty.
    s3.delete_object(Bucket=bucket, Key="in/orders.csv")
    code = main(destroy)
    assert code == 0, capsys.readouterr().err
    assert bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert sqs.list_queues().get("QueueUrls", []) == []
    assert sns.list_topics()["Topics"] == []
    assert lambda_.list_event_source_mappings()["EventSourceMappings"] == []
