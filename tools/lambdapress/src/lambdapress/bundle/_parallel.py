"""Run one job per item on a few threads, and stop promptly when one fails or a signal lands.

`ThreadPoolExecutor.map` inside `with` waits, on any exception (a failed build, Ctrl-C, the
SIGTERM handler's exception), for every queued job to run as well. Here the queued jobs are
cancelled and only the running ones finish, each cleaning up after itself on the way out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

DEFAULT_JOBS = 4
"""Parallel installs and builds when the caller does not say (the CLI asks for one per CPU)."""

Item = TypeVar("Item")
Result = TypeVar("Result")


def in_parallel(job: Callable[[Item], Result], items: Iterable[Item], jobs: int) -> list[Result]:
    """`[job(item) for item in items]`, on up to `jobs` threads, in the order of `items`."""
    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        return list(pool.map(job, items))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
