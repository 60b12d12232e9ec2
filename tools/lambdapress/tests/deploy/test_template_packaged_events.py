"""From handler code to the stack: every event source declared in code, packaged, rendered.

A real workspace (lambdapress-runtime a member, as in this repository) declares a source of
each kind next to its handler and a resource of each kind in its services' pyproject files.
`package` finds them (no stand-ins: the kinds are the built-in ones), `template` renders the
stack, cfn-lint finds nothing, and each function's role names its own sources only: the
permissions discovery derives and the ARNs deploy resolves them to meet here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

from lambdapress.bundle.pipeline import package
from lambdapress.deploy.config import DeployConfig
from lambdapress.deploy.template import template_body

from .stacks import lint_findings

RUNTIME = Path(__file__).resolve().parents[2].parent / "lambdapress-runtime"
SERVICE = """
[project]
name = "{name}"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["lambdapress-runtime"]

[tool.poetry]
packages = [{{ include = "{name}", from = "src" }}]

[tool.uv.sources]
lambdapress-runtime = {{ workspace = true }}

[tool.lambdapress]
runtime = "python3.12"
timeout = 10
{settings}

[build-system]
requires = ["poetry-core>=2.0"]
build-backend = "poetry.core.masonry.api"
"""
SERVICES = {
    "orders": """
[tool.lambdapress.topics.order-events]
[tool.lambdapress.buses.orders]
""",
    "workers": """
[tool.lambdapress.queues.placed]
visibility_timeout = 60
dead_letter = "placed-dlq"
max_receives = 3
subscribe = [{ topic = "orders/order-events", filter_policy = { type = ["OrderPlaced"] } }]

[tool.lambdapress.queues.placed-dlq]
""",
    "imports": """
[tool.lambdapress.buckets.uploads]
""",
    "inventory": """
[tool.lambdapress.storage]
kind = "dynamodb"

[tool.lambdapress.storage.tables.stock]
partition_key = "sku"
stream = "NEW_AND_OLD_IMAGES"
""",
}
HANDLERS = {
    "orders/place_order": """
        EVENTS = triggers.Topic("order-events")
        BUS = triggers.Bus("orders")
        UPLOADS = triggers.Bucket("imports/uploads")

        def handler(event, context):
            return {}
    """,
    "workers/consume": """
        PLACED = triggers.Queue("placed")

        @triggers.sqs("placed", batch_size=5, batch_window=2)
        def handler(event, context):
            return {"batchItemFailures": []}
    """,
    "workers/notify": """
        @triggers.sns("orders/order-events", filter_policy={"type": ["OrderPlaced"]})
        def handler(event, context):
            return {}
    """,
    "workers/sweep": """
        @triggers.schedule("rate(5 minutes)", input={"job": "sweep"})
        @triggers.schedule("cron(0 12 * * ? *)", enabled=False)
        def handler(event, context):
            return {}
    """,
    "workers/audit": """
        @triggers.rule({"source": ["orders"]}, bus="orders/orders")
        def handler(event, context):
            return {}
    """,
    "imports/load": """
        @triggers.s3("uploads", prefix="in/", suffix=".csv")
        def handler(event, context):
            return {}
    """,
    "inventory/changes": """
        @triggers.dynamodb_stream("stock", starting_position="TRIM_HORIZON", bisect_on_error=True)
        def handler(event, context):
            return {"batchItemFailures": []}
    """,
}


def event_repo(root: Path, services: dict[str, str], handlers: dict[str, str]) -> Path:
    """A workspace at `root`: each service's `[tool.lambdapress]` lines, each handler's code
    (`service/module` -> the code after the runtime's import), locked."""
    shutil.copytree(
        RUNTIME,
        root / "tools" / "lambdapress-runtime",
        ignore=shutil.ignore_patterns("tests", "__pycache__", "dist"),
    )
    files = {"pyproject.toml": '[tool.uv.workspace]\nmembers = ["services/*", "tools/*"]\n'}
    for name, settings in services.items():
        files[f"services/{name}/pyproject.toml"] = SERVICE.format(name=name, settings=settings)
        files[f"services/{name}/src/{name}/__init__.py"] = ""
        files[f"services/{name}/src/{name}/handlers/__init__.py"] = ""
    for path, code in handlers.items():
        service, module = path.split("/")
        source = "from lambdapress_runtime import triggers\n\n" + textwrap.dedent(code)
        files[f"services/{service}/src/{service}/handlers/{module}.py"] = source
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    locked = subprocess.run(
        ["uv", "lock", "--quiet"], cwd=root, capture_output=True, text=True, check=False
    )
    assert locked.returncode == 0, locked.stderr
    return root


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The four services, locked, not yet packaged."""
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(tmp_path / "cache"))
    return event_repo(tmp_path / "repo", SERVICES, HANDLERS)


def _statements(document: dict[str, Any], function: str) -> list[dict[str, Any]]:
    role = document["Resources"][f"{function}Role"]["Properties"]["Policies"][0]
    statements: list[dict[str, Any]] = role["PolicyDocument"]["Statement"]
    return statements


def _named(statements: list[dict[str, Any]]) -> list[Any]:
    """What the statements after the log group's (the first) name."""
    return [resource for s in statements[1:] for resource in s["Resource"]]


def test_every_source_declared_in_code_renders_a_clean_stack_of_least_privilege(
    repo: Path,
) -> None:
    manifest = package(repo, jobs=1).manifest
    body = template_body(manifest, DeployConfig(project="acme"), "dev", "acme-artifacts")
    assert lint_findings(body) == []
    document = json.loads(body)
    resources = document["Resources"]
    kinds = {resource["Type"] for resource in resources.values()}
    assert {
        "AWS::SQS::Queue",
        "AWS::SQS::QueuePolicy",
        "AWS::SNS::Topic",
        "AWS::SNS::Subscription",
        "AWS::Events::EventBus",
        "AWS::Events::Rule",
        "AWS::S3::Bucket",
        "AWS::Lambda::EventSourceMapping",
    } <= kinds
    queue = {"Fn::GetAtt": ["WorkersPlacedQueue", "Arn"]}
    bucket = "acme-dev-imports-uploads-${AWS::AccountId}-${AWS::Region}"
    assert _named(_statements(document, "WorkersConsume")) == [queue, queue]  # drains, sends
    # Its service's table (every function of a service uses its storage), and the stream.
    assert _named(_statements(document, "InventoryChanges")) == [
        {"Fn::GetAtt": ["InventoryStockTable", "Arn"]},
        {"Fn::GetAtt": ["InventoryStockTable", "StreamArn"]},
    ]
    assert all(
        resource["Fn::Sub"].startswith(f"arn:${{AWS::Partition}}:s3:::{bucket}/")
        for resource in _named(_statements(document, "ImportsLoad"))
    )
    assert _named(_statements(document, "WorkersNotify")) == []  # invoked by SNS: logs only
    assert _named(_statements(document, "WorkersSweep")) == []
    publisher = _named(_statements(document, "OrdersPlaceOrder"))
    assert {"Ref": "OrdersOrderEventsTopic"} in publisher
    assert {"Fn::GetAtt": ["OrdersOrdersEventBus", "Arn"]} in publisher
    variables = resources["OrdersPlaceOrderFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["ORDER_EVENTS_TOPIC_ARN"] == {"Ref": "OrdersOrderEventsTopic"}
    assert variables["ORDERS_BUS_NAME"] == {"Fn::GetAtt": ["OrdersOrdersEventBus", "Name"]}
    assert variables["IMPORTS_UPLOADS_BUCKET_NAME"] == {"Fn::Sub": bucket}
    stock = resources["InventoryStockTable"]["Properties"]
    assert stock["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
