"""Per-container lifetime: lazy, reused warm, checked after idle, recreated once, discarded
after a connection error, created once under concurrency."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from lambdapress_runtime import Container, RuntimeSetupError

if TYPE_CHECKING:
    from conftest import ManualClock


class ConnectionLost(Exception):
    pass


class FakeConnection:
    def __init__(self, number: int) -> None:
        self.number = number
        self.alive = True
        self.closed = False


def test_created_lazily_and_reused_across_invocations(container: Container) -> None:
    made: list[int] = []

    @container.per_container
    def client() -> list[int]:
        made.append(1)
        return made

    assert made == []
    with container.invocation():
        first = client.get()
    with container.invocation():
        second = client.get()
    assert first is second
    assert made == [1]


def test_check_runs_only_after_idle_and_a_failed_check_recreates(
    container: Container, clock: ManualClock
) -> None:
    opened: list[FakeConnection] = []
    checked: list[int] = []

    def ping(connection: FakeConnection) -> bool:
        checked.append(connection.number)
        return connection.alive

    @container.per_container(check=ping, check_after=30.0)
    def connection() -> Iterator[FakeConnection]:
        conn = FakeConnection(len(opened))
        opened.append(conn)
        yield conn
        conn.closed = True

    first = connection.get()
    clock.advance(29.0)
    assert connection.get() is first
    assert checked == []  # used recently: no round trip

    clock.advance(31.0)
    assert connection.get() is first
    assert checked == [0]  # idle: checked, still fine

    first.alive = False  # the server dropped it while the container was frozen
    clock.advance(31.0)
    fresh = connection.get()
    assert fresh is not first
    assert checked == [0, 0]
    assert first.closed  # the broken one was torn down
    assert len(opened) == 2


def test_a_check_that_raises_counts_as_failed_and_is_logged(
    container: Container, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    def ping(connection: FakeConnection) -> None:
        raise ConnectionLost("server closed the connection unexpectedly")

    made: list[FakeConnection] = []

    @container.per_container(check=ping, check_after=1.0)
    def connection() -> FakeConnection:
        made.append(FakeConnection(len(made)))
        return made[-1]

    first = connection.get()
    clock.advance(2.0)
    assert connection.get() is not first
    (record,) = caplog.records
    assert json.loads(record.getMessage())["event"] == "check_failed"


def test_creation_is_retried_at_once_on_a_retry_on_error(
    container: Container, clock: ManualClock
) -> None:
    attempts: list[int] = []

    @container.per_container(retry_on=(ConnectionLost,))
    def connection() -> FakeConnection:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionLost("connection refused")
        return FakeConnection(len(attempts))

    started = clock.now
    assert connection.get().number == 2
    assert len(attempts) == 2
    assert clock.now == started  # no pause before the first retry


@pytest.mark.parametrize("down_for", [0.01, 0.7, 2.5, 4.0])
def test_a_server_that_is_restarting_is_waited_for(
    container: Container, clock: ManualClock, down_for: float
) -> None:
    """Connections refused for `down_for` seconds (a restart): the get waits, then succeeds."""
    back_at = clock.now + down_for
    attempts: list[float] = []

    @container.per_container(retry_on=(ConnectionLost,))
    def connection() -> FakeConnection:
        attempts.append(clock.now)
        if clock.now < back_at:
            raise ConnectionLost("the database system is shutting down")
        return FakeConnection(len(attempts))

    assert connection.get().number == len(attempts)
    assert back_at <= attempts[-1] <= back_at + 1.0  # pauses never longer than a second
    pauses = [b - a for a, b in itertools.pairwise(attempts)]
    assert pauses[0] == 0
    assert pauses[1:] == sorted(pauses[1:])  # growing


@pytest.mark.parametrize(
    ("message", "attempts"),
    [("password authentication failed", 1), ("database does not exist", 1), ("refused", 10)],
)
def test_retry_if_fails_at_once_where_waiting_cannot_help(
    container: Container, clock: ManualClock, message: str, attempts: int
) -> None:
    """A wrong password is not a restart: it fails on the first attempt, without pauses."""
    tried: list[float] = []

    def server_unavailable(error: BaseException) -> bool:
        return "refused" in str(error)

    @container.per_container(retry_on=(ConnectionLost,), retry_for=5.0, retry_if=server_unavailable)
    def connection() -> FakeConnection:
        tried.append(clock.now)
        raise ConnectionLost(message)

    started = clock.now
    with pytest.raises(ConnectionLost, match=message):
        connection.get()
    assert len(tried) == attempts
    if attempts == 1:
        assert clock.now == started


@pytest.mark.parametrize(("retry_for", "attempts"), [(0.0, 2), (0.5, 5), (5.0, 10)])
def test_creation_gives_up_after_retry_for(
    container: Container, clock: ManualClock, retry_for: float, attempts: int
) -> None:
    made: list[float] = []

    @container.per_container(retry_on=(ConnectionLost,), retry_for=retry_for)
    def connection() -> FakeConnection:
        made.append(clock.now)
        raise ConnectionLost("connection refused")

    started = clock.now
    with pytest.raises(ConnectionLost):
        connection.get()
    assert len(made) == attempts
    assert clock.now - started <= retry_for


def test_retries_stop_before_the_invocations_deadline(
    container: Container, clock: ManualClock
) -> None:
    """With 1.5 s left in the invocation, retrying stops 0.5 s before its end."""
    made: list[float] = []

    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 1500

    @container.per_container(retry_on=(ConnectionLost,), retry_for=60.0)
    def connection() -> FakeConnection:
        made.append(clock.now)
        raise ConnectionLost("connection refused")

    @container.handler
    def handler(event: dict[str, object], context: object) -> object:
        return connection.get()

    started = clock.now
    with pytest.raises(ConnectionLost):
        handler({}, Context())
    assert len(made) > 2
    assert made[-1] - started <= 1.0
    # A context that cannot tell (a test's stand-in) sets no deadline: retry_for alone rules.
    made.clear()
    with pytest.raises(ConnectionLost):
        handler({}, object())
    assert made[-1] - made[0] > 1.0


def test_other_errors_are_not_retried(container: Container) -> None:
    attempts: list[int] = []

    @container.per_container(retry_on=(ConnectionLost,))
    def connection() -> FakeConnection:
        attempts.append(1)
        raise ValueError("bad DSN")

    with pytest.raises(ValueError, match="bad DSN"):
        connection.get()
    assert len(attempts) == 1


def test_a_retry_on_error_leaving_an_invocation_discards_the_resource(
    container: Container,
) -> None:
    opened: list[FakeConnection] = []

    @container.per_container(retry_on=(ConnectionLost,))
    def connection() -> Iterator[FakeConnection]:
        conn = FakeConnection(len(opened))
        opened.append(conn)
        yield conn
        conn.closed = True

    class RepositoryError(Exception):
        pass

    with pytest.raises(RepositoryError), container.invocation():
        connection.get()
        try:
            raise ConnectionLost("terminating connection due to administrator command")
        except ConnectionLost as error:
            raise RepositoryError("could not load the order") from error
    assert opened[0].closed
    with container.invocation():
        assert connection.get() is opened[1]


def test_an_unrelated_error_keeps_the_resource(container: Container) -> None:
    @container.per_container(retry_on=(ConnectionLost,))
    def connection() -> FakeConnection:
        return FakeConnection(0)

    with pytest.raises(KeyError), container.invocation():
        first = connection.get()
        raise KeyError("order 42")
    assert connection.get() is first


def test_two_threads_resolving_at_once_create_one_resource(container: Container) -> None:
    created: list[int] = []
    inside = threading.Event()
    release = threading.Event()

    @container.per_container
    def slow_client() -> int:
        created.append(1)
        inside.set()
        release.wait(5)
        return len(created)

    results: list[int] = []
    first = threading.Thread(target=lambda: results.append(slow_client.get()))
    second = threading.Thread(target=lambda: results.append(slow_client.get()))
    first.start()
    assert inside.wait(5)
    second.start()  # arrives while the first thread is still creating
    release.set()
    first.join(5)
    second.join(5)
    assert results == [1, 1]
    assert created == [1]


def test_a_provider_that_needs_itself_is_reported(container: Container) -> None:
    @container.per_container
    def loop() -> int:
        return loop.get() + 1

    with pytest.raises(RuntimeSetupError, match="depends on itself"):
        loop.get()


def test_discard_closes_now_and_the_next_get_recreates(container: Container) -> None:
    opened: list[FakeConnection] = []

    @container.per_container
    def connection() -> Iterator[FakeConnection]:
        conn = FakeConnection(len(opened))
        opened.append(conn)
        yield conn
        conn.closed = True

    first = connection.get()
    connection.discard()
    assert first.closed
    assert connection.get() is not first


def test_a_per_container_provider_cannot_capture_a_per_invocation_one(
    container: Container,
) -> None:
    @container.per_invocation
    def request_id() -> str:
        return "r-1"

    @container.per_container
    def cache() -> str:
        return request_id.get()

    with container.invocation(), pytest.raises(RuntimeSetupError, match="outlive"):
        cache.get()


def test_a_misspelt_keeping_option_fails_at_registration(container: Container) -> None:
    """The options are one value (`PerContainerOptions`), checked when the decorator is made."""
    with pytest.raises(TypeError, match="unexpected keyword arguments: chek"):
        container.per_container(chek=lambda _value: True)  # type: ignore[call-overload]


def test_the_keeping_options_are_set_once(container: Container) -> None:
    @container.per_container(check_after=2.0)
    def client() -> int:
        return 1

    options = client.options
    assert (options.check_after, options.retry_for, options.retry_on) == (2.0, 5.0, ())
    with pytest.raises(AttributeError, match="immutable"):
        options.retry_for = 0.0
