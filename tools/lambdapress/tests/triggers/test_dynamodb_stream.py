"""DynamoDB Streams: `@triggers.dynamodb_stream` on a table of the service's own storage."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdapress.model.permissions import stream_ref
from lambdapress.model.triggers import DynamoDBStreamTrigger
from lambdapress.triggers.dynamodb_stream import KIND, STREAM_ACTIONS

from .events import HANDLER, IMPORT, Repo, line_of, refused

TABLES = """
[tool.lambdapress.storage]
kind = "dynamodb"
[tool.lambdapress.storage.tables.stock]
partition_key = "sku"
stream = "NEW_AND_OLD_IMAGES"
[tool.lambdapress.storage.tables.audit]
partition_key = "id"
"""


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")


def test_a_stream_trigger_reads_only_its_tables_stream(repo: Repo) -> None:
    arguments = '"stock", starting_position="TRIM_HORIZON", bisect_on_error=True'
    source = IMPORT + f"@triggers.dynamodb_stream({arguments})" + HANDLER
    repo.service("inventory", TABLES, watch=source)
    (trigger,) = repo.function("inventory.watch").triggers
    assert trigger == DynamoDBStreamTrigger(
        table="inventory/dynamodb-table/stock",
        starting_position="TRIM_HORIZON",
        bisect_on_error=True,
    )
    (permission,) = KIND.permissions("inventory.watch", trigger)
    assert permission.actions == STREAM_ACTIONS
    assert permission.resources == (stream_ref("inventory/dynamodb-table/stock"),)


def test_a_table_without_a_stream_fails_with_its_key_in_the_fix(repo: Repo) -> None:
    repo.service(
        "inventory", TABLES, watch=IMPORT + '\n@triggers.dynamodb_stream("audit")' + HANDLER
    )
    pyproject = repo.pyproject("inventory")
    error = refused(repo, repo.module("inventory", "watch"), 3, fix='stream = "NEW_AND_OLD_IMAGES"')
    where = f"[tool.lambdapress.storage.tables.audit] in {pyproject}:"
    assert where + str(line_of(pyproject, "tables.audit")) in (error.hint or "")


def test_a_table_the_service_does_not_declare_is_refused(repo: Repo) -> None:
    repo.service(
        "inventory", TABLES, watch=IMPORT + '@triggers.dynamodb_stream("stocks")' + HANDLER
    )
    error = refused(repo, repo.module("inventory", "watch"), 2, fix="name one of its tables")
    assert "(its tables: audit, stock)" in error.message


def test_a_service_without_dynamodb_storage_is_told_so(repo: Repo) -> None:
    repo.service("inventory", watch=IMPORT + '@triggers.dynamodb_stream("stock")' + HANDLER)
    refused(repo, repo.module("inventory", "watch"), 2, fix='kind = "dynamodb"', message="memory")


def test_another_services_table_is_refused(repo: Repo) -> None:
    repo.service("inventory", TABLES)
    repo.service("audit", watch=IMPORT + '@triggers.dynamodb_stream("inventory/stock")' + HANDLER)
    refused(repo, repo.module("audit", "watch"), 2, fix="move this handler to service inventory")
