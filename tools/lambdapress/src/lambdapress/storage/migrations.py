"""A service's schema as plain SQL files, applied in order, each once, each in a transaction.

    services/orders/migrations/0001_init.sql
    services/orders/migrations/0002_add_status.sql

A migration's version is its file name up to the first `_` (`0001`); files are applied in the
order of those versions, and every applied one is recorded in `lambdapress_migrations` with
the SHA-256 of its text, in the same transaction as the migration itself: a failing file leaves
neither half its changes nor a record behind. A recorded migration whose file changed since is
refused (edit history by adding a file, never by rewriting one). Plain SQL needs no migration
framework in the service, and the same files can be run by hand with `psql -1 -f`.

Every pending file is read by PostgreSQL's parser first (`migration_sql`): a file that manages
transactions itself, or holds a statement that cannot run in a transaction block, is refused
with its line before anything is applied. A file whose first line is
`-- lambdapress: no-transaction` runs statement by statement: each one that may run in a
transaction runs in its own, together with its row in `lambdapress_migration_steps`; one that
may not (`CREATE INDEX CONCURRENTLY`) runs alone and is recorded right after. A failure then
stops the file; the error lists the statements applied and those not run, and the next run
skips the recorded ones (refusing any that changed since) and goes on from the failed one.

The pipeline: connect -> record tables -> what is recorded -> read every pending file
(refusals here change nothing) -> apply each, in order.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lambdapress.errors import StorageError
from lambdapress.storage._migration_sql import MigrationScript, Statement, read_script

if TYPE_CHECKING:
    import psycopg

MIGRATIONS_FOLDER = "migrations"
# Constants: the only names put into SQL text.
RECORD_TABLE = "lambdapress_migrations"
STEPS_TABLE = "lambdapress_migration_steps"
_NAME = re.compile(r"^(?P<version>\d+)_(?P<title>[A-Za-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    """One SQL file of a service."""

    version: str
    path: Path
    sha256: str

    @property
    def sql(self) -> str:
        """The file's statements."""
        return self.path.read_text(encoding="utf-8")


def find_migrations(service_folder: Path) -> tuple[Migration, ...]:
    """The service's migrations, in order; an empty tuple when it has no migrations folder."""
    folder = service_folder / MIGRATIONS_FOLDER
    if not folder.is_dir():
        return ()
    found: dict[int, Migration] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix != ".sql":
            continue
        match = _NAME.match(path.name)
        if match is None:
            raise StorageError(
                f"{path.name} is not named like a migration",
                path=path,
                hint="name it NNNN_what_it_does.sql (e.g. 0002_add_status.sql)",
            )
        number = int(match["version"])
        if number in found:
            raise StorageError(
                f"two migrations have the number {number}: {found[number].path.name} and "
                f"{path.name}",
                path=path,
                hint="give the newer one the next free number",
            )
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        found[number] = Migration(match["version"], path, digest)
    return tuple(found[number] for number in sorted(found))


@dataclass(frozen=True)
class AppliedMigration:
    """One migration this run applied, and how."""

    version: str
    name: str
    transactional: bool
    statements: int
    """The statements this run applied."""
    earlier: int = 0
    """No-transaction mode: statements an earlier, stopped run had applied (skipped now)."""

    def describe(self) -> str:
        """`0002`, or `0003 (no-transaction: 2 statements, one by one)`."""
        if self.transactional:
            return self.version
        text = f"{self.version} (no-transaction: {_count(self.statements, 'statement')}"
        if self.earlier:
            text += f" after {self.earlier} applied by an earlier run"
        return text + ", one by one)"


@dataclass(frozen=True)
class MigrationReport:
    """What one run did to one database."""

    applied: tuple[str, ...]
    already: tuple[str, ...]
    details: tuple[AppliedMigration, ...] = ()

    def applied_text(self) -> str:
        """The migrations applied now, each as `AppliedMigration.describe` says it."""
        return ", ".join(a.describe() for a in self.details) or ", ".join(self.applied)


def apply_migrations(url: str, migrations: tuple[Migration, ...]) -> MigrationReport:
    """Apply the migrations `url`'s database has not recorded yet, each in its own transaction.

    Every pending file is parsed and checked before the first one is applied, so a refused
    file changes nothing. A failure names what this run applied before it.
    """
    import psycopg

    try:
        connection = psycopg.connect(url, autocommit=True)
    except psycopg.OperationalError as error:
        raise StorageError(
            f"cannot reach the database to migrate it: {_first_line(error)}",
            hint="start the local servers with `nox -s db` (or check the URL)",
        ) from None
    with connection:
        recorded = _read_records(connection)
        already: list[str] = []
        pending: list[Migration] = []
        for migration in migrations:
            if migration.version in recorded:
                _check_unchanged(migration, recorded[migration.version])
                already.append(migration.version)
            else:
                pending.append(migration)
        server_version = connection.info.server_version
        scripts = [(m, read_script(m.path, m.sql, server_version)) for m in pending]
        steps = _recorded_steps(connection, [m.version for m, s in scripts if not s.transactional])
        for migration, script in scripts:
            if not script.transactional:
                _check_resumable(migration, script, steps.get(migration.version, {}))
        applied: list[AppliedMigration] = []
        for migration, script in scripts:
            if script.transactional:
                applied.append(_apply_in_transaction(connection, migration, script, applied))
            else:
                earlier = len(steps.get(migration.version, {}))
                applied.append(_apply_stepwise(connection, migration, script, earlier, applied))
    return MigrationReport(tuple(a.version for a in applied), tuple(already), tuple(applied))


def _read_records(connection: psycopg.Connection[Any]) -> dict[str, str]:
    """Create the record table if needed; the recorded migrations' versions and digests."""
    import psycopg

    try:
        connection.execute(
            f"CREATE TABLE IF NOT EXISTS {RECORD_TABLE} ("
            "version text PRIMARY KEY, sha256 text NOT NULL, "
            "applied_at timestamptz NOT NULL DEFAULT now())"
        )
        rows = connection.execute(f"SELECT version, sha256 FROM {RECORD_TABLE}").fetchall()  # noqa: S608
    except psycopg.Error as error:
        raise StorageError(
            f"cannot read the migration records ({RECORD_TABLE}): {_first_line(error)}",
            hint="check that the database URL's user may create tables in it",
        ) from None
    return dict(rows)


def _recorded_steps(
    connection: psycopg.Connection[Any], versions: list[str]
) -> dict[str, dict[int, str]]:
    """The statements earlier runs applied of these no-transaction migrations.

    Their table is made the first time a no-transaction migration is pending: a database that
    never had one does not get it.
    """
    if not versions:
        return {}
    connection.execute(
        f"CREATE TABLE IF NOT EXISTS {STEPS_TABLE} ("
        "version text NOT NULL, statement integer NOT NULL, line integer NOT NULL, "
        "sha256 text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), "
        "PRIMARY KEY (version, statement))"
    )
    rows = connection.execute(
        f"SELECT version, statement, sha256 FROM {STEPS_TABLE} WHERE version = ANY(%s)",  # noqa: S608
        (versions,),
    ).fetchall()
    found: dict[str, dict[int, str]] = {}
    for version, number, digest in rows:
        found.setdefault(version, {})[number] = digest
    return found


def _check_resumable(migration: Migration, script: MigrationScript, steps: dict[int, str]) -> None:
    """The statements an earlier run applied must still be the file's first ones, unchanged."""
    statements = script.statements
    for number in sorted(steps):
        statement = statements[number - 1] if 0 < number <= len(statements) else None
        if statement is None or statement.sha256 != steps[number] or number > len(steps):
            line = statement.line if statement is not None else None
            raise StorageError(
                f"statement {number} of {migration.path.name} was applied by an earlier run "
                "that stopped, and the file no longer has it as it was",
                path=migration.path,
                line=line,
                hint="restore the statements that were applied; only those after them may "
                "change until the migration is complete",
            )


def _apply_in_transaction(
    connection: psycopg.Connection[Any],
    migration: Migration,
    script: MigrationScript,
    done: list[AppliedMigration],
) -> AppliedMigration:
    """Every statement and the record in one transaction: all of it, or none of it."""
    import psycopg

    current: Statement | None = None
    try:
        with connection.transaction():
            for statement in script.statements:
                current = statement
                connection.execute(statement.text.encode())
            current = None
            connection.execute(
                f"INSERT INTO {RECORD_TABLE} (version, sha256) VALUES (%s, %s)",  # noqa: S608
                (migration.version, migration.sha256),
            )
    except psycopg.Error as error:
        name = migration.path.name
        if current is None and connection.broken:  # the connection died at COMMIT
            raise StorageError(
                f"the connection to the database failed while committing migration {name}: "
                f"whether it was applied is unknown ({_first_line(error)}){_before(done)}",
                path=migration.path,
                hint="run `lambdapress db --migrate` again: it reports the migration as "
                "applied if the commit went through, and applies it otherwise",
            ) from None
        line = _error_line(current, error)
        where = f" at line {line}" if line is not None else " when committing"
        raise StorageError(
            f"migration {name} failed{where} and was rolled back: none of its statements was "
            f"applied: {_first_line(error)}{_before(done)}",
            path=migration.path,
            line=line,
            hint="fix the SQL and run `lambdapress db --migrate` again",
        ) from None
    return AppliedMigration(migration.version, migration.path.name, True, len(script.statements))


def _apply_stepwise(
    connection: psycopg.Connection[Any],
    migration: Migration,
    script: MigrationScript,
    earlier: int,
    done: list[AppliedMigration],
) -> AppliedMigration:
    """No-transaction mode: each statement applied and recorded before the next one runs."""
    import psycopg

    for statement in script.statements[earlier:]:
        ran = False
        try:
            if statement.outside_transaction is None:
                with connection.transaction():  # the statement and its record together
                    connection.execute(statement.text.encode())
                    _record_step(connection, migration, statement)
            else:  # cannot run in a transaction: applied, then recorded
                connection.execute(statement.text.encode())
                ran = True
                _record_step(connection, migration, statement)
        except psycopg.Error as error:
            raise _stopped(migration, script, statement, error, ran, done) from None
    try:
        connection.execute(
            f"INSERT INTO {RECORD_TABLE} (version, sha256) VALUES (%s, %s)",  # noqa: S608
            (migration.version, migration.sha256),
        )
    except psycopg.Error as error:
        raise StorageError(
            f"every statement of {migration.path.name} was applied and recorded in "
            f"{STEPS_TABLE}, but the migration itself could not be recorded: "
            f"{_first_line(error)}{_before(done)}",
            path=migration.path,
            hint="run `lambdapress db --migrate` again: it skips the recorded statements and "
            "records the migration",
        ) from None
    total = len(script.statements)
    return AppliedMigration(migration.version, migration.path.name, False, total - earlier, earlier)


def _record_step(
    connection: psycopg.Connection[Any], migration: Migration, statement: Statement
) -> None:
    connection.execute(
        f"INSERT INTO {STEPS_TABLE} (version, statement, line, sha256) VALUES (%s, %s, %s, %s)",  # noqa: S608
        (migration.version, statement.number, statement.line, statement.sha256),
    )


def _stopped(
    migration: Migration,
    script: MigrationScript,
    failed: Statement,
    error: Exception,
    ran: bool,
    done: list[AppliedMigration],
) -> StorageError:
    """The error of a no-transaction migration that stopped: what is applied, what is not."""
    name, total = migration.path.name, len(script.statements)
    applied = script.statements[: failed.number - 1]
    not_run = script.statements[failed.number :]
    if ran:  # the statement went through; its record did not
        state = "was applied, but could not be recorded"
        hint = (  # a message, not a query: the user runs it by hand
            "the next run would apply it again: record it by hand (INSERT INTO "  # noqa: S608
            f"{STEPS_TABLE} (version, statement, line, sha256) VALUES ('{migration.version}', "
            f"{failed.number}, {failed.line}, '{failed.sha256}')), then run `lambdapress db "
            "--migrate` again"
        )
    else:
        state = "failed and was not applied"
        hint = (
            f"fix statement {failed.number} and run `lambdapress db --migrate` again: the "
            "statements already applied are skipped, the rest run from it"
        )
        if failed.outside_transaction == "CREATE INDEX CONCURRENTLY":
            hint += (
                " (a failed CREATE INDEX CONCURRENTLY may leave an invalid index behind: "
                "drop it first, or write IF NOT EXISTS)"
            )
    line = _error_line(failed, error) or failed.line
    return StorageError(
        f"migration {name} (no-transaction) stopped: statement {failed.number} of {total} "
        f"({failed.summary}) {state}: {_first_line(error)}; applied and recorded: "
        f"{_statements(applied)}; not run: {_statements(not_run)}{_before(done)}",
        path=migration.path,
        line=line,
        hint=hint,
    )


def _statements(statements: tuple[Statement, ...]) -> str:
    if not statements:
        return "none"
    first, last = statements[0], statements[-1]
    if first is last:
        return f"statement {first.number} (line {first.line})"
    if len(statements) == 2:
        return f"statements {first.number} and {last.number} (lines {first.line} and {last.line})"
    return f"statements {first.number} to {last.number} (lines {first.line}-{last.line})"


def _error_line(statement: Statement | None, error: Exception) -> int | None:
    """The file line PostgreSQL's error points at, else the statement's first line."""
    if statement is None:
        return None
    position = getattr(getattr(error, "diag", None), "statement_position", None)
    if position and position.isdigit():
        return statement.line + statement.text[: int(position) - 1].count("\n")
    return statement.line


def _before(done: list[AppliedMigration]) -> str:
    if not done:
        return ""
    return "; applied before it in this run: " + ", ".join(a.describe() for a in done)


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}" + ("" if number == 1 else "s")


def _check_unchanged(migration: Migration, recorded_sha256: str) -> None:
    if recorded_sha256 != migration.sha256:
        raise StorageError(
            f"migration {migration.path.name} was applied, and its file has changed since",
            path=migration.path,
            hint="restore the file and put the change in a new migration (the next number)",
        )


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def create_database(admin_url: str, name: str) -> bool:
    """Create database `name` unless it exists; True when it was created now."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if exists:
            return False
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return True
