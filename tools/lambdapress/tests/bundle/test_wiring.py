"""What each function uses and may do: derived once by `package`, recorded in the model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import tomlkit

from lambdapress.backends.dynamodb import DYNAMODB_ITEM_ACTIONS, DYNAMODB_READ_ACTIONS
from lambdapress.bundle._wiring import (
    check_function_settings,
    function_wiring,
    service_resources,
)
from lambdapress.config.settings import parse_service_settings
from lambdapress.config.workspace import Service
from lambdapress.errors import BundleError, ConfigError
from lambdapress.model.application import Capacity
from lambdapress.model.permissions import LOG_ACTIONS
from lambdapress.model.resources import DynamoDBTable, PostgresDatabase
from lambdapress.model.triggers import HttpRoute, ScheduleTrigger, SqsTrigger, Trigger


def service(tmp_path: Path, settings: dict[str, Any], name: str = "orders") -> Service:
    folder = tmp_path / "services" / name
    folder.mkdir(parents=True)
    pyproject = folder / "pyproject.toml"
    data = {"project": {"name": name}, "tool": {"lambdapress": settings}}
    pyproject.write_text(tomlkit.dumps(data))
    return Service(
        name=name,
        import_name=name,
        path=folder,
        settings=parse_service_settings(data, pyproject),
        answers=None,
    )


TABLES = {
    "kind": "dynamodb",
    "tables": {"items": {"partition_key": "id", "sort_key": "at"}, "audit": {"partition_key": "k"}},
}


def test_a_dynamodb_service_has_a_table_resource_per_table(tmp_path: Path) -> None:
    shop = service(tmp_path, {"storage": TABLES}, name="shop")
    resources = service_resources(shop, tmp_path)
    assert resources == (
        DynamoDBTable(service="shop", name="audit", partition_key="k"),
        DynamoDBTable(service="shop", name="items", partition_key="id", sort_key="at"),
    )
    assert [r.id for r in resources] == ["shop/dynamodb-table/audit", "shop/dynamodb-table/items"]


def test_a_postgres_service_has_its_database_with_its_migrations_folder(tmp_path: Path) -> None:
    orders = service(tmp_path, {"storage": {"kind": "postgres"}})
    assert service_resources(orders, tmp_path) == (
        PostgresDatabase(service="orders", name="orders", migrations=None),
    )
    (orders.path / "migrations").mkdir()
    (database,) = service_resources(orders, tmp_path)
    assert isinstance(database, PostgresDatabase)
    assert database.migrations == "services/orders/migrations"


def test_a_memory_service_uses_nothing_and_may_only_write_its_logs(tmp_path: Path) -> None:
    notes = service(tmp_path, {}, name="notes")
    assert service_resources(notes, tmp_path) == ()
    wiring = function_wiring(notes, "notes.add", ())
    assert wiring.uses == ()
    ((logs),) = wiring.permissions
    assert (logs.actions, logs.resources) == (LOG_ACTIONS, ("log-group:notes.add",))


def test_a_function_may_do_with_its_services_tables_what_handlers_do_and_no_more(
    tmp_path: Path,
) -> None:
    statement = {"actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::uploads/*"]}
    shop = service(tmp_path, {"storage": TABLES, "iam": {"statements": [statement]}}, "shop")
    resources = service_resources(shop, tmp_path)
    wiring = function_wiring(shop, "shop.get_item", resources)
    assert wiring.uses == ("shop/dynamodb-table/audit", "shop/dynamodb-table/items")
    logs, tables, declared = wiring.permissions
    assert logs.resources == ("log-group:shop.get_item",)
    assert tables.actions == DYNAMODB_ITEM_ACTIONS
    assert tables.resources == (
        "resource:shop/dynamodb-table/audit",
        "resource:shop/dynamodb-table/items",
    )
    assert not any("*" in action for action in tables.actions)
    assert (declared.actions, declared.resources) == (
        ("s3:GetObject",),
        ("arn:aws:s3:::uploads/*",),
    )
    assert declared.reason == "[tool.lambdapress.iam] of service shop"


GET = HttpRoute(method="GET", path="/items/{id}")
HEAD = HttpRoute(method="HEAD", path="/items/{id}")
POST = HttpRoute(method="POST", path="/items")
ANY = HttpRoute(method="ANY", path="/items")


@pytest.mark.parametrize(
    ("triggers", "access"),
    [
        ((GET,), "read"),
        ((GET, HEAD), "read"),
        ((GET, POST), "write"),
        ((ANY,), "write"),
        ((SqsTrigger(queue="jobs"),), "write"),
        ((GET, ScheduleTrigger(expression="rate(5 minutes)")), "write"),
        ((), "write"),
    ],
)
def test_a_function_whose_triggers_only_read_may_only_read_its_tables(
    tmp_path: Path, triggers: tuple[Trigger, ...], access: str
) -> None:
    shop = service(tmp_path, {"storage": TABLES}, "shop")
    wiring = function_wiring(shop, "shop.get_item", service_resources(shop, tmp_path), (), triggers)
    _, tables = wiring.permissions
    assert wiring.access == access
    assert tables.actions == (DYNAMODB_READ_ACTIONS if access == "read" else DYNAMODB_ITEM_ACTIONS)
    assert tables.resources == (
        "resource:shop/dynamodb-table/audit",
        "resource:shop/dynamodb-table/items",
    )


def test_read_actions_change_no_item() -> None:
    changing = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
    assert set(DYNAMODB_READ_ACTIONS) < set(DYNAMODB_ITEM_ACTIONS)
    assert not changing & set(DYNAMODB_READ_ACTIONS)
    assert "dynamodb:BatchWriteItem" not in DYNAMODB_READ_ACTIONS


@pytest.mark.parametrize(("declared", "triggers"), [("write", (GET,)), ("read", (POST,))])
def test_a_function_s_access_setting_wins_over_its_triggers(
    tmp_path: Path, declared: str, triggers: tuple[Trigger, ...]
) -> None:
    settings = {"storage": TABLES, "functions": {"get_item": {"access": declared}}}
    shop = service(tmp_path, settings, "shop")
    wiring = function_wiring(shop, "shop.get_item", service_resources(shop, tmp_path), (), triggers)
    assert wiring.access == declared
    expected = DYNAMODB_READ_ACTIONS if declared == "read" else DYNAMODB_ITEM_ACTIONS
    assert wiring.permissions[1].actions == expected


def test_access_other_than_read_or_write_is_refused_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        service(tmp_path, {"functions": {"get_item": {"access": "admin"}}}, "shop")
    assert "functions.get_item.access" in str(raised.value)
    assert 'access = "read" or "write"' in str(raised.value.hint)


def test_capacity_comes_from_the_handlers_own_table(tmp_path: Path) -> None:
    settings = {"functions": {"get_order": {"reserved_concurrency": 4, "warm_every_minutes": 5}}}
    orders = service(tmp_path, settings)
    assert function_wiring(orders, "orders.get_order", ()).capacity.reserved_concurrency == 4
    assert function_wiring(orders, "orders.get_order", ()).capacity.warm_every_minutes == 5
    assert function_wiring(orders, "orders.list_orders", ()).capacity.reserved_concurrency is None


@pytest.mark.parametrize("misnamed", ["get_ordr", "GetOrder", "list"])
def test_settings_for_a_function_that_does_not_exist_stop_package_at_their_line(
    tmp_path: Path, misnamed: str
) -> None:
    orders = service(tmp_path, {"functions": {misnamed: {"reserved_concurrency": 2}}})
    with pytest.raises(BundleError) as caught:
        check_function_settings(orders, ["orders.get_order", "orders.create_order"])
    error = caught.value
    assert f"[tool.lambdapress.functions.{misnamed}] names no function of service orders" in (
        error.message
    )
    assert "(its functions: create_order, get_order)" in error.message
    assert error.path == orders.path / "pyproject.toml"
    lines = error.path.read_text().splitlines()
    assert error.line is not None and misnamed in lines[error.line - 1]
    check_function_settings(service(tmp_path / "ok", {}), ["orders.get_order"])


def test_snapstart_is_the_services_unless_the_function_says_otherwise(tmp_path: Path) -> None:
    settings = {
        "runtime": "python3.12",
        "snapstart": True,
        "functions": {"list_orders": {"snapstart": False}},
    }
    orders = service(tmp_path, settings)
    assert function_wiring(orders, "orders.get_order", ()).capacity.snapstart is True
    assert function_wiring(orders, "orders.list_orders", ()).capacity.snapstart is False
    check_function_settings(orders, ["orders.get_order", "orders.list_orders"])

    only_one = service(
        tmp_path / "one", {"runtime": "python3.13", "functions": {"get_order": {"snapstart": True}}}
    )
    assert function_wiring(only_one, "orders.get_order", ()).capacity.snapstart is True
    assert function_wiring(only_one, "orders.list_orders", ()).capacity.snapstart is False
    assert Capacity().snapstart is False  # off unless asked: it is billed for Python


@pytest.mark.parametrize(
    ("settings", "key", "reason", "fix"),
    [
        (
            {"runtime": "python3.11", "snapstart": True},
            "snapstart",
            "Lambda has no SnapStart for python3.11 (it supports python3.12, python3.13)",
            'set runtime = "python3.12"',
        ),
        (
            {"runtime": "python3.11", "snapstart": True},
            "snapstart",
            "python3.11",
            "remove snapstart = true from [tool.lambdapress], or set snapstart = false in "
            "[tool.lambdapress.functions.get_order] for this function alone",
        ),
        (
            {"runtime": "python3.11", "functions": {"get_order": {"snapstart": True}}},
            "snapstart",
            "Lambda has no SnapStart for python3.11",
            "or remove snapstart = true from [tool.lambdapress.functions.get_order]",
        ),
        (
            {
                "runtime": "python3.12",
                "snapstart": True,
                "functions": {"get_order": {"provisioned_concurrency": 2}},
            },
            "provisioned_concurrency",
            "SnapStart together with provisioned concurrency (provisioned_concurrency = 2)",
            "remove provisioned_concurrency",
        ),
        (
            {"runtime": "python3.13", "snapstart": True, "ephemeral_storage": 1024},
            "ephemeral_storage",
            "at most 512 MB of ephemeral storage (ephemeral_storage = 1024)",
            "set ephemeral_storage = 512",
        ),
    ],
)
def test_snapstart_where_lambda_refuses_it_stops_package_at_its_line(
    tmp_path: Path, settings: dict[str, Any], key: str, reason: str, fix: str
) -> None:
    orders = service(tmp_path, settings)
    with pytest.raises(BundleError) as caught:
        check_function_settings(orders, ["orders.get_order"])
    error = caught.value
    assert error.message.startswith("SnapStart of function orders.get_order: ")
    assert reason in error.message
    assert fix in (error.hint or "")
    assert error.path == orders.path / "pyproject.toml"
    lines = error.path.read_text().splitlines()
    assert error.line is not None and lines[error.line - 1].startswith(key)


def test_a_function_that_turns_snapstart_off_is_not_refused(tmp_path: Path) -> None:
    orders = service(
        tmp_path,
        {
            "runtime": "python3.11",
            "snapstart": True,
            "functions": {"get_order": {"snapstart": False}},
        },
    )
    check_function_settings(orders, ["orders.get_order"])
    with pytest.raises(BundleError, match=r"orders\.list_orders"):
        check_function_settings(orders, ["orders.get_order", "orders.list_orders"])
