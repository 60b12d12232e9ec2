"""Strict mode: an invocation that leaves a thread running or a resource open fails loudly."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from lambdapress_runtime import STRICT_ENV, Container, StrictModeError, _strict


class Connection:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def test_a_leftover_non_daemon_thread_is_named(
    container: Container, monkeypatch: pytest.MonkeyPatch, stop: threading.Event
) -> None:
    monkeypatch.setenv(STRICT_ENV, "1")
    leak = "thread 'send-email' is still running"
    with pytest.raises(StrictModeError, match=leak) as caught, container.invocation():
        threading.Thread(target=stop.wait, name="send-email").start()
    assert caught.value.threads == ("send-email",)


def test_daemon_threads_and_joined_threads_are_fine(
    container: Container, monkeypatch: pytest.MonkeyPatch, stop: threading.Event
) -> None:
    monkeypatch.setenv(STRICT_ENV, "1")
    with container.invocation():
        threading.Thread(target=stop.wait, name="reaper", daemon=True).start()
        joined = threading.Thread(target=lambda: None, name="quick")
        joined.start()
        joined.join()


def test_threads_running_before_the_invocation_are_not_its_own(
    container: Container, monkeypatch: pytest.MonkeyPatch, stop: threading.Event
) -> None:
    monkeypatch.setenv(STRICT_ENV, "1")
    background = threading.Thread(target=stop.wait, name="started-at-import")
    background.start()
    with container.invocation():
        pass
    stop.set()
    background.join()


def test_without_strict_mode_leftovers_are_not_checked(
    container: Container, monkeypatch: pytest.MonkeyPatch, stop: threading.Event
) -> None:
    monkeypatch.delenv(STRICT_ENV, raising=False)
    with container.invocation():
        threading.Thread(target=stop.wait, name="send-email").start()


def test_a_per_invocation_resource_nobody_closes_is_named(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STRICT_ENV, "1")

    @container.per_invocation(name="orders.connection")
    def connection() -> Connection:
        return Connection()  # no teardown: nothing closes it

    leak = r"orders\.connection is still open"
    with pytest.raises(StrictModeError, match=leak) as caught, container.invocation():
        connection.get()
    assert caught.value.resources == ("orders.connection",)


def test_a_resource_closed_by_its_teardown_passes(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STRICT_ENV, "1")

    @container.per_invocation
    def connection() -> Iterator[Connection]:
        conn = Connection()
        yield conn
        conn.close()

    with container.invocation():
        connection.get()


def test_a_strict_failure_does_not_mask_the_handler_exception(
    container: Container, monkeypatch: pytest.MonkeyPatch, stop: threading.Event
) -> None:
    monkeypatch.setenv(STRICT_ENV, "1")
    with pytest.raises(KeyError) as caught, container.invocation():
        threading.Thread(target=stop.wait, name="send-email").start()
        raise KeyError("order 42")
    assert any("send-email" in note for note in caught.value.__notes__)


def test_a_teardown_the_handlers_error_skipped_is_reported(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STRICT_ENV, "1")

    @container.per_invocation(name="orders.connection")
    def connection() -> Iterator[Connection]:
        conn = Connection()
        yield conn
        conn.close()  # not in `finally`: the handler's error skips it

    with pytest.raises(KeyError) as caught, container.invocation():
        connection.get()
        raise KeyError("order 42")
    assert any("orders.connection is still open" in note for note in caught.value.__notes__)


# -- thread pools: idle workers are not leaks, unfinished tasks are ------------------------
@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    """A pool made at import time, as a handler module keeps one for the container's life."""
    executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="init-pool")
    yield executor
    executor.shutdown(wait=True, cancel_futures=True)


@pytest.mark.parametrize("tasks", [1, 4, 12])
def test_idle_workers_of_a_pool_made_at_init_are_not_leaks(
    container: Container, monkeypatch: pytest.MonkeyPatch, pool: ThreadPoolExecutor, tasks: int
) -> None:
    """The pool's threads start lazily, during the first invocation, and stay (idle)."""
    monkeypatch.setenv(STRICT_ENV, "1")
    for _ in range(3):  # the first invocation starts the threads, the next ones reuse them
        with container.invocation():
            assert sum(pool.map(lambda n: n * 2, range(tasks))) == tasks * (tasks - 1)


def test_idle_workers_of_asyncios_default_executor_are_not_leaks(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STRICT_ENV, "1")
    loop = asyncio.new_event_loop()  # kept for the container's life, as a handler would
    try:
        with container.invocation():
            assert loop.run_until_complete(loop.run_in_executor(None, sum, [1, 2])) == 3
    finally:
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()


def test_a_pool_made_and_dropped_in_the_handler_is_not_a_leak(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STRICT_ENV, "1")
    with container.invocation():
        # No shutdown: once collected, its idle threads end by themselves.
        assert list(ThreadPoolExecutor(2).map(abs, [-1, -2])) == [1, 2]


def test_a_task_left_running_on_a_pool_made_at_init_is_named(
    container: Container,
    monkeypatch: pytest.MonkeyPatch,
    pool: ThreadPoolExecutor,
    stop: threading.Event,
) -> None:
    monkeypatch.setenv(STRICT_ENV, "1")
    with container.invocation():  # the pool's threads exist before the leaking invocation
        list(pool.map(abs, range(8)))
    leak = "submitted to a thread pool"
    with pytest.raises(StrictModeError, match=leak) as caught, container.invocation():
        pool.submit(stop.wait)  # fire and forget: runs on while the container is frozen
    assert caught.value.threads == ()
    assert len(caught.value.tasks) == 1 and caught.value.tasks[0].startswith("init-pool")


def test_a_task_left_running_on_a_pool_made_in_the_handler_is_named(
    container: Container, monkeypatch: pytest.MonkeyPatch, stop: threading.Event
) -> None:
    monkeypatch.setenv(STRICT_ENV, "1")
    with pytest.raises(StrictModeError) as caught, container.invocation():
        ThreadPoolExecutor(1, thread_name_prefix="mailer").submit(stop.wait)
    assert caught.value.tasks == ("mailer_0",)


def test_a_task_that_was_running_before_the_invocation_is_not_its_own(
    container: Container,
    monkeypatch: pytest.MonkeyPatch,
    pool: ThreadPoolExecutor,
    stop: threading.Event,
) -> None:
    monkeypatch.setenv(STRICT_ENV, "1")
    started = threading.Event()

    def background() -> None:
        started.set()
        stop.wait()

    pool.submit(background)  # at import time, say: a warm-up that outlives init
    assert started.wait(5)
    with container.invocation():
        assert sum(pool.map(abs, range(3))) == 3  # the other pool threads do the work


def test_a_plain_thread_is_still_reported_beside_pool_workers(
    container: Container,
    monkeypatch: pytest.MonkeyPatch,
    pool: ThreadPoolExecutor,
    stop: threading.Event,
) -> None:
    monkeypatch.setenv(STRICT_ENV, "1")
    with pytest.raises(StrictModeError) as caught, container.invocation():
        list(pool.map(abs, range(4)))
        threading.Thread(target=stop.wait, name="send-email").start()
    assert caught.value.threads == ("send-email",) and caught.value.tasks == ()


# Garbage holding a thread-local, freed by a collection that an allocation inside
# `sys._current_frames()` starts: swept over the allocation that starts it, so one of them
# falls inside the call. Hung for good before strict mode paused the collector there.
COLLECTION_DURING_SNAPSHOT = """
import gc
from _thread import _local
from concurrent.futures import ThreadPoolExecutor

from lambdapress_runtime import _strict


class Holder:
    def __init__(self):
        self.local = _local()
        self.local.value = 1
        self.itself = self  # a cycle: only the collector frees it


pool = ThreadPoolExecutor(1)
pool.submit(int).result()
for extra in range(1, 200):
    gc.collect()
    gc.disable()
    Holder()
    gc.set_threshold(gc.get_count()[0] + extra)
    gc.enable()
    _strict.leftovers(_strict.snapshot_threads())
    gc.set_threshold(700)
pool.shutdown()
print("finished")
"""


def test_a_collection_during_the_thread_snapshot_does_not_hang() -> None:
    try:
        result = subprocess.run(
            [sys.executable, "-c", COLLECTION_DURING_SNAPSHOT],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("strict mode's thread snapshot hung on a collection freeing a thread-local")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "finished"


def test_the_collector_is_enabled_again_after_the_snapshot() -> None:
    _strict.snapshot_threads()
    assert gc.isenabled()
