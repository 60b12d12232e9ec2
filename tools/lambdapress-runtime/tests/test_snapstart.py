"""SnapStart hooks: close before the snapshot, recreate after a restore.

On Lambda, `snapshot_restore_py` is provided by the runtime (it comes with awslambdaric), not
installed by the service: the test injects a module with the same two functions into
`sys.modules`, which is exactly how the runtime finds it.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Iterator

import pytest

from lambdapress_runtime import Container


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Callable[[], None]]]:
    registered: dict[str, list[Callable[[], None]]] = {"before": [], "after": []}
    fake = types.ModuleType("snapshot_restore_py")
    fake.register_before_snapshot = registered["before"].append  # type: ignore[attr-defined]
    fake.register_after_restore = registered["after"].append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", fake)
    return registered


def test_without_snapstart_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails
    assert Container().snapstart is False


def test_before_snapshot_closes_and_after_restore_recreates(
    hooks: dict[str, list[Callable[[], None]]],
) -> None:
    container = Container()
    assert container.snapstart is True
    (before,) = hooks["before"]
    (after,) = hooks["after"]
    events: list[str] = []

    @container.per_container
    def connection() -> Iterator[int]:
        number = events.count("open") + 1
        events.append("open")
        yield number
        events.append("close")

    assert connection.get() == 1  # opened during init, before the snapshot
    before()
    assert events == ["open", "close"]
    assert connection.get() == 2  # a hook or init code ran after `before`...
    after()  # ...so whatever exists at restore is stale
    assert connection.get() == 3
    assert events == ["open", "close", "open", "close", "open"]  # the stale one torn down
