"""The container's handler wrapper, overrides and close."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from lambdapress_runtime import WARMUP_EVENT, Container, SettingsError


class Exploding:
    """A provider body that must never run in the test that uses it."""

    def __call__(self) -> object:
        raise AssertionError("a provider ran")


def test_handler_runs_one_scope_per_invocation(container: Container) -> None:
    events: list[str] = []

    @container.per_invocation
    def session() -> Iterator[str]:
        events.append("open")
        yield "session"
        events.append("close")

    @container.handler
    def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
        return {"session": session.get(), "seen": list(events)}

    assert handler({}, None) == {"session": "session", "seen": ["open"]}
    assert events == ["open", "close"]
    assert handler.__name__ == "handler"


def test_warmup_is_answered_before_any_provider_setting_or_handler_code(
    container: Container, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pydantic import BaseModel

    class Settings(BaseModel):
        database_url: str

    monkeypatch.delenv("DATABASE_URL", raising=False)
    container.settings(Settings)  # would raise SettingsError if it were read
    connection = container.per_container(Exploding())

    @container.handler
    def handler(event: dict[str, Any], context: object) -> object:
        return connection.get()

    class Context:
        aws_request_id = "req-1"

    caplog.set_level("INFO", logger="lambdapress_runtime")
    assert handler(dict(WARMUP_EVENT), Context()) == {"warmed": True}
    (record,) = caplog.records
    assert json.loads(record.getMessage()) == {
        "level": "INFO",
        "logger": "lambdapress_runtime",
        "event": "warmup",
        "request_id": "req-1",
    }
    with pytest.raises(SettingsError):  # a real event does read them
        handler({"rawPath": "/orders"}, Context())


def test_settings_are_read_at_the_first_invocation_even_if_unused(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pydantic import BaseModel

    class Settings(BaseModel):
        table_name: str

    monkeypatch.delenv("TABLE_NAME", raising=False)
    container.settings(Settings)

    @container.handler
    def handler(event: object, context: object) -> str:
        return "ok"

    with pytest.raises(SettingsError, match="TABLE_NAME"):
        handler({}, None)
    monkeypatch.setenv("TABLE_NAME", "orders")
    assert handler({}, None) == "ok"


def test_override_swaps_a_provider_and_restores_it(container: Container) -> None:
    @container.per_container
    def repository() -> str:
        return "postgres"

    @container.per_invocation
    def service() -> str:
        return f"service({repository.get()})"

    with container.invocation():
        assert service.get() == "service(postgres)"
    with container.override(repository, lambda: "fake"), container.invocation():
        assert service.get() == "service(fake)"
    with container.invocation():
        assert service.get() == "service(postgres)"


def test_override_closes_what_the_real_provider_built(container: Container) -> None:
    closed: list[str] = []

    @container.per_container
    def connection() -> Iterator[str]:
        yield "real"
        closed.append("real")

    @container.per_container
    def repository() -> str:
        return f"repository({connection.get()})"

    assert repository.get() == "repository(real)"
    with container.override(connection, lambda: "fake"):
        assert closed == ["real"]
        assert repository.get() == "repository(fake)"  # not the one built on the real one
    assert repository.get() == "repository(real)"


def test_nested_overrides_restore_the_outer_one(container: Container) -> None:
    @container.per_container
    def clock_source() -> str:
        return "real"

    with container.override(clock_source, lambda: "outer"):
        with container.override(clock_source, lambda: "inner"):
            assert clock_source.get() == "inner"
        assert clock_source.get() == "outer"
    assert clock_source.get() == "real"


def test_close_runs_per_container_teardowns_and_the_next_use_recreates(
    container: Container,
) -> None:
    events: list[str] = []

    @container.per_container
    def client() -> Iterator[int]:
        events.append("open")
        yield len(events)
        events.append("close")

    assert client.get() == 1
    container.close()
    assert events == ["open", "close"]
    assert client.get() == 3
