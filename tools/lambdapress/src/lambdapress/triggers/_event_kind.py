"""What every event source kind shares: the facets other parts of the tool fill in.

An event source's trigger is rendered into the stack by deploy (`deploy.template_events`),
delivered locally by the emulator on moto's server (`emulator.event_sources`) and sampled by the
emulator (`emulator.sample_events`). Each facet imports its module when called, so `package`,
which only discovers and checks, loads none of them.
"""

from __future__ import annotations

from typing import Any, TypeVar

from lambdapress.model.application import Application, Function
from lambdapress.model.trigger_kinds import (
    LocalHost,
    LocalOptions,
    LocalSource,
    StackBuilder,
    TriggerKind,
)
from lambdapress.model.triggers import Trigger

_T = TypeVar("_T", bound=Trigger)


class EventKind(TriggerKind[_T]):
    """An event source beyond HTTP: `discover`, `uses`, `check` and `permissions` are its own."""

    def render(self, stack: StackBuilder, application: Application) -> None:
        """What connects each of the kind's triggers to its function (deploy's)."""
        from lambdapress.deploy.template_events import render_event_triggers

        render_event_triggers(stack, application, self.name)

    def local_source(self, host: LocalHost[Any], options: LocalOptions) -> LocalSource:
        """What delivers the kind's triggers on moto's server (the emulator's)."""
        from lambdapress.emulator.event_sources import event_source

        return event_source(host, options, self.name)

    def sample_event(self, function: Function, trigger: _T) -> Any:
        """The event the trigger sends its function, as AWS writes it (the emulator's)."""
        from lambdapress.emulator.sample_events import sample_event_for

        return sample_event_for(function, trigger)
