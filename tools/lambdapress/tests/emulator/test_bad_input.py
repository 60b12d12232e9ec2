"""Bad HTTP input on every port of the emulator is answered, and stalled clients are dropped.

Over raw sockets, since HTTP clients refuse to send most of this. The three servers (the HTTP
front end, the Invoke API, a worker's Runtime API) share one request reader, and each is tried
with each case.
"""

from __future__ import annotations

import json
import socket
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from lambdapress.emulator import HttpApi, InvokeApi
from lambdapress.emulator._runtime_api import RuntimeApi, Sandbox

from .conftest import EmulatorFactory, Repo

Server = tuple[int, str]
"""A running server's port and a path on it that reads a request body."""
ServerFactory = Callable[[float], AbstractContextManager[Server]]


@pytest.fixture(params=["http-api", "invoke-api", "runtime-api"])
def start_server(
    request: pytest.FixtureRequest, repo: Repo, make_emulator: EmulatorFactory
) -> ServerFactory:
    """`with start_server(client_timeout) as (port, path):` one of the three servers."""
    which: str = request.param

    @contextmanager
    def start(client_timeout: float) -> Iterator[Server]:
        if which == "runtime-api":
            api = RuntimeApi(Sandbox(), "bad-input", client_timeout=client_timeout)
            try:
                yield (
                    int(api.address.rsplit(":", 1)[1]),
                    "/2018-06-01/runtime/invocation/x/response",
                )
            finally:
                api.close()
            return
        emulator = make_emulator(repo.standard(), repo.root)
        if which == "http-api":
            with HttpApi(emulator, client_timeout=client_timeout) as http:
                yield http.port, "/items/1"
        else:
            with InvokeApi(emulator, client_timeout=client_timeout) as invoke:
                yield invoke.port, "/2015-03-31/functions/demo-ok/invocations"

    return start


def _exchange(port: int, raw: bytes, *, half_close: bool = False) -> bytes:
    """Send `raw`, read until the server closes (at most 20 s of silence: never forever)."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as connection:
        connection.sendall(raw)
        if half_close:
            connection.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := connection.recv(1 << 16):
            chunks.append(chunk)
    return b"".join(chunks)


def _status(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1."), f"no HTTP answer: {answer[:80]!r}"
    return int(answer.split(b" ", 2)[1])


def _body(answer: bytes) -> dict[str, str]:
    document: dict[str, str] = json.loads(answer.partition(b"\r\n\r\n")[2])
    return document


def _post(path: str, headers: str, body: bytes = b"") -> bytes:
    return f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n".encode() + body


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ("Content-Length: abc\r\n", b"{}"),
        ("Content-Length: -5\r\n", b"{}"),
        ("Content-Length: +2\r\n", b"{}"),
        ("Content-Length: 2\r\nContent-Length: 3\r\n", b"{} "),
        ("", b'{"a": 1}'),  # a body, and no length to read it by
        ("Transfer-Encoding: chunked\r\n", b"zz\r\n{}\r\n0\r\n\r\n"),
    ],
    ids=["not-a-number", "negative", "signed", "two-lengths", "missing", "bad-chunk"],
)
def test_a_body_that_cannot_be_read_is_answered_400(
    start_server: ServerFactory, headers: str, body: bytes
) -> None:
    with start_server(30.0) as (port, path):
        answer = _exchange(port, _post(path, headers, body))
    assert _status(answer) == 400


def test_a_body_shorter_than_announced_is_answered_400(start_server: ServerFactory) -> None:
    with start_server(30.0) as (port, path):
        answer = _exchange(port, _post(path, "Content-Length: 10\r\n", b"{}"), half_close=True)
    assert _status(answer) == 400


def test_a_huge_length_is_answered_413_without_waiting_for_the_body(
    start_server: ServerFactory,
) -> None:
    with start_server(30.0) as (port, path):
        answer = _exchange(port, _post(path, "Content-Length: 99999999999999999999999\r\n"))
    assert _status(answer) == 413


def test_a_post_without_a_body_needs_no_length(start_server: ServerFactory) -> None:
    with start_server(30.0) as (port, path):
        answer = _exchange(port, _post(path, ""))
    # Read as an empty body: the function runs (or the Runtime API says the id is unknown).
    assert _status(answer) in (200, 400)
    assert b"Content-Length" not in answer.partition(b"\r\n\r\n")[2]


@pytest.mark.parametrize("where", ["in-the-headers", "in-the-body"])
def test_a_client_that_stalls_is_dropped_after_the_client_timeout(
    start_server: ServerFactory, where: str
) -> None:
    with start_server(0.2) as (port, path):
        if where == "in-the-headers":
            raw = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
        else:
            raw = _post(path, "Content-Length: 10\r\n", b"{}")
        answer = _exchange(port, raw)  # never half-closed: the client just stops talking
    assert answer == b""  # the server hung up on it


def test_a_bug_in_a_handler_is_a_500_with_a_log_and_no_traceback(
    repo: Repo,
    make_emulator: EmulatorFactory,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the log goes

    def broken(self: HttpApi) -> None:
        raise RuntimeError("the route table is broken")

    with HttpApi(make_emulator(repo.standard(), repo.root)) as http:
        monkeypatch.setattr(HttpApi, "routes", broken)
        answer = _exchange(http.port, b"GET /items/1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert _status(answer) == 500
    document = _body(answer)
    assert document["message"].startswith("internal error in lambdapress ")
    assert document["message"].endswith("RuntimeError: the route table is broken")
    log = Path(document["details"])
    assert log.parent == tmp_path / "lambdapress-logs"
    assert "Traceback (most recent call last)" in log.read_text(encoding="utf-8")
    assert "Traceback" not in capfd.readouterr().err
