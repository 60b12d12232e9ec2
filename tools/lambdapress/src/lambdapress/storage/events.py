"""Event resources on moto's server: queues, topics and their subscriptions, buses, buckets.

    endpoint = EventsEndpoint("http://127.0.0.1:4566", StageNames("acme", "local"))
    create_event_resources(endpoint, application)      # idempotent: what exists is updated
    event_environment(endpoint, application, function) # ORDER_EVENTS_TOPIC_ARN=... for it

`lambdapress db` runs a moto server of its own for them (the DynamoDB tables keep theirs) and
creates every queue, topic, subscription, bus and bucket of the manifest in it; `serve` creates
them again after each rebuild (a new queue appears without restarting `db`), and starts a
moto of its own when no `db` runs. What a function reaches them with is what deploy gives it:
`<REF>_QUEUE_URL`/`_QUEUE_ARN`, `<REF>_TOPIC_ARN`, `<REF>_BUS_NAME`, `<REF>_BUCKET_NAME` for
each resource it uses (`model.resources.ADDRESS_VARIABLES`), plus boto3's per-service endpoint
variables (`AWS_ENDPOINT_URL_SQS`...), so its boto3 calls reach moto unchanged; on Lambda
those are absent and the real endpoints are used.

Physical names are deploy's: `<project>-<stage>-<service>-<name>`, `.fifo` appended for FIFO
queues and topics; the stage is `local` here. Buckets take the same name with `_` as `-`, cut
to S3's 63 characters with a stable hash when longer; deployed buckets also carry a short
suffix (bucket names are global, see deploy's template), which a private moto does not need.

moto does the rest of what AWS does with them (read in moto's source, 5.2): a queue's redrive
policy moves a message received `maxReceiveCount` times to its dead-letter queue on the next
receive (`sqs/models.py` `receive_message`); a topic delivers to subscribed queues, after the
subscription's filter policy (attributes or body scope) and as the raw message or SNS's JSON
envelope (`sns/models.py` `Subscription.publish`); a rule's SQS targets get the matching
events (`events/models.py` `Rule.send_to_targets`); a bucket's queue notifications get the
object events its prefix and suffix filters match (`s3/notifications.py`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from lambdapress.model import event_names
from lambdapress.model.application import Application, Function
from lambdapress.model.resources import (
    ADDRESS_VARIABLES,
    EventBus,
    Resource,
    S3Bucket,
    SnsTopic,
    SqsQueue,
    environment_name,
    reference_in,
)
from lambdapress.model.storage_backends import StageNames
from lambdapress.model.triggers import EventRuleTrigger
from lambdapress.storage.dynamodb import FAKE_CREDENTIALS
from lambdapress.support.loopback import LOCAL_REGION

ACCOUNT: Final = "123456789012"
"""moto's default account: every request with credentials it does not know is in it."""
ENDPOINT_VARIABLES: Final = (
    "AWS_ENDPOINT_URL_SQS",
    "AWS_ENDPOINT_URL_SNS",
    "AWS_ENDPOINT_URL_EVENTBRIDGE",
    "AWS_ENDPOINT_URL_S3",
)
"""boto3's per-service endpoints of the event services (by service id: EventBridge is
`events`' id), set to moto's server for every function locally."""
DEFAULT_BUS: Final = "default"
_R = TypeVar("_R", bound=Resource)


@dataclass(frozen=True)
class EventsEndpoint:
    """Where a stage's event resources live: a server (moto's locally) and the stage's names."""

    url: str
    names: StageNames
    region: str = LOCAL_REGION

    def client(self, service: str) -> Any:
        """A boto3 client of `service` (`sqs`, `sns`, `events`, `s3`) for the server."""
        import boto3
        from botocore.config import Config

        # Long polls are short here (a second), so the default read timeout is plenty; no
        # retries on a refused connection: a stopped server should be reported at once.
        config = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5)
        return boto3.session.Session().client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.url,
            region_name=self.region,
            config=config,
            **FAKE_CREDENTIALS,
        )

    # -- names and addresses -----------------------------------------------------------------
    def physical_name(self, resource: Resource) -> str:
        """The resource's name in the account, as deploy names it (`model.event_names`).

        A bucket's ends with the local account and region, as a deployed one's ends with the
        real ones: one rule, so a name too long for AWS is too long here too.
        """
        project, stage = self.names.project, self.names.stage
        if isinstance(resource, S3Bucket):
            return event_names.bucket_name(project, stage, resource, ACCOUNT, self.region)
        return event_names.physical_name(project, stage, resource)

    def queue_url(self, resource: Resource) -> str:
        """A queue's URL, as moto's server answers GetQueueUrl."""
        return f"{self.url}/{ACCOUNT}/{self.physical_name(resource)}"

    def arn(self, resource: Resource) -> str:
        """The ARN of a queue, topic, bus or bucket."""
        name = self.physical_name(resource)
        if isinstance(resource, SqsQueue):
            return f"arn:aws:sqs:{self.region}:{ACCOUNT}:{name}"
        if isinstance(resource, SnsTopic):
            return f"arn:aws:sns:{self.region}:{ACCOUNT}:{name}"
        if isinstance(resource, EventBus):
            return f"arn:aws:events:{self.region}:{ACCOUNT}:event-bus/{name}"
        if isinstance(resource, S3Bucket):
            return f"arn:aws:s3:::{name}"
        raise TypeError(f"not an event resource: {resource.id}")

    def queue_arn(self, name: str) -> str:
        """The ARN of a queue by its physical name (the sources' private queues)."""
        return f"arn:aws:sqs:{self.region}:{ACCOUNT}:{name}"

    def bus_name(self, application: Application, trigger: EventRuleTrigger) -> str:
        """The physical name of the bus a rule watches (`default`: the account's)."""
        if trigger.bus == DEFAULT_BUS:
            return DEFAULT_BUS
        return self.physical_name(application.resource(trigger.bus))

    def addresses(self, resource: Resource) -> dict[str, str]:
        """Suffix (`QUEUE_URL`...) -> value, for each of `ADDRESS_VARIABLES[resource.kind]`.

        Empty for a resource of another kind (a DynamoDB table a function uses through its
        service's storage), which has no name on the events server.
        """
        suffixes = ADDRESS_VARIABLES.get(resource.kind, ())
        if not suffixes:
            return {}
        name = self.physical_name(resource)
        values = {
            "QUEUE_URL": self.queue_url(resource) if isinstance(resource, SqsQueue) else "",
            "QUEUE_ARN": self.arn(resource) if isinstance(resource, SqsQueue) else "",
            "TOPIC_ARN": self.arn(resource) if isinstance(resource, SnsTopic) else "",
            "BUS_NAME": name,
            "BUCKET_NAME": name,
        }
        return {suffix: values[suffix] for suffix in suffixes}


def event_resources(application: Application) -> tuple[Resource, ...]:
    """The queues, topics, buses and buckets of `application`, in its order."""
    return tuple(r for r in application.resources if event_names.is_event_resource(r))


def event_environment(
    endpoint: EventsEndpoint, application: Application, function: Function
) -> dict[str, str]:
    """The variables `function` reaches the event services and its used resources with."""
    variables = dict.fromkeys(ENDPOINT_VARIABLES, endpoint.url)
    for resource in application.used_by(function):
        reference = reference_in(function.service, resource)
        for suffix, value in endpoint.addresses(resource).items():
            variables[environment_name(reference, suffix)] = value
    return variables


# -- creating them ---------------------------------------------------------------------------


def create_event_resources(endpoint: EventsEndpoint, application: Application) -> tuple[str, ...]:
    """Create (or bring up to date) every event resource of `application`; return the new ones.

    Idempotent, so `serve` calls it after every rebuild: topics and buses first (queues
    subscribe to topics), then queues without their redrive policy, then each queue's redrive
    policy (its dead-letter queue exists by then) and subscriptions, then buckets.
    """
    resources = event_resources(application)
    created: list[str] = []
    sns = endpoint.client("sns")
    for topic in _of(resources, SnsTopic):
        attributes = {"FifoTopic": "true"} if topic.fifo else {}
        existing = _topic_exists(sns, endpoint.arn(topic))
        sns.create_topic(Name=endpoint.physical_name(topic), Attributes=attributes)
        if not existing:
            created.append(f"topic {endpoint.physical_name(topic)}")
    events = endpoint.client("events")
    for bus in _of(resources, EventBus):
        name = endpoint.physical_name(bus)
        if not _bus_exists(events, name):
            events.create_event_bus(Name=name)
            created.append(f"event bus {name}")
    sqs = endpoint.client("sqs")
    queues = _of(resources, SqsQueue)
    for queue in queues:
        if _ensure_queue(sqs, endpoint.physical_name(queue), _queue_attributes(queue)):
            created.append(f"queue {endpoint.physical_name(queue)}")
    for queue in queues:
        if queue.dead_letter is not None and queue.max_receives is not None:
            policy = {
                "deadLetterTargetArn": endpoint.arn(application.resource(queue.dead_letter)),
                "maxReceiveCount": queue.max_receives,
            }
            sqs.set_queue_attributes(
                QueueUrl=endpoint.queue_url(queue),
                Attributes={"RedrivePolicy": json.dumps(policy)},
            )
        for subscription in queue.subscriptions:
            subscribe_queue(
                endpoint,
                topic_arn=endpoint.arn(application.resource(subscription.topic)),
                queue_arn=endpoint.arn(queue),
                attributes=subscription_attributes(
                    subscription.filter_policy,
                    subscription.filter_policy_scope,
                    raw=subscription.raw_message_delivery,
                ),
            )
    s3 = endpoint.client("s3")
    for bucket in _of(resources, S3Bucket):
        name = endpoint.physical_name(bucket)
        if name not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
            s3.create_bucket(Bucket=name)
            created.append(f"bucket {name}")
    return tuple(created)


def ensure_queue(endpoint: EventsEndpoint, name: str, attributes: dict[str, str]) -> str:
    """A queue called `name` with `attributes` (created, or updated); its URL."""
    sqs = endpoint.client("sqs")
    _ensure_queue(sqs, name, attributes)
    return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])


def subscribe_queue(
    endpoint: EventsEndpoint, *, topic_arn: str, queue_arn: str, attributes: dict[str, str]
) -> str:
    """The queue's subscription to the topic, with `attributes` set on it; its ARN.

    SNS keeps one subscription per topic and endpoint: subscribing again returns it, and the
    attributes are set again, so a changed filter policy takes effect.
    """
    sns = endpoint.client("sns")
    found = sns.subscribe(
        TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True
    )
    arn = str(found["SubscriptionArn"])
    for name in ("RawMessageDelivery", "FilterPolicyScope", "FilterPolicy"):
        if name in attributes:
            sns.set_subscription_attributes(
                SubscriptionArn=arn, AttributeName=name, AttributeValue=attributes[name]
            )
    return arn


def subscription_attributes(
    filter_policy: dict[str, Any] | None, scope: str, *, raw: bool
) -> dict[str, str]:
    """A subscription's attributes as SNS takes them (strings)."""
    attributes = {"RawMessageDelivery": "true" if raw else "false"}
    if filter_policy:
        attributes["FilterPolicyScope"] = scope
        attributes["FilterPolicy"] = json.dumps(filter_policy)
    return attributes


def _queue_attributes(queue: SqsQueue) -> dict[str, str]:
    attributes = {
        "VisibilityTimeout": str(queue.visibility_timeout),
        "MessageRetentionPeriod": str(queue.retention_seconds),
    }
    if queue.fifo:
        attributes["FifoQueue"] = "true"
    return attributes


def _ensure_queue(sqs: Any, name: str, attributes: dict[str, str]) -> bool:
    """Create the queue, or set `attributes` on the existing one; whether it was created."""
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        sqs.create_queue(QueueName=name, Attributes=attributes)
        return True
    changeable = {k: v for k, v in attributes.items() if k != "FifoQueue"}
    if changeable:
        sqs.set_queue_attributes(QueueUrl=url, Attributes=changeable)
    return False


def _topic_exists(sns: Any, arn: str) -> bool:
    try:
        sns.get_topic_attributes(TopicArn=arn)
    except sns.exceptions.NotFoundException:
        return False
    return True


def _bus_exists(events: Any, name: str) -> bool:
    try:
        events.describe_event_bus(Name=name)
    except events.exceptions.ResourceNotFoundException:
        return False
    return True


def _of(resources: Iterable[Resource], kind: type[_R]) -> list[_R]:
    return [r for r in resources if isinstance(r, kind)]
