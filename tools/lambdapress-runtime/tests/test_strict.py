"""Strict mode: an invocation that leaves a thread running or a resource open fails loudly."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from lambdapress_runtime import STRICT_ENV, Container, StrictModeError


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
