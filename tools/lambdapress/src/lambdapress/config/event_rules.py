"""AWS's rules for the event sources lambdapress declares: schedules, patterns, filters, names.

`lambdapress package` checks what a handler module declares (`@triggers.schedule("rate(5
minutes)")`, an event pattern, an S3 filter) and what a service's `[tool.lambdapress]` declares
(a queue's subscription filter, its name in the account) with these rules, so a value AWS would
refuse fails with the file, the line and the fix instead of in a CloudFormation rollback. Each
rule says where AWS writes it; lengths and enumerations are those of botocore's service models
(`botocore/data/<service>/<version>/service-2.json`), which a test holds these equal to.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Final

from lambdapress.config.aws_rules import Rule

# ------------------------------------------------------------------------- names in an account

# SQS API reference, CreateQueue, `QueueName`: "up to 80 characters", "alphanumeric characters,
# hyphens (-), and underscores (_)", "A FIFO queue name must end with the .fifo suffix".
QUEUE_NAME: Final = Rule(
    "the SQS queue name",
    re.compile(r"[A-Za-z0-9_-]+(\.fifo)?"),
    80,
    "SQS API reference, CreateQueue: QueueName",
)
# SNS API reference, CreateTopic, `Name`: "uppercase and lowercase ASCII letters, numbers,
# underscores, and hyphens, and must be between 1 and 256 characters long"; FIFO: `.fifo`.
TOPIC_NAME: Final = Rule(
    "the SNS topic name",
    re.compile(r"[A-Za-z0-9_-]+(\.fifo)?"),
    256,
    "SNS API reference, CreateTopic: Name",
)
# EventBridge API reference, CreateEventBus, `Name`: 1 to 256 characters, `[/\.\-_A-Za-z0-9]+`;
# "Custom event bus names can't contain the / character".
EVENT_BUS_NAME: Final = Rule(
    "the EventBridge event bus name",
    re.compile(r"[.\-_A-Za-z0-9]+"),
    256,
    "EventBridge API reference, CreateEventBus: Name",
)
FIFO_SUFFIX: Final = ".fifo"
"""What SQS and SNS require at the end of a FIFO queue's or topic's name."""

# ------------------------------------------------------------------------------- schedules

SCHEDULE_EXPRESSION_MAX: Final = 256
"""EventBridge API reference, PutRule: `ScheduleExpression` has at most 256 characters."""
TARGET_INPUT_MAX: Final = 8192
"""EventBridge API reference, PutTargets: a target's `Input` (the fixed event) is at most 8192
characters of JSON."""
SCHEDULE_SOURCE: Final = 'EventBridge User Guide, "Schedule expressions for rules"'
CRON_FIX: Final = (
    "EventBridge's cron has six fields: add the year (`*`) and use `?` for day-of-month or "
    "day-of-week, e.g. cron(0 12 * * ? *)"
)
RATE_FIX: Final = (
    "write rate(N unit) with a whole N of at least 1 and the unit minute, hour or day: "
    "singular for 1, plural otherwise, e.g. rate(1 minute), rate(5 minutes)"
)
_RATE = re.compile(r"rate\((?P<value>[^ ()]*) (?P<unit>[^ ()]*)\)")
_RATE_UNITS: Final = ("minute", "hour", "day")
_CRON = re.compile(r"cron\((?P<fields>.*)\)")
_MONTHS: Final = (
    "JAN",
    "FEB",
    "MAR",
    "APR",
    "MAY",
    "JUN",
    "JUL",
    "AUG",
    "SEP",
    "OCT",
    "NOV",
    "DEC",
)
_DAYS: Final = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


class _Field:
    """One field of EventBridge's cron: its values, its names, its special characters."""

    def __init__(
        self, name: str, low: int, high: int, names: Sequence[str] = (), special: str = ""
    ) -> None:
        self.name, self.low, self.high, self.names, self.special = name, low, high, names, special

    def value(self, text: str) -> int | None:
        """The number `text` stands for (a name counts from `low`), or None."""
        if text.isdigit():
            number = int(text)
            return number if self.low <= number <= self.high else None
        upper = text.upper()
        return self.names.index(upper) + self.low if upper in self.names else None

    def problem(self, text: str) -> str | None:
        """Why EventBridge would refuse `text` as this field, or None."""
        for item in text.split(","):
            problem = self._item_problem(item)
            if problem is not None:
                return f"the {self.name} field {text!r}: {problem}"
        if "?" in text and text != "?":
            return f"the {self.name} field {text!r}: `?` stands alone"
        return None

    def _item_problem(self, item: str) -> str | None:
        if item == "*":
            return None
        if item == "?":
            return None if "?" in self.special else "`?` is for day-of-month or day-of-week only"
        if self._is_special(item):
            return None
        if "#" in item:
            return f"{item!r}: write day#n with n from 1 to 5 (3#2: the second Tuesday)"
        base, slash, step = item.partition("/")
        if slash and not (step.isdigit() and int(step) >= 1):
            return f"{item!r} has a step that is not a whole number of at least 1"
        if base == "*" and slash:
            return None
        first, dash, last = base.partition("-")
        for part in (first, last) if dash else (first,):
            if self.value(part) is None:
                return f"{part!r} is not a {self.name} ({self._range()})"
        return None

    def _is_special(self, item: str) -> bool:
        """`L`, `LW` and `15W` (day-of-month); `L`, `6L` and `3#2` (day-of-week)."""
        if "W" in self.special:
            if item in ("L", "LW"):
                return True
            return item.endswith("W") and self.value(item[:-1]) is not None
        if "#" in self.special:
            if item == "L" or (item.endswith("L") and self.value(item[:-1]) is not None):
                return True
            day, hash_sign, nth = item.partition("#")
            return (
                bool(hash_sign) and self.value(day) is not None and nth in "12345" and len(nth) == 1
            )
        return False

    def _range(self) -> str:
        names = f", or {self.names[0]}-{self.names[-1]}" if self.names else ""
        return f"{self.low}-{self.high}{names}"


_CRON_FIELDS: Final = (
    _Field("minutes", 0, 59),
    _Field("hours", 0, 23),
    _Field("day-of-month", 1, 31, special="?LW"),
    _Field("month", 1, 12, _MONTHS),
    _Field("day-of-week", 1, 7, _DAYS, special="?L#"),
    _Field("year", 1970, 2199),
)


def schedule_problem(expression: str) -> tuple[str, str] | None:
    """Why EventBridge would refuse `expression` as a schedule, and the fix; or None.

    `rate(N unit)`: N a whole number of at least 1, the unit minute, hour or day, singular for
    1 and plural otherwise (EventBridge refuses `rate(1 minutes)` and `rate(5 minute)`).
    `cron(minutes hours day-of-month month day-of-week year)`: six fields (a five-field Unix
    cron is the usual mistake), one of day-of-month and day-of-week `?`.
    """
    if len(expression) > SCHEDULE_EXPRESSION_MAX:
        return (
            f"the schedule has {len(expression)} characters; EventBridge allows "
            f"{SCHEDULE_EXPRESSION_MAX}",
            "shorten it",
        )
    if expression.startswith("rate("):
        problem = _rate_problem(expression)
        return None if problem is None else (problem, RATE_FIX)
    cron = _CRON.fullmatch(expression)
    if cron is not None:
        problem = _cron_problem(cron.group("fields"))
        return None if problem is None else (problem, CRON_FIX)
    return (
        f"{expression!r} is not an EventBridge schedule expression: it is rate(...) or cron(...)",
        "write rate(5 minutes) or cron(0 12 * * ? *) (six fields: minutes hours day-of-month "
        "month day-of-week year)",
    )


def _rate_problem(expression: str) -> str | None:
    rate = _RATE.fullmatch(expression)
    if rate is None:
        return f"{expression!r} is not rate(N unit): one number, one space, one unit"
    value, unit = rate.group("value"), rate.group("unit")
    if not value.isdigit() or int(value) < 1 or value != str(int(value)):
        return f"{expression!r}: {value!r} is not a whole number of at least 1"
    singular = unit.removesuffix("s")
    if singular not in _RATE_UNITS:
        return f"{expression!r}: {unit!r} is not a unit EventBridge schedules in"
    wanted = singular if value == "1" else f"{singular}s"
    if unit != wanted:
        return (
            f"{expression!r}: EventBridge wants the unit {'singular' if value == '1' else 'plural'}"
            f" here, rate({value} {wanted})"
        )
    return None


def _cron_problem(text: str) -> str | None:
    fields = text.split()
    if len(fields) != len(_CRON_FIELDS):
        return (
            f"cron({text}) has {len(fields)} fields; EventBridge's cron has six (minutes hours "
            "day-of-month month day-of-week year)"
        )
    for field, value in zip(_CRON_FIELDS, fields, strict=True):
        problem = field.problem(value)
        if problem is not None:
            return f"cron({text}): {problem}"
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        return (
            f"cron({text}): exactly one of day-of-month ({day_of_month}) and day-of-week "
            f"({day_of_week}) must be `?` (EventBridge cannot match both)"
        )
    return None


# --------------------------------------------------------------------- patterns and filters

EVENT_PATTERN_MAX: Final = 4096
"""EventBridge API reference, PutRule: `EventPattern` has at most 4096 characters of JSON."""
PATTERN_FIX: Final = (
    'write the pattern as an object whose fields map to lists of values, e.g. {"source": '
    '["orders"], "detail-type": ["OrderPlaced"], "detail": {"total": [{"numeric": [">", 0]}]}}'
)
FILTER_POLICY_FIX: Final = (
    "write the filter policy as an object whose attributes map to lists of values, e.g. "
    '{"type": ["OrderPlaced"], "total": [{"numeric": [">", 100]}]}'
)


def event_pattern_problem(pattern: object) -> str | None:
    """Why EventBridge would refuse `pattern` as an event pattern, or None.

    An object, not empty, whose fields each map either to an object of the same kind (matching
    the event's nested fields) or to a non-empty list of what to match (values, or matchers
    such as `{"prefix": "order-"}`): EventBridge matches a field against a list, never a
    bare value.
    """
    problem = _object_of_lists(pattern, "the event pattern", nested=True)
    if problem is not None:
        return problem
    size = len(json.dumps(pattern, separators=(",", ":")))
    if size > EVENT_PATTERN_MAX:
        return (
            f"the event pattern has {size} characters as JSON; EventBridge allows "
            f"{EVENT_PATTERN_MAX}"
        )
    return None


def filter_policy_problem(policy: object, scope: str = "MessageAttributes") -> str | None:
    """Why SNS would refuse `policy` as a subscription's filter policy, or None.

    An object whose attributes map to non-empty lists of what to match; under the scope
    `MessageBody` an attribute may map to an object of the same kind (the body's nested keys).
    """
    return _object_of_lists(policy, "the filter policy", nested=scope == "MessageBody")


def _object_of_lists(value: object, what: str, *, nested: bool) -> str | None:
    if not isinstance(value, dict) or not value:
        shown = "an empty object" if value == {} else f"{_shown(value)}"
        return f"{what} is {shown}, not an object of fields mapped to lists"
    for key, item in value.items():
        if not isinstance(key, str):
            return f"{what} has the key {key!r}, not a string"
        if isinstance(item, list):
            if not item:
                return f"{what} maps {key!r} to an empty list, which matches nothing"
            continue
        if isinstance(item, dict) and nested:
            problem = _object_of_lists(item, f"{what}'s {key!r}", nested=True)
            if problem is not None:
                return problem
            continue
        return f"{what} maps {key!r} to {_shown(item)}, not to a list of values to match"
    return None


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ------------------------------------------------------------------------- bucket events

S3_EVENTS: Final = (
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post",
    "s3:ObjectRestore:Completed",
    "s3:ObjectRestore:Delete",
    "s3:ReducedRedundancyLostObject",
    "s3:Replication:*",
    "s3:Replication:OperationFailedReplication",
    "s3:Replication:OperationNotTracked",
    "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold",
    "s3:LifecycleTransition",
    "s3:IntelligentTiering",
    "s3:ObjectAcl:Put",
    "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete",
    "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:ObjectTagging:*",
    "s3:ObjectTagging:Put",
    "s3:ObjectTagging:Delete",
    "s3:ObjectAnnotation:*",
    "s3:ObjectAnnotation:Put",
    "s3:ObjectAnnotation:Delete",
    "s3:ObjectRetention:Put",
)
"""S3 API reference, PutBucketNotificationConfiguration: the `Event` enumeration (botocore's)."""


def s3_events_overlap(first: Sequence[str], second: Sequence[str]) -> tuple[str, str] | None:
    """An event of `first` and one of `second` that S3 would send for one change, or None.

    `s3:ObjectCreated:*` covers `s3:ObjectCreated:Put`.
    """
    for one in first:
        for other in second:
            if _covers(one, other) or _covers(other, one):
                return one, other
    return None


def _covers(wide: str, narrow: str) -> bool:
    return wide == narrow or (wide.endswith(":*") and narrow.startswith(wide[:-1]))


def s3_filters_overlap(first: tuple[str, str], second: tuple[str, str]) -> bool:
    """Whether two (prefix, suffix) filters match some key in common.

    S3 refuses two notification configurations of one event type that could match one key
    ("Configuration is ambiguously defined"): prefixes where one starts the other, suffixes
    where one ends the other (the empty filter matches every key).
    """
    (prefix, suffix), (other_prefix, other_suffix) = first, second
    prefixes = prefix.startswith(other_prefix) or other_prefix.startswith(prefix)
    suffixes = suffix.endswith(other_suffix) or other_suffix.endswith(suffix)
    return prefixes and suffixes
