"""Authorizers in the stack: JWT ones from the stage's settings, Lambda ones from the model.

Each protected route says `JWT` or `CUSTOM` with its authorizer's id (and, for JWT, its
scopes); open routes stay `NONE`; a Lambda authorizer is invoked at its function's invoke
target and may be by API Gateway for that authorizer of that API only. cfn-lint passes on the
result; the SAM rendering says the same in SAM's words and goes through AWS's translator.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from formats.rich import translate

from lambdapress.deploy.config import parse_deploy_config
from lambdapress.deploy.template import template_body
from lambdapress.errors import ConfigError
from lambdapress.formats._sam import render_sam
from lambdapress.model.triggers import HttpAuthorizer, HttpRoute

from .stacks import application, config, entry, lint_findings, of_type, render, service

ORDERS = service("orders")
PARTNERS = service("partners")
DEV_ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Dev"
PROD_ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Prod"
AUTHORIZERS = {"users": {"issuer": DEV_ISSUER, "audiences": ["dev-client"]}}
STAGES = {"prod": {"authorizers": {"users": {"issuer": PROD_ISSUER, "audiences": ["prod-1"]}}}}


def route(key: str, authorizer: str | None = None, scopes: tuple[str, ...] = ()) -> HttpRoute:
    method, path = key.split(" ", 1)
    return HttpRoute(method=method, path=path, authorizer=authorizer, scopes=scopes)  # type: ignore[arg-type]


CREATE = entry("orders.create", route("POST /orders", "users", ("orders:write",)))
LIST = entry("orders.list_orders", route("GET /orders"))
FEED = entry("partners.feed", route("GET /partners/feed", "partners"))
GATE = entry(
    "partners.gate",
    triggers=(
        HttpAuthorizer(name="partners", ttl=60, identity_source=("$request.header.x-api-key",)),
    ),
)
FUNCTIONS = [CREATE, LIST, FEED, GATE]
SERVICES = [ORDERS, PARTNERS]


def deploy_config() -> Any:
    return config(authorizers=AUTHORIZERS, stages=STAGES)


def test_a_jwt_authorizer_has_the_stage_s_issuer_and_audiences() -> None:
    dev = of_type(render(FUNCTIONS, SERVICES, deploy_config()), "AWS::ApiGatewayV2::Authorizer")
    prod = of_type(
        render(FUNCTIONS, SERVICES, deploy_config(), stage="prod"), "AWS::ApiGatewayV2::Authorizer"
    )
    assert dev["HttpApiAuthorizerUsers"]["Properties"] == {
        "ApiId": {"Ref": "HttpApi"},
        "Name": "users",
        "AuthorizerType": "JWT",
        "IdentitySource": ["$request.header.Authorization"],
        "JwtConfiguration": {"Issuer": DEV_ISSUER, "Audience": ["dev-client"]},
    }
    assert prod["HttpApiAuthorizerUsers"]["Properties"]["JwtConfiguration"] == {
        "Issuer": PROD_ISSUER,
        "Audience": ["prod-1"],
    }


def test_routes_name_their_authorizer_and_scopes_and_the_others_stay_open() -> None:
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in of_type(
            render(FUNCTIONS, SERVICES, deploy_config()), "AWS::ApiGatewayV2::Route"
        ).values()
    }
    assert routes["POST /orders"]["AuthorizationType"] == "JWT"
    assert routes["POST /orders"]["AuthorizerId"] == {"Ref": "HttpApiAuthorizerUsers"}
    assert routes["POST /orders"]["AuthorizationScopes"] == ["orders:write"]
    assert routes["GET /partners/feed"]["AuthorizationType"] == "CUSTOM"
    assert routes["GET /partners/feed"]["AuthorizerId"] == {"Ref": "HttpApiAuthorizerPartners"}
    assert "AuthorizationScopes" not in routes["GET /partners/feed"]
    assert routes["GET /orders"]["AuthorizationType"] == "NONE"
    assert "AuthorizerId" not in routes["GET /orders"]


def test_a_lambda_authorizer_invokes_its_function_and_may_be_invoked_as_that_authorizer() -> None:
    document = render(FUNCTIONS, SERVICES, deploy_config())
    authorizer = of_type(document, "AWS::ApiGatewayV2::Authorizer")["HttpApiAuthorizerPartners"]
    properties = authorizer["Properties"]
    assert properties["AuthorizerType"] == "REQUEST"
    assert properties["AuthorizerPayloadFormatVersion"] == "2.0"
    assert properties["EnableSimpleResponses"] is True
    assert properties["AuthorizerResultTtlInSeconds"] == 60
    assert properties["IdentitySource"] == ["$request.header.x-api-key"]
    uri, variables = properties["AuthorizerUri"]["Fn::Sub"]
    assert uri.endswith(":lambda:path/2015-03-31/functions/${Target}/invocations")
    assert variables == {"Target": {"Ref": "PartnersGateLiveAlias"}}
    permission = document["Resources"]["HttpApiPermissionPartners"]["Properties"]
    assert permission["FunctionName"] == {"Ref": "PartnersGateLiveAlias"}
    assert permission["Principal"] == "apigateway.amazonaws.com"
    assert permission["SourceArn"]["Fn::Sub"].endswith(
        ":${HttpApi}/authorizers/${HttpApiAuthorizerPartners}"
    )


def test_without_protected_routes_there_is_no_authorizer() -> None:
    document = render([LIST, GATE], SERVICES, deploy_config())
    assert of_type(document, "AWS::ApiGatewayV2::Authorizer") == {}


def test_the_template_with_both_kinds_passes_cfn_lint() -> None:
    app = application(FUNCTIONS, SERVICES)
    assert lint_findings(template_body(app, deploy_config(), "prod", "acme-artifacts")) == []


def test_a_route_naming_an_authorizer_nobody_declares_is_refused_with_the_fix() -> None:
    with pytest.raises(ConfigError) as caught:
        render([CREATE], SERVICES, config())
    assert "needs the authorizer 'users'" in str(caught.value)
    assert "[tool.lambdapress.deploy.authorizers.users]" in str(caught.value.hint)


def test_scopes_on_a_lambda_authorizer_are_refused() -> None:
    scoped = entry("partners.feed", route("GET /partners/feed", "partners", ("feed:read",)))
    with pytest.raises(ConfigError, match="JWT authorizers only"):
        render([scoped, GATE], SERVICES, deploy_config())


def test_a_stage_without_an_issuer_is_refused_when_the_settings_are_read() -> None:
    path = Path("/nowhere/acme/pyproject.toml")
    table = {"stages": {"prod": {"authorizers": {"admins": {"audiences": ["x"]}}}}}
    with pytest.raises(ConfigError) as caught:
        parse_deploy_config(table, path, "acme")
    assert caught.value.path == path
    assert "'admins' has no issuer on stage 'prod'" in str(caught.value)


def test_an_issuer_must_be_https() -> None:
    table = {"authorizers": {"users": {"issuer": "http://x", "audiences": ["a"]}}}
    with pytest.raises(ConfigError, match="https://"):
        parse_deploy_config(table, Path("/nowhere/pyproject.toml"), "acme")


# -- the SAM rendering ----------------------------------------------------------------------------


def sam(stage: str = "dev") -> dict[str, Any]:
    text = render_sam(application(FUNCTIONS, SERVICES), deploy_config(), stage, "acme-artifacts")
    document: dict[str, Any] = yaml.safe_load(text)
    return document


def test_sam_puts_the_authorizers_on_the_http_api_and_auth_on_the_events() -> None:
    document = sam()
    resources = document["Resources"]
    assert not of_type(document, "AWS::ApiGatewayV2::Authorizer")
    authorizers = resources["HttpApi"]["Properties"]["Auth"]["Authorizers"]
    assert authorizers["users"] == {
        "IdentitySource": "$request.header.Authorization",
        "JwtConfiguration": {"issuer": DEV_ISSUER, "audience": ["dev-client"]},
    }
    assert authorizers["partners"] == {
        "FunctionArn": {"Ref": "PartnersGateFunction.Alias"},
        "AuthorizerPayloadFormatVersion": "2.0",
        "EnableSimpleResponses": True,
        "EnableFunctionDefaultPermissions": True,
        "Identity": {"Headers": ["x-api-key"], "ReauthorizeEvery": 60},
    }
    create = resources["OrdersCreateFunction"]["Properties"]["Events"]["HttpPostOrders"]
    assert create["Properties"]["Auth"] == {
        "Authorizer": "users",
        "AuthorizationScopes": ["orders:write"],
    }
    listing = resources["OrdersListOrdersFunction"]["Properties"]["Events"]["HttpGetOrders"]
    assert "Auth" not in listing["Properties"]


def test_sam_s_translator_writes_both_authorizers_into_the_api() -> None:
    translated = translate(render_sam(application(FUNCTIONS, SERVICES), deploy_config(), "dev"))
    (api,) = of_type(translated, "AWS::ApiGatewayV2::Api").values()
    body = api["Properties"]["Body"]
    schemes = body["components"]["securitySchemes"]
    assert schemes["users"]["x-amazon-apigateway-authorizer"]["type"] == "jwt"
    assert schemes["partners"]["x-amazon-apigateway-authorizer"]["type"] == "request"
    assert body["paths"]["/orders"]["post"]["security"] == [{"users": ["orders:write"]}]
    assert body["paths"]["/partners/feed"]["get"]["security"] == [{"partners": []}]
    assert "security" not in body["paths"]["/orders"]["get"]
    permissions = [
        p["Properties"]
        for p in of_type(translated, "AWS::Lambda::Permission").values()
        if "authorizers" in json.dumps(p["Properties"].get("SourceArn"))
    ]
    assert [p["FunctionName"] for p in permissions] == [{"Ref": "PartnersGateFunctionAliaslive"}]


def test_a_stage_overrides_only_the_keys_it_writes() -> None:
    stages = {"prod": {"authorizers": {"users": {"issuer": PROD_ISSUER}}}}
    settings = config(authorizers=AUTHORIZERS, stages=stages)
    (prod,) = settings.jwt_authorizers("prod").values()
    assert (prod.issuer, prod.audiences) == (PROD_ISSUER, ("dev-client",))
    (dev,) = settings.jwt_authorizers("dev").values()
    assert (dev.issuer, dev.audiences) == (DEV_ISSUER, ("dev-client",))


def test_the_sam_template_with_both_kinds_passes_cfn_lint() -> None:
    text = render_sam(application(FUNCTIONS, SERVICES), deploy_config(), "prod", "acme-artifacts")
    assert lint_findings(text) == []


def test_a_project_wide_authorizer_without_audiences_is_refused_for_stages_without_a_table() -> (
    None
):
    table = {"authorizers": {"users": {"issuer": DEV_ISSUER}}}
    with pytest.raises(ConfigError) as caught:
        parse_deploy_config(table, Path("/nowhere/pyproject.toml"), "acme")
    assert (
        "'users' has no audiences for the stages without a table of their own: set it in "
        "[tool.lambdapress.deploy.authorizers.users]"
    ) in str(caught.value)
