"""EventBridge rules: events on a bus that match a pattern run the function; any may put events.

Declared in the handler module (`lambdapress_runtime.triggers`):

    from lambdapress_runtime import triggers

    ORDERS = triggers.Bus("orders")                 # this function puts events on it
                                                    # (ORDERS.bus_name: ORDERS_BUS_NAME)

    @triggers.rule({"source": ["orders"], "detail-type": ["OrderPlaced"]}, bus="orders/orders")
    @triggers.rule({"source": ["aws.s3"]})          # the account's default bus
    def handler(event, context): ...

A bus is `default` (the account's own) or one declared by a service's pyproject,
`[tool.lambdapress.buses.orders]`; code names it `orders` in that service, `orders/orders` in
another.

Checked at package time, with the file, the line and the fix: the bus is declared (the rule's,
unless `default`, and each `Bus`'s); the pattern is a non-empty object whose fields map to lists
of values to match, or to objects of the same kind (`config.event_rules`), within EventBridge's
size.

Permissions: none for the consumer's role (EventBridge's right to invoke it is a resource-based
permission, rendered with the rule); a `Bus` handle lets its function put events on the bus.
Rendered by deploy, delivered locally on moto's server, sampled by the emulator (`_event_kind`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from lambdapress.config.event_rules import PATTERN_FIX, event_pattern_problem
from lambdapress.errors import BundleError
from lambdapress.model.permissions import Permission, resource_ref
from lambdapress.model.trigger_kinds import CheckContext, Declared, HandlerSource, Used
from lambdapress.model.triggers import EventRuleTrigger
from lambdapress.triggers._declarations import declarations
from lambdapress.triggers._event_kind import EventKind
from lambdapress.triggers._references import (
    check_uses,
    declared_resource,
    handle_uses,
    resource_id,
    trigger,
)

DEFAULT_BUS: Final = "default"
"""The account's own bus: AWS services' events arrive there; no service declares it."""
PUTTER_ACTIONS: Final = ("events:PutEvents",)


class EventBridgeKind(EventKind[EventRuleTrigger]):
    """EventBridge rules (module doc)."""

    model = EventRuleTrigger

    def discover(self, source: HandlerSource) -> tuple[Declared[EventRuleTrigger], ...]:
        """The handler's `@triggers.rule(...)`, each naming its bus by id (or `default`)."""
        found: list[Declared[EventRuleTrigger]] = []
        for decoration in declarations(source).of("rule"):
            values = dict(decoration.arguments)
            bus = values.get("bus", DEFAULT_BUS)
            if bus != DEFAULT_BUS:
                what = "the bus of @triggers.rule"
                values["bus"] = resource_id(source, bus, "event-bus", decoration.line, what)
            found.append(trigger(source, EventRuleTrigger, decoration, values))
        return tuple(found)

    def uses(self, source: HandlerSource) -> tuple[Used, ...]:
        """Each `triggers.Bus("name")`: the function puts events on the bus."""
        return handle_uses(source, self.name, "Bus", "event-bus", _puts)

    def check(self, declared: Sequence[Declared[EventRuleTrigger]], context: CheckContext) -> None:
        """Declared buses, patterns EventBridge matches."""
        check_uses(context, self.name, "Bus")
        for found in declared:
            rule = found.trigger
            if rule.bus != DEFAULT_BUS:
                declared_resource(context, rule.bus, found.path, found.line, "@triggers.rule")
            problem = event_pattern_problem(rule.pattern)
            if problem is not None:
                raise BundleError(
                    f"@triggers.rule: {problem}", path=found.path, line=found.line, hint=PATTERN_FIX
                )


KIND = EventBridgeKind()


def _puts(resource: str, where: str) -> tuple[Permission, ...]:
    return (
        Permission(
            actions=PUTTER_ACTIONS,
            resources=(resource_ref(resource),),
            reason=f"puts events on {resource} ({where})",
        ),
    )
