"""Logical ids and physical names: stable, valid for CloudFormation and Lambda, never clashing."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdapress.deploy.template_ids import (
    Resources,
    camel,
    function_id,
    physical_function_name,
    route_id,
)
from lambdapress.errors import ConfigError
from lambdapress.model.triggers import HttpRoute

from .stacks import entry, render, service

IDENTIFIER = st.from_regex(r"[a-z][a-z0-9_]{0,120}", fullmatch=True)
LOGICAL_ID = re.compile(r"^[A-Za-z0-9]{1,255}$")
FUNCTION_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def test_ids_are_the_names_in_camel_case() -> None:
    assert camel("orders.get_order") == "OrdersGetOrder"
    assert function_id("orders.get_order") == "OrdersGetOrderFunction"
    assert function_id("line_items.v2_list", "LogGroup") == "LineItemsV2ListLogGroup"
    get = HttpRoute(method="GET", path="/orders/{order_id}")
    assert route_id("orders.get_order", get) == "OrdersGetOrderRouteGetOrdersOrderId"
    root = HttpRoute(method="ANY", path="/")
    assert route_id("site.home", root, "Permission") == "SiteHomePermissionAnyRoot"


@settings(max_examples=200, deadline=None)
@given(service_name=IDENTIFIER, module=IDENTIFIER, path=st.lists(IDENTIFIER, max_size=6))
def test_every_name_gives_a_valid_id(service_name: str, module: str, path: list[str]) -> None:
    name = f"{service_name}.{module}"
    route = HttpRoute(method="GET", path="/" + "/".join(f"{{{p}}}" for p in path))
    for logical_id in (
        function_id(name),
        function_id(name, "WarmUpPermission"),
        route_id(name, route),
    ):
        assert LOGICAL_ID.match(logical_id)
    assert function_id(name) == function_id(name)  # a function of its name alone


@settings(max_examples=200, deadline=None)
@given(project=st.from_regex(r"[a-z][a-z0-9]{0,39}", fullmatch=True), a=IDENTIFIER, b=IDENTIFIER)
def test_function_names_fit_lambda_and_stay_distinct(project: str, a: str, b: str) -> None:
    first = physical_function_name(project, "dev", f"{a}.{b}")
    second = physical_function_name(project, "dev", f"{a}.{b}x")
    assert FUNCTION_NAME.match(first) and FUNCTION_NAME.match(second)
    assert first != second
    assert first == physical_function_name(project, "dev", f"{a}.{b}")


def test_a_short_function_name_is_readable() -> None:
    assert physical_function_name("acme", "dev", "orders.get_order") == "acme-dev-orders-get_order"


def test_two_names_with_one_id_are_an_error_not_a_suffix() -> None:
    resources = Resources()
    resources.add("ABFunction", {"Type": "AWS::Lambda::Function"}, "function a_b.c")
    with pytest.raises(ConfigError) as caught:
        resources.add("ABFunction", {"Type": "AWS::Lambda::Function"}, "function a.b_c")
    assert "function a.b_c and function a_b.c both become" in str(caught.value)
    assert "rename one of them" in str(caught.value)


def test_clashing_functions_are_caught_in_a_template() -> None:
    with pytest.raises(ConfigError, match="both become the CloudFormation resource"):
        render([entry("a_b.c"), entry("a.b_c")], [service("a_b"), service("a")])


def test_adding_a_function_renames_nothing() -> None:
    orders = service("orders")
    before = render([entry("orders.get_order", "GET /orders/{order_id}")], [orders])
    after = render(
        [
            entry("orders.get_order", "GET /orders/{order_id}"),
            entry("orders.add_order", "POST /orders"),
        ],
        [orders],
    )
    # The role now also covers the new logs; the stage's dashboard gains the new function's row.
    kept = set(before["Resources"]) - {"OrdersRole", "Dashboard"}
    assert kept <= set(after["Resources"])
    for logical_id in kept:
        assert before["Resources"][logical_id] == after["Resources"][logical_id], logical_id
