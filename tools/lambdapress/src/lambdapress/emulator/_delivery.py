"""What every local event source shares: the bindings it runs, their threads, their reports.

A source delivers one trigger kind for the whole application. A supervisor thread reads
`host.manifest` every `POLL` seconds; when `serve` has rebuilt, it creates what the new build's
resources and triggers need on the events server (`prepare`), then runs one `Binding` per
(function, trigger) on a thread of its own: a binding whose trigger went away is stopped, a new
one started, one that stayed keeps running (an invocation goes to the function's current
build). A binding's step that fails (moto unreachable, a queue deleted by hand) is reported as
a delivery that failed and tried again after `RETRY` seconds; nothing a step raises ends its
thread. `close()` stops the supervisor and every binding and waits for their threads: each
waits at most one long poll (a second) or one invocation.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from lambdapress.errors import EmulatorError
from lambdapress.model.application import Application, Function
from lambdapress.model.trigger_kinds import LocalHost, LocalOptions
from lambdapress.model.triggers import Trigger
from lambdapress.storage.events import EventsEndpoint, create_event_resources

_NUMBERS = itertools.count(1)
POLL = 0.5
"""Seconds between two looks at the manifest (a rebuild's new triggers start this late)."""
RETRY = 2.0
"""Seconds before a step that failed is tried again."""


class Outcome(Protocol):
    """What an invocation returns (the emulator's `InvocationResult`)."""

    @property
    def error(self) -> Any:
        """The function's error, None when it returned."""
        ...

    @property
    def payload(self) -> bytes:
        """The response, or the error document."""
        ...


class EventsHost(LocalHost[Any], Protocol):
    """The emulator as the event sources use it: where its event resources and tables are."""

    @property
    def events(self) -> EventsEndpoint | None:
        """The events server and the stage's names; None when none was given."""
        ...

    @property
    def storage(self) -> Mapping[str, Mapping[str, str]]:
        """Per service, the variables of its storage (the tables' endpoint and names)."""
        ...


@dataclass(frozen=True)
class DeliveryRecord:
    """One delivery of a local event source, as `serve` prints it."""

    kind: str
    trigger: str
    """The trigger's label (`workers/order-placed`), said after its kind."""
    function: str
    records: int
    outcome: str
    """`ok`, `1 of 3 failed (back after the visibility timeout)`, `error: ValueError: ...`."""
    duration_ms: float
    result: Any | None = None
    """The invocation's result (None when the delivery failed before invoking)."""

    @property
    def ok(self) -> bool:
        """Whether every record was handled."""
        return self.outcome == "ok"

    def __str__(self) -> str:
        """`sqs workers/order-placed -> workers.consume: 3 records, ok (12.3 ms)`."""
        plural = "record" if self.records == 1 else "records"
        return (
            f"{self.kind} {self.trigger} -> {self.function}: {self.records} {plural}, "
            f"{self.outcome} ({self.duration_ms:.1f} ms)"
        )


def events_of(host: LocalHost[Any], kind: str) -> EventsEndpoint:
    """The host's events server, or an EmulatorError saying how to give it one."""
    endpoint = getattr(host, "events", None)
    if not isinstance(endpoint, EventsEndpoint):
        raise EmulatorError(
            f"{kind} triggers are delivered through moto's server, and this emulator has none",
            hint="run `lambdapress serve` (it uses `lambdapress db`'s server, or starts one), or "
            "give the Emulator events=EventsEndpoint(url, names)",
        )
    return endpoint


def storage_of(host: LocalHost[Any], service: str) -> Mapping[str, str]:
    """The storage variables the host gives `service`'s functions."""
    storage = getattr(host, "storage", None)
    return storage.get(service, {}) if isinstance(storage, Mapping) else {}


def error_text(result: Outcome) -> str:
    """`ValueError: boom` of a failed invocation."""
    error = result.error
    message = str(getattr(error, "message", "") or "").splitlines()
    kind = str(getattr(error, "error_type", "Error"))
    return f"{kind}: {message[0]}" if message else kind


def failed_items(result: Outcome, identifiers: list[str]) -> set[str] | None:
    """The items a successful invocation reported failed (`batchItemFailures`).

    None when the response says the whole batch failed, as Lambda reads it: an item without an
    identifier, or with one that is not in the batch (Lambda's "ReportBatchItemFailures").
    A response without the key, or not an object, reports nothing failed.
    """
    try:
        response = json.loads(result.payload) if result.payload else None
    except ValueError:
        return set()
    if not isinstance(response, dict) or not response.get("batchItemFailures"):
        return set()
    failures = response["batchItemFailures"]
    if not isinstance(failures, list):
        return None
    known = set(identifiers)
    found: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in known:
            return None
        found.add(identifier)
    return found


class Binding(ABC):
    """One trigger of one function being delivered: `step()` delivers at most one batch."""

    def __init__(self, source: DeliverySource, function: Function, trigger: Trigger) -> None:
        self.source = source
        self.function = function
        self.trigger = trigger

    @abstractmethod
    def step(self, stop: threading.Event) -> None:
        """Wait (briefly: a second at most) for records, and deliver them if any came."""

    def invoke(self, event: Any) -> tuple[Outcome, float]:
        """Invoke the function with `event`; the result and the milliseconds it took."""
        started = time.perf_counter()
        result: Outcome = self.source.host.invoke(
            self.function.name, payload=json.dumps(event).encode()
        )
        return result, (time.perf_counter() - started) * 1000

    def report(
        self, records: int, outcome: str, duration_ms: float, result: Outcome | None = None
    ) -> None:
        """Tell `serve` about a delivery."""
        self.source.report(
            DeliveryRecord(
                self.trigger.kind,
                self.trigger.label,
                self.function.name,
                records,
                outcome,
                duration_ms,
                result,
            )
        )


class _Runner:
    """A binding's thread: its steps until told to stop, each failure reported and retried."""

    def __init__(self, binding: Binding, name: str) -> None:
        self.binding = binding
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                self.binding.step(self.stop)
            except Exception as error:  # reported; the next step tries again
                with contextlib.suppress(Exception):
                    self.binding.report(0, f"failed: {_summary(error)}", 0.0)
                self.stop.wait(RETRY)


def _summary(error: Exception) -> str:
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class DeliverySource(ABC):
    """One kind's local source (a `LocalSource`): its bindings, kept in step with the build."""

    kind: str
    label: str

    def __init__(self, host: LocalHost[Any], options: LocalOptions) -> None:
        self.host = host
        self.options = options
        self._stop = threading.Event()
        self._supervisor = threading.Thread(
            target=self._supervise, name=f"lambdapress-{self.kind}-source", daemon=True
        )
        self._runners: dict[str, _Runner] = {}
        self._seen: Application | None = None

    @property
    def name(self) -> str:
        """What `serve` calls it (`SQS`)."""
        return self.label

    @property
    def url(self) -> str | None:
        """It listens nowhere."""
        return None

    def start(self) -> DeliverySource:
        """Start the supervisor, which starts the bindings; return at once."""
        self._supervisor.start()
        return self

    def close(self) -> None:
        """Stop every binding and the supervisor, and wait for their threads."""
        self._stop.set()
        if self._supervisor.is_alive():
            self._supervisor.join()
        self._stop_runners(list(self._runners))

    @property
    def thread_names(self) -> set[str]:
        """The names of the threads it runs now (tests check none is left after close)."""
        return {self._supervisor.name, *(r.thread.name for r in self._runners.values())}

    def report(self, record: DeliveryRecord) -> None:
        """Pass a delivery on to whoever listens (`serve` prints it)."""
        if self.options.on_delivery is not None:
            self.options.on_delivery(record)

    # -- keeping in step with the build ------------------------------------------------------
    def _supervise(self) -> None:
        while not self._stop.is_set():
            manifest = self.host.manifest
            if manifest is not self._seen:
                try:
                    self._follow(manifest)
                    self._seen = manifest
                except Exception as error:  # reported; tried again at the next look
                    self.report(
                        DeliveryRecord(
                            self.kind, self.label, "-", 0, f"failed: {_summary(error)}", 0.0
                        )
                    )
                    self._stop.wait(RETRY)
                    continue
            self._stop.wait(POLL)

    def _follow(self, manifest: Application) -> None:
        wanted = {
            _key(function, index, trigger): (function, trigger)
            for function in manifest.functions
            for index, trigger in enumerate(function.triggers)
            if trigger.kind == self.kind
        }
        self.prepare(manifest, list(wanted.values()))
        self._stop_runners([key for key in self._runners if key not in wanted])
        for key, (function, trigger) in wanted.items():
            if key in self._runners:
                self._runners[key].binding.function = function
                continue
            binding = self.bind(manifest, function, trigger)
            runner = _Runner(binding, f"lambdapress-{self.kind}-{function.name}-{next(_NUMBERS)}")
            self._runners[key] = runner
            runner.thread.start()

    def _stop_runners(self, keys: list[str]) -> None:
        runners = [self._runners.pop(key) for key in keys]
        for runner in runners:
            runner.stop.set()
        for runner in runners:
            runner.thread.join()

    def prepare(self, manifest: Application, bindings: list[tuple[Function, Trigger]]) -> None:
        """Make what the build's triggers of this kind need on the events server (or nothing)."""
        return None

    @abstractmethod
    def bind(self, manifest: Application, function: Function, trigger: Trigger) -> Binding:
        """The binding that delivers `trigger` to `function`."""


def _key(function: Function, index: int, trigger: Trigger) -> str:
    return f"{function.name}#{index}#{trigger.model_dump_json()}"


class ResourceSync:
    """Creates a build's event resources on the events server once per build (all kinds)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done: dict[tuple[str, str, str], str] = {}

    def ensure(self, endpoint: EventsEndpoint, manifest: Application) -> None:
        """`create_event_resources` unless these resources were made on this server already."""
        key = (endpoint.url, endpoint.names.project, endpoint.names.stage)
        wanted = json.dumps([r.model_dump(mode="json") for r in manifest.resources])
        with self._lock:
            if self._done.get(key) == wanted:
                return
            create_event_resources(endpoint, manifest)
            self._done[key] = wanted


RESOURCES = ResourceSync()
"""One for the process: the sources of every kind share it."""
