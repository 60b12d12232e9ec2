"""SnapStart hooks: close before the snapshot; recreate, reseed and re-resolve after a restore.

On Lambda, `snapshot_restore_py` is provided by the runtime (it comes with awslambdaric), not
installed by the service: the test injects a module with the same two functions into
`sys.modules`, which is exactly how the runtime finds it.
"""

from __future__ import annotations

import json
import os
import random
import socket
import sys
import types
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import boto3
import pytest

from lambdapress_runtime import Container

if TYPE_CHECKING:
    from lambdapress.storage.postgres import PostgresServer


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Callable[[], None]]]:
    registered: dict[str, list[Callable[[], None]]] = {"before": [], "after": []}
    fake = types.ModuleType("snapshot_restore_py")
    fake.register_before_snapshot = registered["before"].append  # type: ignore[attr-defined]
    fake.register_after_restore = registered["after"].append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", fake)
    return registered


def test_without_snapstart_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails
    assert Container().snapstart is False


def test_before_snapshot_closes_and_after_restore_recreates(
    hooks: dict[str, list[Callable[[], None]]],
) -> None:
    container = Container()
    assert container.snapstart is True
    (before,) = hooks["before"]
    (after,) = hooks["after"]
    events: list[str] = []

    @container.per_container
    def connection() -> Iterator[int]:
        number = events.count("open") + 1
        events.append("open")
        yield number
        events.append("close")

    assert connection.get() == 1  # opened during init, before the snapshot
    before()
    assert events == ["open", "close"]
    assert connection.get() == 2  # a hook or init code ran after `before`...
    after()  # ...so whatever exists at restore is stale
    assert connection.get() == 3
    assert events == ["open", "close", "open", "close", "open"]  # the stale one torn down


def _restore_in_a_child(
    restore: Callable[[], dict[str, object]], snapshot: tuple[object, ...]
) -> dict[str, object]:
    """Run `restore` in a copy of this process as SnapStart would in a restored environment.

    `fork` copies the memory, as a snapshot does, but the child also runs the interpreter's
    at-fork hooks (which reseed `random`): a restored environment is the same process and runs
    none, so the child first puts the generator back exactly as the snapshot saw it.
    """
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the restored copy
        status = 1
        try:
            os.close(reader)
            random.setstate(snapshot)
            with os.fdopen(writer, "w") as out:
                json.dump(restore(), out)
            status = 0
        finally:
            os._exit(status)
    os.close(writer)
    with os.fdopen(reader) as result:
        report = json.load(result)
    assert os.waitpid(pid, 0)[1] == 0
    assert isinstance(report, dict)
    return report


def test_two_restores_of_one_snapshot_get_fresh_connections_seeds_and_credentials(
    hooks: dict[str, list[Callable[[], None]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same initialised process state reused twice, as SnapStart scales a version out."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDSNAPSHOT")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "snapshot")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    server = socket.create_server(("127.0.0.1", 0))  # a database stand-in: counts connections
    server.settimeout(10)
    container = Container()
    (before,) = hooks["before"]
    (after,) = hooks["after"]

    @container.per_container
    def connection() -> Iterator[socket.socket]:
        client = socket.create_connection(server.getsockname())
        yield client
        client.close()

    # Init: what a module-level warm-up does before the snapshot.
    opened_at_init = connection.get()
    init_port = opened_at_init.getsockname()[1]
    boto3.client("sts")  # the default session resolves (and keeps) the init's credentials
    init_session = boto3.DEFAULT_SESSION
    assert init_session is not None
    models = init_session._session.get_component("data_loader")
    before()  # Lambda takes the snapshot after this hook
    assert opened_at_init.fileno() == -1  # no socket is part of the snapshot
    snapshot = random.getstate()

    def restore() -> dict[str, object]:
        os.environ["AWS_ACCESS_KEY_ID"] = f"AKIDRESTORED{os.getpid()}"  # what Lambda gives it
        after()
        boto3.client("sts")  # made after the restore, from the default session
        session = boto3.DEFAULT_SESSION
        assert session is not None and session is not init_session
        # The service models the init loaded are kept: only credentials are resolved again.
        assert session._session.get_component("data_loader") is models
        credentials = session.get_credentials()
        assert credentials is not None
        return {
            "port": connection.get().getsockname()[1],
            "random": random.random(),  # noqa: S311 (the generator under test)
            "key": credentials.access_key,
            "pid": os.getpid(),
        }

    first = _restore_in_a_child(restore, snapshot)
    second = _restore_in_a_child(restore, snapshot)

    assert {first["port"], second["port"]}.isdisjoint({init_port})
    assert first["port"] != second["port"]  # each copy opened its own connection
    assert first["random"] != second["random"]  # reseeded: no shared random sequence
    assert first["key"] == f"AKIDRESTORED{first['pid']}"  # credentials resolved again
    assert second["key"] == f"AKIDRESTORED{second['pid']}"
    # The server saw three connections: the init's (closed before the snapshot) and one per copy.
    accepted = [server.accept()[0] for _ in range(3)]
    assert accepted[0].recv(1) == b""  # the init's connection was closed by the hook
    for accepted_socket in accepted:
        accepted_socket.close()
    server.close()


def test_a_restore_reseeds_random_and_imports_nothing_new(
    hooks: dict[str, list[Callable[[], None]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A function that never imported boto3 does not pay its import at every restore."""
    Container()
    (after,) = hooks["after"]
    monkeypatch.delitem(sys.modules, "boto3")
    random.seed(7)
    seeded = random.random()  # noqa: S311 (the generator under test)
    random.seed(7)
    after()
    assert random.random() != seeded  # noqa: S311
    assert "boto3" not in sys.modules


def test_restored_copies_open_their_own_postgresql_sessions(
    hooks: dict[str, list[Callable[[], None]]], postgres_server: PostgresServer
) -> None:
    """A real database (the lambdapress pytest plugin's server) sees one session per copy."""
    import psycopg

    url = postgres_server.url("postgres")
    container = Container()
    (before,) = hooks["before"]
    (after,) = hooks["after"]

    @container.per_container
    def database() -> Iterator[psycopg.Connection[tuple[object, ...]]]:
        connection = psycopg.connect(url, autocommit=True)
        yield connection
        connection.close()

    def backend() -> int:
        row = database.get().execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        return int(str(row[0]))

    init_backend = backend()
    before()
    snapshot = random.getstate()

    def restore() -> dict[str, object]:
        after()
        return {"backend": backend()}

    first = _restore_in_a_child(restore, snapshot)
    second = _restore_in_a_child(restore, snapshot)
    assert len({init_backend, first["backend"], second["backend"]}) == 3
    with psycopg.connect(url, autocommit=True) as check:
        rows = check.execute("SELECT pid FROM pg_stat_activity").fetchall()
    alive = {int(str(pid)) for (pid,) in rows}
    assert init_backend not in alive  # closed before the snapshot, not shared by the copies


def test_a_boto3_whose_session_cannot_be_rebuilt_still_loses_its_credentials(
    hooks: dict[str, list[Callable[[], None]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failing after-restore hook would end the environment: the refresh never raises."""
    Container()
    (after,) = hooks["after"]
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", object())  # no `_session` to take models from
    after()
    assert boto3.DEFAULT_SESSION is None  # the next boto3.client() resolves everything again
