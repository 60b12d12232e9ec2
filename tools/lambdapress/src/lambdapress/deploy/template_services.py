"""The resources of one service: its DynamoDB tables and its one least-privilege execution role.

The role grants exactly three things: writing to its own functions' log groups, item access to
its own tables, and the statements the service declares in `[tool.lambdapress.iam]`. Every
resource is named by a `Fn::GetAtt` of a resource of the same stack, never by a pattern, so a
service can never reach another service's logs or tables by a naming accident.

The variables a service's code reads to find its storage are added here, with the names that
`lambdapress.config.storage_settings` defines for the emulator too: `<TABLE>_TABLE` (the table's
physical name, a `Ref`) and, for PostgreSQL, `DATABASE_URL` as a dynamic reference to a
Secrets Manager secret, resolved by CloudFormation at deploy time: the template (and this
repository) never holds the password.
"""

from __future__ import annotations

from typing import Any

from lambdapress.config.storage_settings import (
    DATABASE_URL_ENV,
    TableSettings,
    physical_table_name,
    table_env_name,
)
from lambdapress.config.workspace import PYPROJECT, Service
from lambdapress.deploy.template_ids import (
    Resources,
    database_secret_name,
    function_id,
    service_id,
    tags,
)
from lambdapress.errors import ConfigError

# What a handler does with its own items; no table management (CreateTable, DeleteTable...),
# no streams, no access to other tables.
DYNAMODB_ITEM_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:UpdateItem",
)
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")


def table_id(service: str, table: str) -> str:
    """`CustomersCustomersTable` for the table `customers` of the service `customers`."""
    return service_id(f"{service}_{table}", "Table")


def role_id(service: str) -> str:
    """`OrdersRole`: the execution role every function of the service runs with."""
    return service_id(service, "Role")


def add_tables(resources: Resources, service: Service, project: str, stage: str) -> None:
    """One on-demand table per `[tool.lambdapress.storage.tables.NAME]`."""
    for name, table in sorted(service.settings.storage.tables.items()):
        resources.add(
            table_id(service.name, name),
            {
                "Type": "AWS::DynamoDB::Table",
                # `lambdapress destroy` removes the stack and what it holds; keeping data
                # beyond it is a backup's job (or a table managed outside the stack).
                "DeletionPolicy": "Delete",
                "UpdateReplacePolicy": "Delete",
                "Properties": {
                    "TableName": physical_table_name(project, stage, service.name, name),
                    "BillingMode": "PAY_PER_REQUEST",
                    **_key_schema(table),
                    "Tags": tags(project, stage, service.name),
                },
            },
            f"table {name} of service {service.name}",
        )


def _key_schema(table: TableSettings) -> dict[str, Any]:
    keys = [(table.partition_key, "HASH")]
    if table.sort_key is not None:
        keys.append((table.sort_key, "RANGE"))
    return {
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": "S"} for n, _ in keys],
        "KeySchema": [{"AttributeName": n, "KeyType": kind} for n, kind in keys],
    }


def storage_environment(
    service: Service, manifest_environment: dict[str, str], project: str, stage: str
) -> dict[str, Any]:
    """The variables the stack provides to the service's functions, next to the manifest's."""
    storage = service.settings.storage
    provided: dict[str, Any] = {
        table_env_name(name): {"Ref": table_id(service.name, name)}
        for name in sorted(storage.tables)
    }
    if storage.kind == "postgres":
        secret = database_secret_name(project, stage, service.name)
        provided[DATABASE_URL_ENV] = f"{{{{resolve:secretsmanager:{secret}}}}}"
    clashes = sorted(set(provided) & set(manifest_environment))
    if clashes:
        raise ConfigError(
            f"service {service.name} sets {', '.join(clashes)} in [tool.lambdapress.environment], "
            "but the deploy provides them from [tool.lambdapress.storage]",
            path=service.path / PYPROJECT,
            hint=f"remove {', '.join(clashes)} from [tool.lambdapress.environment]",
        )
    return {**manifest_environment, **provided}


def add_role(
    resources: Resources, service: Service, functions: list[str], project: str, stage: str
) -> str:
    """The service's execution role; `functions` are the manifest names of its functions."""
    statements: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Action": list(LOG_ACTIONS),
            "Resource": [{"Fn::GetAtt": [function_id(f, "LogGroup"), "Arn"]} for f in functions],
        }
    ]
    tables = sorted(service.settings.storage.tables)
    if tables:
        statements.append(
            {
                "Effect": "Allow",
                "Action": list(DYNAMODB_ITEM_ACTIONS),
                "Resource": [{"Fn::GetAtt": [table_id(service.name, t), "Arn"]} for t in tables],
            }
        )
    statements += [statement.document() for statement in service.settings.iam.statements]
    return resources.add(
        role_id(service.name),
        {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": f"lambdapress: the functions of service {service.name}",
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
                        "PolicyName": "lambdapress-service",
                        "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                    }
                ],
                "Tags": tags(project, stage, service.name),
            },
        },
        f"service {service.name}",
    )
