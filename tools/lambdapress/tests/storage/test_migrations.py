from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from lambdapress.errors import StorageError
from lambdapress.storage._migration_sql import MARKER
from lambdapress.storage.migrations import (
    apply_migrations,
    create_database,
    find_migrations,
)
from lambdapress.storage.postgres import PostgresServer
from lambdapress.storage.pytest_plugin import temporary_postgres

_databases = itertools.count(1)


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    """One real server for the module (initdb costs seconds); each test has its own database."""
    with temporary_postgres() as running:
        yield running


@pytest.fixture
def shop(server: PostgresServer) -> str:
    """A new, empty database on `server`: its URL."""
    name = f"shop_{next(_databases)}"
    assert create_database(server.url(), name) is True
    return server.url(name)


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
    tmp_path: Path, server: PostgresServer, shop: str
) -> None:
    assert create_database(server.url(), "made_once") is True
    assert create_database(server.url(), "made_once") is False
    url = shop
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
    tmp_path: Path, shop: str
) -> None:
    url = shop
    folder = service_with(
        tmp_path,
        {
            "0001_init.sql": "CREATE TABLE items (id text PRIMARY KEY);",
            "0002_broken.sql": "CREATE TABLE half (x int); SELECT no_such_function();",
        },
    )
    failed = r"0002_broken\.sql failed at line 1 and was rolled back: none of its statements"
    with pytest.raises(StorageError, match=failed) as raised:
        apply_migrations(url, find_migrations(folder))

    assert raised.value.path == folder / "migrations/0002_broken.sql"
    assert raised.value.line == 1
    assert "applied before it in this run: 0001" in raised.value.message
    assert tables(url) == ["items", "lambdapress_migrations"]  # no "half"
    with psycopg.connect(url) as db:
        assert db.execute("SELECT version FROM lambdapress_migrations").fetchall() == [("0001",)]


def test_an_applied_migration_that_was_edited_is_refused(tmp_path: Path, shop: str) -> None:
    url = shop
    folder = service_with(tmp_path, {"0001_init.sql": "CREATE TABLE items (id text);"})
    apply_migrations(url, find_migrations(folder))
    (folder / "migrations/0001_init.sql").write_text("CREATE TABLE items (id int);")

    with pytest.raises(StorageError, match="was applied, and its file has changed"):
        apply_migrations(url, find_migrations(folder))


def test_an_unreachable_database_says_how_to_start_one(tmp_path: Path) -> None:
    from lambdapress.support.loopback import free_port

    folder = service_with(tmp_path, {"0001_init.sql": "SELECT 1;"})
    url = f"postgresql://nobody@127.0.0.1:{free_port()}/none?connect_timeout=2"
    with pytest.raises(StorageError, match="cannot reach the database") as raised:
        apply_migrations(url, find_migrations(folder))
    assert "nox -s db" in (raised.value.hint or "")


def recorded(url: str) -> tuple[list[str], list[tuple[str, int, int]]]:
    """The recorded migrations, and the recorded statements of no-transaction ones."""
    with psycopg.connect(url) as db:
        versions = db.execute("SELECT version FROM lambdapress_migrations ORDER BY 1").fetchall()
        exists = db.execute("SELECT to_regclass('lambdapress_migration_steps')").fetchone()
        steps = (
            db.execute(
                "SELECT version, statement, line FROM lambdapress_migration_steps ORDER BY 1, 2"
            ).fetchall()
            if exists != (None,)
            else []
        )
    return [v[0] for v in versions], [(v, n, line) for v, n, line in steps]


@pytest.mark.parametrize(
    ("sql", "line", "message"),
    [
        # The example: its own COMMIT, then a failure. It used to be half applied
        # while the tool said "rolled back".
        (
            "BEGIN;\nCREATE TABLE half (x int);\nCOMMIT;\nSELECT no_such_function();",
            1,
            "controls transactions itself (BEGIN)",
        ),
        ("CREATE TABLE half (x int);\nCOMMIT;\nCREATE TABLE more (y int);", 2, "(COMMIT)"),
        (
            "CREATE TABLE half (x int);\nCREATE INDEX CONCURRENTLY h ON half (x);",
            2,
            "CREATE INDEX CONCURRENTLY cannot run inside a transaction block",
        ),
        ("CREATE TABLE half (x int);\nSELEC 1;", 2, "PostgreSQL's parser cannot read"),
    ],
)
def test_a_refused_file_is_refused_before_any_migration_is_applied(
    tmp_path: Path, shop: str, sql: str, line: int, message: str
) -> None:
    url = shop
    folder = service_with(
        tmp_path,
        {"0001_init.sql": "CREATE TABLE items (id text PRIMARY KEY);", "0002_bad.sql": sql},
    )
    with pytest.raises(StorageError, match=re.escape(message)) as raised:
        apply_migrations(url, find_migrations(folder))

    assert (raised.value.path, raised.value.line) == (folder / "migrations/0002_bad.sql", line)
    assert tables(url) == ["lambdapress_migrations"]
    assert recorded(url) == ([], [])


def test_a_failing_statement_is_named_by_its_line_and_nothing_of_the_file_stays(
    tmp_path: Path, shop: str
) -> None:
    url = shop
    folder = service_with(
        tmp_path,
        {
            "0001_init.sql": "CREATE TABLE items (id text PRIMARY KEY);",
            "0002_more.sql": "CREATE TABLE tags (t text);",
            "0003_broken.sql": "-- a comment\nCREATE TABLE half (x int);\n\n"
            "INSERT INTO half\n  SELECT no_such_column FROM items;\nCREATE TABLE never (y int);",
        },
    )
    with pytest.raises(StorageError) as raised:
        apply_migrations(url, find_migrations(folder))

    error = raised.value
    assert error.line == 5  # the error's position, inside the statement that starts on line 4
    assert "0003_broken.sql failed at line 5 and was rolled back" in error.message
    assert "applied before it in this run: 0001, 0002" in error.message
    assert tables(url) == ["items", "lambdapress_migrations", "tags"]
    assert recorded(url) == (["0001", "0002"], [])


NO_TRANSACTION_FILE = """-- lambdapress: no-transaction
CREATE TABLE events (id int, kind text);

INSERT INTO events VALUES (1, 'a'), (2, 'a');
CREATE UNIQUE INDEX CONCURRENTLY events_kind ON events (kind);
CREATE TABLE after_index (x int);
"""


def test_a_no_transaction_migration_records_each_statement_and_resumes_after_a_fix(
    tmp_path: Path, shop: str
) -> None:
    url = shop
    folder = service_with(
        tmp_path,
        {
            "0001_init.sql": "CREATE TABLE items (id text PRIMARY KEY);",
            "0002_events.sql": NO_TRANSACTION_FILE,
        },
    )
    # 1. The unique index fails on duplicates: statements 1 and 2 stay applied and recorded,
    # statement 4 never ran, and the error says exactly that.
    with pytest.raises(StorageError) as raised:
        apply_migrations(url, find_migrations(folder))
    error = raised.value
    assert error.line == 5
    assert (
        "0002_events.sql (no-transaction) stopped: statement 3 of 4 (CREATE UNIQUE INDEX "
        "CONCURRENTLY events_kind ON events (kind)) failed and was not applied"
    ) in error.message
    assert "applied and recorded: statements 1 and 2 (lines 2 and 4)" in error.message
    assert "not run: statement 4 (line 6)" in error.message
    assert "applied before it in this run: 0001" in error.message
    assert "invalid index" in (error.hint or "")
    assert recorded(url) == (["0001"], [("0002", 1, 2), ("0002", 2, 4)])
    assert tables(url) == [
        "events", "items", "lambdapress_migration_steps", "lambdapress_migrations"
    ]  # fmt: skip

    # 2. Changing an applied statement is refused: it is in the database as it was.
    path = folder / "migrations/0002_events.sql"
    path.write_text(NO_TRANSACTION_FILE.replace("(2, 'a')", "(2, 'b')"))
    with pytest.raises(StorageError, match=r"statement 2 of 0002_events\.sql was applied") as again:
        apply_migrations(url, find_migrations(folder))
    assert again.value.line == 4

    # 3. Fixed after the applied statements: those are skipped (running CREATE TABLE events
    # again would fail), the rest run, and the migration is recorded.
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("DROP INDEX IF EXISTS events_kind")  # the invalid index the failure left
    path.write_text(NO_TRANSACTION_FILE.replace("UNIQUE INDEX", "INDEX"))
    report = apply_migrations(url, find_migrations(folder))

    assert (report.applied, report.already) == (("0002",), ("0001",))
    assert report.applied_text() == (
        "0002 (no-transaction: 2 statements after 2 applied by an earlier run, one by one)"
    )
    assert recorded(url) == (
        ["0001", "0002"],
        [("0002", 1, 2), ("0002", 2, 4), ("0002", 3, 5), ("0002", 4, 6)],
    )
    with psycopg.connect(url) as db:
        valid = db.execute(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'events_kind'::regclass"
        ).fetchone()
    assert valid == (True,)
    assert apply_migrations(url, find_migrations(folder)).already == ("0001", "0002")


def test_a_no_transaction_migration_that_completes_reports_its_statements(
    tmp_path: Path, shop: str
) -> None:
    url = shop
    folder = service_with(
        tmp_path,
        {
            "0001_init.sql": "CREATE TABLE items (id text PRIMARY KEY, n int);",
            "0002_index.sql": f"{MARKER}\nCREATE INDEX CONCURRENTLY items_n ON items (n);\n"
            "VACUUM items;",
            "0003_more.sql": "ALTER TABLE items ADD COLUMN note text;",
        },
    )
    report = apply_migrations(url, find_migrations(folder))
    assert report.applied == ("0001", "0002", "0003")
    assert report.applied_text() == "0001, 0002 (no-transaction: 2 statements, one by one), 0003"
    assert recorded(url) == (["0001", "0002", "0003"], [("0002", 1, 2), ("0002", 2, 3)])
