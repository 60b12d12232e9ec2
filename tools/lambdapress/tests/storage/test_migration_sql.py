"""Migration files read by PostgreSQL's parser: transaction control and statements that cannot
run in a transaction block are refused with their line; look-alikes in comments, strings and
function bodies are not. No server: `read_script` is pure."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdapress.errors import StorageError
from lambdapress.storage._migration_sql import MARKER, read_script

PATH = Path("/repo/services/orders/migrations/0002_change.sql")
PG15 = 150004


def refusal(text: str, server_version: int = PG15) -> StorageError:
    with pytest.raises(StorageError) as raised:
        read_script(PATH, text, server_version)
    assert raised.value.path == PATH
    assert raised.value.hint
    return raised.value


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ("BEGIN;\nCREATE TABLE a (x int);\nCOMMIT;\n", 1, "BEGIN"),
        (
            "CREATE TABLE a (x int);\n\nstart transaction isolation level serializable;",
            3,
            "START TRANSACTION",
        ),
        ("CREATE TABLE a (x int);\n-- done\ncommit;\n", 3, "COMMIT"),
        ("CREATE TABLE a (x int);\nEND;\n", 2, "COMMIT"),  # END is COMMIT
        ("CREATE TABLE a (x int);\n  abort;", 2, "ROLLBACK"),
        ("/* BEGIN; */\n-- COMMIT;\nCREATE TABLE a (x int);\n\nSAVEPOINT s;\n", 5, "SAVEPOINT"),
        ("CREATE TABLE a (x int); RELEASE SAVEPOINT s;", 1, "RELEASE SAVEPOINT"),
        ("SELECT 'x';\nSELECT 1;\nROLLBACK TO s;", 3, "ROLLBACK TO SAVEPOINT"),
        ("CREATE TABLE a (x int);\nPREPARE TRANSACTION 'p';", 2, "PREPARE TRANSACTION"),
    ],
)
def test_transaction_control_is_refused_with_its_line(text: str, line: int, what: str) -> None:
    error = refusal(text)
    assert error.line == line
    assert f"controls transactions itself ({what})" in error.message
    assert "one transaction of its own" in (error.hint or "")
    # ...in no-transaction mode too: lambdapress decides where transactions end.
    again = refusal(f"{MARKER}\n{text}")
    assert again.line == line + 1


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        (
            "CREATE TABLE a (x int);\nCREATE INDEX CONCURRENTLY a_x ON a (x);",
            2,
            "CREATE INDEX CONCURRENTLY",
        ),
        (
            "create unique index\n  concurrently if not exists a_x on a (x);",
            1,
            "CREATE INDEX CONCURRENTLY",
        ),
        ("SELECT 1;\nDROP INDEX CONCURRENTLY a_x;", 2, "DROP INDEX CONCURRENTLY"),
        ("SELECT 1;\nREINDEX INDEX CONCURRENTLY a_x;", 2, "REINDEX CONCURRENTLY"),
        ("SELECT 1;\n\nVACUUM (ANALYZE) a;", 3, "VACUUM"),
        ("CREATE DATABASE other;", 1, "CREATE DATABASE"),
        ("ALTER SYSTEM SET work_mem = '8MB';", 1, "ALTER SYSTEM"),
        ("ALTER TABLE a DETACH PARTITION a_2020 CONCURRENTLY;", 1, "DETACH PARTITION"),
        ("SELECT 1;\nDISCARD ALL;", 2, "DISCARD ALL"),
    ],
)
def test_statements_that_cannot_run_in_a_transaction_are_refused_unless_marked(
    text: str, line: int, what: str
) -> None:
    error = refusal(text)
    assert error.line == line
    assert what in error.message
    assert "cannot run inside a transaction block" in error.message
    assert MARKER in (error.hint or "")
    script = read_script(PATH, f"{MARKER}\n{text}", PG15)
    assert script.transactional is False
    assert [s.outside_transaction is not None for s in script.statements][-1] is True


def test_alter_type_add_value_needs_no_transaction_mode_before_postgresql_12() -> None:
    text = "ALTER TYPE mood ADD VALUE 'calm';"
    assert "before PostgreSQL 12" in refusal(text, server_version=110022).message
    assert read_script(PATH, text, PG15).statements[0].outside_transaction is None


@pytest.mark.parametrize(
    "text",
    [
        "SELECT 'BEGIN; COMMIT;';",
        "SELECT E'it\\'s; COMMIT; --';",
        "SELECT $tag$ COMMIT; $tag$;",
        'CREATE TABLE "begin" ("commit" int);',
        "-- BEGIN;\n/* COMMIT; /* nested */ ROLLBACK; */\nSELECT 1;",
        "DO $$\nBEGIN\n  RAISE NOTICE 'hi';\nEND\n$$;",
        "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $body$\nBEGIN\n  NULL;\nEND;\n"
        "$body$;",
        "CREATE FUNCTION one() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\nEND;",
        "SELECT 'CREATE INDEX CONCURRENTLY i ON a (x)';",
        "-- VACUUM;\nSELECT 1;",
        "",
        "-- only a comment\n",
    ],
)
def test_look_alikes_in_strings_comments_and_bodies_are_not_refused(text: str) -> None:
    script = read_script(PATH, text, PG15)
    assert script.transactional is True
    assert all(s.outside_transaction is None for s in script.statements)


def test_statements_keep_their_text_and_first_line() -> None:
    text = (
        "-- orders get a status\n"
        "ALTER TABLE orders\n  ADD COLUMN status text;\n\n"
        "/* backfill */ UPDATE orders SET status = 'new';\n"
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\nEND"
    )
    script = read_script(PATH, text, PG15)
    assert [(s.number, s.line) for s in script.statements] == [(1, 2), (2, 5), (3, 6)]
    assert script.statements[0].text == "ALTER TABLE orders\n  ADD COLUMN status text"
    assert script.statements[2].text.endswith("END")
    assert script.statements[0].sha256 != script.statements[1].sha256


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("SELECT 1;\nSELEC 2;", 2),
        ("CREATE TABLE a (x int);\n\\i other.sql\n", 2),  # a psql command is not SQL
        ("SELECT 1;\n\nSELECT 'never closed;", 3),
        ("SELECT $$ body;\n", 1),
        ("SELECT 'é';\nCREATE TABLE (;", 2),
    ],
)
def test_sql_the_parser_cannot_read_is_refused_with_its_line(text: str, line: int) -> None:
    error = refusal(text)
    assert "PostgreSQL's parser cannot read 0002_change.sql" in error.message
    assert error.line == line
    assert "nothing was applied" in (error.hint or "")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (f"SELECT 1;\n{MARKER}\n", 2, "must be the file's first line"),
        ("-- lambdapress: notransaction\nSELECT 1;", 1, "unknown lambdapress directive"),
        ("SELECT 1;\n--lambdapress:no-transaction", 2, "must be the file's first line"),
    ],
)
def test_a_misplaced_or_misspelt_marker_is_refused(text: str, line: int, message: str) -> None:
    error = refusal(text)
    assert message in error.message
    assert error.line == line


def test_the_marker_may_be_spaced_and_cased_freely_on_the_first_line() -> None:
    for first in (MARKER, "--lambdapress:no-transaction", "--  LambdaPress :  No-Transaction  "):
        assert read_script(PATH, f"{first}\nSELECT 1;", PG15).transactional is False
    in_a_string = "SELECT '\n-- lambdapress: no-transaction\n';"
    assert read_script(PATH, in_a_string, PG15).transactional is True
