"""Secrets and parameters a service reads: resources of the model that live outside the stack.

A `Secret` (Secrets Manager) or a `Parameter` (SSM Parameter Store) is declared by a service
(`config.secret_settings`) and used by each of its functions. The model keeps the name as
declared, with `${project}`, `${stage}` and `${service}` in it, because the model is the same
for every stage; `physical_name` substitutes them for one stage. Every target derives the same
three things from here, so deploy and the local servers cannot disagree:

- the variables a function finds it with: `<NAME>_SECRET_NAME` / `<NAME>_PARAMETER_NAME` (the
  name, never the value) and `<NAME>_SECRET_MAX_AGE` / `<NAME>_PARAMETER_MAX_AGE` (seconds the
  runtime's cache reuses a value), read by `lambdapress_runtime.secrets`;
- the permission reading it takes: `secretsmanager:GetSecretValue` on the secret's ARN (its
  name, `-` and the six random characters Secrets Manager appends: `-??????`, so a secret
  whose name merely starts the same is not granted), `ssm:GetParameter` on the parameter's ARN
  (the only call the runtime makes), and `kms:Decrypt` on a customer-managed key when one is
  named (the AWS-managed keys of both services need no grant);
- its ARN in a stage (`arn_pattern`), with CloudFormation's pseudo parameters for the account.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import Field

from lambdapress.model.kinds import RESOURCES, registered
from lambdapress.model.permissions import Permission, resource_ref
from lambdapress.model.resources import Resource, environment_name

SECRET_ACTIONS: Final = ("secretsmanager:GetSecretValue",)
PARAMETER_ACTIONS: Final = ("ssm:GetParameter",)
KMS_ACTIONS: Final = ("kms:Decrypt",)
SECRET_SUFFIX: Final = "-??????"  # noqa: S105  (not a password)
"""What Secrets Manager appends to a secret's name in its ARN: `-` and six random characters."""


@registered(RESOURCES)
class Secret(Resource):
    """A Secrets Manager secret a service's functions read."""

    kind: Literal["secret"] = "secret"
    secret_name: str = Field(description="its name, with ${project}, ${stage}, ${service}")
    max_age: int = Field(ge=0, description="seconds the runtime reuses a value it read")
    kms_key: str | None = None


@registered(RESOURCES)
class Parameter(Resource):
    """An SSM Parameter Store parameter a service's functions read."""

    kind: Literal["parameter"] = "parameter"
    path: str = Field(description="its name, with ${project}, ${stage}, ${service}")
    max_age: int = Field(ge=0, description="seconds the runtime reuses a value it read")
    kms_key: str | None = None


ConfigResource = Secret | Parameter
CONFIG_KINDS: Final = frozenset({"secret", "parameter"})


def is_config_resource(resource: Resource) -> bool:
    """Whether `resource` is a secret or a parameter (read at run time, outside the stack)."""
    return resource.kind in CONFIG_KINDS


def default_secret_name(service: str, name: str) -> str:
    """`${project}/${stage}/<service>/<name>`: the database secret's convention."""
    return f"${{project}}/${{stage}}/{service}/{name}"


def default_parameter_path(service: str, name: str) -> str:
    """`/${project}/${stage}/<service>/<name>`."""
    return f"/${{project}}/${{stage}}/{service}/{name}"


def substitute(template: str, project: str, stage: str, service: str) -> str:
    """`template` with `${project}`, `${stage}` and `${service}` replaced."""
    return (
        template.replace("${project}", project)
        .replace("${stage}", stage)
        .replace("${service}", service)
    )


def physical_name(resource: ConfigResource, project: str, stage: str) -> str:
    """The secret's or parameter's name in the account for one stage."""
    template = resource.secret_name if isinstance(resource, Secret) else resource.path
    return substitute(template, project, stage, resource.service)


def variable_suffixes(resource: Resource) -> tuple[str, str]:
    """(`SECRET_NAME`, `SECRET_MAX_AGE`) or the parameter's."""
    word = "SECRET" if isinstance(resource, Secret) else "PARAMETER"
    return f"{word}_NAME", f"{word}_MAX_AGE"


def config_environment(resource: ConfigResource, project: str, stage: str) -> dict[str, str]:
    """What a function of the declaring service finds `resource` with: its name and max age."""
    name_suffix, age_suffix = variable_suffixes(resource)
    return {
        environment_name(resource.name, name_suffix): physical_name(resource, project, stage),
        environment_name(resource.name, age_suffix): str(resource.max_age),
    }


def arn_pattern(resource: ConfigResource, project: str, stage: str) -> str:
    """Its ARN for `Fn::Sub`, exact: a secret's with `-??????`, a parameter's name after `/`."""
    name = physical_name(resource, project, stage)
    account = "arn:${AWS::Partition}:%s:${AWS::Region}:${AWS::AccountId}"
    if isinstance(resource, Secret):
        return f"{account % 'secretsmanager'}:secret:{name}{SECRET_SUFFIX}"
    return f"{account % 'ssm'}:parameter/{name.lstrip('/')}"


def read_permissions(resource: ConfigResource) -> tuple[Permission, ...]:
    """What reading `resource` takes (module doc)."""
    actions = SECRET_ACTIONS if isinstance(resource, Secret) else PARAMETER_ACTIONS
    reason = f"reads {resource.id}"
    granted = [Permission(actions=actions, resources=(resource_ref(resource.id),), reason=reason)]
    if resource.kms_key is not None:
        granted.append(
            Permission(actions=KMS_ACTIONS, resources=(resource.kms_key,), reason=reason)
        )
    return tuple(granted)
