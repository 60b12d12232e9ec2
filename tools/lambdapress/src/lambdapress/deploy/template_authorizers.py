"""The HTTP API's authorizers: `AWS::ApiGatewayV2::Authorizer` per name some route needs.

- a JWT authorizer (`config.authorizer_settings`, the stage's issuer and audiences): API
  Gateway fetches the issuer's keys itself, checks the signature, `exp`/`nbf`, the issuer, the
  audience (`aud` or `client_id`) and the route's scopes (`scope`/`scp`: at least one), and
  answers 401 or 403 without invoking anything;
- a Lambda authorizer (`model.authorizers`, a function marked `@triggers.authorizer`): type
  REQUEST, payload 2.0, simple responses, its cache TTL and identity sources, invoked at the
  function's invoke target (`stack.invoke_target`: the alias when it has one) and allowed to
  be by a resource-based permission scoped to this authorizer of this API.

Only authorizers some route names are rendered; a route's `AuthorizationType` is then `JWT`
or `CUSTOM`, with `AuthorizerId` and, for JWT, its `AuthorizationScopes`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lambdapress.config.authorizer_settings import (
    JwtAuthorizer,
    JwtAuthorizerSettings,
    resolve_authorizers,
)
from lambdapress.config.stage_settings import StageSettings
from lambdapress.deploy.template_ids import HTTP_API, authorizer_id
from lambdapress.errors import ConfigError
from lambdapress.model.application import Application
from lambdapress.model.authorizers import (
    LambdaAuthorizer,
    check_route_authorizers,
    lambda_authorizers,
    protected_routes,
)
from lambdapress.model.trigger_kinds import StackBuilder
from lambdapress.model.triggers import HttpRoute

_INVOCATIONS = (
    "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
    "${Target}/invocations"
)


@dataclass(frozen=True)
class Rendered:
    """An authorizer in the stack: its logical id and its route's `AuthorizationType`."""

    logical_id: str
    authorization_type: str

    def route_properties(self, route: HttpRoute) -> dict[str, Any]:
        """What a route it guards says: `AuthorizationType`, `AuthorizerId`, its scopes."""
        properties: dict[str, Any] = {
            "AuthorizationType": self.authorization_type,
            "AuthorizerId": {"Ref": self.logical_id},
        }
        if route.scopes:
            properties["AuthorizationScopes"] = list(route.scopes)
        return properties


def stage_jwt_authorizers(stack: StackBuilder) -> dict[str, JwtAuthorizer]:
    """The stage's JWT authorizers, from the project's settings the stack builder carries."""
    project = stack.setting("authorizers")
    stages = stack.setting("stages")
    own = stages.get(stack.stage) if isinstance(stages, dict) else None
    try:
        return resolve_authorizers(
            _settings(project),
            own.authorizers if isinstance(own, StageSettings) else {},
            stack.stage,
        )
    except ValueError as problem:
        raise ConfigError(str(problem), hint="see [tool.lambdapress.deploy.authorizers]") from None


def _settings(value: object) -> dict[str, JwtAuthorizerSettings]:
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(v, JwtAuthorizerSettings)}


def add_authorizers(stack: StackBuilder, application: Application) -> dict[str, Rendered]:
    """The authorizer of each name some route needs, by name (none: no route names one)."""
    needed = sorted({route.authorizer or "" for _, route in protected_routes(application)})
    if not needed:
        return {}
    jwt = stage_jwt_authorizers(stack)
    check_route_authorizers(application, jwt)
    lambdas = lambda_authorizers(application)
    rendered: dict[str, Rendered] = {}
    for name in needed:
        owner = f"authorizer {name}"
        logical_id = authorizer_id(name)
        if name in lambdas:
            found = lambdas[name]
            target = stack.invoke_target(found.function.name)
            stack.add(logical_id, _request(found, target), owner)
            stack.add(authorizer_id(name, "Permission"), _permission(logical_id, target), owner)
            rendered[name] = Rendered(logical_id, "CUSTOM")
        else:
            stack.add(logical_id, _jwt(jwt[name]), owner)
            rendered[name] = Rendered(logical_id, "JWT")
    return rendered


def _jwt(authorizer: JwtAuthorizer) -> dict[str, Any]:
    return {
        "Type": "AWS::ApiGatewayV2::Authorizer",
        "Properties": {
            "ApiId": {"Ref": HTTP_API},
            "Name": authorizer.name,
            "AuthorizerType": "JWT",
            "IdentitySource": [authorizer.identity_source],
            "JwtConfiguration": {
                "Issuer": authorizer.issuer,
                "Audience": list(authorizer.audiences),
            },
        },
    }


def _request(found: LambdaAuthorizer, target: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "Type": "AWS::ApiGatewayV2::Authorizer",
        "Properties": {
            "ApiId": {"Ref": HTTP_API},
            "Name": found.name,
            "AuthorizerType": "REQUEST",
            "AuthorizerUri": {"Fn::Sub": [_INVOCATIONS, {"Target": dict(target)}]},
            "AuthorizerPayloadFormatVersion": "2.0",
            "EnableSimpleResponses": True,
            "AuthorizerResultTtlInSeconds": found.authorizer.ttl,
            "IdentitySource": list(found.authorizer.identity_source),
        },
    }


def _permission(logical_id: str, target: Mapping[str, Any]) -> dict[str, Any]:
    """API Gateway may invoke the function as this authorizer of this API, nothing else."""
    return {
        "Type": "AWS::Lambda::Permission",
        "Properties": {
            "Action": "lambda:InvokeFunction",
            "FunctionName": dict(target),
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": {
                "Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
                f"${{{HTTP_API}}}/authorizers/${{{logical_id}}}"
            },
        },
    }
