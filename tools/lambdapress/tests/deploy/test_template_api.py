"""The HTTP API: a route per route key, an invoke permission scoped to each, CORS and the stage."""

import json

from .stacks import config, entry, lint_findings, of_type, render, service

ORDERS = service("orders", {"bundle": "service"})
API = entry(
    "orders.api",
    "GET /orders",
    "POST /orders",
    "GET /orders/{order_id}",
    "ANY /orders/{proxy+}",
)
JOB = entry("orders.nightly")  # no route: invoked by a schedule or by hand


def test_one_route_per_route_key_to_one_payload_2_integration() -> None:
    document = render([API, JOB], [ORDERS])
    ((integration_id, integration),) = of_type(document, "AWS::ApiGatewayV2::Integration").items()
    assert integration_id == "OrdersApiIntegration"
    assert integration["Properties"] == {
        "ApiId": {"Ref": "HttpApi"},
        "IntegrationType": "AWS_PROXY",
        "IntegrationUri": {"Ref": "OrdersApiLiveAlias"},
        "PayloadFormatVersion": "2.0",
    }
    routes = of_type(document, "AWS::ApiGatewayV2::Route")
    assert sorted(r["Properties"]["RouteKey"] for r in routes.values()) == [
        "ANY /orders/{proxy+}",
        "GET /orders",
        "GET /orders/{order_id}",
        "POST /orders",
    ]
    for route in routes.values():
        assert route["Properties"]["Target"] == {"Fn::Sub": "integrations/${OrdersApiIntegration}"}
        assert route["Properties"]["ApiId"] == {"Ref": "HttpApi"}


def test_each_route_has_a_permission_for_its_method_and_path_only() -> None:
    document = render([API, JOB], [ORDERS])
    permissions = {
        k: p["Properties"] for k, p in of_type(document, "AWS::Lambda::Permission").items()
    }
    prefix = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${HttpApi}/*/"
    assert {k: p["SourceArn"]["Fn::Sub"].removeprefix(prefix) for k, p in permissions.items()} == {
        "OrdersApiPermissionAnyOrdersProxy": "*/orders/*",
        "OrdersApiPermissionGetOrders": "GET/orders",
        "OrdersApiPermissionGetOrdersOrderId": "GET/orders/*",
        "OrdersApiPermissionPostOrders": "POST/orders",
    }
    for permission in permissions.values():
        assert permission["Principal"] == "apigateway.amazonaws.com"
        assert permission["Action"] == "lambda:InvokeFunction"
        assert permission["FunctionName"] == {"Ref": "OrdersApiLiveAlias"}


def test_a_function_without_routes_is_not_on_the_api() -> None:
    document = render([JOB], [ORDERS])
    assert "OrdersNightlyFunction" in document["Resources"]
    for kind in ("Integration", "Route"):
        assert of_type(document, f"AWS::ApiGatewayV2::{kind}") == {}
    assert of_type(document, "AWS::Lambda::Permission") == {}


def test_the_default_stage_deploys_itself_and_logs_every_request() -> None:
    document = render([API], [ORDERS])
    stage = document["Resources"]["HttpApiDefaultStage"]["Properties"]
    assert (stage["StageName"], stage["AutoDeploy"]) == ("$default", True)
    access = stage["AccessLogSettings"]
    assert access["DestinationArn"] == {"Fn::GetAtt": ["HttpApiAccessLogGroup", "Arn"]}
    assert json.loads(access["Format"])["routeKey"] == "$context.routeKey"
    logs = document["Resources"]["HttpApiAccessLogGroup"]["Properties"]
    assert logs["LogGroupName"] == "/lambdapress/acme-dev/http-api-access"
    assert logs["RetentionInDays"] == 14
    api = document["Resources"]["HttpApi"]["Properties"]
    assert (api["Name"], api["ProtocolType"]) == ("acme-dev", "HTTP")


def test_cors_only_when_configured() -> None:
    assert "CorsConfiguration" not in render([API], [ORDERS])["Resources"]["HttpApi"]["Properties"]
    cors = {"allow-origins": ["https://app.example.com"], "allow-methods": ["GET"], "max-age": 60}
    document = render([API], [ORDERS], config(cors=cors))
    assert document["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"] == {
        "AllowOrigins": ["https://app.example.com"],
        "AllowMethods": ["GET"],
        "AllowCredentials": False,
        "MaxAge": 60,
    }


def test_a_stack_without_routes_has_no_api_and_no_outputs_and_lints_clean() -> None:
    """Deliberate (issue 21): the HTTP kind renders the API only once some function has a route."""
    document = render([JOB], [ORDERS])
    assert {r["Type"] for r in document["Resources"].values()}.isdisjoint(
        {"AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::Stage", "AWS::ApiGatewayV2::Integration"}
    )
    assert "HttpApiAccessLogGroup" not in document["Resources"]
    assert "Outputs" not in document
    assert lint_findings(json.dumps(document)) == []
