"""What functions use and may do, in the stack: the model's resources, and a role per function.

Each execution role holds exactly its function's permissions. A permission of the model names
resources without a stage (`model.permissions`): its own log group, a resource of the
application, or an ARN. Here each becomes the stage's expression, always a `Fn::GetAtt` of a
resource of the same stack for the first two, never a name pattern, so a function can never
reach another function's logs or another service's tables by a naming accident.

What a resource is in the stack is its storage backend's to say (`model.storage_backends`):
the resources it renders (a DynamoDB table; nothing for a PostgreSQL database, which lives
outside the stack), its ARN, and the variables a function reads to find it, with the names the
emulator uses (`<TABLE>_TABLE`, a `Ref`; `DATABASE_URL`, a dynamic reference to a Secrets
Manager secret resolved by CloudFormation at deploy time, so the template never holds the
password). Here the backends get the stack to render into (`StackBuilder`).

Secrets and parameters a service reads (`model.config_resources`) live outside the stack: a
function gets their names (`STRIPE_SECRET_NAME`, never the value) and read access to exactly
their ARNs.

Queues, topics, buses and buckets have no backend: they are rendered with the triggers
(`template_events`), and here a function that uses one gets its address variables
(`<REF>_QUEUE_URL`...: `model.resources.ADDRESS_VARIABLES`) and a permission naming one, a
table's stream (`stream:`) or a bucket's objects (`objects:`) becomes its ARN (`_event_refs`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lambdapress.config.deploy_settings import substituted
from lambdapress.deploy import _event_refs
from lambdapress.deploy.template_ids import Resources, function_id, service_id, tags
from lambdapress.errors import ConfigError
from lambdapress.model.application import Application, Function
from lambdapress.model.config_resources import (
    Parameter,
    Secret,
    arn_pattern,
    config_environment,
    is_config_resource,
)
from lambdapress.model.event_names import is_event_resource
from lambdapress.model.permissions import (
    LOG_GROUP_PREFIX,
    OBJECTS_PREFIX,
    RESOURCE_PREFIX,
    STREAM_PREFIX,
    Permission,
)
from lambdapress.model.storage_backends import DataProtection, backend_of

POLICY_VERSION = "2012-10-17"
"""The IAM policy language's current version, which every policy document names."""


class StageStack:
    """One stage's stack as the storage backends see it (`model.storage_backends.StackBuilder`)."""

    def __init__(
        self,
        resources: Resources,
        project: str,
        stage: str,
        protection: DataProtection | None = None,
    ) -> None:
        self.resources = resources
        self._project = project
        self._stage = stage
        self._protection = protection or DataProtection()

    @property
    def protection(self) -> DataProtection:
        """How the stage protects its data (`deploy._hardening.data_protection`)."""
        return self._protection

    @property
    def project(self) -> str:
        """The project's name."""
        return self._project

    @property
    def stage(self) -> str:
        """The stage's name."""
        return self._stage

    def logical_id(self, name: str, kind: str) -> str:
        """A resource named by the user: `CustomersAuditLogTable` (`template_ids.service_id`)."""
        return service_id(name, kind)

    def add(self, logical_id: str, resource: dict[str, Any], owner: str) -> str:
        """Add `resource` under `logical_id` (a clash is an error naming both owners)."""
        return self.resources.add(logical_id, resource, owner)

    def tags(self, service: str | None = None) -> list[dict[str, str]]:
        """The project's, the stage's (and the service's) tags."""
        return tags(self._project, self._stage, service)


def role_id(function: str) -> str:
    """`OrdersGetOrderRole`: the execution role of one function."""
    return function_id(function, "Role")


def add_resources(
    resources: Resources,
    application: Application,
    project: str,
    stage: str,
    protection: DataProtection | None = None,
) -> None:
    """The storage the stack creates, each resource as its backend renders it.

    Queues, topics, buses and buckets come later, with the triggers (`template_triggers`).
    """
    stack = StageStack(resources, project, stage, protection)
    for resource in application.resources:
        if not is_event_resource(resource) and not is_config_resource(resource):
            backend_of(resource).render(resource, stack)


def resource_environment(
    application: Application, function: Function, project: str, stage: str
) -> dict[str, Any]:
    """The function's variables: the model's, and those the stack provides for what it uses."""
    stack = StageStack(Resources(), project, stage)
    provided: dict[str, Any] = {}
    for resource in application.used_by(function):
        if is_event_resource(resource):
            provided.update(
                _event_refs.address_environment(function.service, resource, project, stage)
            )
        elif isinstance(resource, Secret | Parameter):
            provided.update(config_environment(resource, project, stage))
        else:
            provided.update(backend_of(resource).deployed_environment(resource, stack))
    clashes = sorted(set(provided) & set(function.environment))
    if clashes:
        raise ConfigError(
            f"function {function.name} sets {', '.join(clashes)} in its environment, but the "
            "stack provides them for the resources it uses",
            hint=f"remove {', '.join(clashes)} from [tool.lambdapress.environment] of service "
            f"{function.service}, then package again",
        )
    return {**function.environment, **provided}


def add_role(
    resources: Resources,
    application: Application,
    function: Function,
    project: str,
    stage: str,
    stage_statements: Sequence[dict[str, Any]] = (),
) -> str:
    """The function's execution role: its permissions, each resource resolved in this stack.

    `stage_statements` are what the stage adds (`template_network`: the network interfaces of
    a VPC function, the database proxy), already in IAM's words.
    """
    stack = StageStack(resources, project, stage)
    statements = [_statement(application, p, stack) for p in function.permissions]
    statements += stage_statements
    return resources.add(
        role_id(function.name),
        {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": f"lambdapress: function {function.name}",
                "AssumeRolePolicyDocument": {
                    "Version": POLICY_VERSION,
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": "lambdapress-function",
                        "PolicyDocument": {"Version": POLICY_VERSION, "Statement": statements},
                    }
                ],
                "Tags": tags(project, stage, function.service),
            },
        },
        f"function {function.name}",
    )


def _statement(
    application: Application, permission: Permission, stack: StageStack
) -> dict[str, Any]:
    return {
        "Effect": permission.effect,
        "Action": list(permission.actions),
        "Resource": [_arn(application, ref, stack) for ref in permission.resources],
    }


def _arn(application: Application, ref: str, stack: StageStack) -> object:
    """A permission's resource as this stack names it."""
    if ref.startswith(LOG_GROUP_PREFIX):
        return {"Fn::GetAtt": [function_id(ref.removeprefix(LOG_GROUP_PREFIX), "LogGroup"), "Arn"]}
    if ref.startswith(STREAM_PREFIX):
        return _event_refs.stream_arn(application.resource(ref.removeprefix(STREAM_PREFIX)))
    if ref.startswith(OBJECTS_PREFIX):
        bucket_id, _, pattern = ref.removeprefix(OBJECTS_PREFIX).partition("|")
        bucket = application.resource(bucket_id)
        if bucket.kind != "s3-bucket":
            raise ConfigError(
                f"a permission names objects of {bucket.id}, which is not a bucket",
                hint="package again: the manifest is not one lambdapress wrote",
            )
        return _event_refs.bucket_arn(bucket, stack.project, stack.stage, pattern or "*")
    if ref.startswith(RESOURCE_PREFIX):
        resource = application.resource(ref.removeprefix(RESOURCE_PREFIX))
        if is_event_resource(resource):
            return _event_refs.resource_arn(resource, stack.project, stack.stage)
        if isinstance(resource, Secret | Parameter):
            return {"Fn::Sub": arn_pattern(resource, stack.project, stack.stage)}
        arn = backend_of(resource).arn(resource, stack)
        if arn is None:
            raise ConfigError(
                f"a permission names {resource.id}, which has no ARN in the stack",
                hint="package again: the manifest is not one lambdapress wrote",
            )
        return arn
    return substituted(ref)
