"""A trigger kind that lives in the tests only: `tick`, a schedule a handler module declares.

    TICKS = {"cleanup": 5}      # module level: the tick `cleanup` runs the handler every 5 min

Nothing of lambdapress knows it: `register_trigger_kind(TickKind())` is the one line that
plugs it in, and every facet is its own:
- discover: the module-level `TICKS` dict literal, names to minutes; anything else there is an
  error at its line;
- check: a tick name belongs to one function (two `cleanup` ticks are refused, naming both);
- permissions: a ticking function may put events on the account's default event bus;
- render: an `AWS::Events::Rule` with `rate(N minutes)` targeting the function, and the
  `AWS::Lambda::Permission` that lets EventBridge invoke it;
- local source: a ticker thread that delivers each tick once at start, then every N minutes;
- sample event: EventBridge's "Scheduled Event" for the tick's rule.
"""

from __future__ import annotations

import ast
import json
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, ValidationError

from lambdapress.errors import BundleError
from lambdapress.model.application import Application, Function
from lambdapress.model.permissions import Permission
from lambdapress.model.trigger_kinds import (
    CheckContext,
    Declared,
    HandlerSource,
    LocalHost,
    LocalOptions,
    LocalSource,
    StackBuilder,
    TriggerKind,
)
from lambdapress.model.triggers import Trigger

DECLARATION = "TICKS"
DEFAULT_BUS = "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"
ACCOUNT, REGION = "123456789012", "us-east-1"
_FIX = f'write {DECLARATION} = {{"cleanup": 5}}: tick names (lowercase words) to minutes'


class Tick(Trigger):
    """Run the function every `every_minutes` minutes, as the tick `name`."""

    kind: Literal["tick"] = "tick"
    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,39}$")
    every_minutes: int = Field(ge=1, le=1440)

    @property
    def label(self) -> str:
        return f"{self.name} every {self.every_minutes} min"

    @property
    def schedule(self) -> str:
        unit = "minute" if self.every_minutes == 1 else "minutes"
        return f"rate({self.every_minutes} {unit})"


@dataclass(frozen=True)
class TickDelivery:
    """One tick the local ticker delivered, and what the function answered."""

    function: str
    tick: str
    result: Any

    def __str__(self) -> str:
        return f"tick {self.tick} -> {self.function}"


def scheduled_event(tick: Tick) -> dict[str, Any]:
    """What EventBridge sends for a scheduled rule: a "Scheduled Event" naming the rule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/tick-{tick.name}"],
        "detail": {},
    }


class Ticker:
    """The kind's local source: delivers each tick at start, then every N minutes."""

    name = "ticker"
    url = None

    def __init__(self, host: LocalHost[Any], options: LocalOptions) -> None:
        self.host = host
        self.options = options
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tick-source")

    def start(self) -> Ticker:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        due: dict[tuple[str, str], float] = {}
        while not self._stop.is_set():
            now = time.monotonic()
            for function in self.host.manifest.functions:  # the latest build, as serve rebuilds
                for tick in function.triggers_of(Tick):
                    key = (function.name, tick.name)
                    if due.get(key, now) <= now:
                        payload = json.dumps(scheduled_event(tick)).encode()
                        result = self.host.invoke(function.name, payload=payload)
                        if self.options.on_delivery is not None:
                            self.options.on_delivery(TickDelivery(function.name, tick.name, result))
                        due[key] = now + tick.every_minutes * 60
            self._stop.wait(1.0)


def _words(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


class TickKind(TriggerKind[Tick]):
    """The `tick` kind (module doc)."""

    model = Tick

    def discover(self, source: HandlerSource) -> tuple[Declared[Tick], ...]:
        found: list[Declared[Tick]] = []
        for node in source.tree.body:
            if not (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == DECLARATION for t in node.targets)
            ):
                continue
            if not isinstance(node.value, ast.Dict):
                raise BundleError(
                    f"{DECLARATION} is not a dict literal", path=source.path, line=node.lineno,
                    hint=_FIX,
                )  # fmt: skip
            for key, value in zip(node.value.keys, node.value.values, strict=True):
                line = value.lineno
                if not (
                    isinstance(key, ast.Constant)
                    and isinstance(key.value, str)
                    and isinstance(value, ast.Constant)
                    and type(value.value) is int
                ):
                    raise BundleError(
                        f"{DECLARATION} maps tick names to whole minutes, literally",
                        path=source.path, line=line, hint=_FIX,
                    )  # fmt: skip
                try:
                    tick = Tick(name=key.value, every_minutes=value.value)
                except ValidationError as exc:
                    problem = "; ".join(error["msg"] for error in exc.errors())
                    raise BundleError(
                        f"tick {key.value!r}: {problem}", path=source.path, line=line, hint=_FIX
                    ) from None
                found.append(source.declare(tick, line))
        return tuple(found)

    def check(self, declared: Sequence[Declared[Tick]], context: CheckContext) -> None:
        seen: dict[str, Declared[Tick]] = {}
        for found in declared:
            other = seen.setdefault(found.trigger.name, found)
            if other is not found:
                raise BundleError(
                    f"tick {found.trigger.name!r} is declared twice: here and in "
                    f"{other.path}:{other.line} ({other.function})",
                    path=found.path,
                    line=found.line,
                    hint="give each tick to one handler module",
                )

    def permissions(self, function: str, trigger: Tick) -> tuple[Permission, ...]:
        return (
            Permission(
                actions=("events:PutEvents",),
                resources=(DEFAULT_BUS,),
                reason=f"reports tick {trigger.name} on the default event bus",
            ),
        )

    def render(self, stack: StackBuilder, application: Application) -> None:
        for function in application.functions:
            for tick in function.triggers_of(Tick):
                owner = f"tick {tick.name} of function {function.name}"
                target = stack.invoke_target(function.name)
                rule = stack.add(
                    stack.function_id(function.name, f"Tick{_words(tick.name)}Rule"),
                    {
                        "Type": "AWS::Events::Rule",
                        "Properties": {
                            "Description": f"tick {tick.name} of {function.name}",
                            "ScheduleExpression": tick.schedule,
                            "State": "ENABLED",
                            "Targets": [{"Id": f"tick-{tick.name}", "Arn": target}],
                        },
                    },
                    owner,
                )
                stack.add(
                    stack.function_id(function.name, f"Tick{_words(tick.name)}Permission"),
                    {
                        "Type": "AWS::Lambda::Permission",
                        "Properties": {
                            "Action": "lambda:InvokeFunction",
                            "FunctionName": target,
                            "Principal": "events.amazonaws.com",
                            "SourceArn": {"Fn::GetAtt": [rule, "Arn"]},
                        },
                    },
                    owner,
                )

    def local_source(self, host: LocalHost[Any], options: LocalOptions) -> LocalSource:
        return Ticker(host, options)

    def sample_event(self, function: Function, trigger: Tick) -> Any:
        return scheduled_event(trigger)
