"""Shared fixtures: a container on a clock the test steps by hand (its sleeps step it)."""

from __future__ import annotations

import pytest

from lambdapress_runtime import Container


class ManualClock:
    """A clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def container(clock: ManualClock) -> Container:
    return Container(clock=clock, sleep=clock.advance)
