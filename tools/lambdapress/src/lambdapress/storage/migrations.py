"""A service's schema as plain SQL files, applied in order, each once, each in a transaction.

    services/orders/migrations/0001_init.sql
    services/orders/migrations/0002_add_status.sql

A migration's version is its file name up to the first `_` (`0001`); files are applied in the
order of those versions, and every applied one is recorded in `lambdapress_migrations` with
the SHA-256 of its text, in the same transaction as the migration itself: a failing file leaves
neither half its changes nor a record behind. A recorded migration whose file changed since is
refused (edit history by adding a file, never by rewriting one). Plain SQL needs no migration
framework in the service, and the same files can be run by hand with `psql -1 -f`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lambdapress.errors import StorageError

if TYPE_CHECKING:
    import psycopg

MIGRATIONS_FOLDER = "migrations"
RECORD_TABLE = "lambdapress_migrations"  # a constant: the only name put into SQL text
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
class MigrationReport:
    """What one run did to one database."""

    applied: tuple[str, ...]
    already: tuple[str, ...]


def apply_migrations(url: str, migrations: tuple[Migration, ...]) -> MigrationReport:
    """Apply the migrations `url`'s database has not recorded yet, each in its own transaction."""
    import psycopg

    applied: list[str] = []
    already: list[str] = []
    try:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(
                f"CREATE TABLE IF NOT EXISTS {RECORD_TABLE} ("
                "version text PRIMARY KEY, sha256 text NOT NULL, "
                "applied_at timestamptz NOT NULL DEFAULT now())"
            )
            recorded: dict[str, str] = dict(
                connection.execute(f"SELECT version, sha256 FROM {RECORD_TABLE}").fetchall()  # noqa: S608
            )
            for migration in migrations:
                if migration.version in recorded:
                    _check_unchanged(migration, recorded[migration.version])
                    already.append(migration.version)
                    continue
                _apply_one(connection, migration)
                applied.append(migration.version)
    except psycopg.OperationalError as error:
        raise StorageError(
            f"cannot reach the database to migrate it: {_first_line(error)}",
            hint="start the local servers with `nox -s db` (or check the URL)",
        ) from None
    return MigrationReport(tuple(applied), tuple(already))


def _apply_one(connection: psycopg.Connection[Any], migration: Migration) -> None:
    import psycopg

    try:
        with connection.transaction():
            connection.execute(migration.sql.encode())
            connection.execute(
                f"INSERT INTO {RECORD_TABLE} (version, sha256) VALUES (%s, %s)",  # noqa: S608
                (migration.version, migration.sha256),
            )
    except psycopg.Error as error:
        raise StorageError(
            f"migration {migration.path.name} failed and was rolled back: {_first_line(error)}",
            path=migration.path,
            hint="fix the SQL and run `lambdapress db --migrate` again",
        ) from None


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
