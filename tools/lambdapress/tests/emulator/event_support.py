"""What the tests of local event delivery share: a declared workspace, handlers, a delivery log.

`write_declared_workspace(root)` writes a uv workspace whose handler modules declare every
event source with `lambdapress_runtime.triggers` (lambdapress-runtime a member, as in this
repository), for `package` to discover, check and build; `HANDLERS` is the plain module their
handlers call, and the one the hand-built manifests' zips hold.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lambdapress.emulator._delivery import DeliveryRecord

# Plain standard library: the artifact is all a worker can import.
HANDLERS = """
import json
import os


def consume(event, context):
    # An SQS or stream batch: items that say "fail" are reported failed, "crash" fails it all.
    failures = []
    records = event["Records"]
    keys = [r["body"] if "body" in r else r["dynamodb"]["Keys"]["id"]["S"] for r in records]
    print("BATCH " + json.dumps(keys))
    for record in event["Records"]:
        if "body" in record:
            text, identifier = record["body"], record["messageId"]
        else:
            text = json.dumps(record["dynamodb"])
            identifier = record["dynamodb"]["SequenceNumber"]
        if "fail" in text:
            failures.append({"itemIdentifier": identifier})
        if "crash" in text:
            raise ValueError("crash in the batch")
    return {"batchItemFailures": failures, "event": event}


def echo(event, context):
    return {"event": event}


def environment(event, context):
    return {name: value for name, value in os.environ.items() if name.endswith(
        ("_QUEUE_URL", "_QUEUE_ARN", "_TOPIC_ARN", "_BUS_NAME", "_BUCKET_NAME"))
        or name.startswith("AWS_ENDPOINT_URL")}
"""

RUNTIME = Path(__file__).resolve().parents[2].parent / "lambdapress-runtime"
PROJECT = "acme"
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
runtime = "python3.11"
{settings}
[build-system]
requires = ["poetry-core>=2.0"]
build-backend = "poetry.core.masonry.api"
"""
# Each service: its `[tool.lambdapress]` settings, and its handler modules (a declaration, the
# HANDLERS function it calls). Four services, so a queue's visibility timeout can be short
# (at least its consumer's timeout, as package checks) and the schedules' and the topic's
# functions keep no data (`lambdapress trigger` needs no `db` for them).
DECLARED: dict[str, tuple[str, dict[str, str]]] = {
    "orders": (
        """
        [tool.lambdapress.topics.order-events]

        [tool.lambdapress.buses.orders]

        [tool.lambdapress.buckets.uploads]
        """,
        {
            "react": """
                @triggers.rule(
                    {"source": ["orders"], "detail": {"total": [{"numeric": [">", 100]}]}},
                    bus="orders",
                )
                def handler(event, context):
                    return echo(event, context)
                """,
            "load": """
                @triggers.s3("uploads", prefix="in/", suffix=".csv")
                def handler(event, context):
                    return echo(event, context)
                """,
        },
    ),
    "workers": (
        """
        timeout = 2

        [tool.lambdapress.queues.jobs]
        visibility_timeout = 2
        dead_letter = "jobs-dlq"
        max_receives = 2

        [tool.lambdapress.queues.jobs-dlq]
        """,
        {
            "consume": """
                @triggers.sqs("jobs", batch_size=2)
                def handler(event, context):
                    return consume(event, context)
                """,
            "notify": """
                @triggers.sns("orders/order-events", filter_policy={"type": ["OrderPlaced"]})
                def handler(event, context):
                    return echo(event, context)
                """,
            "publish": """
                ORDER_EVENTS = triggers.Topic("orders/order-events")


                def handler(event, context):
                    return {"arn": ORDER_EVENTS.arn, "environment": environment(event, context)}
                """,
        },
    ),
    "stock": (
        """
        [tool.lambdapress.storage]
        kind = "dynamodb"

        [tool.lambdapress.storage.tables.items]
        partition_key = "id"
        stream = "NEW_IMAGE"

        [tool.lambdapress.storage.tables.moves]
        partition_key = "id"
        stream = "KEYS_ONLY"
        """,
        {
            "items": """
                @triggers.dynamodb_stream(
                    "items", batch_size=3, starting_position="TRIM_HORIZON", max_retries=1
                )
                def handler(event, context):
                    return consume(event, context)
                """,
            "moves": """
                @triggers.dynamodb_stream(
                    "moves",
                    batch_size=4,
                    starting_position="TRIM_HORIZON",
                    bisect_on_error=True,
                    max_retries=0,
                )
                def handler(event, context):
                    return consume(event, context)
                """,
        },
    ),
    "jobs": (
        "",
        {
            "sweep": """
                @triggers.schedule("rate(1 minute)", input={"job": "sweep"})
                def handler(event, context):
                    return echo(event, context)
                """,
            "tick": """
                @triggers.schedule("rate(2 minutes)")
                def handler(event, context):
                    return echo(event, context)
                """,
            "off": """
                @triggers.schedule("rate(1 minute)", enabled=False)
                def handler(event, context):
                    return echo(event, context)
                """,
        },
    ),
}


def write_declared_workspace(root: Path) -> Path:
    """`DECLARED` as a uv workspace at `root` (project `acme`), lambdapress-runtime a member,
    locked; returns `root`."""
    shutil.copytree(
        RUNTIME,
        root / "tools" / "lambdapress-runtime",
        ignore=shutil.ignore_patterns("tests", "__pycache__", "dist", ".venv"),
    )
    files = {
        "pyproject.toml": '[tool.uv.workspace]\nmembers = ["services/*", "tools/*"]\n\n'
        f'[tool.lambdapress.deploy]\nproject = "{PROJECT}"\n',
    }
    for name, (settings, handlers) in DECLARED.items():
        source = f"services/{name}/src/{name}"
        files[f"services/{name}/pyproject.toml"] = SERVICE.format(
            name=name, settings=textwrap.dedent(settings)
        )
        files[f"{source}/__init__.py"] = ""
        files[f"{source}/behaviour.py"] = HANDLERS
        files[f"{source}/handlers/__init__.py"] = ""
        for module, code in handlers.items():
            header = (
                "from lambdapress_runtime import triggers\n"
                f"from {name}.behaviour import consume, echo, environment\n\n\n"
            )
            files[f"{source}/handlers/{module}.py"] = header + textwrap.dedent(code).lstrip("\n")
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.lstrip("\n"), encoding="utf-8")
    locked = subprocess.run(
        ["uv", "lock", "--quiet"], cwd=root, capture_output=True, text=True, check=False
    )
    assert locked.returncode == 0, locked.stderr
    return root


class Deliveries:
    """Every delivery a source reports, and a wait for the ones a test expects."""

    def __init__(self) -> None:
        self.records: list[DeliveryRecord] = []
        self._changed = threading.Condition()

    def __call__(self, record: Any) -> None:
        with self._changed:
            self.records.append(record)
            self._changed.notify_all()

    def wait(
        self, done: Callable[[list[DeliveryRecord]], bool], timeout: float = 20.0
    ) -> list[DeliveryRecord]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not done(self.records):
                left = deadline - time.monotonic()
                assert left > 0, f"deliveries so far: {[str(r) for r in self.records]}"
                self._changed.wait(min(left, 0.2))  # a condition may not be a delivery
            return list(self.records)

    def of(self, function: str) -> list[DeliveryRecord]:
        with self._changed:
            return [r for r in self.records if r.function == function]


def delivered_events(records: list[DeliveryRecord]) -> list[dict[str, Any]]:
    """The events the invocations received (the handlers send them back)."""
    return [r.result.response["event"] for r in records if r.result is not None and r.result.ok]


def batches(records: list[DeliveryRecord]) -> list[list[str]]:
    """What each invocation of `consume` was given (bodies or keys), failed ones included."""
    found = []
    for record in records:
        if record.result is None:
            continue
        for line in record.result.readable_logs().splitlines():
            if "BATCH " in line:
                found.append(json.loads(line.split("BATCH ", 1)[1]))
    return found
