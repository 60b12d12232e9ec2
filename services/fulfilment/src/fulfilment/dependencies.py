"""What the fulfilment handlers need, with Lambda's lifetimes (lambdapress-runtime).

One boto3 DynamoDB table object per container, created on first use and reused by warm
invocations. The endpoint comes from boto3's standard AWS_ENDPOINT_URL_DYNAMODB locally (set
by `lambdapress serve` from `nox -s db`), and is the real one on Lambda. Tests replace
`repository` with `container.override(repository, lambda: fake)`.
"""

from typing import Any

import boto3
from pydantic import BaseModel, Field

from fulfilment.dynamodb_repository import DynamoShipmentRepository
from fulfilment.repository import ShipmentRepository
from lambdapress_runtime import Container


class Settings(BaseModel):
    """Read from the environment at cold start; one error lists every missing variable."""

    table_name: str = Field(alias="SHIPMENTS_TABLE", min_length=1)


container = Container()
settings = container.settings(Settings)


@container.per_container
def table() -> Any:
    return boto3.resource("dynamodb").Table(settings.get().table_name)


@container.per_invocation
def repository() -> ShipmentRepository:
    return DynamoShipmentRepository(table.get())
