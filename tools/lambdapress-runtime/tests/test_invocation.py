"""Per-invocation lifetime: created on first use, closed at the end, newest first, on success
or exception; teardown failures never hide the handler's exception."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import pytest

from lambdapress_runtime import Container, RuntimeSetupError


def tracked(container: Container, name: str, events: list[str]) -> object:
    @container.per_invocation(name=name)
    def provider() -> Iterator[str]:
        events.append(f"open {name}")
        try:
            yield name
        finally:
            events.append(f"close {name}")

    return provider


def test_created_on_first_use_once_per_invocation_and_closed_at_its_end(
    container: Container,
) -> None:
    events: list[str] = []
    session = tracked(container, "session", events)

    with container.invocation():
        assert events == []
        assert session.get() == "session"  # type: ignore[attr-defined]
        assert session.get() == "session"  # type: ignore[attr-defined]
        assert events == ["open session"]
    assert events == ["open session", "close session"]
    with container.invocation():
        session.get()  # type: ignore[attr-defined]
    assert events.count("open session") == 2


def test_teardown_runs_in_reverse_creation_order_when_the_handler_raises(
    container: Container,
) -> None:
    events: list[str] = []
    connection = tracked(container, "connection", events)
    unit_of_work = tracked(container, "unit_of_work", events)
    audit = tracked(container, "audit", events)

    with pytest.raises(ZeroDivisionError), container.invocation():
        connection.get()  # type: ignore[attr-defined]
        unit_of_work.get()  # type: ignore[attr-defined]
        audit.get()  # type: ignore[attr-defined]
        _ = 1 / 0
    assert events[3:] == ["close audit", "close unit_of_work", "close connection"]


def test_the_handler_error_reaches_the_provider_at_its_yield(container: Container) -> None:
    outcome: list[str] = []

    @container.per_invocation
    def transaction() -> Iterator[str]:
        try:
            yield "tx"
        except LookupError:
            outcome.append("rolled back")
            raise
        else:
            outcome.append("committed")

    with container.invocation():
        transaction.get()
    with pytest.raises(KeyError), container.invocation():
        transaction.get()
        raise KeyError("order 42")
    assert outcome == ["committed", "rolled back"]


def test_a_provider_that_swallows_the_error_does_not_hide_it(container: Container) -> None:
    @container.per_invocation
    def lenient() -> Iterator[str]:
        with contextlib.suppress(KeyError):
            yield "value"

    with pytest.raises(KeyError), container.invocation():
        lenient.get()
        raise KeyError("order 42")


def test_a_failing_teardown_does_not_mask_the_handler_exception(container: Container) -> None:
    events: list[str] = []
    first = tracked(container, "first", events)

    @container.per_invocation
    def broken() -> Iterator[str]:
        try:
            yield "broken"
        finally:
            raise OSError("socket already closed")  # a teardown that fails

    with pytest.raises(KeyError) as caught, container.invocation():
        first.get()  # type: ignore[attr-defined]
        broken.get()
        raise KeyError("the handler's own error")
    assert "close first" in events  # the other teardowns still ran
    assert any("socket already closed" in note for note in caught.value.__notes__)


def test_a_failing_teardown_after_success_is_raised(container: Container) -> None:
    @container.per_invocation
    def broken() -> Iterator[str]:
        yield "broken"
        raise OSError("socket already closed")

    with pytest.raises(OSError, match="socket already closed"), container.invocation():
        broken.get()


def test_several_failing_teardowns_are_raised_together(container: Container) -> None:
    def failing(message: str) -> object:
        @container.per_invocation(name=message)
        def provider() -> Iterator[str]:
            yield message
            raise OSError(message)

        return provider

    one, two = failing("one"), failing("two")
    with pytest.raises(ExceptionGroup) as caught, container.invocation():
        one.get()  # type: ignore[attr-defined]
        two.get()  # type: ignore[attr-defined]
    assert [str(error) for error in caught.value.exceptions] == ["two", "one"]


def test_use_outside_an_invocation_names_the_provider_and_the_fix(container: Container) -> None:
    @container.per_invocation
    def repository() -> str:
        return "repository"

    with pytest.raises(RuntimeSetupError, match=r"repository used outside an invocation"):
        repository.get()


def test_a_nested_invocation_joins_the_enclosing_one(container: Container) -> None:
    events: list[str] = []
    session = tracked(container, "session", events)

    with container.invocation():
        with container.invocation():
            session.get()  # type: ignore[attr-defined]
        assert events == ["open session"]  # still open: the outer scope owns it
    assert events == ["open session", "close session"]


def test_a_thread_started_by_the_handler_sees_the_invocation(container: Container) -> None:
    @container.per_invocation
    def request_state() -> dict[str, int]:
        return {}

    seen: list[object] = []
    with container.invocation():
        mine = request_state.get()
        worker = threading.Thread(target=lambda: seen.append(request_state.get()))
        worker.start()
        worker.join(5)
    assert seen == [mine]


def test_a_generator_that_yields_twice_is_reported(container: Container) -> None:
    @container.per_invocation
    def greedy() -> Iterator[str]:
        yield "one"
        yield "two"

    with pytest.raises(RuntimeSetupError, match="yielded more than once"), container.invocation():
        greedy.get()
