"""SnapStart in the stack: the function's setting, the published version it needs, the alias.

SnapStart snapshots a *published version* (never `$LATEST`), so a function with it gets the
version and the `live` alias that provisioned concurrency uses, and everything that invokes it
calls the alias. Checked as documents, with cfn-lint, and through the SAM translator.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from formats.rich import translate

from lambdapress.formats.registry import output_format

from .stacks import application, config, entry, lint_findings, of_type, render, service

GET = entry("orders.get_order", "GET /orders/{order_id}", runtime="python3.12")
LIST = entry("orders.list_orders", "GET /orders", runtime="python3.12")
SNAPSTART = {"ApplyOn": "PublishedVersions"}


def _orders(**settings: Any) -> list[Any]:
    return [service("orders", {"runtime": "python3.12", **settings})]


def test_snapstart_is_set_on_the_function_and_everything_invokes_its_published_version() -> None:
    document = render([GET, LIST], _orders(functions={"get_order": {"snapstart": True}}))
    resources = document["Resources"]
    assert resources["OrdersGetOrderFunction"]["Properties"]["SnapStart"] == SNAPSTART
    version = resources["OrdersGetOrderVersion"]["Properties"]
    assert version["FunctionName"] == {"Ref": "OrdersGetOrderFunction"}
    alias = resources["OrdersGetOrderLiveAlias"]["Properties"]
    assert alias == {
        "Name": "live",
        "FunctionName": {"Ref": "OrdersGetOrderFunction"},
        "FunctionVersion": {"Fn::GetAtt": ["OrdersGetOrderVersion", "Version"]},
    }  # no provisioned concurrency: Lambda refuses it with SnapStart
    live = {"Ref": "OrdersGetOrderLiveAlias"}
    assert resources["OrdersGetOrderIntegration"]["Properties"]["IntegrationUri"] == live
    permission = resources["OrdersGetOrderPermissionGetOrdersOrderId"]["Properties"]
    assert permission["FunctionName"] == live
    # The other function has no SnapStart (every function has its version and alias).
    assert "SnapStart" not in resources["OrdersListOrdersFunction"]["Properties"]
    integration = resources["OrdersListOrdersIntegration"]["Properties"]
    assert integration["IntegrationUri"] == {"Ref": "OrdersListOrdersLiveAlias"}


def test_the_services_snapstart_applies_to_each_function_that_does_not_turn_it_off() -> None:
    document = render(
        [GET, LIST], _orders(snapstart=True, functions={"list_orders": {"snapstart": False}})
    )
    resources = document["Resources"]
    assert resources["OrdersGetOrderFunction"]["Properties"]["SnapStart"] == SNAPSTART
    assert "SnapStart" not in resources["OrdersListOrdersFunction"]["Properties"]
    with_snapstart = {
        k
        for k, v in of_type(document, "AWS::Lambda::Function").items()
        if "SnapStart" in v["Properties"]
    }
    assert with_snapstart == {"OrdersGetOrderFunction"}


def test_turning_snapstart_on_or_off_publishes_a_new_version() -> None:
    """The version's digest covers the function's properties, `SnapStart` among them."""

    def version(services: list[Any]) -> object:
        document = render([GET], services)
        return document["Resources"]["OrdersGetOrderVersion"]["Properties"]["Description"]

    with_snapstart = version(_orders(snapstart=True))
    assert version(_orders(snapstart=True)) == with_snapstart  # nothing changed: no new one
    # The same function without SnapStart (provisioned concurrency, on the alias, keeps a
    # version to compare): its properties differ by `SnapStart` alone.
    without = version(_orders(functions={"get_order": {"provisioned_concurrency": 1}}))
    assert without != with_snapstart


@pytest.mark.parametrize("name", ["cloudformation", "sam"])
def test_a_snapstart_stack_lints_clean(name: str) -> None:
    model = application([GET, LIST], _orders(snapstart=True))
    assert lint_findings(output_format(name).render(model, config(), "prod", "bucket")) == []


def test_sam_publishes_the_alias_itself_and_keeps_snapstart() -> None:
    model = application([GET], _orders(snapstart=True))
    text = output_format("sam").render(model, config(), "dev", "acme-artifacts")
    sam = yaml.safe_load(text)
    properties = sam["Resources"]["OrdersGetOrderFunction"]["Properties"]
    assert properties["SnapStart"] == SNAPSTART
    assert properties["AutoPublishAlias"] == "live"
    assert "ProvisionedConcurrencyConfig" not in properties
    assert not of_type(sam, "AWS::Lambda::Version") and not of_type(sam, "AWS::Lambda::Alias")

    translated = translate(text)  # what CloudFormation makes of it at deploy time
    (function,) = of_type(translated, "AWS::Lambda::Function").values()
    assert function["Properties"]["SnapStart"] == SNAPSTART
    assert len(of_type(translated, "AWS::Lambda::Version")) == 1
    (alias,) = of_type(translated, "AWS::Lambda::Alias").values()
    assert alias["Properties"]["Name"] == "live"
    assert "ProvisionedConcurrencyConfig" not in alias["Properties"]
    routes = json.dumps(of_type(translated, "AWS::Lambda::Permission"))
    assert "OrdersGetOrderFunctionAliaslive" in routes  # the route's permission is the alias's
