"""A small loopback HTTP server that starts in a thread and really stops.

The three servers of the emulator (each worker's Runtime API, the Invoke API and the HTTP
front end) share this: bound to 127.0.0.1 only, one thread per request, `close()` waits for
every request thread, and nothing is printed (access logs go to an optional callback).
Connections are closed after each response (HTTP/1.0), so an idle keep-alive client can never
hold `close()` hostage, and every connection has a socket timeout (`client_timeout`, 30 s by
default), so a client that stalls in the middle of its headers or body is dropped instead of
holding a thread forever.

Bad input is answered, never dropped: a Content-Length that is not a plain number (`abc`,
`-5`), two that disagree, a body without one, a broken chunked body or a body shorter than
announced raise `BadRequest` (each front end answers 400); more than the limit raises
`PayloadTooLarge` (413). A bug in a handler is answered 500 with the path of a log holding the
traceback, which never goes to the terminal.
"""

from __future__ import annotations

import contextlib
import errno
import json
import sys
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Generic, Self, TypeVar

from lambdapress.errors import EmulatorError
from lambdapress.support.closing import ClosesOnExit
from lambdapress.support.crash import summary, write_crash_log
from lambdapress.support.loopback import LOOPBACK

CLIENT_TIMEOUT = 30.0
"""Seconds a connection may stay silent while its request is read (or its answer written)."""
_DRAIN_SECONDS = 1.0


class PayloadTooLarge(Exception):
    """A request body larger than the endpoint accepts."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


class BadRequest(Exception):
    """The request's body cannot be read as HTTP says: the front ends answer 400."""


def content_length(values: list[str]) -> int | None:
    """The body length the Content-Length headers announce (None: no header), or BadRequest.

    Only plain decimal digits are a length: `int()` would also take `-5`, `+5`, ` 5` and `5_0`.
    """
    if not values:
        return None
    if any(not value.strip().isascii() or not value.strip().isdigit() for value in values):
        shown = ", ".join(repr(value) for value in values)
        raise BadRequest(f"Content-Length {shown} is not a number of bytes")
    lengths = {int(value) for value in values}
    if len(lengths) > 1:
        raise BadRequest("the request has several Content-Length headers that disagree")
    return lengths.pop()


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins every request thread
    block_on_close = True
    owner: Any = None
    thread_name = "lambdapress-server"
    client_timeout: float = CLIENT_TIMEOUT

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Keep quiet about clients that went away or stalled; log anything else.

        A client going away (a worker killed mid-request, a curl interrupted) or stalling is
        normal here; anything else is a bug, logged (never printed).
        """
        error = sys.exc_info()[1]
        if isinstance(error, Exception) and not isinstance(error, ConnectionError | TimeoutError):
            with contextlib.suppress(OSError):
                write_crash_log(error, None, [f"request from {client_address}"])


OwnerT = TypeVar("OwnerT")


class Handler(BaseHTTPRequestHandler, Generic[OwnerT]):
    """Request handler base: body reading with a size limit, JSON replies, quiet logs.

    `OwnerT` is the type of the object that started the server, which `owner` returns.
    """

    server: _Server
    server_version = "lambdapress"
    sys_version = ""
    body_limit: ClassVar[int] = 16 * 1024 * 1024

    def setup(self) -> None:
        """Give every client connection a read timeout, so a stalled client is dropped."""
        super().setup()
        self.connection.settimeout(self.server.client_timeout)

    def handle(self) -> None:
        """Handle one connection on a thread named after the server."""
        # Request threads carry their server's name, so a leak is attributable.
        threading.current_thread().name = f"{self.server.thread_name}-request"
        self._responded = False
        try:
            super().handle()
        except (ConnectionError, TimeoutError):
            pass  # a client that went away or stalled: nothing to answer
        except Exception as error:  # a bug here must not print a traceback or drop the client
            self._answer_internal_error(error)

    def _answer_internal_error(self, error: Exception) -> None:
        try:
            request = f"{getattr(self, 'command', '?')} {getattr(self, 'path', '?')}"
            log = str(write_crash_log(error, None, [request]))
        except OSError:
            log = "(no log could be written)"
        if self._responded:
            return
        with contextlib.suppress(OSError):
            self.send_json(500, {"message": summary(error), "details": log})

    def send_response(self, code: int, message: str | None = None) -> None:
        """Send the status line, remembering that a response has begun."""
        self._responded = True
        super().send_response(code, message)

    @property
    def owner(self) -> OwnerT:
        """The object that started the server (a sandbox, an Emulator front end...)."""
        owner: OwnerT = self.server.owner
        return owner

    def read_body(self, limit: int | None = None) -> bytes:
        """Read the request body.

        Raises PayloadTooLarge when it exceeds `limit`, BadRequest when it cannot be read as
        announced.
        """
        limit = self.body_limit if limit is None else limit
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked(limit)
        length = content_length(self.headers.get_all("Content-Length") or [])
        if length is None:
            if self._body_waiting():
                raise BadRequest("the request has a body but no Content-Length header")
            return b""
        if length > limit:
            self._discard(length)
            raise PayloadTooLarge(length)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            raise BadRequest(f"the body ended after {len(body)} of {length} bytes")
        return body

    def _body_waiting(self) -> bool:
        """Whether bytes follow headers that announced no body (looked at without waiting)."""
        previous = self.connection.gettimeout()
        self.connection.settimeout(0.0)
        try:
            return bool(self.rfile.peek(1))  # type: ignore[attr-defined]
        except OSError:
            return False
        finally:
            self.connection.settimeout(previous)

    def _read_chunked(self, limit: int) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            size_text = line.split(b";")[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise BadRequest(f"bad chunk size {size_text[:20]!r} in a chunked body") from None
            if size < 0 or size_text.startswith((b"-", b"+")):
                raise BadRequest(f"bad chunk size {size_text[:20]!r} in a chunked body")
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            total += size
            if total > limit:
                raise PayloadTooLarge(total)
            chunk = self.rfile.read(size)
            if len(chunk) < size:
                raise BadRequest("the chunked body ended in the middle of a chunk")
            parts.append(chunk)
            self.rfile.readline(1024)

    def _discard(self, length: int) -> None:
        """Skip what the client already sent of a body that is too large.

        The client then reads the 413 instead of a reset connection; a client that is still
        sending gets a second at most.
        """
        previous = self.connection.gettimeout()
        self.connection.settimeout(min(previous or _DRAIN_SECONDS, _DRAIN_SECONDS))
        remaining = length
        try:
            while remaining > 0:
                chunk = self.rfile.read1(min(remaining, 1 << 16))
                if not chunk:
                    return
                remaining -= len(chunk)
        except OSError:
            return
        finally:
            self.connection.settimeout(previous)

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
        handler: type[Handler[OwnerT]],
        owner: OwnerT,
        *,
        port: int = 0,
        name: str = "lambdapress-server",
        what: str = "server",
        client_timeout: float = CLIENT_TIMEOUT,
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
        self._httpd.client_timeout = client_timeout
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


class LoopbackEndpoint(ClosesOnExit):
    """An API served by one `LoopbackServer` (`_server`, set by the subclass's constructor).

    Its port and URL are the server's; `with endpoint:` starts it and closes it on the way out.
    """

    _server: LoopbackServer

    @property
    def port(self) -> int:
        """The port the endpoint listens on."""
        return self._server.port

    @property
    def url(self) -> str:
        """The endpoint's base URL (for boto3, `endpoint_url`)."""
        return self._server.url

    def start(self) -> Self:
        """Start answering requests; return self."""
        self._server.start()
        return self

    def close(self) -> None:
        """Stop answering and free the port."""
        self._server.close()

    def __enter__(self) -> Self:
        return self.start()
