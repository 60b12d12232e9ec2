"""What a function may do in AWS, derived from what it uses and what triggers it.

A permission names its resources without knowing the stage: an ARN (which may use
CloudFormation's pseudo parameters, `arn:${AWS::Partition}:s3:::uploads/*`), a resource of the
application (`resource:customers/dynamodb-table/customers`), a table's stream
(`stream:inventory/dynamodb-table/inventory`), objects of a bucket under a prefix
(`objects:imports/s3-bucket/uploads|in/*`) or the function's own log group
(`log-group:orders.get_order`). A renderer turns each into the stage's expression, so every
function's role grants exactly its own permissions and nothing found by name patterns.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RESOURCE_PREFIX = "resource:"
STREAM_PREFIX = "stream:"
OBJECTS_PREFIX = "objects:"
LOG_GROUP_PREFIX = "log-group:"
# What any function does with its own log group; nothing else of CloudWatch Logs.
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")

Access = Literal["read", "write"]
"""What a function does with its service's storage: reads only, or reads and writes.

Derived from its triggers (`access_of`), overridden per function
(`[tool.lambdapress.functions.<handler>] access = "read"`); a storage backend grants the
actions of that access (`StorageBackend.permissions`)."""
READ_ONLY_METHODS = frozenset({"GET", "HEAD"})
"""HTTP methods that do not change state (RFC 9110's safe methods, OPTIONS aside: API Gateway
answers preflight itself when CORS is configured, so no handler should need one)."""


class Permission(BaseModel):
    """One statement of a function's role: an effect, actions, resources, and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    effect: Literal["Allow", "Deny"] = "Allow"
    actions: tuple[str, ...] = Field(min_length=1)
    resources: tuple[str, ...] = Field(min_length=1)
    reason: str
    """Where it comes from: `writes its logs`, `uses customers/dynamodb-table/customers`,
    `[tool.lambdapress.iam] of service orders`."""


def resource_ref(resource_id: str) -> str:
    """How a permission names a resource of the application."""
    return f"{RESOURCE_PREFIX}{resource_id}"


def stream_ref(table_id: str) -> str:
    """How a permission names the stream of a table of the application (its StreamArn)."""
    return f"{STREAM_PREFIX}{table_id}"


def objects_ref(bucket_id: str, key_pattern: str = "*") -> str:
    """How a permission names objects of a bucket of the application: `objects:<id>|in/*`.

    The renderer writes the bucket's ARN, `/`, then `key_pattern` (`in/*.csv` stays `in/*`
    in IAM, which matches keys by prefix and `*` only).
    """
    return f"{OBJECTS_PREFIX}{bucket_id}|{key_pattern}"


def log_group_ref(function: str) -> str:
    """How a permission names a function's own log group."""
    return f"{LOG_GROUP_PREFIX}{function}"


def writes_its_logs(function: str) -> Permission:
    """The permission every function has: writing to its own log group."""
    return Permission(
        actions=LOG_ACTIONS, resources=(log_group_ref(function),), reason="writes its logs"
    )


def access_of(methods: Iterable[str | None]) -> Access:
    """`read` when every trigger is a route of a safe method, else `write`.

    `methods` has one item per trigger: the route's method, or None for any other trigger
    (a queue, a stream, a schedule: consumers that store what they receive). A function
    without triggers (invoked directly) writes: nothing says it only reads.
    """
    found = list(methods)
    if found and all(method in READ_ONLY_METHODS for method in found):
        return "read"
    return "write"
