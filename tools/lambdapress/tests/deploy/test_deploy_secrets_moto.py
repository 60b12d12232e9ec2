"""Against moto's server: a deployed stack's roles read exactly the declared secrets, parameters
and the database's secret, and the functions' configuration holds their names, never a value."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from .test_deploy_checks_moto import POSTGRES, _add_to_service
from .test_deploy_moto import STACK, STAGE, Run, _client

pytestmark = pytest.mark.e2e

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
DECLARED = f"""
[tool.lambdapress.secrets.stripe]
max_age = 60

[tool.lambdapress.secrets.partner-token]
name = "shared/partner-token"
kms_key = "{KEY}"

[tool.lambdapress.parameters.tax-rate]
"""
VALUES = {  # what must never appear in a function's configuration or the template
    "secret": ("shop/dev/shop/stripe", "sk_live_value_1"),
    "shared": ("shared/partner-token", "partner_value_2"),
    "database": ("shop/dev/shop/database-url", "postgresql://app:db_password_3@db/shop"),
}
PREFIX = "arn:aws:secretsmanager:us-east-1:123456789012:secret:"


def _role_statements(role: str) -> list[dict[str, Any]]:
    iam = _client("iam")
    names = iam.list_role_policies(RoleName=role)["PolicyNames"]
    statements: list[dict[str, Any]] = []
    for name in names:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        if isinstance(document, str):  # moto's CloudFormation keeps the dict's repr
            text = unquote(document)
            document = json.loads(text) if text.startswith('{"') else ast.literal_eval(text)
        statements += document["Statement"]
    return statements


def test_each_role_reads_exactly_the_declared_secrets_and_parameters(
    shop: Path, moto_server: object, capsys: pytest.CaptureFixture[str]
) -> None:
    _add_to_service(shop, POSTGRES + DECLARED)
    secrets, ssm = _client("secretsmanager"), _client("ssm")
    for name, value in VALUES.values():
        secrets.create_secret(Name=name, SecretString=value)
    ssm.put_parameter(Name=f"/shop/{STAGE}/shop/tax-rate", Value="0.2", Type="String")
    run = Run(shop, capsys)
    assert run("package")[0] == 0
    code, _out, err = run("deploy", "--stage", STAGE, "--yes")
    assert code == 0, err

    pages: Any = _client("cloudformation").get_paginator("list_stack_resources")
    resources = [
        r for page in pages.paginate(StackName=STACK) for r in page["StackResourceSummaries"]
    ]
    roles = [
        r["PhysicalResourceId"] for r in resources if r.get("ResourceType") == "AWS::IAM::Role"
    ]
    assert len(roles) == 3  # one per function of the shop
    expected = {
        ("secretsmanager:GetSecretValue", f"{PREFIX}shop/dev/shop/database-url-??????"),
        ("secretsmanager:GetSecretValue", f"{PREFIX}shop/dev/shop/stripe-??????"),
        ("secretsmanager:GetSecretValue", f"{PREFIX}shared/partner-token-??????"),
        ("kms:Decrypt", KEY),
        ("ssm:GetParameter", "arn:aws:ssm:us-east-1:123456789012:parameter/shop/dev/shop/tax-rate"),
    }
    for role in roles:
        granted = {
            (action, resource)
            for statement in _role_statements(role)
            for action in _listed(statement["Action"])
            for resource in _listed(statement["Resource"])
            if not action.startswith("logs:")
        }
        assert granted == expected, role

    configurations = [
        _client("lambda").get_function_configuration(FunctionName=r["PhysicalResourceId"])
        for r in resources
        if r.get("ResourceType") == "AWS::Lambda::Function"
    ]
    for configuration in configurations:
        variables = configuration["Environment"]["Variables"]
        assert variables["STRIPE_SECRET_NAME"] == "shop/dev/shop/stripe"
        assert variables["STRIPE_SECRET_MAX_AGE"] == "60"
        assert variables["PARTNER_TOKEN_SECRET_NAME"] == "shared/partner-token"
        assert variables["TAX_RATE_PARAMETER_NAME"] == "/shop/dev/shop/tax-rate"
        assert variables["DATABASE_SECRET_NAME"] == "shop/dev/shop/database-url"
        assert "DATABASE_URL" not in variables
    template = _client("cloudformation").get_template(StackName=STACK)["TemplateBody"]
    seen = json.dumps(configurations, default=str) + json.dumps(template, default=str)
    seen += "".join(run.outputs)
    for _, value in VALUES.values():
        assert value not in seen


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value
