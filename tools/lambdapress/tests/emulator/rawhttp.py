"""HTTP/1.1 over a plain socket, byte for byte: requests httpx would normalise, answers unparsed.

httpx and http.client quote or refuse raw bytes in a request line and re-frame bodies; these
tests need to send exactly what a client could send (raw UTF-8 in the path, `%` escapes as is,
a chunked body) and to see exactly what the server wrote (every header line as bytes).
"""

from __future__ import annotations

import json
import re
import socket
from dataclasses import dataclass
from typing import Any

_STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3}) [^\r\n]*")


@dataclass(frozen=True)
class RawResponse:
    """A response as it came off the wire."""

    status: int
    head: bytes
    """The status line and every header line, as sent (CRLF-separated, no final blank line)."""
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: str) -> list[bytes]:
        """Every value of the header `name` (any case)."""
        wanted = name.lower().encode()
        return [value for key, value in self.headers if key.lower() == wanted]

    def json(self) -> Any:
        return json.loads(self.body)


def exchange(port: int, request: bytes, *, timeout: float = 30.0) -> RawResponse:
    """Send `request` to 127.0.0.1:`port` and read the answer until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(request)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    data = b"".join(chunks)
    head, separator, body = data.partition(b"\r\n\r\n")
    assert separator, f"no end of headers in {data[:200]!r}"
    lines = head.split(b"\r\n")
    found = _STATUS_LINE.fullmatch(lines[0])
    assert found is not None, f"bad status line {lines[0]!r}"
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        assert colon, f"a header line without a colon: {line!r}"
        headers.append((name, value.strip(b" \t")))
    return RawResponse(int(found.group(1)), head, headers, body)


def request(
    method: str,
    target: bytes | str,
    *,
    headers: list[tuple[str, str]] | None = None,
    body: bytes | None = None,
    chunked: bool = False,
    host: str = "127.0.0.1",
) -> bytes:
    """The bytes of one HTTP/1.1 request; `target` is sent byte for byte."""
    raw_target = target if isinstance(target, bytes) else target.encode("utf-8")
    lines = [method.encode() + b" " + raw_target + b" HTTP/1.1", b"Host: " + host.encode()]
    lines += [f"{name}: {value}".encode() for name, value in headers or []]
    payload = b""
    if body is not None and chunked:
        lines.append(b"Transfer-Encoding: chunked")
        half = len(body) // 2
        for part in (body[:half], body[half:]):
            if part:
                payload += b"%x\r\n" % len(part) + part + b"\r\n"
        payload += b"0\r\n\r\n"
    elif body is not None:
        lines.append(b"Content-Length: %d" % len(body))
        payload = body
    lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + payload
