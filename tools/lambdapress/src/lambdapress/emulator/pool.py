"""The containers of one function: warm reuse, a concurrency limit, idle recycling.

Like Lambda: an invocation takes a warm idle worker when there is one (the most recently used,
so a burst followed by a trickle keeps few containers warm), starts a new one while the
function is under its concurrency limit, and otherwise waits for one to free up (Lambda would
throttle; locally, queueing keeps load tests simple). A worker that crashed, timed out or ran
out of memory is dropped, so the next invocation gets a fresh one; idle workers are recycled
after `idle_timeout` seconds.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from lambdapress.emulator._container import WorkerSpec
from lambdapress.emulator._workers import InvokeRequest, Worker
from lambdapress.emulator.reports import InvocationResult
from lambdapress.errors import EmulatorError


@dataclass(frozen=True)
class PoolStats:
    """What one function's pool has done: for tables and for tests."""

    function: str
    workers: int
    """Worker processes that exist: busy, idle, or being stopped (a stopping worker may still
    hold what it opened, such as a database connection, until its process is gone)."""
    busy: int
    idle: int
    started: int
    """Workers started so far (= cold starts)."""
    invocations: int
    peak_concurrency: int
    reuse: dict[str, int]
    """Invocations per worker id, including workers that are gone."""
    stopping: int = 0
    """Workers taken out of service whose process is being stopped."""


class FunctionPool:
    """The warm workers of one function, at most `concurrency` of them at once."""

    def __init__(self, spec: WorkerSpec, *, concurrency: int, idle_timeout: float) -> None:
        if concurrency < 1:
            raise EmulatorError(
                f"the concurrency limit of {spec.entry.name} must be at least 1",
                hint="pass concurrency=1 or more",
            )
        self.spec = spec
        self.concurrency = concurrency
        self.idle_timeout = idle_timeout
        self._changed = threading.Condition()
        self._idle: list[Worker] = []
        self._busy: set[Worker] = set()
        self._closed = False
        self._started = 0
        self._invocations = 0
        self._peak = 0
        self._reuse: dict[str, int] = {}
        self._stopping = 0

    def invoke(self, request: InvokeRequest) -> InvocationResult:
        """Run one invocation on a worker of the pool.

        An idle worker takes it, or a new one while under the concurrency limit; otherwise it waits
        for one to be free.
        """
        worker = self._acquire()
        try:
            result = worker.invoke(request)
        except BaseException:
            self._release(worker, keep=False)
            raise
        self._release(worker, keep=worker.alive)
        return result

    def _acquire(self) -> Worker:
        expired: list[Worker] = []
        try:
            with self._changed:
                while True:
                    if self._closed:
                        raise EmulatorError(
                            f"{self.spec.entry.name} was stopped or reloaded while waiting",
                            hint="invoke it again",
                        )
                    expired += self._expired_locked(time.monotonic())
                    if self._idle:
                        worker = self._idle.pop()
                    elif len(self._busy) < self.concurrency:
                        worker = Worker(self.spec)
                        self._started += 1
                    else:
                        self._changed.wait()
                        continue
                    self._busy.add(worker)
                    self._invocations += 1
                    self._reuse[worker.id] = self._reuse.get(worker.id, 0) + 1
                    self._peak = max(self._peak, len(self._busy))
                    return worker
        finally:
            self._stop_workers(expired)

    def _release(self, worker: Worker, *, keep: bool) -> None:
        with self._changed:
            self._busy.discard(worker)
            keep = keep and not self._closed
            if keep:
                self._idle.append(worker)
            else:
                self._stopping += 1
            self._changed.notify()
        if not keep:
            self._stop_workers([worker])

    def _expired_locked(self, now: float) -> list[Worker]:
        expired = [w for w in self._idle if now - w.last_used >= self.idle_timeout]
        self._idle = [w for w in self._idle if w not in expired]
        self._stopping += len(expired)
        return expired

    def _stop_workers(self, workers: list[Worker]) -> None:
        """Close workers already counted as stopping, uncounting each once its process is gone."""
        for worker in workers:
            try:
                worker.close()
            finally:
                with self._changed:
                    self._stopping -= 1

    def recycle_idle(self) -> int:
        """Close workers idle for longer than `idle_timeout`; returns how many."""
        with self._changed:
            expired = self._expired_locked(time.monotonic())
        self._stop_workers(expired)
        return len(expired)

    def close(self, *, force: bool = True) -> None:
        """Stop taking invocations and close idle workers.

        With `force` busy ones too (their invocations then fail), else they close when their
        invocation ends.
        """
        with self._changed:
            self._closed = True
            doomed = self._idle + (list(self._busy) if force else [])
            self._idle = []
            self._stopping += len(doomed)
            self._changed.notify_all()
        self._stop_workers(doomed)

    def stats(self) -> PoolStats:
        """What the pool has done so far: workers busy and idle, cold starts, invocations."""
        with self._changed:
            return PoolStats(
                function=self.spec.entry.name,
                workers=len(self._idle) + len(self._busy) + self._stopping,
                busy=len(self._busy),
                idle=len(self._idle),
                started=self._started,
                invocations=self._invocations,
                peak_concurrency=self._peak,
                reuse=dict(self._reuse),
                stopping=self._stopping,
            )
