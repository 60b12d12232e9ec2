"""Event sources in the stage's stack: queues, topics, buses, buckets and what they trigger.

SEAM (issue 22, being built): the deploy helper replaces these bodies.
"""

from __future__ import annotations

from lambdapress.model.application import Application
from lambdapress.model.trigger_kinds import StackBuilder


def render_event_resources(stack: StackBuilder, application: Application) -> None:
    """The application's queues, topics, buses and buckets (and subscriptions, notifications)."""
    raise NotImplementedError("issue 22: deploy of event resources")


def render_event_triggers(stack: StackBuilder, application: Application, kind: str) -> None:
    """What connects each trigger of `kind` to its function (mappings, rules, permissions)."""
    raise NotImplementedError("issue 22: deploy of event triggers")
