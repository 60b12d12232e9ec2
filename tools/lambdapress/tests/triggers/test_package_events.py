"""`lambdapress package` with event sources: recorded in dist/manifest.json, refused at their line.

A real workspace (lambdapress-runtime a member, as in this repository), locked and packaged:
each function's triggers, uses and permissions reach the manifest, and read back as their kinds'
classes; an edited decorator changes what is planned and written, and a run after it changes
nothing; the issue's bad declarations fail `package` itself with the file, the line and the fix.
"""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from lambdapress.bundle.pipeline import package
from lambdapress.cli import main
from lambdapress.model.manifest import manifest_path, read_manifest
from lambdapress.model.permissions import resource_ref
from lambdapress.model.resources import SnsTopic, SqsQueue
from lambdapress.model.triggers import ScheduleTrigger, SqsTrigger
from lambdapress.triggers.sqs import CONSUMER_ACTIONS

RUNTIME = Path(__file__).resolve().parents[2].parent / "lambdapress-runtime"
WORKERS = """
[project]
name = "workers"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["lambdapress-runtime"]

[tool.poetry]
packages = [{ include = "workers", from = "src" }]

[tool.uv.sources]
lambdapress-runtime = { workspace = true }

[tool.lambdapress]
runtime = "python3.11"
timeout = 10

[tool.lambdapress.storage]
kind = "dynamodb"

[tool.lambdapress.storage.tables.stock]
partition_key = "sku"

[tool.lambdapress.queues.jobs]
visibility_timeout = 60
dead_letter = "failed"
max_receives = 3

[tool.lambdapress.queues.failed]

[tool.lambdapress.queues.ordered]
fifo = true
visibility_timeout = 60

[tool.lambdapress.topics.results]

[build-system]
requires = ["poetry-core>=2.0"]
build-backend = "poetry.core.masonry.api"
"""
DRAIN = """
from lambdapress_runtime import triggers

RESULTS = triggers.Topic("results")


@triggers.sqs("jobs", batch_size=5)
@triggers.schedule("rate(5 minutes)")
def handler(event, context):
    return {"batchItemFailures": []}
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "repo"
    shutil.copytree(
        RUNTIME,
        root / "tools" / "lambdapress-runtime",
        ignore=shutil.ignore_patterns("tests", "__pycache__", "dist"),
    )
    files = {
        "pyproject.toml": '[tool.uv.workspace]\nmembers = ["services/*", "tools/*"]\n',
        "services/workers/pyproject.toml": WORKERS,
        "services/workers/src/workers/__init__.py": "",
        "services/workers/src/workers/handlers/__init__.py": "",
        "services/workers/src/workers/handlers/drain.py": DRAIN,
    }
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(textwrap.dedent(text).lstrip("\n"))
    locked = subprocess.run(
        ["uv", "lock", "--quiet"], cwd=root, capture_output=True, text=True, check=False
    )
    assert locked.returncode == 0, locked.stderr
    return root


def drain(root: Path) -> Path:
    return root / "services/workers/src/workers/handlers/drain.py"


def test_the_manifest_lists_each_functions_triggers_uses_and_permissions(repo: Path) -> None:
    manifest = package(repo, jobs=1).manifest
    function = manifest.function("workers.drain")
    assert function.triggers == (
        ScheduleTrigger(expression="rate(5 minutes)"),
        SqsTrigger(queue="workers/sqs-queue/jobs", batch_size=5),
    )
    assert function.uses == ("workers/dynamodb-table/stock", "workers/sns-topic/results")
    granted = {(p.actions, p.resources) for p in function.permissions}
    assert (CONSUMER_ACTIONS, (resource_ref("workers/sqs-queue/jobs"),)) in granted
    assert (("sns:Publish",), (resource_ref("workers/sns-topic/results"),)) in granted
    assert not any("sqs:SendMessage" in p.actions for p in function.permissions)
    kinds = {r.id: type(r) for r in manifest.resources}
    assert kinds["workers/sqs-queue/jobs"] is SqsQueue
    assert kinds["workers/sns-topic/results"] is SnsTopic
    again = read_manifest(manifest_path(repo))
    assert again == manifest  # each trigger and resource read back as its kind's class


def test_an_edited_decorator_changes_the_plan_and_an_unchanged_run_changes_nothing(
    repo: Path,
) -> None:
    package(repo, jobs=1)
    module = drain(repo)
    module.write_text(module.read_text().replace("batch_size=5", "batch_size=7"))
    edited = package(repo, jobs=1)
    (sqs,) = edited.manifest.function("workers.drain").triggers_of(SqsTrigger)
    assert sqs.batch_size == 7
    assert read_manifest(manifest_path(repo)) == edited.manifest
    written = manifest_path(repo).stat()

    again = package(repo, jobs=1)
    assert [r.status for r in again.functions] == ["unchanged"]
    assert again.manifest == edited.manifest
    after = manifest_path(repo).stat()
    assert (after.st_mtime_ns, after.st_ino) == (written.st_mtime_ns, written.st_ino)


@pytest.mark.parametrize(
    ("where", "old", "new", "fix"),
    [
        (
            "services/workers/pyproject.toml",
            'dead_letter = "failed"',
            'dead_letter = "lost"',
            "declare the dead-letter queue: [tool.lambdapress.queues.lost]",
        ),
        (
            "services/workers/src/workers/handlers/drain.py",
            '@triggers.sqs("jobs", batch_size=5)',
            '@triggers.sqs("ordered", batch_window=5)',
            "remove batch_window",
        ),
        (
            "services/workers/src/workers/handlers/drain.py",
            '@triggers.schedule("rate(5 minutes)")',
            '@triggers.schedule("cron(0 12 * * MON)")',
            "EventBridge's cron has six fields: add the year (`*`) and use `?`",
        ),
        (
            "services/workers/src/workers/handlers/drain.py",
            '@triggers.schedule("rate(5 minutes)")',
            '@triggers.dynamodb_stream("stock")',
            'add stream = "NEW_AND_OLD_IMAGES"',
        ),
    ],
)
def test_a_bad_declaration_fails_package_with_the_file_line_and_fix(
    repo: Path, capsys: pytest.CaptureFixture[str], where: str, old: str, new: str, fix: str
) -> None:
    path = repo / where
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    line = next(n for n, s in enumerate(path.read_text().splitlines(), start=1) if new in s)

    assert main(["package", "--root", str(repo)]) == 1
    error = capsys.readouterr().err
    assert f"{path}:{line}: " in error, error
    assert f"fix: {fix}" in error, error
    assert "Traceback" not in error
    assert not (repo / "dist" / "manifest.json").exists()
