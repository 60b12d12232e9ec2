"""Secrets and parameters a service reads: names in the environment, exact read grants, lint."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from lambdapress.config.settings import ServiceSettings
from lambdapress.deploy.template import template_body
from lambdapress.errors import ConfigError
from lambdapress.formats._sam import render_sam
from lambdapress.model.config_resources import Parameter, Secret

from .stacks import application, config, entry, lint_findings, render, service

KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PAYMENTS = service(
    "payments",
    {
        "secrets": {
            "stripe": {"max_age": 60},
            "shared-token": {"name": "acme/shared/token", "kms_key": KEY},
        },
        "parameters": {
            "tax-rate": {},
            "limits": {"path": "/${project}/${stage}/limits", "max_age": 0},
        },
    },
)
OTHER = service("other")
FUNCTIONS = [entry("payments.charge", "POST /charges"), entry("other.ping", "GET /ping")]


def _statements(document: dict[str, Any], role: str) -> list[dict[str, Any]]:
    policies = document["Resources"][role]["Properties"]["Policies"]
    return [s for policy in policies for s in policy["PolicyDocument"]["Statement"]]


def _variables(document: dict[str, Any], function: str) -> dict[str, Any]:
    variables: dict[str, Any] = document["Resources"][function]["Properties"]["Environment"][
        "Variables"
    ]
    return variables


def test_the_model_holds_each_declaration_with_its_default_name() -> None:
    model = application(FUNCTIONS, [PAYMENTS, OTHER])
    secrets = {r.name: r for r in model.resources if isinstance(r, Secret)}
    parameters = {r.name: r for r in model.resources if isinstance(r, Parameter)}
    assert secrets["stripe"].secret_name == "${project}/${stage}/payments/stripe"
    assert secrets["stripe"].max_age == 60
    assert secrets["shared-token"].secret_name == "acme/shared/token"
    assert parameters["tax-rate"].path == "/${project}/${stage}/payments/tax-rate"
    charge = model.function("payments.charge")
    assert set(charge.uses) == {
        "payments/secret/stripe",
        "payments/secret/shared-token",
        "payments/parameter/tax-rate",
        "payments/parameter/limits",
    }
    assert model.function("other.ping").uses == ()


def test_functions_get_names_and_max_ages_never_values() -> None:
    document = render(FUNCTIONS, [PAYMENTS, OTHER], stage="prod")
    variables = _variables(document, "PaymentsChargeFunction")
    assert {k: v for k, v in variables.items() if k != "POWERTOOLS_SERVICE_NAME"} == {
        "STRIPE_SECRET_NAME": "acme/prod/payments/stripe",
        "STRIPE_SECRET_MAX_AGE": "60",
        "SHARED_TOKEN_SECRET_NAME": "acme/shared/token",
        "SHARED_TOKEN_SECRET_MAX_AGE": "300",
        "TAX_RATE_PARAMETER_NAME": "/acme/prod/payments/tax-rate",
        "TAX_RATE_PARAMETER_MAX_AGE": "300",
        "LIMITS_PARAMETER_NAME": "/acme/prod/limits",
        "LIMITS_PARAMETER_MAX_AGE": "0",
        "LAMBDAPRESS_TRACING": "xray",  # a production stage traces (`observability`)
    }
    assert "SECRET" not in json.dumps(_variables(document, "OtherPingFunction"))


def test_the_role_reads_exactly_the_declared_arns() -> None:
    document = render(FUNCTIONS, [PAYMENTS, OTHER], stage="dev")
    account = "arn:${AWS::Partition}:%s:${AWS::Region}:${AWS::AccountId}"
    secrets = account % "secretsmanager"
    ssm = account % "ssm"
    by_resource = sorted(
        (s["Action"][0], r["Fn::Sub"] if isinstance(r, dict) else r)
        for s in _statements(document, "PaymentsChargeRole")
        for r in s["Resource"]
        if not s["Action"][0].startswith("logs:")
    )
    assert by_resource == sorted(
        [
            ("secretsmanager:GetSecretValue", f"{secrets}:secret:acme/dev/payments/stripe-??????"),
            ("secretsmanager:GetSecretValue", f"{secrets}:secret:acme/shared/token-??????"),
            ("kms:Decrypt", KEY),
            ("ssm:GetParameter", f"{ssm}:parameter/acme/dev/payments/tax-rate"),
            ("ssm:GetParameter", f"{ssm}:parameter/acme/dev/limits"),
        ]
    )
    other = _statements(document, "OtherPingRole")
    assert [s["Action"] for s in other] == [["logs:CreateLogStream", "logs:PutLogEvents"]]


def test_the_template_passes_cfn_lint() -> None:
    body = template_body(
        application(FUNCTIONS, [PAYMENTS, OTHER]), config(), "prod", "acme-artifacts"
    )
    assert lint_findings(body) == []


def test_a_declared_variable_clashing_with_the_stacks_is_an_error() -> None:
    clashing = entry("payments.charge", "POST /charges", environment={"STRIPE_SECRET_NAME": "x"})
    with pytest.raises(ConfigError) as error:
        render([clashing], [PAYMENTS])
    assert "sets STRIPE_SECRET_NAME in its environment" in str(error.value)


@pytest.mark.parametrize(
    ("table", "declared", "wrong"),
    [
        ("secrets", {"name": "acme/${region}/x"}, "${region} is not a placeholder here"),
        ("secrets", {"name": "has space"}, "is not a Secrets Manager name"),
        ("secrets", {"kms_key": "alias/mine"}, "is not a KMS key ARN"),
        ("secrets", {"max_age": -1}, "greater than or equal to 0"),
        ("parameters", {"path": "acme/x"}, "a hierarchical parameter name starts with /"),
        ("parameters", {"path": "/aws/x"}, "names starting with aws or ssm are AWS's"),
        ("parameters", {"value": "inline"}, "Extra inputs are not permitted"),
    ],
)
def test_a_wrong_declaration_is_refused(table: str, declared: dict[str, Any], wrong: str) -> None:
    with pytest.raises(ValueError, match="validation error") as error:
        ServiceSettings.model_validate({table: {"token": declared}})
    assert wrong in str(error.value)


def test_the_sam_rendering_carries_the_same_names_and_grants() -> None:
    model = application(FUNCTIONS, [PAYMENTS, OTHER])
    body = render_sam(model, config(), "prod", "acme-artifacts")
    assert lint_findings(body) == []
    sam = yaml.safe_load(body)["Resources"]
    cloudformation = json.loads(template_body(model, config(), "prod", "acme-artifacts"))
    for name in ("PaymentsChargeFunction", "PaymentsChargeRole"):
        properties = cloudformation["Resources"][name]["Properties"]
        key = "Environment" if name.endswith("Function") else "Policies"
        assert sam[name]["Properties"][key] == properties[key]
