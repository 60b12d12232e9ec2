"""The secrets and parameters a template resolves, read out of it (pure: no AWS)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambdapress.deploy._references import Reference, template_references

from .stacks import config, entry, render, service


def body(variables: dict[str, Any], **resources: Any) -> str:
    return json.dumps(
        {
            "Resources": {
                "OrdersGetOrderFunction": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {"Environment": {"Variables": variables}},
                },
                **resources,
            }
        }
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{resolve:secretsmanager:acme/dev/orders/database-url}}",
         Reference("secretsmanager", "acme/dev/orders/database-url")),
        ("{{resolve:secretsmanager:db:SecretString:password}}",
         Reference("secretsmanager", "db")),
        ("{{resolve:secretsmanager:db:SecretString:password:AWSPREVIOUS}}",
         Reference("secretsmanager", "db", "AWSPREVIOUS")),
        ("{{resolve:secretsmanager:db:SecretString:::0a1b2c3d-1111}}",
         Reference("secretsmanager", "db", "0a1b2c3d-1111")),
        ("{{resolve:secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf:"
         "SecretString:password}}",
         Reference("secretsmanager",
                   "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf")),
        ("{{resolve:ssm:/acme/dev/api-url}}", Reference("ssm", "/acme/dev/api-url")),
        ("{{resolve:ssm:/acme/dev/api-url:3}}", Reference("ssm", "/acme/dev/api-url", "3")),
        ("{{resolve:ssm:arn:aws:ssm:us-east-1:123456789012:parameter/shared/url:2}}",
         Reference("ssm", "arn:aws:ssm:us-east-1:123456789012:parameter/shared/url", "2")),
        ("https://{{resolve:ssm-secure:/acme/key}}@host/{{resolve:ssm:/acme/path}}", None),
    ],
)  # fmt: skip
def test_each_kind_of_dynamic_reference_is_read_as_cloudformation_splits_it(
    text: str, expected: Reference | None
) -> None:
    found = template_references(body({"SETTING": text}))
    if expected is None:  # two in one value
        assert [(r.kind, r.name) for r in found] == [
            ("ssm-secure", "/acme/key"),
            ("ssm", "/acme/path"),
        ]
        return
    assert found == (expected,)
    assert found[0].users == ("OrdersGetOrderFunction SETTING",)


def test_a_reference_used_twice_is_checked_once_and_names_its_users() -> None:
    secret = "{{resolve:secretsmanager:acme/dev/orders/database-url}}"
    found = template_references(
        body(
            {"DATABASE_URL": secret},
            OrdersListOrdersFunction={
                "Type": "AWS::Lambda::Function",
                "Properties": {"Environment": {"Variables": {"DATABASE_URL": secret}}},
            },
            Rule={"Type": "AWS::Events::Rule", "Properties": {"Description": secret}},
        )
    )
    assert len(found) == 1
    assert found[0].users == (
        "OrdersGetOrderFunction DATABASE_URL",
        "OrdersListOrdersFunction DATABASE_URL",
        "Rule Properties.Description",
    )
    assert found[0].label == "secret acme/dev/orders/database-url"
    assert found[0].fix.startswith("aws secretsmanager create-secret --name acme/dev/orders/")


def test_plain_values_and_look_alikes_are_not_references() -> None:
    values = {
        "A": "{{resolve:ssm}}",
        "B": "resolve:ssm:/x",
        "C": "{{resolve:kms:/x}}",
        "D": "postgresql://user@host/db",
    }
    assert template_references(body(values)) == ()


def test_a_postgres_service_template_refers_to_its_database_secret() -> None:
    orders = service("orders", {"storage": {"kind": "postgres"}})
    shop = service("shop")
    greet = entry("shop.greet", environment={"API_URL": "{{resolve:ssm:/acme/dev/api-url}}"})
    document = render([entry("orders.get_order", "GET /orders/{id}"), greet], [orders, shop])
    found = template_references(json.dumps(document))
    assert [(r.kind, r.name, r.users) for r in found] == [
        ("ssm", "/acme/dev/api-url", ("ShopGreetFunction API_URL",)),
        ("secretsmanager", "acme/dev/orders/database-url",
         ("OrdersGetOrderFunction DATABASE_SECRET_NAME",)),
    ]  # fmt: skip


def test_declared_secrets_and_parameters_are_references_read_at_run_time() -> None:
    shop = service(
        "shop",
        {
            "secrets": {"stripe": {}},
            "parameters": {"tax-rate": {"path": "/shared/tax-rate"}},
            "environment": {"MY_SECRET_NAME": "not-one-of-ours"},  # no _MAX_AGE pair: skipped
        },
    )
    document = render([entry("shop.pay", "POST /pay")], [shop])
    found = template_references(json.dumps(document))
    assert [(r.kind, r.name, r.users) for r in found] == [
        ("parameter", "/shared/tax-rate", ("ShopPayFunction TAX_RATE_PARAMETER_NAME",)),
        ("secretsmanager", "acme/dev/shop/stripe", ("ShopPayFunction STRIPE_SECRET_NAME",)),
    ]
    assert found[0].fix.startswith("aws ssm put-parameter --name /shared/tax-rate --type String")


def test_network_ids_held_in_ssm_and_the_proxys_secret_are_checked_too() -> None:
    """What a stage's network and database proxy make CloudFormation read at deploy time."""
    secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:acme/prod/db-AbCdEf"
    settings = {
        "prod": {
            "network": {"subnets": {"ssm": "/acme/prod/subnets"}, "security-groups":
                        ["sg-0123456789abcdef0"]},
            "database": {"proxy": True, "instance": "acme", "secret-arn": secret, "user": "app"},
        }
    }  # fmt: skip
    document = render(
        [entry("orders.get_order", "GET /orders")],
        [service("orders", {"storage": {"kind": "postgres"}})],
        config(stages=settings),
        stage="prod",
    )
    found = {(r.kind, r.name): r.users for r in template_references(json.dumps(document))}
    assert found[("ssm", "/acme/prod/subnets")] == ("Parameters.NetworkSubnets",)
    assert found[("secretsmanager", secret)] == ("DatabaseProxy Auth",)
