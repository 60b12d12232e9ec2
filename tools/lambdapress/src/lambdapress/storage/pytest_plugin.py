"""pytest fixtures for real storage (registered through the `pytest11` entry point).

- `postgres_server`: a PostgreSQL server of its own for one test, on 127.0.0.1 and a free
  port, data in a temporary folder, stopped and removed afterwards; `start_postgres_server(
  settings={"max_connections": "20"})` starts one with server parameters.
- `postgres_database(service_folder)`: its database on `postgres_server`, migrated; the URL.
- `moto_server` / `moto_endpoint`: moto's server (DynamoDB, S3, ...) on 127.0.0.1, state reset.
- `postgres_reachable_tmp_path`: a temporary folder the unprivileged user the server runs as
  (when the tests run as root) can enter, unlike pytest's private `tmp_path`: for tests that
  run `lambdapress db` in a project under it.

The same fixtures serve lambdapress's tests, the template's tests and the tests of projects
rendered from the template. Every pytest run loads this module, so PostgreSQL, psycopg and moto
are imported only by the fixtures that use them. When the tests run as root, the server runs
as the `postgres` user (PostgreSQL refuses root; see `lambdapress.storage.postgres`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer

    from lambdapress.storage.postgres import PostgresServer

StartPostgres = Callable[..., "PostgresServer"]


@contextlib.contextmanager
def temporary_postgres(settings: Mapping[str, str] | None = None) -> Iterator[PostgresServer]:
    """A PostgreSQL server in a new temporary folder, stopped and removed on leaving.

    For fixtures of other scopes (a session's server); tests use `start_postgres_server`.
    """
    from lambdapress.storage.postgres import server_user, start_postgres
    from lambdapress.support.loopback import free_port

    # Not under pytest's tmp_path: its root is private to the test user (0700), and a server
    # running as another user could not enter it.
    folder = Path(tempfile.mkdtemp(prefix="lambdapress-pg-"))
    try:
        folder.chmod(0o755)
        user = server_user()
        if user.uid != os.geteuid():
            os.chown(folder, user.uid, user.gid)
        with start_postgres(folder / "data", free_port(), settings=settings) as server:
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def start_postgres_server() -> Iterator[StartPostgres]:
    """`start_postgres_server(settings={...})`: a new server; all of them stop after the test."""
    with contextlib.ExitStack() as servers:

        def start(settings: Mapping[str, str] | None = None) -> PostgresServer:
            return servers.enter_context(temporary_postgres(settings))

        yield start


@pytest.fixture
def postgres_server(start_postgres_server: StartPostgres) -> PostgresServer:
    """A PostgreSQL server for this test: `postgres_server.url("postgres")` (no password)."""
    return start_postgres_server()


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadedMotoServer]:
    """moto's server on 127.0.0.1 (a free port), with fake credentials; stopped after the test.

    The fake credentials, the region and `AWS_EC2_METADATA_DISABLED` keep boto3 from looking
    for real ones. moto keeps its state in the process, not in the server, so it is reset first.
    """
    import urllib.request

    from moto.server import ThreadedMotoServer

    from lambdapress.storage.dynamodb import FAKE_ENVIRONMENT
    from lambdapress.support.loopback import LOOPBACK

    for name, value in FAKE_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    server = ThreadedMotoServer(ip_address=LOOPBACK, port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    reset = urllib.request.Request(f"http://{host}:{port}/moto-api/reset", method="POST")
    try:
        with urllib.request.urlopen(reset, timeout=10):  # noqa: S310 (http on 127.0.0.1)
            pass
        yield server
    finally:
        server.stop()


@pytest.fixture
def moto_endpoint(moto_server: ThreadedMotoServer) -> str:
    """The URL of `moto_server`, for `endpoint_url` or `AWS_ENDPOINT_URL_<SERVICE>`."""
    host, port = moto_server.get_host_and_port()
    return f"http://{host}:{port}"


@pytest.fixture
def postgres_reachable_tmp_path() -> Iterator[Path]:
    """A new temporary folder the server's user can enter, removed after the test.

    Not under pytest's own temporary root: that is private (0700), and every pytest session
    that starts on the machine makes it private again, so a server running as another user
    could lose its way in mid-test.
    """
    folder = Path(tempfile.mkdtemp(prefix="lambdapress-test-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_database(postgres_server: PostgresServer) -> Callable[[Path], str]:
    """`postgres_database(service_folder)`: a service's database on `postgres_server`, migrated.

    Named after the folder, with its migrations/ applied, as `lambdapress db` makes it; the
    fixture returns its URL.
    """
    from lambdapress.storage.migrations import apply_migrations, create_database, find_migrations

    def make(service: Path) -> str:
        create_database(postgres_server.url(), service.name)
        url = postgres_server.url(service.name)
        apply_migrations(url, find_migrations(service))
        return url

    return make
