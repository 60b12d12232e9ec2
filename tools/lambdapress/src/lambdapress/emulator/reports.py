"""What one invocation produced, and Lambda's own log lines for it (START, END, REPORT).

The REPORT line is the one developers already know from CloudWatch, so durations and memory are
shown in exactly that format rather than in a format of our own:

    REPORT RequestId: 6f1...	Duration: 2.31 ms	Billed Duration: 3 ms	Memory Size: 128 MB
    Max Memory Used: 31 MB	Init Duration: 35.12 ms

(one line, tab separated). `Init Duration` appears only on a container's first invocation;
`Status` only when the invocation did not succeed, as Lambda prints them today.
"""

from __future__ import annotations

import base64
import json
import math
import re
import time
from dataclasses import dataclass
from typing import Any, Literal

from lambdapress.emulator.context import FUNCTION_VERSION
from lambdapress.support.toolchain import Interpreter

Status = Literal["success", "error", "timeout"]
LOG_TAIL_BYTES = 4096


@dataclass(frozen=True)
class FunctionError:
    """Lambda's error document: what the caller receives when a function fails."""

    error_type: str
    message: str
    stack_trace: tuple[str, ...] = ()

    def to_json(self, request_id: str | None = None) -> bytes:
        """The error document Lambda returns for this error."""
        document: dict[str, Any] = {"errorMessage": self.message, "errorType": self.error_type}
        if request_id is not None:
            document["requestId"] = request_id
        if self.stack_trace:
            document["stackTrace"] = list(self.stack_trace)
        return json.dumps(document).encode()

    @classmethod
    def from_document(cls, raw: bytes) -> FunctionError:
        """Parse what a runtime posted to `/error` (tolerating a runtime that posts junk)."""
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            text = raw.decode(errors="replace")
            return cls("Runtime.Unknown", text or "the runtime reported an error without details")
        trace = data.get("stackTrace") or ()
        return cls(
            error_type=str(data.get("errorType") or "Runtime.Unknown"),
            message=str(data.get("errorMessage") or ""),
            stack_trace=tuple(str(line) for line in trace) if isinstance(trace, list) else (),
        )


# What a failure's message says, and what to do about it: (pattern, hint). The first match wins.
_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"psycopg"),
        "psycopg found none of its implementations in the zip. Lambda's Python runtime has no "
        "libpq for its pure-Python one, so ship the binary one: depend on psycopg[binary] (the "
        "bundler then ships psycopg_binary and sets PSYCOPG_IMPL=binary) and package again",
    ),
    (
        re.compile(r"No module named '([^']+)'"),
        "the zip has no module {0!r}, and Lambda's runtime does not provide it either: declare "
        "the distribution that provides it (or the extra that brings it, as psycopg[binary] "
        "brings psycopg_binary) in the service's dependencies, then package again",
    ),
    (
        re.compile(r"cannot open shared object file|library not found|undefined symbol"),
        "a shared library that Lambda's Python runtime does not provide: ship a binary wheel "
        "that bundles it, or put the library in the zip (a lib/ folder is on Lambda's "
        "LD_LIBRARY_PATH)",
    ),
)


def failure_hint(error: FunctionError | None) -> str | None:
    """What to do about a failure that says the zip lacks something Lambda would not have."""
    if error is None:
        return None
    for pattern, hint in _HINTS:
        found = pattern.search(error.message)
        if found is not None:
            return hint.format(*found.groups())
    return None


@dataclass(frozen=True)
class Report:
    """The numbers of Lambda's REPORT line for one invocation."""

    request_id: str
    duration_ms: float
    memory_size_mb: int
    max_memory_used_mb: int
    init_duration_ms: float | None = None
    status: Status = "success"
    error_type: str | None = None

    @property
    def billed_duration_ms(self) -> int:
        """Duration rounded up to the millisecond, plus the init phase on a cold start.

        Lambda bills INIT for on-demand functions since August 2025.
        """
        total = self.duration_ms + (self.init_duration_ms or 0.0)
        return max(1, math.ceil(total))

    @property
    def cold(self) -> bool:
        """Whether the invocation started a new worker (an init phase ran)."""
        return self.init_duration_ms is not None

    def line(self) -> str:
        """The `REPORT RequestId: ...` line Lambda logs after an invocation."""
        fields = [
            f"REPORT RequestId: {self.request_id}",
            f"Duration: {self.duration_ms:.2f} ms",
            f"Billed Duration: {self.billed_duration_ms} ms",
            f"Memory Size: {self.memory_size_mb} MB",
            f"Max Memory Used: {self.max_memory_used_mb} MB",
        ]
        if self.init_duration_ms is not None:
            fields.append(f"Init Duration: {self.init_duration_ms:.2f} ms")
        if self.status != "success":
            fields.append(f"Status: {self.status}")
            if self.error_type and self.status == "error":
                fields.append(f"Error Type: {self.error_type}")
        return "\t".join(fields) + "\t"


def start_line(request_id: str) -> str:
    """The `START RequestId: ...` line Lambda logs before an invocation."""
    return f"START RequestId: {request_id} Version: {FUNCTION_VERSION}"


def end_line(request_id: str) -> str:
    """The `END RequestId: ...` line Lambda logs after an invocation."""
    return f"END RequestId: {request_id}"


def init_start_line(runtime: str, interpreter: Interpreter) -> str:
    """Lambda's first line of a new container; the version ARN names the local interpreter."""
    version = runtime.replace("python", "python:")
    return (
        f"INIT_START Runtime Version: {version}.local\t"
        f"Runtime Version ARN: local:{interpreter.version}:{interpreter.path}"
    )


def timeout_line(request_id: str, timeout: float) -> str:
    """What Lambda writes to the log when it stops a function at its timeout."""
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
    return f"{stamp} {request_id} Task timed out after {timeout:.2f} seconds"


@dataclass(frozen=True)
class InvocationResult:
    """Everything one invocation produced: the payload, the error (if any), logs and report.

    `payload` is exactly what Lambda returns to the caller: the function's JSON response, or
    the error document when `error` is set.
    """

    function: str
    request_id: str
    payload: bytes
    error: FunctionError | None
    logs: str
    report: Report
    worker_id: str
    init_failed: bool = False
    """Whether the container's init phase failed (the handler never ran; Init Duration then
    measures a failure, not a cold start)."""

    @property
    def ok(self) -> bool:
        """Whether the function returned without an error."""
        return self.error is None

    @property
    def response(self) -> Any:
        """The payload decoded as JSON (None for an empty payload)."""
        return json.loads(self.payload) if self.payload else None

    @property
    def hint(self) -> str | None:
        """What to do about the failure when it says the zip lacks something (`failure_hint`)."""
        return failure_hint(self.error)

    @property
    def function_error(self) -> str | None:
        """The `X-Amz-Function-Error` header Lambda sends: `Unhandled` on any failure."""
        return None if self.error is None else "Unhandled"

    @property
    def cold(self) -> bool:
        """Whether this invocation started a new worker."""
        return self.report.cold

    def log_tail(self) -> str:
        """The last 4 KB of the logs, base64 encoded, as in `X-Amz-Log-Result`."""
        raw = self.logs.encode()[-LOG_TAIL_BYTES:]
        return base64.b64encode(raw).decode()

    def readable_logs(self) -> str:
        r"""The logs with Lambda's in-record line breaks (`\r`) shown as real line breaks."""
        return self.logs.replace("\r\n", "\n").replace("\r", "\n")
