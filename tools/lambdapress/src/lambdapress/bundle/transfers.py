"""Network jobs on daemon threads, waited for only as long as they make progress.

A shared cache only saves time, so a store that stops answering must cost seconds, not the
minutes that socket timeouts times retries add up to, and must never keep the process alive:

- each job runs on a *daemon* thread, so a read blocked in the kernel cannot delay the exit
  (a `ThreadPoolExecutor`'s threads are joined when the interpreter exits, and `shutdown`
  waits for running jobs: a SIGTERM would wait for the socket's timeout);
- the caller waits in short slices (a signal's handler runs in between, so SIGINT and SIGTERM
  end the wait at once), and gives up when any running job has shown no progress
  (`Progress.beat`) for `stall` seconds, or when the whole round passes `overall` seconds;
- a job given up on is not killed (Python cannot): it sees `Progress.cancelled` at its next
  step and stops without committing anything, and its socket's own timeout ends it at worst.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import wait as wait_for
from dataclasses import dataclass
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

POLL = 0.1
"""Seconds between two looks at the jobs' progress (and chances for a signal's handler)."""


class Cancelled(Exception):
    """The round this job belongs to was given up on: stop, and commit nothing."""


class Progress:
    """When each running job last moved, and whether the round was given up on."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[int, tuple[float, str]] = {}
        self._cancelled = threading.Event()

    def beat(self, doing: str = "waiting for an answer") -> None:
        """The calling job moved on: a request answered, a chunk received or sent."""
        with self._lock:
            self._last[threading.get_ident()] = (time.monotonic(), doing)

    def done(self) -> None:
        """The calling job is over: its silence no longer counts."""
        with self._lock:
            self._last.pop(threading.get_ident(), None)

    def longest_silence(self) -> tuple[float, str]:
        """The longest time a running job has not moved, and what it was doing then."""
        now = time.monotonic()
        with self._lock:
            silences = [(now - at, doing) for at, doing in self._last.values()]
        return max(silences, default=(0.0, ""))

    def cancel(self) -> None:
        """Tell every job still running to stop at its next step, committing nothing."""
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        """Whether the round was given up on."""
        return self._cancelled.is_set()

    def check(self) -> None:
        """Raise `Cancelled` once the round was given up on (call it before each step)."""
        if self._cancelled.is_set():
            raise Cancelled


@dataclass(frozen=True)
class Round(Generic[Item, Result]):
    """What a round of jobs brought: the results of the jobs that finished, and why it ended.

    `stalled` says what a silent job was doing when the round gave up (empty: it did not).
    """

    results: dict[int, Result]
    """Index of the item -> its job's result, for the jobs that finished."""
    stalled: str = ""
    silence: float = 0.0
    overran: bool = False


def run_round(
    job: Callable[[Item, Progress], Result],
    items: Sequence[Item],
    jobs: int,
    *,
    stall: float,
    overall: float,
) -> Round[Item, Result]:
    """Run `job(item, progress)` for each item on up to `jobs` daemon threads.

    Returns when all are done, or as soon as one has been silent for `stall` seconds or the
    round has lasted `overall` seconds (the jobs still running are cancelled then). A job's
    exception is raised here, as `ThreadPoolExecutor.map` would.
    """
    progress = Progress()
    futures: list[Future[Result]] = [Future() for _ in items]
    work: queue.SimpleQueue[int] = queue.SimpleQueue()
    for index in range(len(items)):
        work.put(index)

    def worker() -> None:
        while not progress.cancelled:
            try:
                index = work.get_nowait()
            except queue.Empty:
                return
            future = futures[index]
            if not future.set_running_or_notify_cancel():
                continue
            progress.beat()
            try:
                future.set_result(job(items[index], progress))
            except BaseException as exc:  # handed to the caller, raised there
                future.set_exception(exc)
            finally:
                progress.done()

    for number in range(max(1, min(jobs, len(items)))):
        name = f"lambdapress-transfer-{number}"
        threading.Thread(target=worker, name=name, daemon=True).start()
    return _wait(futures, progress, stall, overall)


def _wait(
    futures: list[Future[Result]], progress: Progress, stall: float, overall: float
) -> Round[Item, Result]:
    started = time.monotonic()
    pending = set(futures)
    try:
        while pending:
            _, pending = wait_for(pending, timeout=POLL)
            silence, doing = progress.longest_silence()
            if silence > stall:
                return Round(_finished(futures), stalled=doing, silence=silence)
            if time.monotonic() - started > overall:
                return Round(_finished(futures), overran=True)
    finally:
        if pending:  # given up on, or interrupted by a signal: stop what still runs
            progress.cancel()
            for future in pending:
                future.cancel()
    return Round(_finished(futures))


def _finished(futures: list[Future[Result]]) -> dict[int, Result]:
    """The results of the jobs that are done; the first job's exception is raised."""
    results: dict[int, Result] = {}
    for index, future in enumerate(futures):
        if future.done() and not future.cancelled():
            results[index] = future.result()
    return results


def on_daemon_threads(
    job: Callable[[Item], Result], items: Sequence[Item], jobs: int
) -> list[Result]:
    """`[job(item) for item in items]` on up to `jobs` daemon threads, in the order of `items`.

    For calls that wait on the network (deploy's AWS calls): unlike `parallel.in_parallel`, a
    SIGINT or SIGTERM ends the wait at once, without waiting for a call blocked in a socket
    (its own timeouts end it, or the process's exit does). The first failure is raised.
    """
    done = run_round(
        lambda item, _: job(item), items, jobs, stall=float("inf"), overall=float("inf")
    )
    return [done.results[index] for index in range(len(items))]
