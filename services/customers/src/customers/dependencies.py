"""What the customers handlers need, with Lambda's lifetimes (lambdapress-runtime).

One boto3 DynamoDB table object per container, created on first use and reused by warm
invocations (it holds no connection a freeze could break: HTTP connections are re-opened by
botocore as needed). The endpoint comes from boto3's standard AWS_ENDPOINT_URL_DYNAMODB
locally (set by `lambdapress serve` from `nox -s db`), and is the real one on Lambda.
Tests replace `repository` with `container.override(repository, lambda: fake)`.
"""

from typing import Any

import boto3
from pydantic import BaseModel, Field

from customers.dynamodb_repository import DynamoCustomerRepository
from customers.repository import CustomerRepository
from lambdapress_runtime import Container


class Settings(BaseModel):
    """Read from the environment at cold start; one error lists every missing variable."""

    table_name: str = Field(alias="CUSTOMERS_TABLE", min_length=1)


container = Container()
settings = container.settings(Settings)


@container.per_container
def table() -> Any:
    return boto3.resource("dynamodb").Table(settings.get().table_name)


@container.per_invocation
def repository() -> CustomerRepository:
    return DynamoCustomerRepository(table.get())
