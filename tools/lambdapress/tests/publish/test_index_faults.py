"""A package index that hangs, trickles or answers garbage: a PackageIndexError naming the URL.

Each index here is a socket server on 127.0.0.1 (`scripted_server`) that misbehaves below
HTTP's level. The timeouts are shortened for the test; the bound on each wait is generous (it
proves the call did not wait for the socket's default of forever, not how fast it gave up).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from lambdapress.errors import PackageIndexError
from lambdapress.indexes.config import ResolvedIndex
from lambdapress.publish import _simple, _upload
from lambdapress.publish._simple import JSON_TYPE, project_files
from lambdapress.publish._upload import upload_files

WITHIN = 20.0
"""Seconds: a bound on waiting, not a measurement."""


def index_at(url: str) -> ResolvedIndex:
    return ResolvedIndex(
        name="local", kind="upload-api", upload_url=url + "/", index_url=url + "/simple/"
    )


def never_answers(connection: socket.socket, head: bytes, stopping: threading.Event) -> None:
    stopping.wait()


def trickles(connection: socket.socket, head: bytes, stopping: threading.Event) -> None:
    connection.sendall(
        f"HTTP/1.1 200 OK\r\nContent-Type: {JSON_TYPE}\r\nContent-Length: 100000\r\n\r\n".encode()
    )
    while not stopping.wait(0.1):
        connection.sendall(b" ")


def answering(content_type: str, body: bytes) -> Callable[..., None]:
    def answer(connection: socket.socket, head: bytes, stopping: threading.Event) -> None:
        connection.sendall(
            f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )

    return answer


def test_an_index_that_never_answers_is_an_error_after_the_timeout(
    scripted_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_simple, "TIMEOUT", 0.5)
    server = scripted_server(never_answers)
    started = time.monotonic()

    with pytest.raises(PackageIndexError, match="no answer within") as caught:
        project_files(index_at(server.url), "acme-models")

    assert time.monotonic() - started < WITHIN
    assert f"{server.url}/simple/acme-models/" in str(caught.value)


def test_an_index_that_trickles_its_page_is_given_up_at_the_deadline(
    scripted_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_simple, "DEADLINE", 1.0)  # each byte comes well within TIMEOUT
    server = scripted_server(trickles)
    started = time.monotonic()

    with pytest.raises(PackageIndexError, match=r"did not send .* within 1 s"):
        project_files(index_at(server.url), "acme-models")

    assert time.monotonic() - started < WITHIN


@pytest.mark.parametrize(
    ("content_type", "body", "said"),
    [
        (JSON_TYPE, b"<html>garbage</html>", "its body is not JSON"),
        (JSON_TYPE, b"\xff\xfe\x00garbage", "its body is not JSON"),
        (JSON_TYPE, b"[1, 2, 3]", "not a PEP 691 project page"),
        (JSON_TYPE, b'{"files": {"a": 1}}', "`files`"),
        (JSON_TYPE, b'{"files": [{"filename": 3}]}', "`files.0.filename`"),
        (JSON_TYPE, b"[" * 100_000, "its body is not JSON"),
        ("text/html", b"<a href='\xff\xfe'>x</a>", "its HTML is not UTF-8"),
        ("text/html", b"<a href='http://[oops/x-1.0.tar.gz'>x</a>", "not a URL"),
        ("application/octet-stream", b"\x00\x01", "not a project page"),
    ],
    ids=[
        "html-as-json",
        "bytes-as-json",
        "json-list",
        "files-not-a-list",
        "filename-not-text",
        "nested-too-deep",
        "html-not-utf8",
        "bad-link",
        "other-type",
    ],
)
def test_a_page_that_is_not_a_project_page_is_an_error_naming_it(
    content_type: str, body: bytes, said: str, scripted_server: Any
) -> None:
    server = scripted_server(answering(content_type, body))

    with pytest.raises(PackageIndexError) as caught:
        project_files(index_at(server.url), "acme-models")

    assert f"{server.url}/simple/acme-models/ cannot be used" in str(caught.value)
    assert said in str(caught.value)
    assert "simple API" in str(caught.value.hint)


def test_an_upload_endpoint_that_never_answers_is_an_error_after_the_timeout(
    scripted_server: Any, dists: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_upload, "TIMEOUT", (0.5, 0.5))
    server = scripted_server(never_answers)
    built = dists("demo-models", "1.0.0")
    started = time.monotonic()

    with pytest.raises(PackageIndexError, match="cannot upload to index 'local'"):
        upload_files(index_at(server.url), [built.wheel.path], tmp_path / "pyproject.toml")

    assert time.monotonic() - started < WITHIN


def test_uploads_have_a_timeout_by_default() -> None:
    connect, read = _upload.TIMEOUT
    assert 0 < connect <= 30 and 0 < read <= 120
    assert 0 < _simple.TIMEOUT <= 30 and _simple.TIMEOUT < _simple.DEADLINE <= 120
