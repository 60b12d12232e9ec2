"""A service's queues, topics, buses and buckets, from its `[tool.lambdapress]`, as the model's.

Each `[tool.lambdapress.queues.NAME]` (`topics`, `buses`, `buckets`) becomes a resource of the
service (`config.event_settings`), with the references between them made ids: a queue's
`dead_letter = "order-placed-dlq"` names `workers/sqs-queue/order-placed-dlq`, its `subscribe =
[{ topic = "orders/order-events" }]` names `orders/sns-topic/order-events`.

What the settings cannot check alone is checked here, once every service is read, at the line
of the key to fix: a dead-letter queue or a subscribed topic that no service declares; a
queue's dead-letter queue of the other type (a FIFO queue's must be FIFO, a standard queue's
standard: SQS refuses the redrive policy); a queue that is its own dead-letter queue; a FIFO
queue subscribed to a standard topic (SNS delivers standard topics to standard queues only); a
subscription's filter policy SNS would refuse; a reference naming its own service
(`workers/x` in workers: write `x`). The names these make in an account are checked with the
longest project and stage by `_aws_names`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from lambdapress.config.event_rules import FILTER_POLICY_FIX, filter_policy_problem
from lambdapress.config.event_settings import split_reference
from lambdapress.config.pyproject import PYPROJECT, find_key_line
from lambdapress.config.workspace import Service
from lambdapress.errors import BundleError
from lambdapress.model.resources import (
    EventBus,
    Resource,
    S3Bucket,
    SnsTopic,
    SqsQueue,
    TopicSubscription,
)

_TOOL = ("tool", "lambdapress")


def event_resources(service: Service) -> tuple[Resource, ...]:
    """The queues, topics, buses and buckets `service` declares (unsorted)."""
    settings = service.settings
    name = service.name
    made: list[Resource] = []
    for queue, queue_settings in settings.queues.items():
        dead_letter = queue_settings.dead_letter
        made.append(
            SqsQueue(
                service=name,
                name=queue,
                fifo=queue_settings.fifo,
                visibility_timeout=queue_settings.visibility_timeout,
                retention_seconds=queue_settings.retention_seconds,
                dead_letter=_id(dead_letter, name, "sqs-queue") if dead_letter else None,
                max_receives=queue_settings.max_receives,
                subscriptions=tuple(
                    TopicSubscription(
                        topic=_id(s.topic, name, "sns-topic"),
                        filter_policy=s.filter_policy,
                        filter_policy_scope="MessageBody"
                        if s.filter_policy_scope == "MessageBody"
                        else "MessageAttributes",
                        raw_message_delivery=s.raw_message_delivery,
                    )
                    for s in queue_settings.subscribe
                ),
            )
        )
    made += [SnsTopic(service=name, name=t, fifo=s.fifo) for t, s in settings.topics.items()]
    made += [EventBus(service=name, name=bus) for bus in settings.buses]
    made += [S3Bucket(service=name, name=bucket) for bucket in settings.buckets]
    return tuple(made)


def check_event_resources(services: Iterable[Service], resources: Mapping[str, Resource]) -> None:
    """What each service's queues name is declared, and fits them (module doc).

    `resources`: every resource of the application, by id.
    """
    for service in services:
        pyproject = service.path / PYPROJECT
        for name, settings in service.settings.queues.items():
            queue = resources.get(f"{service.name}/sqs-queue/{name}")
            if not isinstance(queue, SqsQueue):
                continue
            keys = [*_TOOL, "queues", name]
            if settings.dead_letter is not None:
                where = (pyproject, find_key_line(pyproject, [*keys, "dead_letter"]))
                _own_service(settings.dead_letter, service.name, where, "dead_letter")
                _check_dead_letter(queue, resources, where)
            for index, subscription in enumerate(settings.subscribe):
                where = (pyproject, find_key_line(pyproject, [*keys, "subscribe"]))
                _own_service(subscription.topic, service.name, where, "subscribe's topic")
                _check_subscription(queue, queue.subscriptions[index], resources, where)


def _id(reference: str, service: str, kind: str) -> str:
    owner, name = split_reference(reference, service)
    return f"{owner}/{kind}/{name}"


def _own_service(reference: str, service: str, where: tuple[Path, int | None], key: str) -> None:
    owner, name = split_reference(reference, service)
    if "/" in reference and owner == service:
        raise BundleError(
            f"{key} = {reference!r} names this service, {service}, by name",
            path=where[0],
            line=where[1],
            hint=f"write {name!r}: `service/name` is for another service's",
        )


def _declares(resource_id: str) -> str:
    service, kind, name = resource_id.split("/")
    table = {"sqs-queue": "queues", "sns-topic": "topics"}[kind]
    return f"[tool.lambdapress.{table}.{name}] in service {service}'s pyproject"


def _check_dead_letter(
    queue: SqsQueue, resources: Mapping[str, Resource], where: tuple[Path, int | None]
) -> None:
    target_id = queue.dead_letter or ""
    target = resources.get(target_id)
    shown = f"{queue.service}/{queue.name}"
    if not isinstance(target, SqsQueue):
        raise BundleError(
            f"queue {shown}'s dead_letter names {target_id.split('/')[0]}/"
            f"{target_id.split('/')[-1]}, which no service declares",
            path=where[0],
            line=where[1],
            hint=f"declare the dead-letter queue: {_declares(target_id)}",
        )
    if target.id == queue.id:
        raise BundleError(
            f"queue {shown} is its own dead_letter: what fails would never leave it",
            path=where[0],
            line=where[1],
            hint=f"declare another queue for what fails, e.g. [tool.lambdapress.queues."
            f"{queue.name}-dlq], and name it in dead_letter",
        )
    if target.fifo != queue.fifo:
        types = ("FIFO", "standard") if queue.fifo else ("standard", "FIFO")
        raise BundleError(
            f"queue {shown} is {types[0]}, its dead_letter {target.service}/{target.name} is "
            f"{types[1]}: SQS moves messages only to a dead-letter queue of the same type",
            path=where[0],
            line=where[1],
            hint=f"make the dead-letter queue {types[0]} (fifo = {str(queue.fifo).lower()} in "
            f"{_declares(target.id)}), or name another",
        )


def _check_subscription(
    queue: SqsQueue,
    subscription: TopicSubscription,
    resources: Mapping[str, Resource],
    where: tuple[Path, int | None],
) -> None:
    shown = f"{queue.service}/{queue.name}"
    topic = resources.get(subscription.topic)
    if not isinstance(topic, SnsTopic):
        parts = subscription.topic.split("/")
        raise BundleError(
            f"queue {shown} subscribes to the topic {parts[0]}/{parts[-1]}, which no service "
            "declares",
            path=where[0],
            line=where[1],
            hint=f"declare the topic: {_declares(subscription.topic)}",
        )
    if queue.fifo and not topic.fifo:
        raise BundleError(
            f"the FIFO queue {shown} subscribes to the standard topic {topic.service}/"
            f"{topic.name}: SNS delivers a standard topic to standard queues only",
            path=where[0],
            line=where[1],
            hint="subscribe a standard queue, or make the topic FIFO (fifo = true in "
            f"{_declares(topic.id)})",
        )
    if subscription.filter_policy is not None:
        problem = filter_policy_problem(
            subscription.filter_policy, subscription.filter_policy_scope
        )
        if problem is not None:
            raise BundleError(
                f"queue {shown}'s subscription to {topic.service}/{topic.name}: {problem}",
                path=where[0],
                line=where[1],
                hint=FILTER_POLICY_FIX,
            )
