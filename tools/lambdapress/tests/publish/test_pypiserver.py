"""The local index: planned from the `local` entry, started on 127.0.0.1, stopped cleanly."""

from __future__ import annotations

import socket
import urllib.request
from pathlib import Path

import pytest

from lambdapress.errors import IndexServerError
from lambdapress.indexes.config import UploadApiIndex
from lambdapress.publish.pypiserver import free_port, plan_server, start_server

LOCAL = UploadApiIndex.model_validate(
    {
        "name": "local",
        "upload-url": "http://127.0.0.1:8181/",
        "index-url": "http://127.0.0.1:8181/simple/",
    }
)
CREDENTIALS = {
    "LAMBDAPRESS_INDEX_LOCAL_USERNAME": "dev",
    "LAMBDAPRESS_INDEX_LOCAL_PASSWORD": "local-secret",
}


def test_plan_takes_port_and_credentials_from_the_index(tmp_path: Path) -> None:
    plan = plan_server(tmp_path, index=LOCAL, environ=CREDENTIALS)
    assert (plan.port, plan.url, plan.index_url) == (
        8181,
        "http://127.0.0.1:8181/",
        "http://127.0.0.1:8181/simple/",
    )
    assert (plan.packages_dir, plan.htpasswd, plan.username) == (
        tmp_path / "packages",
        tmp_path / "htpasswd",
        "dev",
    )
    command = plan.command()
    assert command[command.index("--interface") + 1] == "127.0.0.1"
    assert command[command.index("-a") + 1] == "update"
    assert "local-secret" not in " ".join(command)
    assert "local-secret" not in repr(plan)


def test_plan_without_credentials_is_open_and_port_can_be_overridden(tmp_path: Path) -> None:
    plan = plan_server(tmp_path, port=9999, index=LOCAL, environ={}, fallback=False)
    assert (plan.port, plan.htpasswd) == (9999, None)
    assert plan.command()[-6:] == [
        "-P",
        ".",
        "-a",
        ".",
        "--disable-fallback",
        str(plan.packages_dir),
    ]
    assert plan_server(tmp_path, environ={}).port == 8080


def test_a_remote_index_cannot_be_served(tmp_path: Path) -> None:
    remote = LOCAL.model_copy(update={"upload_url": "https://pypi.example.com/"})
    with pytest.raises(IndexServerError, match=r"points at pypi\.example\.com, not this machine"):
        plan_server(tmp_path, index=remote, environ={})


def test_started_with_a_hashed_password_and_stopped(tmp_path: Path) -> None:
    plan = plan_server(tmp_path, port=free_port(), index=LOCAL, environ=CREDENTIALS)
    with start_server(plan) as server:
        with urllib.request.urlopen(server.index_url, timeout=5) as response:  # noqa: S310
            assert response.status == 200
        assert plan.htpasswd is not None
        stored = plan.htpasswd.read_text(encoding="utf-8")
        assert stored.startswith("dev:$") and "local-secret" not in stored
        assert plan.htpasswd.stat().st_mode & 0o777 == 0o600
    assert server.process.poll() is not None
    with pytest.raises(OSError):
        urllib.request.urlopen(server.index_url, timeout=2)  # noqa: S310


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        plan = plan_server(tmp_path, port=port, environ={})
        with pytest.raises(IndexServerError, match="pypiserver exited at start") as caught:
            start_server(plan, timeout=20)
    assert f"is port {port} taken?" in str(caught.value.hint)
    assert caught.value.path == tmp_path / "server.log"
