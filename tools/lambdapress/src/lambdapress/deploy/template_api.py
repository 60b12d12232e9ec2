"""The HTTP API: one `AWS::ApiGatewayV2::Api`, a route per manifest route key, and its stage.

How the HTTP trigger kind (`triggers.http`) renders: the API, its access log group, its stage
and the `ApiUrl` output once the application has a route (a stack without routes has no API),
and each routed function gets one payload-2.0 `AWS_PROXY` integration (the event the local
emulator builds), one `AWS::ApiGatewayV2::Route` per route it declares, and one
`AWS::Lambda::Permission` per route whose `SourceArn` names that route's method and path:
API Gateway may invoke the function for its own routes and nothing else. Routes that name an
authorizer are guarded by it (`template_authorizers`). The `$default` stage
deploys every change automatically and writes an access log to a log group of the stack.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from lambdapress.deploy.config import CorsSettings
from lambdapress.deploy.template_authorizers import Rendered, add_authorizers
from lambdapress.deploy.template_ids import (
    API_URL_OUTPUT,
    HTTP_API,
    HTTP_API_ACCESS_LOGS,
    HTTP_API_STAGE,
    route_id,
    stage_tags,
)
from lambdapress.model.application import Application, Function
from lambdapress.model.resources import DELETED_WITH_STACK
from lambdapress.model.trigger_kinds import StackBuilder
from lambdapress.model.triggers import HttpRoute

_PARAMETER = re.compile(r"^\{[^}]+\}$")
# One JSON line per request: what an on-call engineer filters by.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "sourceIp": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "latencyMs": "$context.responseLatency",
        "integrationLatencyMs": "$context.integrationLatency",
        "integrationError": "$context.integrationErrorMessage",
    },
    sort_keys=True,
)


def render_http_api(stack: StackBuilder, application: Application) -> None:
    """The API once, then each routed function's integration, routes and permissions."""
    routed = [f for f in sorted(application.functions, key=lambda f: f.name) if f.routes]
    if not routed:
        return
    cors = stack.setting("cors")
    add_api(
        stack,
        stack.name,
        cors if isinstance(cors, CorsSettings) else None,
        stack.log_retention_days,
        stage_tags(stack.project, stack.stage),
    )
    authorizers = add_authorizers(stack, application)
    for entry in routed:
        add_routes(stack, entry, stack.invoke_target(entry.name), authorizers)
    stack.add_output(
        API_URL_OUTPUT,
        {
            "Description": "The HTTP API's URL (its $default stage)",
            "Value": {"Fn::GetAtt": [HTTP_API, "ApiEndpoint"]},
        },
    )


def add_api(
    stack: StackBuilder,
    name: str,
    cors: CorsSettings | None,
    log_retention_days: int,
    tags: dict[str, str],
) -> None:
    """The API, its access log group and its `$default` stage."""
    properties: dict[str, Any] = {
        "Name": name,
        "ProtocolType": "HTTP",
        "Description": f"lambdapress: the routes of {name}",
        "Tags": tags,
    }
    if cors is not None:
        properties["CorsConfiguration"] = cors.configuration()
    stack.add(HTTP_API, {"Type": "AWS::ApiGatewayV2::Api", "Properties": properties}, "API")
    stack.add(
        HTTP_API_ACCESS_LOGS,
        {
            "Type": "AWS::Logs::LogGroup",
            **DELETED_WITH_STACK,
            "Properties": {
                "LogGroupName": f"/lambdapress/{name}/http-api-access",
                "RetentionInDays": log_retention_days,
            },
        },
        "API",
    )
    stack.add(
        HTTP_API_STAGE,
        {
            "Type": "AWS::ApiGatewayV2::Stage",
            "Properties": {
                "ApiId": {"Ref": HTTP_API},
                "StageName": "$default",
                "AutoDeploy": True,
                "AccessLogSettings": {
                    "DestinationArn": {"Fn::GetAtt": [HTTP_API_ACCESS_LOGS, "Arn"]},
                    "Format": ACCESS_LOG_FORMAT,
                },
            },
        },
        "API",
    )


def add_routes(
    stack: StackBuilder,
    entry: Function,
    target: dict[str, Any],
    authorizers: Mapping[str, Rendered] | None = None,
) -> None:
    """The integration, routes and invoke permissions of one function (none without routes).

    A route that names an authorizer is guarded by it (`authorizers`, by name: rendered by
    `template_authorizers.add_authorizers`); the others are open (`AuthorizationType: NONE`).
    """
    if not entry.routes:
        return
    owner = f"function {entry.name}"
    integration = stack.add(
        stack.function_id(entry.name, "Integration"),
        {
            "Type": "AWS::ApiGatewayV2::Integration",
            "Properties": {
                "ApiId": {"Ref": HTTP_API},
                "IntegrationType": "AWS_PROXY",
                "IntegrationUri": target,
                "PayloadFormatVersion": "2.0",
            },
        },
        owner,
    )
    for route in sorted(entry.routes, key=lambda r: (r.path, r.method)):
        guard = (authorizers or {}).get(route.authorizer or "")
        if route.authorizer is not None and guard is None:
            raise ValueError(f"route {route.route_key}: authorizer not rendered (a bug)")
        access = guard.route_properties(route) if guard else {"AuthorizationType": "NONE"}
        stack.add(
            route_id(entry.name, route),
            {
                "Type": "AWS::ApiGatewayV2::Route",
                "Properties": {
                    "ApiId": {"Ref": HTTP_API},
                    "RouteKey": route.route_key,
                    **access,
                    "Target": {"Fn::Sub": f"integrations/${{{integration}}}"},
                },
            },
            f"route {route.route_key} of {owner}",
        )
        stack.add(
            route_id(entry.name, route, "Permission"),
            {
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "Action": "lambda:InvokeFunction",
                    "FunctionName": target,
                    "Principal": "apigateway.amazonaws.com",
                    "SourceArn": {"Fn::Sub": source_arn(route)},
                },
            },
            f"route {route.route_key} of {owner}",
        )


def source_arn(route: HttpRoute) -> str:
    """The execute-api ARN of one route, any stage: `.../${HttpApi}/*/GET/orders/*`.

    A path parameter (`{order_id}`, `{proxy+}`) matches any value, so it becomes `*`; so does
    the method `ANY`.
    """
    segments = ["*" if _PARAMETER.match(part) else part for part in route.path.split("/")[1:]]
    method = "*" if route.method == "ANY" else route.method
    path = "/".join(segments)
    return (
        "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
        f"${{{HTTP_API}}}/*/{method}/{path}"
    )
