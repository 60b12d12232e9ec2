"""The Lambda Runtime API, as seen from inside one container (one worker process).

Lambda gives every execution environment its own Runtime API endpoint; so does the emulator:
each worker gets a `RuntimeApi` on its own loopback port, and the worker's runtime client
(awslambdaric, or the fallback loop) long-polls `/next` on it. The parent side hands an
`Invocation` to the `Sandbox` and waits on it; the server threads fill in the outcome.

Endpoints (API version 2018-06-01), with Lambda's status codes:
- `GET  /runtime/invocation/next`: blocks until there is an invocation; 200 with the event and
  the `Lambda-Runtime-*` headers. The first call ends the init phase.
- `POST /runtime/invocation/{id}/response`: 202; 413 above 6 MB (the caller then gets
  `Function.ResponseSizeTooLarge`); 400 for an unknown request id.
- `POST /runtime/invocation/{id}/error`: 202; the body is Lambda's error document.
- `POST /runtime/init/error`: 202; the init phase failed (an import error, usually).
- `GET  /runtime/restore/next`: 200 at once. A SnapStart function's runtime client calls it
  after its before-snapshot hooks and runs its after-restore hooks when it returns; the
  emulator restores the same process it "snapshotted", so there is nothing to wait for.
- `POST /runtime/restore/error`: 202; an after-restore hook failed (recorded as an init
  error: the environment never served an invocation, as on Lambda).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Literal

from lambdapress.emulator.context import MAX_RESPONSE_PAYLOAD
from lambdapress.emulator.servers import (
    CLIENT_TIMEOUT,
    BadRequest,
    Handler,
    LoopbackServer,
    PayloadTooLarge,
)

API_PREFIX = "/2018-06-01/runtime"
OutcomeKind = Literal["response", "error", "too_large"]


@dataclass
class Invocation:
    """One event on its way through a sandbox, and what came back."""

    request_id: str
    payload: bytes
    deadline_ms: int
    function_arn: str
    trace_id: str
    client_context: str | None = None
    cognito_identity: str | None = None
    started: float | None = None
    finished: float | None = None
    kind: OutcomeKind | None = None
    body: bytes = b""
    done: threading.Event = field(default_factory=threading.Event)

    def headers(self) -> dict[str, str]:
        """The `Lambda-Runtime-*` headers of this invocation's `next` response."""
        headers = {
            "Lambda-Runtime-Aws-Request-Id": self.request_id,
            "Lambda-Runtime-Deadline-Ms": str(self.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": self.function_arn,
            "Lambda-Runtime-Trace-Id": self.trace_id,
        }
        if self.client_context is not None:
            headers["Lambda-Runtime-Client-Context"] = self.client_context
        if self.cognito_identity is not None:
            headers["Lambda-Runtime-Cognito-Identity"] = self.cognito_identity
        return headers


class Sandbox:
    """The state one worker's Runtime API shares with the thread driving that worker."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.ready_at: float | None = None
        self.init_error: bytes | None = None
        self.closed = False
        self._pending: Invocation | None = None
        self._current: Invocation | None = None

    def submit(self, invocation: Invocation) -> None:
        """Queue the invocation the runtime client will get next."""
        with self.changed:
            if self._pending is not None or self._current is not None:
                raise RuntimeError("a sandbox runs one invocation at a time")
            self._pending = invocation
            self.changed.notify_all()

    def close(self) -> None:
        """Wake every waiter and refuse further invocations."""
        with self.changed:
            self.closed = True
            self.changed.notify_all()

    def wait(self, timeout: float) -> None:
        """Wait for a change (an outcome, a request for work) for at most `timeout` seconds."""
        with self.changed:
            self.changed.wait(timeout)

    # -- called from the server threads ------------------------------------------------
    def next_invocation(self) -> Invocation | None:
        """Block until an invocation is queued (or the sandbox closes) and hand it out."""
        with self.changed:
            if self.ready_at is None:
                self.ready_at = time.perf_counter()
                self.changed.notify_all()
            while self._pending is None and not self.closed:
                self.changed.wait()
            if self.closed or self._pending is None:
                return None
            invocation, self._pending = self._pending, None
            invocation.started = time.perf_counter()
            self._current = invocation
            return invocation

    def finish(self, request_id: str, kind: OutcomeKind, body: bytes) -> bool:
        """Record the outcome of invocation `request_id`; False when it is not the current one."""
        with self.changed:
            invocation = self._current
            if invocation is None or invocation.request_id != request_id:
                return False
            invocation.finished = time.perf_counter()
            invocation.kind, invocation.body = kind, body
            self._current = None
            invocation.done.set()
            self.changed.notify_all()
            return True

    def fail_init(self, body: bytes) -> None:
        """Record the runtime client's init error."""
        with self.changed:
            self.init_error = body
            self.changed.notify_all()


class _RuntimeHandler(Handler["Sandbox"]):
    body_limit = MAX_RESPONSE_PAYLOAD

    def do_GET(self) -> None:
        if self.path == f"{API_PREFIX}/restore/next":
            self.send_json(200, {})
            return
        if self.path != f"{API_PREFIX}/invocation/next":
            self._unknown()
            return
        invocation = self.owner.next_invocation()
        if invocation is None:  # the worker is being shut down
            self.send_json(410, {"errorMessage": "container shut down", "errorType": "Gone"})
            return
        # awslambdaric needs this content type (without it the native client crashes).
        self.send(200, invocation.payload, invocation.headers(), content_type="application/json")

    def do_POST(self) -> None:
        path = self.path.removeprefix(API_PREFIX)
        if path in ("/init/error", "/restore/error"):
            try:
                self.owner.fail_init(self._body_or_empty())
            except BadRequest as exc:
                self._bad_request(exc)
                return
            self.send_json(202, {"status": "OK"})
            return
        parts = path.split("/")  # ['', 'invocation', id, 'response' | 'error']
        if len(parts) != 4 or parts[1] != "invocation" or parts[3] not in ("response", "error"):
            self._unknown()
            return
        request_id, what = parts[2], parts[3]
        try:
            body = self.read_body()
        except PayloadTooLarge as exc:
            self.owner.finish(request_id, "too_large", str(exc.size).encode())
            self.send_json(
                413,
                {
                    "errorMessage": "Exceeded maximum allowed payload size "
                    f"({MAX_RESPONSE_PAYLOAD} bytes).",
                    "errorType": "RequestEntityTooLarge",
                },
            )
            return
        except BadRequest as exc:
            self._bad_request(exc)
            return
        if not self.owner.finish(request_id, "response" if what == "response" else "error", body):
            self.send_json(
                400, {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"}
            )
            return
        self.send_json(202, {"status": "OK"})

    def _body_or_empty(self) -> bytes:
        try:
            return self.read_body()
        except PayloadTooLarge:
            return b""

    def _bad_request(self, error: BadRequest) -> None:
        self.send_json(400, {"errorMessage": str(error), "errorType": "InvalidRequest"})

    def _unknown(self) -> None:
        self.send_json(404, {"errorMessage": f"unknown path {self.path}", "errorType": "NotFound"})


class RuntimeApi:
    """One sandbox's Runtime API server; `address` goes into AWS_LAMBDA_RUNTIME_API."""

    def __init__(
        self, sandbox: Sandbox, name: str, *, client_timeout: float = CLIENT_TIMEOUT
    ) -> None:
        self.sandbox = sandbox
        self._server = LoopbackServer(
            _RuntimeHandler,
            sandbox,
            name=f"runtime-api-{name}",
            what="Runtime API",
            client_timeout=client_timeout,
        )
        self._server.start()

    @property
    def address(self) -> str:
        """The `host:port` the runtime client is given as `AWS_LAMBDA_RUNTIME_API`."""
        return self._server.address

    def close(self) -> None:
        """Close the sandbox and stop the server."""
        self.sandbox.close()
        self._server.close()
