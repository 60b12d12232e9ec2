"""`lambdapress logs`: a deployed function's log group, its Powertools JSON made readable.

The group is the one the stack made for the function (`template_ids.log_group_name` of its
physical name), so no AWS call is needed to find it. Events are read with FilterLogEvents,
across the group's streams in time order; `--follow` polls again from the newest event seen,
skipping the events already shown (CloudWatch returns the ones at that same millisecond
again).

A Powertools line (one JSON object with `level` and `message`) is shown as its time, level,
message and its extra keys as `key=value`; the keys every line carries (the function's name,
ARN, memory, request id, trace id, location...) are left out, they say nothing a reader of one
function's log needs line by line. Any other line (Lambda's START/END/REPORT, a print) is shown
as it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lambdapress.config.workspace import find_root
from lambdapress.deploy._secret_values import Secrets
from lambdapress.deploy.aws import Aws, LogEvent
from lambdapress.deploy.config import check_stage, load_deploy_config
from lambdapress.deploy.template_ids import log_group_name, physical_function_name
from lambdapress.errors import ConfigError
from lambdapress.model.manifest import manifest_path, read_manifest

_SINCE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
# The keys Powertools' Logger writes on every line: left out of the extras.
_EVERY_LINE = frozenset(
    {
        "level",
        "message",
        "timestamp",
        "location",
        "service",
        "sampling_rate",
        "cold_start",
        "function_name",
        "function_memory_size",
        "function_arn",
        "function_request_id",
        "xray_trace_id",
        "exception",
        "exception_name",
        "stack_trace",
    }
)


def parse_since(text: str) -> timedelta:
    """`10m`, `2h`, `30s`, `1d`: how far back the first read goes."""
    found = _SINCE.match(text.strip())
    if found is None or int(found.group(1)) == 0:
        raise ConfigError(
            f"--since {text!r} is not a duration",
            hint="write a whole number and a unit: 30s, 10m, 2h or 1d",
        )
    return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})


@dataclass(frozen=True)
class LogSource:
    """Which log group `logs` reads: the function (its manifest name) of one stage."""

    function: str
    stage: str
    group: str
    secrets: Secrets


def log_source(root: Path, function: str, stage: str) -> LogSource:
    """The log group of `function` (`orders.get_order`) in `stage`'s stack.

    The name is checked against the manifest when one was built, so a typo is an error
    naming the functions there instead of an empty log.
    """
    root = find_root(root)
    config = load_deploy_config(root)
    check_stage(stage)
    secrets = Secrets.gather()
    if manifest_path(root).is_file():
        manifest = read_manifest(manifest_path(root))
        function = manifest.function(function).name
        secrets = Secrets.gather(*(f.environment for f in manifest.functions))
    elif "." not in function:
        raise ConfigError(
            f"{function!r} is not a function's name, and there is no manifest to look it up in",
            hint="name it as the manifest does, <service>.<handler module> (orders.get_order), "
            "or run `nox -s package` first",
        )
    name = physical_function_name(config.project, stage, function)
    return LogSource(function, stage, log_group_name(name), secrets)


class LogTail:
    """Reads a log group from a point in time on, each event once."""

    def __init__(self, aws: Aws, group: str, start_ms: int) -> None:
        self._aws = aws
        self._group = group
        self._start_ms = start_ms
        self._seen_at_start: set[str] = set()

    def poll(self) -> Iterator[LogEvent]:
        """The events since the last poll (all pages), oldest first."""
        token: str | None = None
        start = self._start_ms
        while True:
            events, token = self._aws.log_events(self._group, start, token)
            for event in sorted(events, key=lambda e: (e.timestamp_ms, e.event_id)):
                if event.timestamp_ms == self._start_ms and event.event_id in self._seen_at_start:
                    continue
                if event.timestamp_ms > self._start_ms:
                    self._start_ms, self._seen_at_start = event.timestamp_ms, set()
                self._seen_at_start.add(event.event_id)
                yield event
            if token is None:
                return


def start_ms(since: timedelta, now: datetime | None = None) -> int:
    """The first millisecond to read: `since` before `now`."""
    moment = (now or datetime.now(UTC)) - since
    return int(moment.timestamp() * 1000)


def render(event: LogEvent) -> str:
    """One event as a line (or a few: an exception's traceback follows, indented)."""
    when = datetime.fromtimestamp(event.timestamp_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[
        :-3
    ]
    text = event.message.rstrip("\n")
    fields = _powertools(text)
    if fields is None:
        return f"{when} {text}"
    level = str(fields.get("level", "")).upper()
    extras = " ".join(
        f"{key}={_value(value)}" for key, value in fields.items() if key not in _EVERY_LINE
    )
    line = f"{when} {level:<7} {fields.get('message', '')}"
    if extras:
        line += f"  {extras}"
    trace = fields.get("exception")
    if isinstance(trace, str) and trace:
        line += "\n" + "\n".join(f"    {part}" for part in trace.splitlines())
    return line


def _powertools(text: str) -> dict[str, Any] | None:
    """The fields of a Powertools JSON line, or None for any other line."""
    if not text.startswith("{"):
        return None
    try:
        fields = json.loads(text)
    except ValueError:
        return None
    if not isinstance(fields, dict) or "level" not in fields or "message" not in fields:
        return None
    return fields


def _value(value: object) -> str:
    """A value as `key=value` shows it: a plain word bare, anything else as JSON."""
    if isinstance(value, str) and value and not re.search(r"[\s\"=]", value):
        return value
    return json.dumps(value, sort_keys=True, default=str)
