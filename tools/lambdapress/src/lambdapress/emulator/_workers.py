"""One worker: a Python process running one function's artifact, like one Lambda container.

The process is `python -I -S -B` (isolated: no site-packages, no user site, no PYTHON*
variables, no bytecode writing) with only the unzipped artifact and the runtime client on
`sys.path`, the task root as working directory and Lambda's reserved environment variables. It
lives until it crashes, times out, runs out of memory, or is recycled; each invocation is
watched for all of those, and reported in Lambda's words.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from lambdapress.emulator._container import WorkerSpec
from lambdapress.emulator._process import (
    OutputCapture,
    describe_exit,
    kill_tree,
    peak_rss_bytes,
    to_mb,
)
from lambdapress.emulator._runtime_api import Invocation, RuntimeApi, Sandbox
from lambdapress.emulator.context import (
    MAX_RESPONSE_PAYLOAD,
    function_arn,
    new_request_id,
    new_trace_id,
)
from lambdapress.emulator.reports import (
    FunctionError,
    InvocationResult,
    Report,
    Status,
    end_line,
    init_start_line,
    start_line,
    timeout_line,
)
from lambdapress.errors import EmulatorError
from lambdapress.support.lifetime import bound_popen

POLL_SECONDS = 0.02
_ids = itertools.count(1)


@dataclass(frozen=True)
class InvokeRequest:
    """One invocation's payload, ids and client context."""

    payload: bytes
    request_id: str = field(default_factory=new_request_id)
    trace_id: str = field(default_factory=new_trace_id)
    client_context: Mapping[str, object] | None = None
    cognito_identity: Mapping[str, object] | None = None


class Worker:
    """A container: started on its first invocation, then reused until it dies or is closed."""

    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        self.id = f"{spec.entry.name}#{next(_ids)}"
        self.invocations = 0
        self.last_used = time.monotonic()
        self._sandbox = Sandbox()
        self._api: RuntimeApi | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._output: OutputCapture | None = None
        self._tmp = spec.scratch / self.id.replace("#", "-")
        self._dead = False
        self._peak_mb = 0
        self._close_lock = threading.Lock()

    @property
    def alive(self) -> bool:
        """Whether the worker's process is running and usable."""
        return not self._dead and (self._process is None or self._process.poll() is None)

    # -- lifecycle -------------------------------------------------------------------------
    def _start(self) -> float:
        mounts = self.spec.mounts
        if mounts is None:  # no private /tmp: a private TMPDIR instead
            self._tmp.mkdir(parents=True, exist_ok=True)
        self._api = RuntimeApi(self._sandbox, self.id)
        try:
            # Bound to the emulator's process: a worker never outlives it, even a SIGKILLed one.
            # That needs a fork instead of a vfork (a few ms), so the init phase is timed from
            # the moment the runtime's process exists (Popen returns once it has exec'd); the
            # mount namespace is set up before that, like Lambda's sandbox before its INIT.
            self._process = bound_popen(
                self.spec.command(),
                prepare=mounts.preexec() if mounts is not None else None,
                cwd=self.spec.task_root,
                env=self.spec.environment(self._api.address, self._tmp),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            self.close()
            raise EmulatorError(
                f"cannot start a worker for {self.spec.entry.name} with "
                f"{self.spec.interpreter.path}: {exc.strerror}",
                hint="check that this Python still exists (or pass another one)",
            ) from None
        except subprocess.SubprocessError:
            self.close()
            raise EmulatorError(
                f"cannot start a worker for {self.spec.entry.name}: its private /tmp and "
                "read-only code folder could not be set up, although this machine allowed "
                "them when lambdapress started",
                hint="run with isolation='python' (Emulator option) to go on without them",
            ) from None
        began = time.perf_counter()
        assert self._process.stdout is not None
        self._output = OutputCapture(self._process.stdout.fileno(), self.id)
        return began

    def close(self) -> None:
        """Kill the process and stop its threads; safe to call twice, from any thread."""
        with self._close_lock:
            self._dead = True
            if self._process is not None:
                kill_tree(self._process)
            self._sandbox.close()  # after the kill: nobody is left to answer
            if self._output is not None:
                self._output.close()
            if self._process is not None and self._process.stdout is not None:
                self._process.stdout.close()
            if self._api is not None:
                self._api.close()
            shutil.rmtree(self._tmp, ignore_errors=True)

    # -- one invocation --------------------------------------------------------------------
    def invoke(self, request: InvokeRequest) -> InvocationResult:
        """Run one invocation (starting the process first when cold) and report it."""
        if self._dead:
            raise RuntimeError(f"worker {self.id} is closed")
        lines: list[str] = []
        init_ms: float | None = None
        try:
            if self._process is None:
                began = self._start()
                lines.append(init_start_line(self.spec.entry.runtime, self.spec.interpreter))
                error = self._wait_ready(request.request_id)
                ready = self._sandbox.ready_at
                init_ms = ((ready if ready is not None else time.perf_counter()) - began) * 1000
                lines.append(self._take_output())
                if error is not None:
                    payload = self._sandbox.init_error or error.to_json()
                    self.close()
                    lines += [start_line(request.request_id), self._take_output()]
                    failed = self._result(request, lines, error, 0.0, init_ms, "error", payload)
                    return dataclasses.replace(failed, init_failed=True)
            lines.append(start_line(request.request_id))
            self.invocations += 1
            return self._run(request, lines, init_ms)
        finally:
            self.last_used = time.monotonic()

    def _run(
        self, request: InvokeRequest, lines: list[str], init_ms: float | None
    ) -> InvocationResult:
        spec, timeout, request_id = self.spec, float(self.spec.entry.timeout), request.request_id
        invocation = Invocation(
            request_id=request_id,
            payload=request.payload,
            deadline_ms=int((time.time() + timeout) * 1000),
            function_arn=function_arn(spec.entry.name, spec.region),
            trace_id=request.trace_id,
            client_context=_json_or_none(request.client_context),
            cognito_identity=_json_or_none(request.cognito_identity),
        )
        submitted = time.perf_counter()
        self._sandbox.submit(invocation)
        error: FunctionError | None = None
        while not invocation.done.wait(POLL_SECONDS):
            if time.perf_counter() - (invocation.started or submitted) > timeout:
                self.close()
                lines += [self._take_output(), timeout_line(request_id, timeout)]
                error = FunctionError(
                    "Sandbox.Timedout",
                    f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds",
                )
                return self._result(request, lines, error, timeout * 1000, init_ms, "timeout")
            if (error := self._check_process(request_id)) is not None:
                break
        finished = invocation.finished or time.perf_counter()
        duration_ms = (finished - (invocation.started or submitted)) * 1000
        payload: bytes | None = None
        if error is None:
            error = self._check_memory(request_id)
        if error is None and invocation.kind == "response":
            payload = invocation.body
        elif error is None and invocation.kind == "error":
            error, payload = FunctionError.from_document(invocation.body), invocation.body
        elif error is None and invocation.kind == "too_large":
            error = FunctionError(
                "Function.ResponseSizeTooLarge",
                "Response payload size exceeded maximum allowed payload size "
                f"({MAX_RESPONSE_PAYLOAD} bytes).",
            )
            self._retire_after_rejected_response()
        output = self._take_output()
        if error is not None and error.error_type in ("Runtime.ExitError", "Runtime.OutOfMemory"):
            output += f"{error.message}\n{error.error_type}\n"
        lines.append(output)
        status: Status = "success" if error is None else "error"
        return self._result(request, lines, error, duration_ms, init_ms, status, payload)

    def _retire_after_rejected_response(self) -> None:
        """Let awslambdaric report its refused response, then reset the container as Lambda does.

        awslambdaric exits when its response is refused; the next invocation starts a fresh
        container.
        """
        assert self._process is not None
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=0.5)
        self._dead = True

    def _wait_ready(self, request_id: str) -> FunctionError | None:
        """Wait for the runtime's first `/next` (the end of init) or its failure."""
        deadline = time.perf_counter() + self.spec.init_timeout
        sandbox = self._sandbox
        while sandbox.ready_at is None:
            if sandbox.init_error is not None:
                return FunctionError.from_document(sandbox.init_error)
            if (error := self._check_process(request_id)) is not None:
                return error
            if time.perf_counter() > deadline:
                return FunctionError(
                    "Sandbox.Timedout",
                    f"RequestId: {request_id} Error: INIT phase timed out after "
                    f"{self.spec.init_timeout:.2f} seconds",
                )
            sandbox.wait(POLL_SECONDS)
        return None

    def _check_process(self, request_id: str) -> FunctionError | None:
        """A crash (the process exited) or a breach of the memory setting, in Lambda's words."""
        assert self._process is not None
        returncode = self._process.poll()
        if returncode is None:
            return self._check_memory(request_id)
        self._dead = True
        if self._sandbox.init_error is not None:  # the runtime reported why before exiting
            return FunctionError.from_document(self._sandbox.init_error)
        return FunctionError(
            "Runtime.ExitError",
            f"RequestId: {request_id} Error: Runtime exited with error: "
            f"{describe_exit(returncode)}",
        )

    def _check_memory(self, request_id: str) -> FunctionError | None:
        """Lambda kills a container that uses more than its memory setting: so does this."""
        if self.peak_memory_mb() <= self.spec.entry.memory:
            return None
        self.close()
        return FunctionError(
            "Runtime.OutOfMemory",
            f"RequestId: {request_id} Error: Runtime exited with error: signal: killed",
        )

    def peak_memory_mb(self) -> int:
        """The highest resident memory seen for this container so far (MB, rounded up)."""
        if self._process is not None and self._process.poll() is None:
            size = peak_rss_bytes(self._process.pid)
            if size is not None:
                self._peak_mb = max(self._peak_mb, to_mb(size))
        return self._peak_mb

    def _take_output(self) -> str:
        return "" if self._output is None else self._output.take()

    def _result(
        self,
        request: InvokeRequest,
        lines: list[str],
        error: FunctionError | None,
        duration_ms: float,
        init_ms: float | None,
        status: Status,
        payload: bytes | None = None,
    ) -> InvocationResult:
        report = Report(
            request_id=request.request_id,
            duration_ms=duration_ms,
            memory_size_mb=self.spec.entry.memory,
            max_memory_used_mb=self.peak_memory_mb(),
            init_duration_ms=init_ms,
            status=status,
            error_type=error.error_type if error is not None else None,
        )
        lines += [end_line(request.request_id), report.line()]
        if payload is None:
            payload = b"null" if error is None else error.to_json()
        return InvocationResult(
            function=self.spec.entry.name,
            request_id=request.request_id,
            payload=payload,
            error=error,
            logs=_join(lines),
            report=report,
            worker_id=self.id,
        )


def _json_or_none(value: Mapping[str, object] | None) -> str | None:
    return None if value is None else json.dumps(value)


def _join(parts: list[str]) -> str:
    """Log parts (lines or captured output) as text with one line break between records."""
    text = ""
    for part in parts:
        if not part:
            continue
        text += part if part.endswith("\n") else part + "\n"
    return text
