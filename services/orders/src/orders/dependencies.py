"""What the orders handlers need, with Lambda's lifetimes (lambdapress-runtime).

One PostgreSQL connection per container: opened on first use (not at import, so a warm-up ping
or a cold start that never reaches the database opens nothing) and reused by warm invocations.
Before each reuse it is checked without a round trip: a connection the server closed while the
container was frozen (idle_session_timeout, a restart, a terminated session) has the server's
goodbye waiting on its socket, and is replaced by a new one. A connection error during an
invocation discards it, so the next invocation reconnects; a server that is restarting or
failing over is waited for (up to 5 s, within the invocation's timeout), a refusal that
waiting cannot change (a wrong password, a missing database) fails at once. Each
invocation gets a repository inside one transaction: committed when the handler returns,
rolled back when it raises, always ended. One connection per container also bounds the
server's load: never more connections than live containers.
The URL is read when a connection opens (`lambdapress_runtime.secrets.database_url`): locally
`DATABASE_URL` (`nox -s db`); deployed, the Secrets Manager secret `DATABASE_SECRET_NAME`
names, cached for `DATABASE_SECRET_MAX_AGE` seconds, so the password is never in the function's
configuration and a rotated one is used without a redeploy (a refused password reads the secret
again at once); through an RDS Proxy (`DATABASE_PROXY_HOST`), with an IAM token instead.
The SNS client that publishes `OrderPlaced` is one per container too (it holds
no connection a freeze could break).
Tests replace `repository` with `container.override(repository, lambda: fake)`,
and `sns` alike.
"""

import select
from collections.abc import Iterator
from typing import Any

import boto3
import psycopg

from lambdapress_runtime import Container, secrets
from orders.postgres_repository import PostgresOrderRepository
from orders.repository import OrderRepository

container = Container()


def _still_open(connection: psycopg.Connection[Any]) -> bool:
    """Nothing to read on an idle connection's socket, as far as we know it is open."""
    if connection.closed or connection.broken:
        return False
    readable, _, _ = select.select([connection.fileno()], [], [], 0)
    return not readable


# libpq's refusals that no restart will change (psycopg gives no SQLSTATE for these).
_REFUSALS = ("password authentication failed", "does not exist", "no pg_hba.conf entry")


def _worth_waiting(error: BaseException) -> bool:
    """A server that is restarting or failing over, not one that refuses these credentials."""
    return not any(refusal in str(error) for refusal in _REFUSALS)


@container.per_container(
    check=_still_open,
    check_after=0.0,  # checked at every reuse: a poll of the socket, no round trip
    retry_on=(psycopg.OperationalError,),
    retry_if=_worth_waiting,
)
def connection() -> Iterator[psycopg.Connection[Any]]:
    try:
        opened = _connect(secrets.database_url())
    except psycopg.OperationalError as error:
        if "password authentication failed" not in str(error):
            raise
        opened = _connect(secrets.database_url(refresh=True))  # rotated since it was read
    yield opened
    opened.close()


def _connect(url: str) -> psycopg.Connection[Any]:
    return psycopg.connect(
        url,
        autocommit=True,  # transactions are explicit: one per invocation, below
        connect_timeout=5,
        application_name="orders",
    )


@container.per_container
def sns() -> Any:
    return boto3.client("sns")


@container.per_invocation
def repository() -> Iterator[OrderRepository]:
    current = connection.get()
    with current.transaction():  # rolled back if the handler raises, committed otherwise
        yield PostgresOrderRepository(current)
