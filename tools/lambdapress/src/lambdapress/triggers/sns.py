"""SNS topics: each published message runs the function; any function may publish.

Declared in the handler module (`lambdapress_runtime.triggers`):

    from lambdapress_runtime import triggers

    ORDER_EVENTS = triggers.Topic("order-events")   # this function publishes to it
                                                    # (ORDER_EVENTS.arn: ORDER_EVENTS_TOPIC_ARN)

    @triggers.sns("orders/order-events", filter_policy={"type": ["OrderPlaced"]})
    def handler(event, context): ...                # one message per invocation

Each topic is declared by its service's pyproject, `[tool.lambdapress.topics.order-events]`;
code names it `order-events` in that service, `orders/order-events` in another.

Checked at package time, with the file, the line and the fix: the topic is declared (the
trigger's and each `Topic`'s); it is not FIFO (SNS delivers FIFO topics to SQS queues only: a
queue subscribes, `[tool.lambdapress.queues.NAME] subscribe = [...]`, and the function drains
the queue); the filter policy is an object whose attributes map to lists (nested objects too
under `filter_policy_scope="MessageBody"`).

Permissions: none for the consumer's role (SNS's right to invoke it is a resource-based
permission, rendered with the subscription); a `Topic` handle lets its function publish to it.
Rendered by deploy, delivered locally on moto's server, sampled by the emulator (`_event_kind`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from lambdapress.config.event_rules import FILTER_POLICY_FIX, filter_policy_problem
from lambdapress.errors import BundleError
from lambdapress.model.permissions import Permission, resource_ref
from lambdapress.model.resources import SnsTopic
from lambdapress.model.trigger_kinds import CheckContext, Declared, HandlerSource, Used
from lambdapress.model.triggers import SnsTrigger
from lambdapress.triggers._declarations import declarations
from lambdapress.triggers._event_kind import EventKind
from lambdapress.triggers._references import (
    check_uses,
    declared_resource,
    handle_uses,
    resource_id,
    trigger,
)

PUBLISHER_ACTIONS: Final = ("sns:Publish",)


class SnsKind(EventKind[SnsTrigger]):
    """SNS topics (module doc)."""

    model = SnsTrigger

    def discover(self, source: HandlerSource) -> tuple[Declared[SnsTrigger], ...]:
        """The handler's `@triggers.sns(...)`, each naming its topic by id."""
        found: list[Declared[SnsTrigger]] = []
        for decoration in declarations(source).of("sns"):
            values = dict(decoration.arguments)
            values["topic"] = resource_id(
                source, values["topic"], "sns-topic", decoration.line, "the topic of @triggers.sns"
            )
            found.append(trigger(source, SnsTrigger, decoration, values))
        return tuple(found)

    def uses(self, source: HandlerSource) -> tuple[Used, ...]:
        """Each `triggers.Topic("name")`: the function publishes to the topic."""
        return handle_uses(source, self.name, "Topic", "sns-topic", _publishes)

    def check(self, declared: Sequence[Declared[SnsTrigger]], context: CheckContext) -> None:
        """Declared standard topics, and filter policies SNS takes."""
        check_uses(context, self.name, "Topic")
        for found in declared:
            sns = found.trigger
            topic = declared_resource(context, sns.topic, found.path, found.line, "@triggers.sns")
            if isinstance(topic, SnsTopic) and topic.fifo:
                raise BundleError(
                    f"@triggers.sns names the FIFO topic {topic.service}/{topic.name}: SNS "
                    "delivers FIFO topics to SQS queues only, never to a function",
                    path=found.path,
                    line=found.line,
                    hint="subscribe a FIFO queue to the topic ([tool.lambdapress.queues.NAME] "
                    f'fifo = true, subscribe = [{{ topic = "{topic.service}/{topic.name}" }}]) '
                    "and drain it with @triggers.sqs",
                )
            if sns.filter_policy is not None:
                problem = filter_policy_problem(sns.filter_policy, sns.filter_policy_scope)
                if problem is not None:
                    raise BundleError(
                        f"@triggers.sns: {problem}",
                        path=found.path,
                        line=found.line,
                        hint=FILTER_POLICY_FIX,
                    )


KIND = SnsKind()


def _publishes(resource: str, where: str) -> tuple[Permission, ...]:
    return (
        Permission(
            actions=PUBLISHER_ACTIONS,
            resources=(resource_ref(resource),),
            reason=f"publishes to {resource} ({where})",
        ),
    )
