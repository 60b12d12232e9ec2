"""The local index: planned from the `local` entry, started on 127.0.0.1, stopped cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from lambdapress.errors import IndexServerError
from lambdapress.indexes.config import UploadApiIndex
from lambdapress.publish.pypiserver import plan_server, start_server
from lambdapress.support.lifetime import children_of, running
from lambdapress.support.loopback import free_port

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


# -- `lambdapress index serve` as a process: signals, and a parent killed outright -------------
def _ignore_sigint() -> None:
    """What a shell does to a command it starts in the background: SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _index_root(tmp_path: Path) -> tuple[Path, int]:
    root = tmp_path / "repo"
    root.mkdir()
    port = free_port()
    (root / "pyproject.toml").write_text(
        '[tool.uv.workspace]\nmembers = ["packages/*"]\n\n'
        f'[tool.lambdapress.indexes.local]\nupload-url = "http://127.0.0.1:{port}/"\n'
        f'index-url = "http://127.0.0.1:{port}/simple/"\n',
        encoding="utf-8",
    )
    return root, port


def _environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAMBDAPRESS_INDEX_")}
    return {**env, **extra}


def _until_ready(process: subprocess.Popen[str]) -> int:
    """Read the banner up to `stop:`; returns the pypiserver child's PID."""
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("stop:"):
            break
    (child,) = children_of(process.pid)
    return child


def _port_closes(port: int, within: float = 15.0) -> bool:
    """Whether nothing accepts connections on `port` within `within` seconds (a bound)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return True
        time.sleep(0.1)
    return False


def _reap(*processes: subprocess.Popen[str]) -> None:
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_index_serve_stops_pypiserver_on_a_signal(
    tmp_path: Path, signum: signal.Signals, code: int
) -> None:
    root, port = _index_root(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "lambdapress", "index", "serve", "--root", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_environment(),
        preexec_fn=_ignore_sigint,
    )
    try:
        server = _until_ready(process)
        process.send_signal(signum)
        assert process.wait(timeout=30) == code
        assert process.stderr is not None
        assert process.stderr.read() == f"interrupted by {signum.name}: stopped\n"
        assert not running(server)
        assert _port_closes(port)
    finally:
        _reap(process)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_pypiserver_dies_with_index_serve_even_when_it_is_killed(tmp_path: Path) -> None:
    root, port = _index_root(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "lambdapress", "index", "serve", "--root", str(root)],
        stdout=subprocess.PIPE,
        text=True,
        env=_environment(),
    )
    try:
        _until_ready(process)
        process.send_signal(signal.SIGKILL)  # nothing of lambdapress runs after this
        process.wait(timeout=30)
        assert _port_closes(port), "pypiserver still accepts connections (and uploads)"
    finally:
        _reap(process)


# nox runs `index serve` like this, and dies on SIGTERM without signalling its child.
NOX_LIKE = """
import os, subprocess, sys
child = subprocess.Popen(
    [sys.executable, "-m", "lambdapress", "index", "serve", "--root", sys.argv[1]],
    env={**os.environ, "LAMBDAPRESS_STOP_WITH_PARENT": str(os.getpid())},
)
child.wait()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_signalling_only_the_nox_process_stops_index_serve_and_pypiserver(tmp_path: Path) -> None:
    root, port = _index_root(tmp_path)
    nox_like = subprocess.Popen(
        [sys.executable, "-c", NOX_LIKE, str(root)],
        stdout=subprocess.PIPE,
        text=True,
        env=_environment(),
    )
    try:
        _until_ready(nox_like)
        (command,) = children_of(nox_like.pid)
        (server,) = children_of(command)
        nox_like.send_signal(signal.SIGTERM)  # Python's default: die at once, child untouched
        nox_like.wait(timeout=30)
        assert _port_closes(port)
        deadline = time.monotonic() + 15
        while (running(command) or running(server)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not running(command) and not running(server)
    finally:
        _reap(nox_like)
