"""A function's resources: its settings from the manifest, its log group, and optional capacity."""

import json

from lambdapress.config.storage_settings import WARMUP_EVENT
from lambdapress.config.workspace import Service
from lambdapress.model.application import Function

from .stacks import config, entry, of_type, render, service

GET = entry(
    "orders.get_order",
    "GET /orders/{order_id}",
    runtime="python3.11",
    architecture="x86_64",
    memory=512,
    timeout=20,
    environment={"POWERTOOLS_SERVICE_NAME": "orders", "LOG_LEVEL": "INFO"},
)


def _orders(functions: dict[str, dict[str, int]] | None = None) -> list[Service]:
    return [service("orders", {"functions": functions or {}})]


def test_the_function_is_what_the_manifest_says() -> None:
    document = render([GET], _orders(), config(**{"log-retention-days": 30}))
    function = document["Resources"]["OrdersGetOrderFunction"]
    assert function["Type"] == "AWS::Lambda::Function"
    properties = function["Properties"]
    assert properties["FunctionName"] == "acme-dev-orders-get_order"
    assert properties["Handler"] == "orders.handlers.get_order.handler"
    assert (properties["Runtime"], properties["Architectures"]) == ("python3.11", ["x86_64"])
    assert (properties["MemorySize"], properties["Timeout"]) == (512, 20)
    assert properties["Environment"] == {"Variables": GET.environment}
    assert properties["Role"] == {"Fn::GetAtt": ["OrdersGetOrderRole", "Arn"]}
    assert properties["Tags"] == [
        {"Key": "lambdapress:project", "Value": "acme"},
        {"Key": "lambdapress:service", "Value": "orders"},
        {"Key": "lambdapress:stage", "Value": "dev"},
    ]
    log_group = document["Resources"]["OrdersGetOrderLogGroup"]["Properties"]
    assert log_group["LogGroupName"] == "/aws/lambda/acme-dev-orders-get_order"
    assert log_group["RetentionInDays"] == 30
    assert properties["LoggingConfig"]["LogGroup"] == {"Ref": "OrdersGetOrderLogGroup"}


def test_no_optional_capacity_unless_asked() -> None:
    document = render([GET], _orders())
    properties = document["Resources"]["OrdersGetOrderFunction"]["Properties"]
    assert "ReservedConcurrentExecutions" not in properties
    assert of_type(document, "AWS::Events::Rule") == {}
    (alias,) = of_type(document, "AWS::Lambda::Alias").values()
    assert "ProvisionedConcurrencyConfig" not in alias["Properties"]
    integration = document["Resources"]["OrdersGetOrderIntegration"]["Properties"]
    assert integration["IntegrationUri"] == {"Ref": "OrdersGetOrderLiveAlias"}


def test_no_environment_block_without_variables() -> None:
    document = render([GET.model_copy(update={"environment": {}})], _orders())
    assert "Environment" not in document["Resources"]["OrdersGetOrderFunction"]["Properties"]


def test_ephemeral_storage_is_set_only_when_it_is_not_lambdas_default() -> None:
    default = render([GET], _orders())["Resources"]["OrdersGetOrderFunction"]["Properties"]
    assert "EphemeralStorage" not in default  # 512 MB: Lambda's own default
    for size in (513, 2048, 10240):
        larger = GET.model_copy(update={"ephemeral_storage": size})
        document = render([larger], _orders())
        properties = document["Resources"]["OrdersGetOrderFunction"]["Properties"]
        assert properties["EphemeralStorage"] == {"Size": size}


def test_reserved_concurrency() -> None:
    document = render([GET], _orders({"get_order": {"reserved_concurrency": 7}}))
    properties = document["Resources"]["OrdersGetOrderFunction"]["Properties"]
    assert properties["ReservedConcurrentExecutions"] == 7


def test_a_warm_up_rule_sends_the_runtime_s_marker_event() -> None:
    document = render([GET], _orders({"get_order": {"warm_every_minutes": 5}}))
    rule = document["Resources"]["OrdersGetOrderWarmUpRule"]["Properties"]
    assert rule["ScheduleExpression"] == "rate(5 minutes)"
    (target,) = rule["Targets"]
    assert json.loads(target["Input"]) == WARMUP_EVENT
    assert target["Arn"] == {"Ref": "OrdersGetOrderLiveAlias"}
    permission = document["Resources"]["OrdersGetOrderWarmUpPermission"]["Properties"]
    assert permission["Principal"] == "events.amazonaws.com"
    assert permission["SourceArn"] == {"Fn::GetAtt": ["OrdersGetOrderWarmUpRule", "Arn"]}


def test_one_minute_is_singular_for_eventbridge() -> None:
    document = render([GET], _orders({"get_order": {"warm_every_minutes": 1}}))
    rule = document["Resources"]["OrdersGetOrderWarmUpRule"]["Properties"]
    assert rule["ScheduleExpression"] == "rate(1 minute)"


def test_provisioned_concurrency_on_a_live_alias_that_everything_invokes() -> None:
    settings = {"get_order": {"provisioned_concurrency": 3, "warm_every_minutes": 10}}
    document = render([GET], _orders(settings))
    alias = document["Resources"]["OrdersGetOrderLiveAlias"]["Properties"]
    assert alias["Name"] == "live"
    assert alias["ProvisionedConcurrencyConfig"] == {"ProvisionedConcurrentExecutions": 3}
    assert alias["FunctionVersion"] == {"Fn::GetAtt": ["OrdersGetOrderVersion", "Version"]}
    version = document["Resources"]["OrdersGetOrderVersion"]["Properties"]
    assert version["CodeSha256"] == GET.artifact.code_sha256
    live = {"Ref": "OrdersGetOrderLiveAlias"}
    resources = document["Resources"]
    assert resources["OrdersGetOrderIntegration"]["Properties"]["IntegrationUri"] == live
    assert (
        resources["OrdersGetOrderPermissionGetOrdersOrderId"]["Properties"]["FunctionName"] == live
    )
    assert resources["OrdersGetOrderWarmUpRule"]["Properties"]["Targets"][0]["Arn"] == live


def test_a_new_version_exactly_when_code_or_configuration_changes() -> None:
    settings = _orders({"get_order": {"provisioned_concurrency": 1}})

    def version(function: Function) -> dict[str, object]:
        document = render([function], settings)
        properties: dict[str, object] = document["Resources"]["OrdersGetOrderVersion"]["Properties"]
        return properties

    same = version(GET)
    assert version(GET) == same
    assert version(GET.model_copy(update={"memory": 1024})) != same
    assert (
        version(
            GET.model_copy(
                update={"artifact": GET.artifact.model_copy(update={"sha256": "0" * 64})}
            )
        )["Description"]
        != same["Description"]
    )
