"""The output-format tests' models and the SAM translator, run in this process and offline.

`RICH` has every feature a template renders: DynamoDB tables, a PostgreSQL service (its
database URL a secret's dynamic reference), provisioned concurrency, warm-up rules, reserved
concurrency, IAM statements of the service's own, CORS, a function without routes, two
architectures and a route of every shape (the root, parameters, `ANY`, `{proxy+}`).
"""

from __future__ import annotations

from typing import Any

import yaml
from deploy.stacks import application, config, entry, service
from samtranslator.translator.transform import transform  # type: ignore[import-untyped]

from lambdapress.config.workspace import Service
from lambdapress.deploy.config import DeployConfig
from lambdapress.model.application import Application, Function

BUCKET = "acme-artifacts"
CUSTOMERS = {
    "storage": {
        "kind": "dynamodb",
        "tables": {
            "customers": {"partition_key": "id"},
            "audit_log": {"partition_key": "customer", "sort_key": "at"},
        },
    },
    "iam": {
        "statements": [
            {
                "actions": ["s3:GetObject"],
                "resources": ["arn:${AWS::Partition}:s3:::acme-uploads/*"],
            },
            {"actions": ["xray:PutTraceSegments"], "resources": ["*"], "allow_wildcard": True},
            {"effect": "Deny", "actions": ["s3:Delete*"], "resources": ["*"]},
        ]
    },
    "functions": {
        "get_customer": {
            "reserved_concurrency": 5,
            "warm_every_minutes": 5,
            "provisioned_concurrency": 2,
        },
        "list_customers": {"warm_every_minutes": 1},
    },
}
ORDERS = {"storage": {"kind": "postgres"}, "bundle": "service"}
ROUTES = {
    "customers.get_customer": ("GET /customers/{customer_id}",),
    "customers.list_customers": ("GET /customers",),
    "customers.nightly": (),
    "orders.api": (
        "GET /",
        "GET /orders",
        "POST /orders",
        "GET /orders/{order_id}",
        "DELETE /orders/{order_id}",
        "ANY /orders/{proxy+}",
    ),
}
CORS = {
    "allow-origins": ["https://app.example.com"],
    "allow-headers": ["content-type"],
    "expose-headers": ["x-request-id"],
    "max-age": 600,
    "allow-credentials": True,
}
FIELDS: dict[str, dict[str, Any]] = {
    "customers.list_customers": {"architecture": "x86_64", "ephemeral_storage": 2048},
    "orders.api": {"runtime": "python3.13"},
}


def rich_services(provisioned: bool = True) -> list[Service]:
    """The two services; without provisioned concurrency for moto, which has no aliases."""
    customers: dict[str, Any] = {**CUSTOMERS, "functions": dict(CUSTOMERS["functions"])}
    if not provisioned:
        get_customer = dict(customers["functions"]["get_customer"])
        del get_customer["provisioned_concurrency"]
        customers["functions"]["get_customer"] = get_customer
    return [service("customers", customers), service("orders", ORDERS)]


def rich_functions(**fields_by_name: dict[str, Any]) -> list[Function]:
    """The four functions, each with `fields_by_name[name]` over its defaults."""
    return [
        entry(name, *routes, **{**FIELDS.get(name, {}), **fields_by_name.get(name, {})})
        for name, routes in ROUTES.items()
    ]


def rich_application(provisioned: bool = True, **fields_by_name: dict[str, Any]) -> Application:
    """The model `package` would record for the rich stack."""
    return application(rich_functions(**fields_by_name), rich_services(provisioned))


def rich_config() -> DeployConfig:
    """Settings with CORS and a year's log retention."""
    return config(cors=CORS, **{"log-retention-days": 365})


class NoManagedPolicies:
    """The translator's managed-policy loader, offline: lambdapress names no managed policy
    (every function has a role of its own), so being asked for one is a failure."""

    def load(self) -> dict[str, str]:
        raise AssertionError("the SAM template asked the translator for a managed policy")


def translate(sam_text: str, parameters: dict[str, str] | None = None) -> dict[str, Any]:
    """The CloudFormation template the SAM translator makes of `sam_text`, as deploying it would.

    CloudFormation hands the transform the stack's parameter values: `ArtifactBucket`'s default
    unless `parameters` say otherwise.
    """
    document = yaml.safe_load(sam_text)
    values = {
        name: parameter["Default"]
        for name, parameter in document.get("Parameters", {}).items()
        if "Default" in parameter
    }
    result: dict[str, Any] = transform(
        document, {**values, **(parameters or {})}, NoManagedPolicies()
    )
    return result


def of_type(document: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """The resources of one type, by logical id."""
    return {k: v for k, v in document["Resources"].items() if v["Type"] == kind}
