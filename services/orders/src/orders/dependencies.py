"""What the orders handlers need, created with Lambda's lifetimes (lambdapress-runtime).

One PostgreSQL connection per container: opened on first use (not at import, so a warm-up ping
or a cold start that never reaches the database opens nothing), reused by warm invocations,
checked with `SELECT 1` before reuse after 30 s idle (a frozen container thaws with a
connection the server may have closed), and reopened once on a connection error. Each
invocation gets a repository inside one transaction: committed when the handler returns,
rolled back when it raises, always ended. One connection per container also bounds the
server's load: never more connections than live containers.
Tests replace `repository` with `container.override(repository, lambda: fake)`.
"""

from collections.abc import Iterator
from typing import Any

import psycopg
from lambdapress_runtime import Container
from pydantic import BaseModel, Field

from orders.postgres_repository import PostgresOrderRepository
from orders.repository import OrderRepository


class Settings(BaseModel):
    """Read from the environment at cold start; one error lists every missing variable."""

    database_url: str = Field(alias="DATABASE_URL", min_length=1)


container = Container()
settings = container.settings(Settings)


def _ping(connection: psycopg.Connection[Any]) -> None:
    connection.execute("SELECT 1")


@container.per_container(check=_ping, check_after=30.0, retry_on=(psycopg.OperationalError,))
def connection() -> Iterator[psycopg.Connection[Any]]:
    opened = psycopg.connect(
        settings.get().database_url,
        autocommit=True,  # transactions are explicit: one per invocation, below
        connect_timeout=5,
        application_name="orders",
    )
    yield opened
    opened.close()


@container.per_invocation
def repository() -> Iterator[OrderRepository]:
    current = connection.get()
    with current.transaction():  # rolled back if the handler raises, committed otherwise
        yield PostgresOrderRepository(current)
