"""`schedule` triggers: EventBridge schedules fired by a local clock.

    next_firing("rate(5 minutes)", after=t0, last=None)    # t0 + 300
    next_firing("cron(0 12 ? * MON-FRI *)", after=t0)      # the next weekday noon (UTC)

A rate schedule first fires one period after `serve` starts (EventBridge fires a new rule's
rate within its first period), then every period; a cron schedule fires at each minute its
six fields match, in UTC, as EventBridge's do. Cron expressions are EventBridge's (minutes,
hours, day of month, month, day of week 1-7 = SUN-SAT, year; `?`, `L`, `W`, `#`): they are read
by aws-croniter, which implements exactly that syntax (Unix cron's libraries number the days
of the week from Monday and know neither `?` nor the year). Each firing invokes the function
with the trigger's `input`, or with EventBridge's scheduled event; a disabled schedule never
fires by itself (`lambdapress trigger` still fires it). A failed invocation is reported, not
retried.

The clock is a parameter (`Clock`): tests run schedules on a faster one (`FastClock(60)` makes
`rate(1 minute)` fire every second) instead of waiting for real minutes.
"""

from __future__ import annotations

import datetime
import re
import threading
import time
from typing import Any, Protocol

from lambdapress.emulator._delivery import Binding, DeliverySource
from lambdapress.emulator.context import ACCOUNT_ID, DEFAULT_REGION, lambda_name
from lambdapress.emulator.trigger_events import scheduled_event
from lambdapress.errors import EmulatorError
from lambdapress.model.application import Application, Function
from lambdapress.model.trigger_kinds import LocalHost, LocalOptions
from lambdapress.model.triggers import ScheduleTrigger, Trigger

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNIT = {"minute": 60, "hour": 3600, "day": 86400}
SCHEDULE_FIX = (
    "write rate(N minutes|hours|days) (rate(1 minute) in the singular) or a six-field "
    "cron(minutes hours day-of-month month day-of-week year), e.g. cron(0 12 * * ? *)"
)
STEP = 1.0
"""Seconds (of the clock) a binding waits at most at once, so a stop or rebuild is seen."""


class Clock(Protocol):
    """Time as the scheduler sees it."""

    def now(self) -> float:
        """Seconds since the epoch."""
        ...

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        """Wait `seconds` of this clock, or until `stop` is set (then True)."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> float:
        """`time.time()`."""
        return time.time()

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        """`stop.wait(seconds)`."""
        return stop.wait(max(0.0, seconds))


class FastClock:
    """A clock running `speed` times faster than the real one, from now (for tests)."""

    def __init__(self, speed: float, start: float | None = None) -> None:
        self.speed = speed
        self._origin = time.time() if start is None else start
        self._real = time.monotonic()

    def now(self) -> float:
        """The accelerated time."""
        return self._origin + (time.monotonic() - self._real) * self.speed

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        """Wait `seconds` of this clock: `seconds / speed` real ones."""
        return stop.wait(max(0.0, seconds) / self.speed)


def period(expression: str) -> int | None:
    """A rate expression's period in seconds; None for a cron expression.

    An EmulatorError, with the fix, for an expression EventBridge would refuse.
    """
    rate = _RATE.match(expression.strip())
    if rate is not None:
        count, unit = int(rate.group(1)), rate.group(2)
        if count < 1 or (count == 1) != (not unit.endswith("s")):
            raise _bad(expression, "a rate of 1 takes the singular unit, others the plural")
        return count * _UNIT[unit.rstrip("s")]
    if _CRON.match(expression.strip()) is None:
        raise _bad(expression, "it is neither rate(...) nor cron(...)")
    _cron(expression)
    return None


def next_firing(expression: str, *, after: float, last: float | None = None) -> float | None:
    """When the schedule fires next, strictly after `after` (epoch seconds, UTC).

    A rate fires a period after its `last` firing (or after `after` for the first); a cron
    expression at its next matching minute. None: the cron expression never fires again (its
    years are past).
    """
    seconds = period(expression)
    if seconds is not None:
        return (last if last is not None else after) + seconds
    start = datetime.datetime.fromtimestamp(after, tz=datetime.UTC)
    found = _cron(expression).get_next(start)[0]
    return None if found is None else float(found.timestamp())


def _cron(expression: str) -> Any:
    from aws_croniter import AwsCroniter  # type: ignore[import-untyped]

    fields = _CRON.match(expression.strip())
    assert fields is not None
    try:
        return AwsCroniter(fields.group(1).strip())
    except Exception as error:  # aws-croniter's errors are plain exceptions with the reason
        raise _bad(expression, str(error)) from None


def _bad(expression: str, why: str) -> EmulatorError:
    return EmulatorError(
        f"schedule {expression!r} is not an EventBridge schedule expression: {why}",
        hint=SCHEDULE_FIX,
    )


def rule_arn(function: Function, trigger: ScheduleTrigger) -> str:
    """The ARN of the local rule of a function's schedule (`...:rule/<function>-schedule0`)."""
    same = [t for t in function.triggers if isinstance(t, ScheduleTrigger)]
    index = same.index(trigger) if trigger in same else 0
    name = f"{lambda_name(function.name)}-schedule{index}"
    return f"arn:aws:events:{DEFAULT_REGION}:{ACCOUNT_ID}:rule/{name}"


def schedule_event(function: Function, trigger: ScheduleTrigger, at: float | None = None) -> Any:
    """What a firing sends: the trigger's input, or EventBridge's scheduled event."""
    if trigger.input is not None:
        return trigger.input
    return scheduled_event(rule_arn(function, trigger), at=at)


class ScheduleBinding(Binding):
    """One schedule: waits for its next firing, then invokes."""

    def __init__(
        self, source: ScheduleSource, function: Function, trigger: ScheduleTrigger
    ) -> None:
        super().__init__(source, function, trigger)
        self.settings = trigger
        self.clock = source.clock
        self.due = next_firing(trigger.expression, after=self.clock.now())

    def step(self, stop: threading.Event) -> None:
        """Fire when due; otherwise wait a little for it."""
        if self.due is None or not self.settings.enabled:
            self.clock.wait(stop, STEP * 60)
            return
        now = self.clock.now()
        if now < self.due:
            self.clock.wait(stop, min(self.due - now, STEP * _speed(self.clock)))
            return
        fired = self.due
        result, duration = self.invoke(schedule_event(self.function, self.settings, at=fired))
        self.due = next_firing(self.settings.expression, after=fired, last=fired)
        outcome = "ok" if result.error is None else f"error: {_error(result)}"
        self.report(1, outcome, duration, result)


def _speed(clock: Clock) -> float:
    return float(getattr(clock, "speed", 1.0))


def _error(result: Any) -> str:
    from lambdapress.emulator._delivery import error_text

    return error_text(result)


class ScheduleSource(DeliverySource):
    """`schedule` triggers, on `clock` (the real one unless a test gives another)."""

    kind = "schedule"
    label = "Schedules"

    def __init__(
        self, host: LocalHost[Any], options: LocalOptions, clock: Clock | None = None
    ) -> None:
        super().__init__(host, options)
        self.clock: Clock = clock or SystemClock()

    def prepare(self, manifest: Application, bindings: list[tuple[Function, Trigger]]) -> None:
        """Check every expression now: a bad one is reported once, not in a binding's loop."""
        for _, trigger in bindings:
            assert isinstance(trigger, ScheduleTrigger)
            period(trigger.expression)

    def bind(self, manifest: Application, function: Function, trigger: Trigger) -> Binding:
        """The schedule's timer."""
        assert isinstance(trigger, ScheduleTrigger)
        return ScheduleBinding(self, function, trigger)
