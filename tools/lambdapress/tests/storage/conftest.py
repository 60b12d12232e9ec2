"""A workspace with one service on each kind of storage, for `lambdapress db` and the emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lambdapress.config.workspace import Workspace, load_workspace

POSTGRES = """
[tool.lambdapress.storage]
kind = "postgres"
"""
DYNAMODB = """
[tool.lambdapress.storage]
kind = "dynamodb"

[tool.lambdapress.storage.tables.customers]
partition_key = "id"

[tool.lambdapress.storage.tables.events]
partition_key = "customer"
sort_key = "at"
"""
FIRST_MIGRATION = "CREATE TABLE orders (id text PRIMARY KEY, name text NOT NULL);\n"


@pytest.fixture
def workspace(builder: Any) -> Workspace:
    """orders on PostgreSQL (one migration), customers on DynamoDB (two tables), notes in memory."""
    return storage_workspace(builder)


@pytest.fixture
def reachable_workspace(builder: Any, postgres_reachable_tmp_path: Path) -> Workspace:
    """`workspace` in a folder the PostgreSQL server's user can enter (for `lambdapress db`)."""
    return storage_workspace(type(builder)(postgres_reachable_tmp_path / "repo"))


def storage_workspace(builder: Any) -> Workspace:
    builder.package("acme-models")
    orders = builder.service("orders", settings=POSTGRES)
    (orders / "migrations").mkdir()
    (orders / "migrations/0001_init.sql").write_text(FIRST_MIGRATION)
    builder.service("customers", settings=DYNAMODB)
    builder.service("notes")
    return load_workspace(builder.root)
