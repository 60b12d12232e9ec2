"""EventBridge schedules: the function runs on a rate or a cron, with a fixed event or AWS's.

Declared in the handler module (`lambdapress_runtime.triggers`):

    from lambdapress_runtime import triggers

    @triggers.schedule("rate(5 minutes)", input={"job": "sweep"})
    @triggers.schedule("cron(0 3 ? * MON-FRI *)", enabled=False)
    def handler(event, context): ...

Checked at package time, with the file, the line and the fix: the expression is EventBridge's
(`config.event_rules.schedule_problem`): `rate(N unit)` with the unit singular for 1 and plural
otherwise, or `cron(...)` with six fields (minutes hours day-of-month month day-of-week year),
one of day-of-month and day-of-week `?` (a five-field Unix cron is refused with the fix that
adds the year); `input`, the event sent on each firing, fits EventBridge's 8192 characters.

Permissions: none for the function's role (EventBridge's right to invoke it is a
resource-based permission, rendered with the rule). Rendered by deploy (a rule with the
schedule), delivered locally by a scheduler (`lambdapress trigger FUNCTION` fires it now),
sampled by the emulator (`_event_kind`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from lambdapress.config.event_rules import TARGET_INPUT_MAX, schedule_problem
from lambdapress.errors import BundleError
from lambdapress.model.trigger_kinds import CheckContext, Declared, HandlerSource
from lambdapress.model.triggers import ScheduleTrigger
from lambdapress.triggers._declarations import declarations
from lambdapress.triggers._event_kind import EventKind
from lambdapress.triggers._references import trigger


class ScheduleKind(EventKind[ScheduleTrigger]):
    """EventBridge schedules (module doc)."""

    model = ScheduleTrigger

    def discover(self, source: HandlerSource) -> tuple[Declared[ScheduleTrigger], ...]:
        """The handler's `@triggers.schedule(...)`."""
        return tuple(
            trigger(source, ScheduleTrigger, decoration, decoration.arguments)
            for decoration in declarations(source).of("schedule")
        )

    def check(self, declared: Sequence[Declared[ScheduleTrigger]], context: CheckContext) -> None:
        """Expressions EventBridge schedules, inputs it sends."""
        for found in declared:
            schedule = found.trigger
            problem = schedule_problem(schedule.expression)
            if problem is not None:
                what, fix = problem
                raise BundleError(
                    f"@triggers.schedule: {what}", path=found.path, line=found.line, hint=fix
                )
            if schedule.input is not None:
                size = len(json.dumps(schedule.input, separators=(",", ":")))
                if size > TARGET_INPUT_MAX:
                    raise BundleError(
                        f"@triggers.schedule's input has {size} characters as JSON; "
                        f"EventBridge sends at most {TARGET_INPUT_MAX}",
                        path=found.path,
                        line=found.line,
                        hint="send a smaller event: a key the function looks the rest up with",
                    )


KIND = ScheduleKind()
