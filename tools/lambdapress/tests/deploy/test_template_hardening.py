"""A stage's hardening: tables kept and backed up on production, KMS keys, connection budgets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from lambdapress.deploy.config import load_deploy_config
from lambdapress.errors import ConfigError

from .stacks import application, config, entry, lint_findings, of_type, render, service

SHOP = service(
    "shop", {"storage": {"kind": "dynamodb", "tables": {"items": {"partition_key": "id"}}}}
)
ORDERS = service("orders", {"storage": {"kind": "postgres"}})
SHOP_FUNCTIONS = [entry("shop.get_item", "GET /items/{id}"), entry("shop.add_item", "POST /items")]
ORDER_FUNCTIONS = [
    entry("orders.get_order", "GET /orders/{id}"),
    entry("orders.list_orders", "GET /orders"),
    entry("orders.create_order", "POST /orders"),
]
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _stages(**stages: dict[str, Any]) -> Any:
    return config(stages={name: {"hardening": table} for name, table in stages.items()})


def test_a_production_stage_keeps_its_tables_with_point_in_time_recovery() -> None:
    table = of_type(render(SHOP_FUNCTIONS, [SHOP], stage="prod"), "AWS::DynamoDB::Table")
    (items,) = table.values()
    assert (items["DeletionPolicy"], items["UpdateReplacePolicy"]) == ("Retain", "Retain")
    recovery = items["Properties"]["PointInTimeRecoverySpecification"]
    assert recovery == {"PointInTimeRecoveryEnabled": True}


def test_a_development_stage_deletes_its_tables_and_pays_for_no_backups() -> None:
    (items,) = of_type(render(SHOP_FUNCTIONS, [SHOP], stage="dev"), "AWS::DynamoDB::Table").values()
    assert (items["DeletionPolicy"], items["UpdateReplacePolicy"]) == ("Delete", "Delete")
    assert "PointInTimeRecoverySpecification" not in items["Properties"]


def test_each_protection_is_set_on_its_own() -> None:
    deploy = _stages(dev={"retain-data": True}, prod={"point-in-time-recovery": False})
    (dev,) = of_type(render(SHOP_FUNCTIONS, [SHOP], deploy, "dev"), "AWS::DynamoDB::Table").values()
    assert dev["DeletionPolicy"] == "Retain"
    assert "PointInTimeRecoverySpecification" not in dev["Properties"]
    document = render(SHOP_FUNCTIONS, [SHOP], deploy, "prod")
    (prod,) = of_type(document, "AWS::DynamoDB::Table").values()
    assert prod["DeletionPolicy"] == "Retain"  # production's default stays
    assert "PointInTimeRecoverySpecification" not in prod["Properties"]


def test_without_a_key_nothing_is_encrypted_with_a_customer_key() -> None:
    body = json.dumps(render(SHOP_FUNCTIONS, [SHOP], stage="prod"))
    assert "KmsKey" not in body
    assert "AWS::KMS::Key" not in body


def test_a_created_key_encrypts_logs_and_variables_and_only_its_roles_decrypt() -> None:
    document = render(SHOP_FUNCTIONS, [SHOP], _stages(prod={"kms-key": "create"}), "prod")
    (key_id, key), *_ = of_type(document, "AWS::KMS::Key").items()
    arn = {"Fn::GetAtt": [key_id, "Arn"]}
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"  # logs under a deleted key are lost
    logs_statement = key["Properties"]["KeyPolicy"]["Statement"][1]
    assert logs_statement["Principal"] == {
        "Service": {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}
    }
    patterns = logs_statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert [p["Fn::Sub"].rpartition(":")[2] for p in patterns] == [
        "/aws/lambda/acme-prod-*",
        "/lambdapress/acme-prod/*",
    ]
    groups = of_type(document, "AWS::Logs::LogGroup")
    assert groups and all(g["Properties"]["KmsKeyId"] == arn for g in groups.values())
    functions = of_type(document, "AWS::Lambda::Function")
    assert all(f["Properties"]["KmsKeyArn"] == arn for f in functions.values())
    for role in of_type(document, "AWS::IAM::Role").values():
        trusted = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        if trusted != {"Service": "lambda.amazonaws.com"}:
            continue  # CodeDeploy's role (production rollouts) reads no variables
        statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        decrypt = [s for s in statements if "kms:Decrypt" in s["Action"]]
        assert decrypt == [{"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [arn]}]
    assert of_type(document, "AWS::KMS::Alias")["StageKeyAlias"]["Properties"]["AliasName"] == (
        "alias/acme/prod"
    )
    assert lint_findings(json.dumps(document)) == []


def test_a_team_s_key_is_used_by_its_arn_and_none_is_created() -> None:
    document = render(SHOP_FUNCTIONS, [SHOP], _stages(dev={"kms-key": KEY_ARN}), "dev")
    assert of_type(document, "AWS::KMS::Key") == {}
    groups = of_type(document, "AWS::Logs::LogGroup").values()
    assert {g["Properties"]["KmsKeyId"] for g in groups} == {KEY_ARN}
    functions = of_type(document, "AWS::Lambda::Function").values()
    assert {f["Properties"]["KmsKeyArn"] for f in functions} == {KEY_ARN}


def _reserved(document: dict[str, Any]) -> dict[str, Any]:
    return {
        f["Properties"]["FunctionName"]: f["Properties"].get("ReservedConcurrentExecutions")
        for f in of_type(document, "AWS::Lambda::Function").values()
    }


def test_postgres_functions_of_production_share_the_databases_connection_budget() -> None:
    document = render([*ORDER_FUNCTIONS, *SHOP_FUNCTIONS], [ORDERS, SHOP], stage="prod")
    # (100 connections - 10 held back) // 3 functions; DynamoDB functions have no cap.
    assert _reserved(document) == {
        "acme-prod-orders-create_order": 30,
        "acme-prod-orders-get_order": 30,
        "acme-prod-orders-list_orders": 30,
        "acme-prod-shop-add_item": None,
        "acme-prod-shop-get_item": None,
    }


def test_other_stages_are_capped_only_when_they_set_a_budget() -> None:
    uncapped = _reserved(render(ORDER_FUNCTIONS, [ORDERS], stage="dev"))
    assert set(uncapped.values()) == {None}  # an account on the starting quota deploys it
    deploy = _stages(dev={"database-connections": 20})
    assert set(_reserved(render(ORDER_FUNCTIONS, [ORDERS], deploy, "dev")).values()) == {3}


def test_an_explicit_reserved_concurrency_wins_and_is_taken_off_the_budget() -> None:
    orders = service(
        "orders",
        {
            "storage": {"kind": "postgres"},
            "functions": {"create_order": {"reserved_concurrency": 4}},
        },
    )
    deploy = _stages(prod={"database-connections": 50, "connections-held-back": 5})
    document = render(ORDER_FUNCTIONS, [orders], deploy, "prod")
    assert _reserved(document) == {
        "acme-prod-orders-create_order": 4,
        "acme-prod-orders-get_order": 20,  # (50 - 5 - 4) // 2
        "acme-prod-orders-list_orders": 20,
    }


def test_a_budget_too_small_for_the_functions_is_an_error_naming_them() -> None:
    deploy = _stages(dev={"database-connections": 3, "connections-held-back": 1})
    with pytest.raises(ConfigError) as caught:
        render(ORDER_FUNCTIONS, [ORDERS], deploy, "dev")
    assert "orders/postgres-database/orders" in str(caught.value)
    assert "orders.get_order" in str(caught.value)
    assert "database-connections" in str(caught.value.hint)


def test_provisioned_concurrency_above_the_share_is_an_error() -> None:
    orders = service(
        "orders",
        {
            "storage": {"kind": "postgres"},
            "functions": {"get_order": {"provisioned_concurrency": 40}},
        },
    )
    with pytest.raises(ConfigError) as caught:
        render(ORDER_FUNCTIONS, [orders], stage="prod")
    assert "orders.get_order asks for 40 provisioned" in str(caught.value)


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ('kms-key = "alias/mine"', ["kms-key", "neither 'create' nor a KMS key ARN"]),
        ("retain-data = 1", ["retain-data"]),
        ("database-connections = 10\nconnections-held-back = 10", ["leaves none"]),
    ],
)
def test_hardening_mistakes_name_the_file_the_key_and_the_fix(
    tmp_path: Path, table: str, words: list[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.lambdapress.deploy]\nproject = "acme"\n'
        f"[tool.lambdapress.deploy.stages.prod.hardening]\n{table}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_deploy_config(tmp_path)
    message = str(caught.value)
    assert "pyproject.toml" in message
    for word in words:
        assert word in message
    assert "hardening" in str(caught.value.hint)


def test_the_sam_rendering_keeps_the_same_protection_keys_and_caps() -> None:
    from lambdapress.formats._sam import render_sam

    functions, services = [*ORDER_FUNCTIONS, *SHOP_FUNCTIONS], [ORDERS, SHOP]
    deploy = _stages(prod={"kms-key": "create"})
    sam = yaml.safe_load(render_sam(application(functions, services), deploy, "prod"))
    resources = sam["Resources"]
    (table,) = [r for r in resources.values() if r["Type"] == "AWS::DynamoDB::Table"]
    assert table["DeletionPolicy"] == "Retain"
    assert table["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]
    serverless = [r for r in resources.values() if r["Type"] == "AWS::Serverless::Function"]
    assert len(serverless) == 5
    assert all(
        f["Properties"]["KmsKeyArn"] == {"Fn::GetAtt": ["StageKey", "Arn"]} for f in serverless
    )
    caps = sorted(f["Properties"].get("ReservedConcurrentExecutions", 0) for f in serverless)
    assert caps == [0, 0, 30, 30, 30]


@pytest.mark.parametrize("as_text", [json.dumps, yaml.safe_dump])
def test_destroy_reads_what_the_deployed_template_keeps(as_text: Any) -> None:
    from lambdapress.deploy.destroying import _retained

    template = render(SHOP_FUNCTIONS, [SHOP], _stages(prod={"kms-key": "create"}), "prod")
    assert _retained(as_text(template)) == {"ShopItemsTable", "StageKey"}
    assert _retained(template) == {"ShopItemsTable", "StageKey"}
    assert _retained(render(SHOP_FUNCTIONS, [SHOP], stage="dev")) == set()


def test_a_log_group_outside_the_key_s_patterns_is_granted_by_name() -> None:
    from lambdapress.config.hardening_settings import HardeningSettings
    from lambdapress.deploy._hardening import add_stage_key, encrypt_with
    from lambdapress.deploy.template_ids import Resources
    from lambdapress.model.storage_backends import DataProtection

    resources = Resources()
    hardening = HardeningSettings.model_validate({"kms-key": "create"})
    key = add_stage_key(resources, hardening, DataProtection(), ("acme", "dev", "acme-dev"))
    for logical_id, name in [("Ours", "/aws/lambda/acme-dev-orders-get"), ("Other", "/acme/x")]:
        group = {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": name}}
        resources.add(logical_id, group, logical_id)
    encrypt_with(resources, key)
    policy = resources.as_dict()["StageKey"]["Properties"]["KeyPolicy"]
    granted = policy["Statement"][1]["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert [arn["Fn::Sub"].partition(":log-group:")[2] for arn in granted] == [
        "/aws/lambda/acme-dev-*",
        "/lambdapress/acme-dev/*",
        "/acme/x",
    ]
    assert resources.as_dict()["StageKey"]["DeletionPolicy"] == "Delete"  # dev: not kept
