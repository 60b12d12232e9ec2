"""A small loopback HTTP server that starts in a thread and really stops.

The three servers of the emulator (each worker's Runtime API, the Invoke API and the HTTP
front end) share this: bound to 127.0.0.1 only, one thread per request, `close()` waits for
every request thread, and nothing is printed (access logs go to an optional callback).
Connections are closed after each response (HTTP/1.0), so an idle keep-alive client can never
hold `close()` hostage.
"""

from __future__ import annotations

import errno
import json
import sys
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from lambdapress.errors import EmulatorError

LOOPBACK = "127.0.0.1"


class PayloadTooLarge(Exception):
    """A request body larger than the endpoint accepts."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins every request thread
    block_on_close = True
    owner: Any = None
    thread_name = "lambdapress-server"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Keep quiet about clients that went away; report anything else as usual.

        A client going away (a worker killed mid-request, a curl interrupted) is normal here;
        anything else is a bug.
        """
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    """Request handler base: body reading with a size limit, JSON replies, quiet logs."""

    server: _Server
    server_version = "lambdapress"
    sys_version = ""
    body_limit: ClassVar[int] = 16 * 1024 * 1024

    def handle(self) -> None:
        """Handle one connection on a thread named after the server."""
        # Request threads carry their server's name, so a leak is attributable.
        threading.current_thread().name = f"{self.server.thread_name}-request"
        super().handle()

    @property
    def owner(self) -> Any:
        """The object that started the server (a sandbox, an Emulator front end...)."""
        return self.server.owner

    def read_body(self, limit: int | None = None) -> bytes:
        """The request body; PayloadTooLarge (after draining it) when it exceeds `limit`."""
        limit = self.body_limit if limit is None else limit
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self._read_chunked()
        else:
            length = int(self.headers.get("Content-Length") or 0)
            if length > limit:
                self._discard(length)
                raise PayloadTooLarge(length)
            body = self.rfile.read(length) if length else b""
        if len(body) > limit:
            raise PayloadTooLarge(len(body))
        return body

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _discard(self, length: int) -> None:
        remaining = length
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 16))
            if not chunk:
                return
            remaining -= len(chunk)

    def send(
        self,
        status: int,
        body: bytes = b"",
        headers: Mapping[str, str] | list[tuple[str, str]] | None = None,
        *,
        content_type: str | None = "application/json",
    ) -> None:
        """Send a complete response: status, headers and body."""
        self.send_response(status)
        pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers or [])
        names = {name.lower() for name, _ in pairs}
        if content_type is not None and "content-type" not in names:
            self.send_header("Content-Type", content_type)
        for name, value in pairs:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def send_json(
        self, status: int, document: Any, headers: Mapping[str, str] | None = None
    ) -> None:
        """Send a JSON document as the response body."""
        self.send(status, json.dumps(document).encode(), headers)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the stdlib's stderr access log: a library never prints."""


class LoopbackServer:
    """One `ThreadingHTTPServer` on 127.0.0.1, served from a background thread until closed."""

    def __init__(
        self,
        handler: type[Handler],
        owner: object,
        *,
        port: int = 0,
        name: str = "lambdapress-server",
        what: str = "server",
    ) -> None:
        try:
            self._httpd = _Server((LOOPBACK, port), handler)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise EmulatorError(
                    f"cannot start the {what}: port {port} on {LOOPBACK} is already in use",
                    hint="stop whatever listens there, or choose another port (0 picks a free one)",
                ) from None
            raise
        self._httpd.owner = owner
        self._httpd.thread_name = name
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=name
        )
        self._started = False
        self._closed = False

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self._httpd.server_address[1])

    @property
    def address(self) -> str:
        """`127.0.0.1:PORT`, the form AWS_LAMBDA_RUNTIME_API takes."""
        return f"{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://{self.address}"

    def start(self) -> None:
        """Start serving on a thread of its own (once)."""
        if not self._started:
            self._started = True
            self._thread.start()

    def close(self, before_join: Callable[[], None] | None = None) -> None:
        """Stop accepting, let running requests finish, and join every thread."""
        if self._closed:
            return
        self._closed = True
        if self._started:
            self._httpd.shutdown()
            self._thread.join()
        if before_join is not None:
            before_join()
        self._httpd.server_close()
