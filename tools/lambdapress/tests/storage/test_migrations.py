from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from lambdapress.errors import StorageError
from lambdapress.storage.migrations import (
    apply_migrations,
    create_database,
    find_migrations,
)
from lambdapress.storage.postgres import PostgresServer


def service_with(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "svc"
    (folder / "migrations").mkdir(parents=True)
    for name, sql in files.items():
        (folder / "migrations" / name).write_text(sql)
    return folder


def tables(url: str) -> list[str]:
    with psycopg.connect(url) as db:
        rows = db.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        ).fetchall()
    return [row[0] for row in rows]


def test_migrations_are_ordered_by_number_not_by_name(tmp_path: Path) -> None:
    folder = service_with(
        tmp_path, {"10_late.sql": "", "2_early.sql": "", "0001_first.sql": "", "README": "x"}
    )
    assert [m.version for m in find_migrations(folder)] == ["0001", "2", "10"]
    assert find_migrations(tmp_path / "no-such-service") == ()


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"init.sql": ""}, "is not named like a migration"),
        ({"0001_a.sql": "", "1_b.sql": ""}, "two migrations have the number 1"),
    ],
)
def test_badly_named_migrations_are_refused_with_the_fix(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    with pytest.raises(StorageError, match=message) as raised:
        find_migrations(service_with(tmp_path, files))
    assert raised.value.hint


def test_each_migration_is_applied_once_and_recorded(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    assert create_database(postgres_server.url(), "shop") is True
    assert create_database(postgres_server.url(), "shop") is False
    url = postgres_server.url("shop")
    folder = service_with(
        tmp_path,
        {
            "0001_init.sql": "CREATE TABLE items (id text PRIMARY KEY);",
            "0002_more.sql": "ALTER TABLE items ADD COLUMN n int; CREATE TABLE tags (t text);",
        },
    )
    first = apply_migrations(url, find_migrations(folder))
    again = apply_migrations(url, find_migrations(folder))

    assert (first.applied, first.already) == (("0001", "0002"), ())
    assert (again.applied, again.already) == ((), ("0001", "0002"))
    assert tables(url) == ["items", "lambdapress_migrations", "tags"]


def test_a_failing_migration_leaves_nothing_behind_and_names_its_file(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    create_database(postgres_server.url(), "shop")
    url = postgres_server.url("shop")
    folder = service_with(
        tmp_path,
        {
            "0001_init.sql": "CREATE TABLE items (id text PRIMARY KEY);",
            "0002_broken.sql": "CREATE TABLE half (x int); SELECT no_such_function();",
        },
    )
    failed = r"0002_broken\.sql failed and was rolled back"
    with pytest.raises(StorageError, match=failed) as raised:
        apply_migrations(url, find_migrations(folder))

    assert raised.value.path == folder / "migrations/0002_broken.sql"
    assert tables(url) == ["items", "lambdapress_migrations"]  # no "half"
    with psycopg.connect(url) as db:
        assert db.execute("SELECT version FROM lambdapress_migrations").fetchall() == [("0001",)]


def test_an_applied_migration_that_was_edited_is_refused(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    create_database(postgres_server.url(), "shop")
    url = postgres_server.url("shop")
    folder = service_with(tmp_path, {"0001_init.sql": "CREATE TABLE items (id text);"})
    apply_migrations(url, find_migrations(folder))
    (folder / "migrations/0001_init.sql").write_text("CREATE TABLE items (id int);")

    with pytest.raises(StorageError, match="was applied, and its file has changed"):
        apply_migrations(url, find_migrations(folder))


def test_an_unreachable_database_says_how_to_start_one(tmp_path: Path) -> None:
    from lambdapress.storage.local import free_port

    folder = service_with(tmp_path, {"0001_init.sql": "SELECT 1;"})
    url = f"postgresql://nobody@127.0.0.1:{free_port()}/none?connect_timeout=2"
    with pytest.raises(StorageError, match="cannot reach the database") as raised:
        apply_migrations(url, find_migrations(folder))
    assert "nox -s db" in (raised.value.hint or "")
