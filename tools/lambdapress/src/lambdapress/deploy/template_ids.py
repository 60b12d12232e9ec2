"""Logical ids and physical names of the stack's resources, derived from names alone.

CloudFormation identifies a resource by its logical id across updates: a changed id means
"delete the old one, create a new one", which for a Lambda function is a new ARN and for a
table is lost data. So every id here is a pure function of names the user chose (service,
handler module, table, route) and never of an order, a count or a hash of content: adding a
function never renames another, and a rebuild never replaces anything. Ids are CamelCase
(`orders.get_order` -> `OrdersGetOrderFunction`), readable in the console and in change sets.

Two different names can map to one id (`a_b.c` and `a.b_c`); such a clash is reported by
`Resources.add` as an error asking for a rename, instead of being resolved by a suffix that
would change when the other function is added or removed.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from lambdapress.config.aws_rules import camel
from lambdapress.errors import ConfigError
from lambdapress.model.triggers import HttpRoute

LOGICAL_ID_MAX = 255
FUNCTION_NAME_MAX = 64
_LOGICAL_ID = re.compile(r"^[A-Za-z0-9]{1,255}$")
# Fixed ids of the stack's shared resources.
HTTP_API = "HttpApi"
HTTP_API_STAGE = "HttpApiDefaultStage"
HTTP_API_ACCESS_LOGS = "HttpApiAccessLogGroup"
ARTIFACT_BUCKET = "ArtifactBucket"
API_URL_OUTPUT = "ApiUrl"
# The tags that say which project, stage and service a stack, a bucket or a resource belongs to.
PROJECT_TAG = "lambdapress:project"
STAGE_TAG = "lambdapress:stage"
SERVICE_TAG = "lambdapress:service"


def _fit(logical_id: str) -> str:
    """An id within CloudFormation's 255 characters; a long one keeps a digest of its end."""
    if len(logical_id) <= LOGICAL_ID_MAX:
        return logical_id
    digest = hashlib.sha256(logical_id.encode()).hexdigest()[:12]
    return logical_id[: LOGICAL_ID_MAX - len(digest)] + digest


def function_id(function: str, kind: str = "Function") -> str:
    """A resource of one function: `OrdersGetOrderFunction`, `OrdersGetOrderLogGroup`..."""
    return _fit(camel(function) + kind)


def route_id(function: str, route: HttpRoute, kind: str = "Route") -> str:
    """A resource of one route: `OrdersGetOrderRouteGetOrdersOrderId`."""
    path = camel(route.path) or "Root"
    return _fit(f"{camel(function)}{kind}{camel(route.method.lower())}{path}")


def service_id(service: str, kind: str) -> str:
    """A resource of one service: `OrdersRole`, `CustomersCustomersTable`..."""
    return _fit(camel(service) + kind)


def physical_function_name(project: str, stage: str, function: str) -> str:
    """`acme-dev-orders-get_order`: unique per stack, at most Lambda's 64 characters.

    A longer name keeps its start and ends in a digest of the whole, so it stays stable and
    distinct (Lambda names are the key `sync` and people find functions by).
    """
    name = f"{project}-{stage}-{function.replace('.', '-')}"
    if len(name) <= FUNCTION_NAME_MAX:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: FUNCTION_NAME_MAX - len(digest) - 1]}-{digest}"


def log_group_name(function_name: str) -> str:
    """Where Lambda writes a function's logs unless told otherwise."""
    return f"/aws/lambda/{function_name}"


class Resources:
    """The template's `Resources`, refusing a second resource under an id already taken."""

    def __init__(self) -> None:
        self._items: dict[str, dict[str, Any]] = {}
        self._owners: dict[str, str] = {}

    def add(self, logical_id: str, resource: dict[str, Any], owner: str) -> str:
        """Add `resource` as `logical_id` (made from `owner`, a name the user chose)."""
        if not _LOGICAL_ID.match(logical_id):
            raise ValueError(f"not a CloudFormation logical id: {logical_id!r}")
        if logical_id in self._items:
            raise ConfigError(
                f"{owner} and {self._owners[logical_id]} both become the CloudFormation "
                f"resource {logical_id}",
                hint="rename one of them (logical ids are the names in CamelCase, without "
                "dots, dashes and underscores)",
            )
        self._items[logical_id] = resource
        self._owners[logical_id] = owner
        return logical_id

    def __len__(self) -> int:
        return len(self._items)

    def of_type(self, resource_type: str) -> list[tuple[str, dict[str, Any]]]:
        """The resources of one CloudFormation type, by id, themselves (a pass may amend them)."""
        return [(k, v) for k, v in self._items.items() if v.get("Type") == resource_type]

    def as_dict(self) -> dict[str, dict[str, Any]]:
        """The resources, to be serialised."""
        return dict(self._items)


def stage_tags(project: str, stage: str) -> dict[str, str]:
    """The tags that say which project and stage a stack (and what it holds) belongs to."""
    return {PROJECT_TAG: project, STAGE_TAG: stage}


def tags(project: str, stage: str, service: str | None = None) -> list[dict[str, str]]:
    """The tags that say which project, stage (and service) a resource belongs to."""
    pairs = stage_tags(project, stage)
    if service is not None:
        pairs[SERVICE_TAG] = service
    return [{"Key": key, "Value": value} for key, value in sorted(pairs.items())]


def authorizer_id(name: str, kind: str = "Authorizer") -> str:
    """A resource of one HTTP API authorizer: `HttpApiAuthorizerUsers` (+ `Permission`)."""
    return _fit(f"HttpApi{kind}{camel(name)}")
