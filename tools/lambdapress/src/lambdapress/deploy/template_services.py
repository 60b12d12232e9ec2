"""What functions use and may do, in the stack: the model's tables, and a role per function.

Each execution role holds exactly its function's permissions. A permission of the model names
resources without a stage (`model.permissions`): its own log group, a resource of the
application, or an ARN. Here each becomes the stage's expression, always a `Fn::GetAtt` of a
resource of the same stack for the first two, never a name pattern, so a function can never
reach another function's logs or another service's tables by a naming accident. The variables a
function reads to find its resources are added here too, with the names the emulator uses
(`lambdapress.config.storage_settings`): `<TABLE>_TABLE` (the table's physical name, a `Ref`)
and, for PostgreSQL, `DATABASE_URL` as a dynamic reference to a Secrets Manager secret resolved
by CloudFormation at deploy time: the template (and this repository) never holds the password.
"""

from __future__ import annotations

import re
from typing import Any

from lambdapress.config.storage_settings import (
    DATABASE_URL_ENV,
    physical_table_name,
    table_env_name,
)
from lambdapress.deploy.template_ids import (
    Resources,
    database_secret_name,
    function_id,
    service_id,
    tags,
)
from lambdapress.errors import ConfigError
from lambdapress.model.application import Application, Function
from lambdapress.model.permissions import LOG_GROUP_PREFIX, RESOURCE_PREFIX, Permission
from lambdapress.model.resources import DynamoDBTable, PostgresDatabase, Resource

# CloudFormation substitutions in an ARN (`${AWS::Region}`, `${AWS::AccountId}`...).
_PSEUDO = re.compile(r"\$\{[^}]*\}")


def table_id(service: str, table: str) -> str:
    """`CustomersCustomersTable` for the table `customers` of the service `customers`."""
    return service_id(f"{service}_{table}", "Table")


def role_id(function: str) -> str:
    """`OrdersGetOrderRole`: the execution role of one function."""
    return function_id(function, "Role")


def add_resources(resources: Resources, application: Application, project: str, stage: str) -> None:
    """The resources of the model the stack creates: an on-demand table per DynamoDB table.

    A PostgreSQL database lives outside the stack: only its secret is referenced.
    """
    for resource in application.resources:
        if isinstance(resource, DynamoDBTable):
            _add_table(resources, resource, project, stage)


def _add_table(resources: Resources, table: DynamoDBTable, project: str, stage: str) -> None:
    keys = [(table.partition_key, "HASH")]
    if table.sort_key is not None:
        keys.append((table.sort_key, "RANGE"))
    resources.add(
        table_id(table.service, table.name),
        {
            "Type": "AWS::DynamoDB::Table",
            # `lambdapress destroy` removes the stack and what it holds; keeping data beyond
            # it is a backup's job (or a table managed outside the stack).
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {
                "TableName": physical_table_name(project, stage, table.service, table.name),
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [
                    {"AttributeName": name, "AttributeType": "S"} for name, _ in keys
                ],
                "KeySchema": [{"AttributeName": name, "KeyType": kind} for name, kind in keys],
                "Tags": tags(project, stage, table.service),
            },
        },
        f"table {table.name} of service {table.service}",
    )


def resource_environment(
    application: Application, function: Function, project: str, stage: str
) -> dict[str, Any]:
    """The function's variables: the model's, and those the stack provides for what it uses."""
    provided: dict[str, Any] = {}
    for resource in application.used_by(function):
        if isinstance(resource, DynamoDBTable):
            provided[table_env_name(resource.name)] = {
                "Ref": table_id(resource.service, resource.name)
            }
        elif isinstance(resource, PostgresDatabase):
            secret = database_secret_name(project, stage, resource.service)
            provided[DATABASE_URL_ENV] = f"{{{{resolve:secretsmanager:{secret}}}}}"
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
    resources: Resources, application: Application, function: Function, project: str, stage: str
) -> str:
    """The function's execution role: its permissions, each resource resolved in this stack."""
    statements = [_statement(application, p) for p in function.permissions]
    return resources.add(
        role_id(function.name),
        {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": f"lambdapress: function {function.name}",
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
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
                        "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                    }
                ],
                "Tags": tags(project, stage, function.service),
            },
        },
        f"function {function.name}",
    )


def _statement(application: Application, permission: Permission) -> dict[str, Any]:
    return {
        "Effect": permission.effect,
        "Action": list(permission.actions),
        "Resource": [_arn(application, ref) for ref in permission.resources],
    }


def _arn(application: Application, ref: str) -> object:
    """A permission's resource as this stack names it."""
    if ref.startswith(LOG_GROUP_PREFIX):
        return {"Fn::GetAtt": [function_id(ref.removeprefix(LOG_GROUP_PREFIX), "LogGroup"), "Arn"]}
    if ref.startswith(RESOURCE_PREFIX):
        return _resource_arn(application.resource(ref.removeprefix(RESOURCE_PREFIX)))
    return {"Fn::Sub": ref} if _PSEUDO.search(ref) else ref


def _resource_arn(resource: Resource) -> object:
    if isinstance(resource, DynamoDBTable):
        return {"Fn::GetAtt": [table_id(resource.service, resource.name), "Arn"]}
    raise ConfigError(
        f"a permission names {resource.id}, which has no ARN in the stack",
        hint="package again: the manifest is not one lambdapress wrote",
    )
