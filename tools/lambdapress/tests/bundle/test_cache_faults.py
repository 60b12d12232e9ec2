"""A shared build cache that misbehaves never holds `package` up, and never outlives a signal.

The faulty store is a plain socket server on 127.0.0.1 that speaks just enough HTTP for boto3's
S3 client, in one of five ways: it accepts connections and never answers; it answers every
request with a 500; it answers slowly (a byte at a time, well within any read timeout, so only
a deadline on the whole transfer stops it); it sends a record, then a zip cut short of the
length it announced; it answers every lookup (a miss) and never answers an upload. In each
case `lambdapress package` (a real process) finishes the build locally with one warning. The
bound on the time it takes (`FINISHES_WITHIN`) is generous on purpose: it proves the run did
not wait for minutes, on a machine shared with other work; the real figures are printed
(`pytest -s`) for the record.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdapress.support.lifetime import running

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

FINISHES_WITHIN = 60.0
"""Seconds: a bound on waiting, not a measurement (the cache itself gives up in a few)."""
RECORD = (
    b'{"sha256":"' + b"0" * 64 + b'","size":4096,"unzipped_size":4096,"files":1}'
)  # a well-formed record of a zip the store then fails to deliver


class FaultyStore:
    """An S3 endpoint on 127.0.0.1 that misbehaves as `mode` says; stopped by `close()`."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.requests: list[str] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._stopping = threading.Event()
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._listener.getsockname()[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self._stopping.set()
        self._thread.join()
        self._listener.close()
        with self._lock:
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._connections.append(connection)
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        connection.settimeout(0.5)
        with contextlib.suppress(OSError):
            while not self._stopping.is_set():
                request = self._read_request(connection)
                if request is None:
                    return
                method, path = request
                with self._lock:
                    self.requests.append(f"{method} {path}")
                if not self._answer(connection, method, path):
                    return

    def _read_request(self, connection: socket.socket) -> tuple[str, str] | None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self._receive(connection)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path = lines[0].split(" ")[:2]
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        while len(body) < length:  # an upload's body (never in "hang" mode: never answered)
            chunk = self._receive(connection)
            if not chunk:
                return None
            body += chunk
        return method, path

    def _receive(self, connection: socket.socket) -> bytes:
        while not self._stopping.is_set():
            try:
                return connection.recv(65536)
            except TimeoutError:
                continue
        return b""

    def _answer(self, connection: socket.socket, method: str, path: str) -> bool:
        """Answer one request as the mode says; False when the connection is done with."""
        if self.mode == "hang":
            self._stopping.wait()
            return False
        if self.mode == "misses-then-hangs":  # every lookup a miss; the uploads never answered
            if method == "PUT":
                self._stopping.wait()
                return False
            body = b"<Error><Code>NoSuchKey</Code><Message>none</Message></Error>"
            connection.sendall(_response(404, body, "application/xml"))
            return True
        if self.mode == "error":
            body = b"<Error><Code>InternalError</Code><Message>broken</Message></Error>"
            connection.sendall(_response(500, body, "application/xml"))
            return True
        if method == "PUT":
            connection.sendall(_response(200, b"", extra='ETag: "0"\r\n'))
            return True
        if self.mode == "slow":
            connection.sendall(_head(200, 1_000_000, "application/octet-stream"))
            while not self._stopping.wait(0.2):
                connection.sendall(b"{")
            return False
        # "truncated": the record is whole, its zip is cut off half-way and the connection closed
        if path.endswith(".json"):
            connection.sendall(_response(200, RECORD, "application/json"))
            return True
        connection.sendall(_head(200, 4096, "application/zip") + b"PK" + b"\0" * 2046)
        connection.shutdown(socket.SHUT_RDWR)
        return False


def _head(status: int, length: int, content_type: str, extra: str = "") -> bytes:
    reason = {200: "OK", 404: "Not Found", 500: "Internal Server Error"}[status]
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {length}\r\n{extra}\r\n"
    ).encode("latin-1")


def _response(status: int, body: bytes, content_type: str = "text/plain", extra: str = "") -> bytes:
    return _head(status, len(body), content_type, extra) + body


@pytest.fixture
def store(request: pytest.FixtureRequest) -> Iterator[FaultyStore]:
    server = FaultyStore(request.param)
    try:
        yield server
    finally:
        server.close()


def checkout(shop_template: Path, where: Path) -> Path:
    root = where / "shop"
    shutil.copytree(shop_template, root)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + '\n[tool.lambdapress.cache]\nurl = "s3://build-cache/team"\n'
    )
    return root


def environment(store: FaultyStore, folder: Path) -> dict[str, str]:
    """A cache of the test's own (its zips must not be found locally), the store's endpoint."""
    variables = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    return {
        **variables,
        "AWS_ENDPOINT_URL": store.url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "LAMBDAPRESS_CACHE": str(folder / "cache"),
        "PYTHONUNBUFFERED": "1",
    }


def _default_signals() -> None:
    """The child's own dispositions, whatever pytest's were: SIGINT and SIGTERM by default."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def start_package(root: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "lambdapress", "package", "--jobs", "2", "--root", str(root)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a group of its own: the test can look for what it left
        preexec_fn=_default_signals,
    )


def group_members(group: int) -> list[int]:
    """Live processes whose process group is `group` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rpartition(")")[2].split()
            if int(fields[2]) == group and fields[0] not in ("Z", "X"):
                found.append(int(stat.parent.name))
    return found


def finish(process: subprocess.Popen[str], within: float) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=within)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(f"package still running after {within:.0f} s:\n{out}\n{err}")
    return process.returncode, out, err


@pytest.mark.parametrize(
    ("store", "said"),
    [
        ("hang", "did not answer within"),
        ("error", "answered HTTP 500 (InternalError)"),
        ("slow", "answered too slowly"),
        ("truncated", "cut an object short"),
        ("misses-then-hangs", "did not answer within"),
    ],
    indirect=["store"],
    ids=["hangs", "answers-500", "answers-slowly", "truncated-object", "uploads-hang"],
)
def test_a_faulty_shared_cache_means_one_warning_and_a_local_build(
    store: FaultyStore, said: str, shop_template: Path, tmp_path: Path
) -> None:
    root = checkout(shop_template, tmp_path)
    started = time.monotonic()

    code, out, err = finish(start_package(root, environment(store, tmp_path)), FINISHES_WITHIN)

    took = time.monotonic() - started
    print(f"\n{store.mode}: package finished in {took:.1f} s")
    assert code == 0, err
    warnings = [line for line in (out + err).splitlines() if "warning:" in line]
    assert any(said in line and "building locally" in line for line in warnings), warnings
    assert len([w for w in warnings if "shared build cache" in w]) == 1, warnings
    assert "rebuilt" in out
    assert (root / "dist" / "manifest.json").is_file()
    assert sorted(p.name for p in (root / "dist" / "shop").glob("*.zip"))
    assert store.requests  # it was asked (and then not waited for)


@pytest.mark.parametrize("store", ["hang"], indirect=True)
def test_sigterm_during_a_hanging_cache_wait_ends_package_at_once(
    store: FaultyStore, shop_template: Path, tmp_path: Path
) -> None:
    root = checkout(shop_template, tmp_path)
    process = start_package(root, environment(store, tmp_path))
    deadline = time.monotonic() + FINISHES_WITHIN
    while not store.requests:  # waiting on the store now
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "package never asked the shared cache"
        time.sleep(0.05)

    signalled = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code, _, err = finish(process, FINISHES_WITHIN)

    print(f"\nSIGTERM: package ended {time.monotonic() - signalled:.2f} s after the signal")
    assert code == 143, err
    assert "interrupted by SIGTERM" in err
    assert not running(process.pid)
    assert group_members(process.pid) == []  # nothing it started is left
