"""The PostgreSQL store and its lifecycle against a real server: the lambdapress storage plugin's
`postgres_database` (initdb + postgres on 127.0.0.1, stopped and removed after each test).

What the server itself reports is asserted (pg_stat_activity), never a mock.
"""

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from lambdapress_runtime import WARMUP_EVENT
from orders import dependencies
from orders.handlers import list_orders as some_handler
from orders.models import OrderIn, OrderPatch

SERVICE = Path(__file__).resolve().parents[1]


@pytest.fixture
def database(postgres_database: Callable[[Path], str]) -> str:
    """The service's database on the test's server, with migrations/ applied."""
    return postgres_database(SERVICE)


@pytest.fixture(autouse=True)
def repository(database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """In place of conftest's in-memory store: the real providers, on the test's server."""
    monkeypatch.setenv("DATABASE_URL", database)
    dependencies.container.close()  # no settings or connection from an earlier test
    yield
    dependencies.container.close()


def sessions(url: str) -> list[str | None]:
    """The state of each of the service's connections, as the server sees them."""
    with psycopg.connect(url, autocommit=True) as observer:
        rows = observer.execute(
            "SELECT state FROM pg_stat_activity WHERE application_name = %s",
            ("orders",),
        ).fetchall()
    return [row[0] for row in rows]


def test_stores_pages_updates_and_removes(database: str) -> None:
    with dependencies.container.invocation():
        store = dependencies.repository.get()
        ids = [store.add(OrderIn(name=f"n{i}")).id for i in range(3)]
    with dependencies.container.invocation():
        store = dependencies.repository.get()
        first = store.page(limit=2)
        last = store.page(limit=2, cursor=first.next_cursor)
        assert [i.id for i in first.items + last.items] == ids
        assert last.next_cursor is None
        updated = store.update(ids[0], OrderPatch(description="changed"))
        assert updated is not None
        assert (updated.name, updated.description) == ("n0", "changed")
        assert store.remove(ids[1]) is True
        assert store.remove(ids[1]) is False
        assert store.get(ids[1]) is None
    assert sessions(database) == ["idle"]  # one connection for the container, reused


def test_an_invocation_that_raises_rolls_back_and_ends_its_transaction(database: str) -> None:
    with pytest.raises(RuntimeError), dependencies.container.invocation():
        dependencies.repository.get().add(OrderIn(name="lost"))
        assert sessions(database) == ["idle in transaction"]
        raise RuntimeError("the handler failed")
    assert sessions(database) == ["idle"]  # not "idle in transaction": the scope ended it
    with dependencies.container.invocation():
        assert dependencies.repository.get().page(limit=10).items == []


def test_a_connection_the_server_closed_is_replaced_before_it_is_used(database: str) -> None:
    with dependencies.container.invocation():
        dependencies.repository.get().add(OrderIn(name="kept"))
    with psycopg.connect(database, autocommit=True) as admin:  # what a frozen container misses
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            ("orders",),
        )
    deadline = time.monotonic() + 10
    while sessions(database) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sessions(database) == []
    with dependencies.container.invocation():  # thawed: a new connection, no error
        assert [item.name for item in dependencies.repository.get().page(limit=10).items] == [
            "kept"
        ]
    assert sessions(database) == ["idle"]


def test_a_warmup_ping_opens_no_connection(database: str, lambda_context: object) -> None:
    answer = some_handler.handler(WARMUP_EVENT, lambda_context)  # type: ignore[arg-type]
    assert answer == {"warmed": True}
    assert sessions(database) == []


@pytest.mark.parametrize("wrong", ["dbname", "user"])
def test_a_refusal_waiting_cannot_change_fails_at_once(
    database: str, wrong: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A missing database or role is not a restart: it fails without a retry or a wait."""
    monkeypatch.setenv("DATABASE_URL", make_conninfo(**{**conninfo_to_dict(database), wrong: "no"}))
    dependencies.container.close()
    with pytest.raises(psycopg.OperationalError), dependencies.container.invocation():
        dependencies.repository.get()
    assert '"event": "retry"' not in caplog.text
