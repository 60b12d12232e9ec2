"""A migration file read as PostgreSQL reads it: its statements, lines and transaction needs.

lambdapress runs a migration in one transaction of its own, so a file must neither manage
transactions itself (`BEGIN`, `COMMIT`, `ROLLBACK`, `SAVEPOINT`, ...: a failure after its own
`COMMIT` would leave it half applied) nor contain a statement PostgreSQL refuses inside a
transaction block (`CREATE INDEX CONCURRENTLY`, `VACUUM`, ...). Such a file is refused, with
its line and the fix, before anything is applied. A file whose first line is

    -- lambdapress: no-transaction

runs statement by statement instead, each recorded as it is applied (see `migrations.py`);
transaction control is refused there too: lambdapress decides where transactions end.

The statements are found by PostgreSQL's own parser (libpg_query, through pglast), never by
splitting on `;`: comments, quoted strings, dollar-quoted function bodies and `BEGIN ATOMIC`
bodies are read exactly as the server reads them, so a `COMMIT` inside a string or a function
body is no transaction control, and a syntax error is reported with its line before anything
is applied. The parser is PostgreSQL 18's; a server of another version reads the same SQL the
same way for everything a migration does (a statement only a newer server knows fails there,
inside the transaction, and is rolled back).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lambdapress.errors import StorageError

if TYPE_CHECKING:
    from pglast import ast

NO_TRANSACTION = "no-transaction"
MARKER = f"-- lambdapress: {NO_TRANSACTION}"
_DIRECTIVE = re.compile(r"^--\s*lambdapress\s*:\s*(?P<directive>.*?)\s*$", re.IGNORECASE)
# PostgreSQL 12 lets ALTER TYPE ... ADD VALUE run inside a transaction block.
_ENUM_IN_TRANSACTION_SINCE = 120000
_FIX_CONTROL = (
    "remove the transaction control: lambdapress runs each migration in one transaction of "
    "its own (and in no-transaction mode, each statement in its own)"
)


@dataclass(frozen=True)
class Statement:
    """One statement of a migration file."""

    number: int
    """1 for the file's first statement."""
    line: int
    """The line of the file it starts on."""
    text: str
    outside_transaction: str | None
    """What makes PostgreSQL refuse it inside a transaction block (`CREATE INDEX
    CONCURRENTLY`), or None."""

    @property
    def sha256(self) -> str:
        """The digest that records it in no-transaction mode."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def summary(self) -> str:
        """Its first line, shortened: how messages name it."""
        first = self.text.strip().splitlines()[0] if self.text.strip() else ""
        return first if len(first) <= 72 else first[:69] + "..."


@dataclass(frozen=True)
class MigrationScript:
    """A migration file's statements and how they are run."""

    path: Path
    statements: tuple[Statement, ...]
    transactional: bool
    """False for a file marked `-- lambdapress: no-transaction`."""


def read_script(path: Path, text: str, server_version: int) -> MigrationScript:
    """Parse `text` (the file at `path`) and check it fits its mode; refusals name the line.

    `server_version` is the server's (`150004` for 15.4): some statements run inside a
    transaction block only from a given version on.
    """
    from pglast import parser

    try:
        raw_statements = parser.parse_sql(text)
        tokens = parser.scan(text)
    except parser.ParseError as error:
        message, offset = _parse_error(error)
        raise StorageError(
            f"PostgreSQL's parser cannot read {path.name}: {message}",
            path=path,
            line=_line_of(text, offset),
            hint="fix the SQL at that line (psql's backslash commands are not SQL); nothing "
            "was applied",
        ) from None
    transactional = _mode(path, text, tokens)
    statements = tuple(
        _statement(number, text, raw, server_version)
        for number, raw in enumerate(raw_statements, start=1)
    )
    for statement, raw in zip(statements, raw_statements, strict=True):
        control = _transaction_control(raw.stmt)
        if control is not None:
            raise StorageError(
                f"{path.name} controls transactions itself ({control}): a failure after its "
                "own COMMIT would leave it half applied",
                path=path,
                line=statement.line,
                hint=_FIX_CONTROL,
            )
        if transactional and statement.outside_transaction is not None:
            raise StorageError(
                f"{path.name}: {statement.outside_transaction} cannot run inside a transaction "
                "block, and lambdapress runs each migration in one",
                path=path,
                line=statement.line,
                hint=f"move it to a migration of its own whose first line is `{MARKER}`: its "
                "statements then run one by one, each recorded as it is applied",
            )
    return MigrationScript(path, statements, transactional)


def _mode(path: Path, text: str, tokens: Any) -> bool:
    """True (one transaction) unless the first line is the no-transaction marker.

    A `-- lambdapress:` comment anywhere else, or with another directive, is refused: a
    marker that is silently ignored would run a file the wrong way.
    """
    transactional = True
    for token in tokens:
        if token.name != "SQL_COMMENT":
            continue
        found = _DIRECTIVE.match(text[token.start : token.end + 1])
        if found is None:
            continue
        line = _line_of(text, token.start)
        if found["directive"].lower() != NO_TRANSACTION:
            raise StorageError(
                f"{path.name}: unknown lambdapress directive {found['directive']!r}",
                path=path,
                line=line,
                hint=f"the one directive is `{MARKER}`, as the file's first line",
            )
        if token.start != 0:
            raise StorageError(
                f"{path.name}: the no-transaction marker must be the file's first line",
                path=path,
                line=line,
                hint=f"move `{MARKER}` to line 1",
            )
        transactional = False
    return transactional


def _statement(number: int, text: str, raw: ast.RawStmt, server_version: int) -> Statement:
    start = raw.stmt_location or 0
    end = start + raw.stmt_len if raw.stmt_len else len(text)
    return Statement(
        number=number,
        line=_line_of(text, start),
        text=text[start:end].strip(),
        outside_transaction=_outside_transaction(raw.stmt, server_version),
    )


def _transaction_control(node: Any) -> str | None:
    """`BEGIN`, `COMMIT`, `SAVEPOINT`... as PostgreSQL's parser classified it; else None."""
    from pglast import ast
    from pglast.enums import TransactionStmtKind

    if not isinstance(node, ast.TransactionStmt):
        return None
    names = {
        TransactionStmtKind.TRANS_STMT_BEGIN: "BEGIN",
        TransactionStmtKind.TRANS_STMT_START: "START TRANSACTION",
        TransactionStmtKind.TRANS_STMT_COMMIT: "COMMIT",
        TransactionStmtKind.TRANS_STMT_ROLLBACK: "ROLLBACK",
        TransactionStmtKind.TRANS_STMT_SAVEPOINT: "SAVEPOINT",
        TransactionStmtKind.TRANS_STMT_RELEASE: "RELEASE SAVEPOINT",
        TransactionStmtKind.TRANS_STMT_ROLLBACK_TO: "ROLLBACK TO SAVEPOINT",
        TransactionStmtKind.TRANS_STMT_PREPARE: "PREPARE TRANSACTION",
        TransactionStmtKind.TRANS_STMT_COMMIT_PREPARED: "COMMIT PREPARED",
        TransactionStmtKind.TRANS_STMT_ROLLBACK_PREPARED: "ROLLBACK PREPARED",
    }
    kind = node.kind if node.kind is not None else TransactionStmtKind.TRANS_STMT_BEGIN
    return names.get(kind, "transaction control")


def _outside_transaction(node: Any, server_version: int) -> str | None:
    """What about `node` PostgreSQL refuses inside a transaction block; None when it may run.

    The list follows PostgreSQL's `PreventInTransactionBlock` calls.
    """
    from pglast import ast
    from pglast.enums import AlterTableType, DiscardMode, ReindexObjectType

    simple = {
        ast.CreatedbStmt: "CREATE DATABASE",
        ast.DropdbStmt: "DROP DATABASE",
        ast.CreateTableSpaceStmt: "CREATE TABLESPACE",
        ast.DropTableSpaceStmt: "DROP TABLESPACE",
        ast.AlterSystemStmt: "ALTER SYSTEM",
        ast.CreateSubscriptionStmt: "CREATE SUBSCRIPTION",
        ast.AlterSubscriptionStmt: "ALTER SUBSCRIPTION",
        ast.DropSubscriptionStmt: "DROP SUBSCRIPTION",
    }
    for kind, name in simple.items():
        if isinstance(node, kind):
            return name
    if isinstance(node, ast.IndexStmt) and node.concurrent:
        return "CREATE INDEX CONCURRENTLY"
    if isinstance(node, ast.DropStmt) and node.concurrent:
        return "DROP INDEX CONCURRENTLY"
    if isinstance(node, ast.ReindexStmt):
        if any(option.defname == "concurrently" for option in node.params or ()):
            return "REINDEX CONCURRENTLY"
        if node.kind != ReindexObjectType.REINDEX_OBJECT_INDEX and node.relation is None:
            return "REINDEX SCHEMA/SYSTEM/DATABASE"
    if isinstance(node, ast.VacuumStmt) and node.is_vacuumcmd:
        return "VACUUM"
    if isinstance(node, ast.ClusterStmt) and node.relation is None:
        return "CLUSTER without a table"
    if isinstance(node, ast.DiscardStmt) and node.target == DiscardMode.DISCARD_ALL:
        return "DISCARD ALL"
    if isinstance(node, ast.AlterDatabaseStmt) and any(
        option.defname == "tablespace" for option in node.options or ()
    ):
        return "ALTER DATABASE ... SET TABLESPACE"
    if isinstance(node, ast.AlterTableStmt):
        for command in node.cmds or ():
            if command.subtype == AlterTableType.AT_DetachPartition and getattr(
                command.def_, "concurrent", False
            ):
                return "ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY"
    if (
        isinstance(node, ast.AlterEnumStmt)
        and node.newVal is not None
        and node.oldVal is None
        and server_version < _ENUM_IN_TRANSACTION_SINCE
    ):
        return "ALTER TYPE ... ADD VALUE (before PostgreSQL 12)"
    return None


def _parse_error(error: Exception) -> tuple[str, int]:
    """pglast's ParseError as (message, character offset)."""
    message = str(error.args[0]) if error.args else str(error)
    offset = error.args[1] if len(error.args) > 1 and isinstance(error.args[1], int) else 0
    return message, offset


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, max(offset, 0)) + 1
