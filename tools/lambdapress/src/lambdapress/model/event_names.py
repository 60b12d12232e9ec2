"""Where a queue, topic, bus or bucket lives in an account: its physical name, for every target.

A stage's stack and the local servers name event resources alike, from the project, the stage,
the service and the resource's own name (its id's parts), so that a name printed by `deploy`
and one seen locally differ only in the stage:

- a queue, a topic, an event bus: `<project>-<stage>-<service>-<name>`, with `.fifo` appended
  for a FIFO queue or topic (SQS and SNS require it). The service keeps its underscores (SQS,
  SNS and EventBridge allow them), and a service name has no dash, so two resources of one
  stack never share a name.
- a bucket: `<project>-<stage>-<service>-<name>-<account>-<region>`, lowercase with `-` for
  `_`. Bucket names are global across every account, so a name made of the project alone would
  be taken by whoever deployed it first; the account id makes it this account's, and the
  region lets one account deploy a stage to two regions (the artifact bucket,
  `<project>-artifacts-<account>-<region>`, follows the same rule). In the template the account
  and the region are CloudFormation's pseudo parameters (`${AWS::AccountId}`,
  `${AWS::Region}`); locally they are moto's.

`package` refuses a queue, topic or bus whose name would pass AWS's limit (80 characters for a
queue, 256 for a topic or a bus) with the longest project and stage (`bundle._aws_names`). A
bucket's name is fitted here instead, into S3's 63 characters: a longer one keeps its start and
ends in a digest of the whole (stable, distinct, never refused), its part before the account
fitted for the longest region code, so that the same bucket has the same name in every region.
Queues, topics and buses are fitted alike should a name reach here unchecked.

`address_budget` gives the variables a function using a resource gets (`model.resources.
ADDRESS_VARIABLES`) with their longest values, for Lambda's 4 KB environment limit checked at
package time.
"""

from __future__ import annotations

import hashlib
from typing import Final

from lambdapress.config.aws_rules import BUCKET_NAME_MAX
from lambdapress.config.event_rules import EVENT_BUS_NAME, FIFO_SUFFIX, QUEUE_NAME, TOPIC_NAME
from lambdapress.model.application import Application
from lambdapress.model.resources import (
    ADDRESS_VARIABLES,
    Resource,
    SnsTopic,
    SqsQueue,
    environment_name,
    reference_in,
)

EVENT_KINDS: Final = frozenset(ADDRESS_VARIABLES)
"""The resource kinds named here: queues, topics, buses and buckets."""
QUEUE_NAME_MAX: Final = QUEUE_NAME.max_length
"""SQS's 80 characters, `.fifo` included (`config.event_rules`, as every limit here)."""
TOPIC_NAME_MAX: Final = TOPIC_NAME.max_length
BUS_NAME_MAX: Final = EVENT_BUS_NAME.max_length
ACCOUNT_ID_LENGTH: Final = 12
REGION_MAX: Final = 16
"""Longer than any region code today (`us-isof-south-1` has 15 characters)."""
PARTITION_MAX: Final = 10
"""`aws-us-gov`, `aws-iso-b`: the longest partition names."""
LONGEST_DOMAIN: Final = "amazonaws.com.cn"
"""The longest domain of a queue's URL (China's regions)."""
_DIGEST = 8
_NAME_MAX: Final = {
    "sqs-queue": QUEUE_NAME_MAX,
    "sns-topic": TOPIC_NAME_MAX,
    "event-bus": BUS_NAME_MAX,
}


def is_event_resource(resource: Resource) -> bool:
    """Whether `resource` is a queue, topic, bus or bucket (named here, not by a backend)."""
    return resource.kind in EVENT_KINDS


def has_event_resources(application: Application) -> bool:
    """Whether the application has a queue, topic, bus or bucket (deploy and `db` ask)."""
    return any(is_event_resource(r) for r in application.resources)


def _fit(name: str, limit: int) -> str:
    """`name` within `limit` characters: a longer one keeps its start and a digest of it all."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:_DIGEST]
    return f"{name[: limit - _DIGEST - 1].rstrip('-_.')}-{digest}"


def physical_name(project: str, stage: str, resource: Resource) -> str:
    """A queue's, topic's or bus's name in an account (`acme-dev-orders-order-events`)."""
    limit = _NAME_MAX.get(resource.kind)
    if limit is None:
        raise ValueError(f"{resource.id} is not a queue, a topic or an event bus")
    fifo = isinstance(resource, SqsQueue | SnsTopic) and resource.fifo
    suffix = FIFO_SUFFIX if fifo else ""
    base = f"{project}-{stage}-{resource.service}-{resource.name}"
    return _fit(base, limit - len(suffix)) + suffix


def bucket_prefix(project: str, stage: str, resource: Resource) -> str:
    """A bucket's name up to its account and region: `acme-dev-imports-uploads`."""
    if resource.kind != "s3-bucket":
        raise ValueError(f"{resource.id} is not a bucket")
    base = f"{project}-{stage}-{resource.service}-{resource.name}".lower().replace("_", "-")
    return _fit(base, BUCKET_NAME_MAX - 2 - ACCOUNT_ID_LENGTH - REGION_MAX)


def bucket_name(project: str, stage: str, resource: Resource, account: str, region: str) -> str:
    """A bucket's name: `acme-dev-imports-uploads-123456789012-eu-west-1`.

    `account` and `region` may be CloudFormation's `${AWS::AccountId}` and `${AWS::Region}`
    (inside an `Fn::Sub`): the prefix leaves room for any real ones.
    """
    return f"{bucket_prefix(project, stage, resource)}-{account}-{region}"


def address_budget(service: str, resource: Resource, project: str, stage: str) -> dict[str, str]:
    """The variables a function of `service` using `resource` gets, at their longest values.

    For Lambda's 4 KB limit, checked at package time with the longest project and stage: the
    account, the region and the partition are not known then, so each takes its longest form.
    """
    reference = reference_in(service, resource)
    account, region = "0" * ACCOUNT_ID_LENGTH, "r" * REGION_MAX
    partition = "p" * PARTITION_MAX
    if resource.kind == "s3-bucket":
        values = {"BUCKET_NAME": bucket_name(project, stage, resource, account, region)}
    else:
        name = physical_name(project, stage, resource)
        service_code = "sqs" if resource.kind == "sqs-queue" else "sns"
        arn = f"arn:{partition}:{service_code}:{region}:{account}:{name}"
        values = {
            "QUEUE_URL": f"https://sqs.{region}.{LONGEST_DOMAIN}/{account}/{name}",
            "QUEUE_ARN": arn,
            "TOPIC_ARN": arn,
            "BUS_NAME": name,
        }
    return {
        environment_name(reference, suffix): values[suffix]
        for suffix in ADDRESS_VARIABLES[resource.kind]
    }
