"""The output-format tests' models and the SAM translator, run in this process and offline.

The rich stack is the CloudFormation lint tests' stack with every feature on
(`deploy/test_template_lint.py`): DynamoDB tables, a PostgreSQL service (its database URL a
secret's dynamic reference), provisioned concurrency, warm-up rules, reserved concurrency, IAM
statements of the service's own, CORS, a function without routes, two architectures and a
route of every shape (the root, parameters, `ANY`, `{proxy+}`); here one function also asks
for more `/tmp`.
"""

from __future__ import annotations

from typing import Any

import yaml
from deploy.stacks import application, config, service
from deploy.test_template_lint import CORS, EVERYTHING, FUNCTIONS
from samtranslator.translator.transform import transform  # type: ignore[import-untyped]

from lambdapress.config.workspace import Service
from lambdapress.deploy.config import DeployConfig
from lambdapress.model.application import Application, Function

BUCKET = "acme-artifacts"
ROUTES = {f.name: tuple(r.route_key for r in f.routes) for f in FUNCTIONS}
MORE_TMP = {"customers.list_customers": {"ephemeral_storage": 2048}}


def rich_services(provisioned: bool = True) -> list[Service]:
    """The two services; without provisioned concurrency for moto, which has no aliases."""
    if provisioned:
        return list(EVERYTHING)
    customers, *others = EVERYTHING
    settings = customers.settings.model_dump(mode="json", by_alias=True, exclude_none=True)
    del settings["functions"]["get_customer"]["provisioned_concurrency"]
    return [service(customers.name, settings), *others]


def rich_functions(**fields_by_name: dict[str, Any]) -> list[Function]:
    """The four functions, each with `fields_by_name[name]` over its fields (`sha256` and
    `code_sha256` over its artifact's)."""
    functions = []
    for function in FUNCTIONS:
        values = function.model_dump()
        fields = {**MORE_TMP.get(function.name, {}), **fields_by_name.get(function.name, {})}
        for key in ("sha256", "code_sha256"):
            if key in fields:
                values["artifact"][key] = fields.pop(key)
        functions.append(Function.model_validate({**values, **fields}))
    return functions


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
