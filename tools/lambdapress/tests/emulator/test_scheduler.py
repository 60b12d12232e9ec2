"""Schedules: when EventBridge expressions fire, and firings delivered on a faster clock.

`rate(1 minute)` is too slow for a test: the scheduler takes its clock as a parameter, and the
firing test runs it sixty times faster (a minute a second), with real artifacts.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterator

import pytest
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from lambdapress.emulator._scheduler import FastClock, ScheduleSource, next_firing, period
from lambdapress.errors import EmulatorError
from lambdapress.model.application import Application
from lambdapress.model.trigger_kinds import LocalOptions
from lambdapress.model.triggers import ScheduleTrigger

from .conftest import EmulatorFactory, Repo, entry_for
from .event_support import HANDLERS, Deliveries, delivered_events, stand_in_kinds


@pytest.fixture(autouse=True)
def _kinds() -> Iterator[None]:
    with stand_in_kinds():
        yield


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


def test_schedules_fire_on_their_rate_with_their_input_or_the_scheduled_event(
    repo: Repo, make_emulator: EmulatorFactory
) -> None:
    artifact = repo.artifact("events", {"handlers.py": HANDLERS})
    with_input = ScheduleTrigger(expression="rate(1 minute)", input={"job": "sweep"})
    plain = ScheduleTrigger(expression="rate(2 minutes)")
    off = ScheduleTrigger(expression="rate(1 minute)", enabled=False)
    functions = [
        entry_for(repo.root, artifact, f"jobs.{name}", "handlers.echo").model_copy(
            update={"triggers": (trigger,)}
        )
        for name, trigger in (("sweep", with_input), ("tick", plain), ("off", off))
    ]
    emulator = make_emulator(Application(functions=tuple(functions)), repo.root)
    deliveries = Deliveries()
    source = ScheduleSource(emulator, LocalOptions(on_delivery=deliveries), clock=FastClock(60))
    source.start()
    try:
        deliveries.wait(lambda _: len(deliveries.of("jobs.sweep")) >= 2, timeout=15)
        deliveries.wait(lambda _: len(deliveries.of("jobs.tick")) >= 1, timeout=15)
        sweeps, ticks = len(deliveries.of("jobs.sweep")), len(deliveries.of("jobs.tick"))
    finally:
        threads = source.thread_names
        source.close()
    assert [t.name for t in threading.enumerate() if t.name in threads] == []
    # Twice as often, on a clock where a minute is a second; the disabled one never fires.
    assert sweeps >= 2 * ticks - 1
    assert deliveries.of("jobs.off") == []
    assert delivered_events(deliveries.of("jobs.sweep"))[0] == {"job": "sweep"}
    scheduled = EventBridgeModel.model_validate(delivered_events(deliveries.of("jobs.tick"))[0])
    assert scheduled.detail_type == "Scheduled Event"
    assert scheduled.source == "aws.events"
    assert scheduled.resources == ["arn:aws:events:us-east-1:123456789012:rule/jobs-tick-schedule0"]
    assert str(deliveries.of("jobs.tick")[0]).startswith(
        "schedule rate(2 minutes) -> jobs.tick: 1 record, ok ("
    )
