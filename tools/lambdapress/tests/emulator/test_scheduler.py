"""Schedules: when EventBridge expressions fire, and which ones EventBridge refuses.

Firings of declared and packaged schedules, on a clock sixty times faster, are delivered in
test_event_sources.py.
"""

from __future__ import annotations

import datetime

import pytest

from lambdapress.emulator._scheduler import next_firing, period
from lambdapress.errors import EmulatorError


def _at(text: str) -> float:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC).timestamp()


def _iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("rate(1 minute)", "2026-03-06 10:07:30", "2026-03-06 10:08"),
        ("rate(5 minutes)", "2026-03-06 10:07:00", "2026-03-06 10:12"),
        ("rate(2 days)", "2026-03-06 10:07:00", "2026-03-08 10:07"),
        ("cron(0/15 * * * ? *)", "2026-03-06 10:07:00", "2026-03-06 10:15"),
        # 2026-03-07 is a Saturday: the next weekday noon is Monday's.
        ("cron(0 12 ? * MON-FRI *)", "2026-03-07 09:00:00", "2026-03-09 12:00"),
        # Day-of-week 1 is Sunday in EventBridge (Monday in Unix cron).
        ("cron(30 8 ? * 1 *)", "2026-03-06 09:00:00", "2026-03-08 08:30"),
        ("cron(0 0 L * ? *)", "2026-02-10 00:00:00", "2026-02-28 00:00"),
        ("cron(0 9 ? * 6#3 *)", "2026-03-01 00:00:00", "2026-03-20 09:00"),
        ("cron(0 0 1 1 ? 2020)", "2026-03-06 00:00:00", None),
    ],
)
def test_the_next_firing_of_rate_and_cron_expressions(
    expression: str, after: str, expected: str | None
) -> None:
    assert _iso(next_firing(expression, after=_at(after))) == expected


def test_a_rate_fires_a_period_after_its_last_firing() -> None:
    assert next_firing("rate(1 hour)", after=100.0, last=50.0) == 50.0 + 3600


@pytest.mark.parametrize(
    ("expression", "why"),
    [
        ("cron(0 12 * * *)", "6 required, 5 provided"),
        ("cron(0 12 * * MON *)", "One must be a question mark"),
        ("rate(1 minutes)", "singular"),
        ("rate(5 minute)", "singular"),
        ("every 5 minutes", "neither rate(...) nor cron(...)"),
    ],
)
def test_an_expression_eventbridge_refuses_is_an_error_with_the_fix(
    expression: str, why: str
) -> None:
    with pytest.raises(EmulatorError) as raised:
        period(expression)
    assert why in raised.value.message
    assert raised.value.hint is not None and "cron(0 12 * * ? *)" in raised.value.hint
