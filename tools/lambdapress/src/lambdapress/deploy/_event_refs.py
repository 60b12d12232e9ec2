"""How the stack names its queues, topics, buses and buckets: logical ids, ARNs and addresses.

Every expression here is a `Ref`, an `Fn::GetAtt` or an `Fn::Sub` of the stack's own resource,
so a role or a variable can only ever point at the resource the model means. Buckets are the
exception that proves it: their ARN and name are written from the name (`Fn::Sub` of
`model.event_names.bucket_name`), never as a `Ref`/`GetAtt` of the bucket. A bucket that
notifies a function must be created after the permission that lets S3 invoke it (`DependsOn`),
the permission names the function, the function its role and its variables: had any of those
referred to the bucket, CloudFormation would refuse the template as a circular dependency.
"""

from __future__ import annotations

from typing import Any, Final

from lambdapress.deploy.template_ids import service_id
from lambdapress.errors import ConfigError
from lambdapress.model.event_names import bucket_name, is_event_resource
from lambdapress.model.resources import (
    ADDRESS_VARIABLES,
    DynamoDBTable,
    Resource,
    environment_name,
    reference_in,
)

_KIND_WORD: Final = {
    "sqs-queue": "Queue",
    "sns-topic": "Topic",
    "event-bus": "EventBus",
    "s3-bucket": "Bucket",
}
ACCOUNT: Final = "${AWS::AccountId}"
REGION: Final = "${AWS::Region}"


def resource_id(resource: Resource) -> str:
    """`OrdersOrderEventsTopic`, `WorkersOrderPlacedQueue`: a resource's logical id.

    The words of its service and name, then its kind (as tables are `...Table`).
    """
    return service_id(f"{resource.service}_{resource.name}", _KIND_WORD[resource.kind])


def table_id(table: Resource) -> str:
    """The logical id the DynamoDB backend gives a table (`backends.dynamodb`: `...Table`)."""
    return service_id(f"{table.service}_{table.name}", "Table")


def sub_text(text: str) -> str:
    """`text` as a literal inside `Fn::Sub` (`${` written `${!`)."""
    return text.replace("${", "${!")


def bucket_name_expression(resource: Resource, project: str, stage: str) -> dict[str, Any]:
    """The bucket's name in this account and region, as an `Fn::Sub`."""
    return {"Fn::Sub": bucket_name(project, stage, resource, ACCOUNT, REGION)}


def bucket_arn(resource: Resource, project: str, stage: str, key_pattern: str | None = None) -> Any:
    """The bucket's ARN (or its objects' under `key_pattern`), from its name."""
    name = bucket_name(project, stage, resource, ACCOUNT, REGION)
    objects = "" if key_pattern is None else "/" + sub_text(key_pattern)
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:s3:::{name}{objects}"}


def resource_arn(resource: Resource, project: str, stage: str) -> Any:
    """The ARN a permission naming a queue, topic, bus or bucket grants."""
    if resource.kind == "sns-topic":
        return {"Ref": resource_id(resource)}  # a topic's Ref is its ARN
    if resource.kind == "s3-bucket":
        return bucket_arn(resource, project, stage)
    return {"Fn::GetAtt": [resource_id(resource), "Arn"]}


def stream_arn(table: Resource) -> Any:
    """The ARN of a table's stream (a permission's `stream:` reference, a mapping's source)."""
    if not isinstance(table, DynamoDBTable):
        raise ConfigError(
            f"{table.id} is not a DynamoDB table: only tables have streams",
            hint="package again: the manifest is not one lambdapress wrote",
        )
    if table.stream is None:
        raise ConfigError(
            f"table {table.name} of service {table.service} has no stream, but a function reads it",
            hint=f'set stream = "NEW_AND_OLD_IMAGES" in [tool.lambdapress.storage.tables.'
            f"{table.name}] of service {table.service}, then package again",
        )
    return {"Fn::GetAtt": [table_id(table), "StreamArn"]}


def bus_name(bus: Resource) -> dict[str, Any]:
    """An event bus's name: its `Name` attribute (the same as its `Ref`, which moto lacks)."""
    return {"Fn::GetAtt": [resource_id(bus), "Name"]}


def address_environment(
    service: str, resource: Resource, project: str, stage: str
) -> dict[str, Any]:
    """The variables a function of `service` that uses `resource` gets (`model.resources`).

    `<REF>_QUEUE_URL` (the queue's `Ref`) and `<REF>_QUEUE_ARN`, `<REF>_TOPIC_ARN` (the topic's
    `Ref`), `<REF>_BUS_NAME` (`bus_name`), `<REF>_BUCKET_NAME` (the name, see above).
    """
    if not is_event_resource(resource):
        raise ValueError(f"{resource.id} is not a queue, a topic, an event bus or a bucket")
    logical_id = resource_id(resource)
    values: dict[str, Any] = {
        "QUEUE_URL": {"Ref": logical_id},
        "QUEUE_ARN": {"Fn::GetAtt": [logical_id, "Arn"]},
        "TOPIC_ARN": {"Ref": logical_id},
        "BUS_NAME": bus_name(resource),
    }
    if resource.kind == "s3-bucket":
        values = {"BUCKET_NAME": bucket_name_expression(resource, project, stage)}
    reference = reference_in(service, resource)
    return {
        environment_name(reference, suffix): values[suffix]
        for suffix in ADDRESS_VARIABLES[resource.kind]
    }
