from __future__ import annotations

import os
import pwd
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from lambdapress.errors import StorageError
from lambdapress.storage import postgres
from lambdapress.storage.postgres import PostgresServer, check_reachable, find_binaries, server_user


def test_missing_binaries_name_the_package_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres, "_SEARCH_PATH", ("/no/such/*/bin", "/no/such/bin"))
    with pytest.raises(StorageError, match="not installed") as raised:
        find_binaries({"PATH": "/nonexistent"})
    assert "apt-get install postgresql" in (raised.value.hint or "")


def test_the_server_listens_on_loopback_only_and_trusts_no_password(
    postgres_server: PostgresServer,
) -> None:
    parts = urlsplit(postgres_server.url())
    assert (parts.hostname, parts.username, parts.password) == ("127.0.0.1", "lambdapress", None)
    with psycopg.connect(postgres_server.url()) as db:
        settings = dict(
            db.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('listen_addresses', 'unix_socket_directories')"
            ).fetchall()
        )
    assert settings == {"listen_addresses": "127.0.0.1", "unix_socket_directories": ""}


def test_it_runs_as_an_unprivileged_user_when_we_are_root(postgres_server: PostgresServer) -> None:
    owner = Path(f"/proc/{postgres_server.process.pid}/status").read_text()
    uid = int(next(line for line in owner.splitlines() if line.startswith("Uid:")).split()[1])
    expected = pwd.getpwnam("postgres").pw_uid if os.geteuid() == 0 else os.geteuid()
    assert uid == expected != 0


def test_stop_ends_the_server_and_its_port(postgres_server: PostgresServer) -> None:
    postgres_server.stop()
    assert postgres_server.process.poll() is not None
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(postgres_server.url(), connect_timeout=2)


def test_server_parameters_apply_to_the_run(start_postgres_server: object) -> None:
    server = start_postgres_server(settings={"max_connections": "20"})  # type: ignore[operator]
    with psycopg.connect(server.url()) as db:
        assert db.execute("SHOW max_connections").fetchone() == ("20",)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the server to another user")
def test_a_folder_the_server_user_cannot_enter_is_a_clear_error(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    with pytest.raises(StorageError, match="cannot enter") as raised:
        check_reachable(private / "db", server_user())
    assert "chmod o+x" in (raised.value.hint or "")
