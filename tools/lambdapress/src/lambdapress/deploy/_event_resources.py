"""The application's queues, topics, buses and buckets in the stage's stack.

Each is named by `model.event_names` and deleted with the stack like every stateful resource
(`model.resources.DELETED_WITH_STACK`), and is safe by default:

- a queue: encrypted (SQS-managed keys), its visibility timeout and retention as declared, a
  redrive policy to its dead-letter queue after `max_receives`; FIFO: `.fifo`, with
  content-based deduplication (a sender need not invent deduplication ids);
- its subscriptions to topics: an `AWS::SNS::Subscription` (protocol `sqs`, raw delivery and
  the filter policy as declared) per topic, and one `AWS::SQS::QueuePolicy` letting exactly
  those topics (`aws:SourceArn`) send to it, nothing and nobody else;
- a topic (FIFO: `FifoTopic` with content-based deduplication), an event bus;
- a bucket: every public access blocked, SSE-S3 encryption, ACLs off (`BucketOwnerEnforced`),
  and the notifications of its `s3` triggers (`_event_triggers.bucket_notifications`).
"""

from __future__ import annotations

from typing import Any, Final

from lambdapress.deploy import _event_refs as refs
from lambdapress.deploy._event_triggers import bucket_notifications, words
from lambdapress.deploy.template_ids import tags
from lambdapress.errors import ConfigError
from lambdapress.model.application import Application
from lambdapress.model.event_names import bucket_prefix, physical_name
from lambdapress.model.resources import (
    DELETED_WITH_STACK,
    EventBus,
    Resource,
    S3Bucket,
    SnsTopic,
    SqsQueue,
)
from lambdapress.model.trigger_kinds import StackBuilder

POLICY_VERSION: Final = "2012-10-17"
SSE_S3: Final = "AES256"


def render_resources(stack: StackBuilder, application: Application) -> None:
    """Every queue, topic, bus and bucket of `application`, in id order."""
    _check_bucket_names(stack, application)
    for resource in sorted(application.resources, key=lambda r: r.id):
        if isinstance(resource, SqsQueue):
            _queue(stack, application, resource)
        elif isinstance(resource, SnsTopic):
            _topic(stack, resource)
        elif isinstance(resource, EventBus):
            _bus(stack, resource)
        elif isinstance(resource, S3Bucket):
            _bucket(stack, application, resource)


def _owner(resource: Resource) -> str:
    return f"{resource.kind.split('-', 1)[1]} {resource.name} of service {resource.service}"


def _tags(stack: StackBuilder, resource: Resource) -> list[dict[str, str]]:
    return tags(stack.project, stack.stage, resource.service)


def _queue(stack: StackBuilder, application: Application, queue: SqsQueue) -> None:
    properties: dict[str, Any] = {
        "QueueName": physical_name(stack.project, stack.stage, queue),
        "VisibilityTimeout": queue.visibility_timeout,
        "MessageRetentionPeriod": queue.retention_seconds,
        "SqsManagedSseEnabled": True,
        "Tags": _tags(stack, queue),
    }
    if queue.fifo:
        properties["FifoQueue"] = True
        properties["ContentBasedDeduplication"] = True
    if queue.dead_letter is not None:
        dead_letter = application.resource(queue.dead_letter)
        if not isinstance(dead_letter, SqsQueue) or dead_letter.fifo != queue.fifo:
            fifo = "a FIFO" if queue.fifo else "a standard"
            raise ConfigError(
                f"queue {queue.name} of service {queue.service} sends what fails to "
                f"{queue.dead_letter}, which is not {fifo} queue",
                hint=f"declare its dead_letter as {fifo} queue, then package again",
            )
        properties["RedrivePolicy"] = {
            "deadLetterTargetArn": {"Fn::GetAtt": [refs.resource_id(dead_letter), "Arn"]},
            "maxReceiveCount": queue.max_receives,
        }
    logical_id = stack.add(
        refs.resource_id(queue),
        {"Type": "AWS::SQS::Queue", **DELETED_WITH_STACK, "Properties": properties},
        _owner(queue),
    )
    if queue.subscriptions:
        _subscriptions(stack, application, queue, logical_id)


def _subscriptions(
    stack: StackBuilder, application: Application, queue: SqsQueue, queue_id: str
) -> None:
    """The queue's topic subscriptions, and the policy letting exactly those topics send."""
    queue_arn = {"Fn::GetAtt": [queue_id, "Arn"]}
    statements = []
    topics = []
    for subscription in queue.subscriptions:
        topic = application.resource(subscription.topic)
        if not isinstance(topic, SnsTopic):
            raise ConfigError(
                f"queue {queue.name} of service {queue.service} subscribes to "
                f"{subscription.topic}, which is not a topic",
                hint="package again: the manifest is not one lambdapress wrote",
            )
        topics.append((subscription, topic))
        statements.append(
            {
                "Sid": f"From{words(topic.id)}",
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": {"Ref": refs.resource_id(topic)}}},
            }
        )
    policy = stack.add(
        f"{queue_id}Policy",
        {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [{"Ref": queue_id}],
                "PolicyDocument": {"Version": POLICY_VERSION, "Statement": statements},
            },
        },
        _owner(queue),
    )
    for subscription, topic in topics:
        properties: dict[str, Any] = {
            "TopicArn": {"Ref": refs.resource_id(topic)},
            "Protocol": "sqs",
            "Endpoint": queue_arn,
            "RawMessageDelivery": subscription.raw_message_delivery,
        }
        if subscription.filter_policy is not None:
            properties["FilterPolicy"] = subscription.filter_policy
            properties["FilterPolicyScope"] = subscription.filter_policy_scope
        stack.add(
            f"{queue_id}Subscription{words(topic.id)}",
            # Subscribed once the topic may send: no message is lost to a refused delivery.
            {"Type": "AWS::SNS::Subscription", "DependsOn": [policy], "Properties": properties},
            f"{_owner(queue)}'s subscription to {topic.id}",
        )


def _topic(stack: StackBuilder, topic: SnsTopic) -> None:
    properties: dict[str, Any] = {
        "TopicName": physical_name(stack.project, stack.stage, topic),
        "Tags": _tags(stack, topic),
    }
    if topic.fifo:
        properties["FifoTopic"] = True
        properties["ContentBasedDeduplication"] = True
    stack.add(
        refs.resource_id(topic),
        {"Type": "AWS::SNS::Topic", **DELETED_WITH_STACK, "Properties": properties},
        _owner(topic),
    )


def _bus(stack: StackBuilder, bus: EventBus) -> None:
    stack.add(
        refs.resource_id(bus),
        {
            "Type": "AWS::Events::EventBus",
            **DELETED_WITH_STACK,
            "Properties": {
                "Name": physical_name(stack.project, stack.stage, bus),
                "Tags": _tags(stack, bus),
            },
        },
        _owner(bus),
    )


def _bucket(stack: StackBuilder, application: Application, bucket: S3Bucket) -> None:
    properties: dict[str, Any] = {
        "BucketName": refs.bucket_name_expression(bucket, stack.project, stack.stage),
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        },
        "BucketEncryption": {
            "ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": SSE_S3}}
            ]
        },
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        "Tags": _tags(stack, bucket),
    }
    resource: dict[str, Any] = {"Type": "AWS::S3::Bucket", **DELETED_WITH_STACK}
    configurations, permissions = bucket_notifications(stack, application, bucket)
    if configurations:
        properties["NotificationConfiguration"] = {"LambdaConfigurations": configurations}
        resource["DependsOn"] = permissions
    stack.add(refs.resource_id(bucket), {**resource, "Properties": properties}, _owner(bucket))


def _check_bucket_names(stack: StackBuilder, application: Application) -> None:
    """Two buckets whose names differ only by `_` and `-` would be one name: refused."""
    seen: dict[str, Resource] = {}
    for bucket in (r for r in application.resources if isinstance(r, S3Bucket)):
        name = bucket_prefix(stack.project, stack.stage, bucket)
        other = seen.setdefault(name, bucket)
        if other is not bucket:
            raise ConfigError(
                f"buckets {other.id} and {bucket.id} would both be named {name}-<account>-"
                "<region> (a bucket's name has `-` for `_`)",
                hint="rename one of the buckets or services",
            )
