"""The SAM format: the stage's stack as an AWS SAM template, for pipelines that already run SAM.

It is the CloudFormation rendering (`deploy.template.template_body`) rewritten, never a second
reading of the model: the same functions, roles, tables, log groups, rules and outputs, the
same `ArtifactBucket` parameter and the same S3 keys, so both formats deploy the same zips.
What SAM has words for is written SAM's way:

- each `AWS::Lambda::Function` becomes an `AWS::Serverless::Function` (`CodeUri` with `Bucket`
  and `Key`, `Tags` as a map), keeping its own role, log group and settings;
- its HTTP routes become `HttpApi` events on the `AWS::Serverless::HttpApi` called `HttpApi`
  (a protected route's `Auth` names its authorizer and scopes, the authorizers are the API's
  `Auth.Authorizers`),
  which takes the API's properties and its `$default` stage's access log: the translator
  writes the routes (as the API's OpenAPI body), the integrations (payload 2.0) and one
  invoke permission per route, scoped to the route as the CloudFormation ones are;
- every function's version and `live` alias become `AutoPublishAlias: live` (with
  `ProvisionedConcurrencyConfig` when set; a new version exactly when the code or any property
  changes: `AutoPublishAliasAllProperties`; old versions deleted: `VersionDeletionPolicy`),
  and what invoked the alias names `<Function>.Alias`; SnapStart's `SnapStart` property is
  SAM's own too, and passes through;
- a gradual rollout (the alias's `CodeDeployLambdaAliasUpdate`) becomes the function's
  `DeploymentPreference` (`Type`, `Alarms`, `Hooks`, and `Role`: the stack's CodeDeploy role,
  so SAM makes none): the deployment groups and the CodeDeploy application go, SAM makes its
  own (`ServerlessDeploymentApplication`, `<Function>DeploymentGroup`), and what named them
  (the hooks' permission to report) names SAM's.
- what named the `$default` stage (a custom domain's API mapping) names `HttpApi.Stage`.

Everything else passes through as it is: a SAM template may hold any CloudFormation resource,
so what a new trigger kind or storage backend adds to the CloudFormation rendering appears
here unchanged. The README ("The SAM template") lists every difference from the CloudFormation
rendering. The text is YAML, as SAM's tools and documentation write it, deterministic: the
same model and stage settings give the same bytes.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from lambdapress.config.aws_rules import camel
from lambdapress.deploy.config import DeployConfig
from lambdapress.deploy.template import template_body
from lambdapress.deploy.template_functions import LIVE_ALIAS
from lambdapress.deploy.template_ids import HTTP_API, HTTP_API_STAGE
from lambdapress.formats.registry import OutputFormat, register_output_format
from lambdapress.model.application import Application
from lambdapress.model.resources import DELETED_WITH_STACK

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
_FUNCTION = "AWS::Lambda::Function"
_SECTIONS = ("AWSTemplateFormatVersion", "Transform", "Description", "Parameters", "Resources")
_INTEGRATION_TARGET = re.compile(r"^integrations/\$\{([A-Za-z0-9]+)\}$")
_SUB_NAME = re.compile(r"\$\{([^}!][^}]*)\}")
_PREDEFINED_CONFIG = "CodeDeployDefault.Lambda"
_SAM_APPLICATION = "ServerlessDeploymentApplication"
_HOOKS = {"BeforeAllowTrafficHook": "PreTraffic", "AfterAllowTrafficHook": "PostTraffic"}
_SAM_IDENTITY = {
    "$request.header": "Headers",
    "$request.querystring": "QueryStrings",
    "$stageVariables": "StageVariables",
    "$context": "Context",
}


def render_sam(
    application: Application, config: DeployConfig, stage: str, bucket: str | None = None
) -> str:
    """The stage's SAM template (YAML): the CloudFormation rendering, written SAM's way."""
    cloudformation = json.loads(template_body(application, config, stage, bucket))
    return sam_text(sam_document(cloudformation))


def sam_document(cloudformation: dict[str, Any]) -> dict[str, Any]:
    """The SAM template of a CloudFormation rendering (a parsed `template_body`, left as is)."""
    resources: dict[str, Any] = copy.deepcopy(cloudformation["Resources"])
    aliases = _take_live_aliases(resources)
    codedeploy_names = _take_codedeploy(resources, aliases)
    authorizers = _take_authorizers(resources)
    events = _take_http_routes(resources, aliases, authorizers)
    _serverless_http_api(resources, authorizers)
    for logical_id, resource in resources.items():
        if resource["Type"] == _FUNCTION:
            alias = next((a for a in aliases.values() if a.function == logical_id), None)
            resources[logical_id] = _serverless_function(resource, events.get(logical_id), alias)
    renamed = {alias_id: f"{alias.function}.Alias" for alias_id, alias in aliases.items()}
    renamed.update(codedeploy_names)
    if HTTP_API_STAGE in cloudformation["Resources"] and HTTP_API_STAGE not in resources:
        renamed[HTTP_API_STAGE] = f"{HTTP_API}.Stage"  # what names the stage SAM makes
    document: dict[str, Any] = {
        "AWSTemplateFormatVersion": cloudformation["AWSTemplateFormatVersion"],
        "Transform": SAM_TRANSFORM,
        "Description": cloudformation["Description"],
        "Parameters": cloudformation["Parameters"],
        "Resources": _renamed_refs(resources, renamed),
    }
    if "Outputs" in cloudformation:
        document["Outputs"] = _renamed_refs(cloudformation["Outputs"], renamed)
    _check_references(document, set(codedeploy_names.values()))
    return document


@dataclass(frozen=True)
class _LiveAlias:
    """What a function's `live` alias and its version said, for SAM to make them again."""

    function: str
    """The logical id of the function."""
    deletion_policy: str
    provisioned: dict[str, Any] | None
    update: dict[str, Any] | None
    """The alias's `CodeDeployLambdaAliasUpdate`, when CodeDeploy shifts its traffic."""
    preference: dict[str, Any] | None = None
    """The function's `DeploymentPreference`, made from `update` (`_take_codedeploy`)."""


def _take_live_aliases(resources: dict[str, Any]) -> dict[str, _LiveAlias]:
    """Remove each function's version and `live` alias; what they said, by the alias's id."""
    found: dict[str, _LiveAlias] = {}
    for logical_id, resource in list(resources.items()):
        properties = resource.get("Properties", {})
        if resource["Type"] != "AWS::Lambda::Alias" or properties.get("Name") != LIVE_ALIAS:
            continue
        function = _ref(properties["FunctionName"])
        version_id = _get_att(properties["FunctionVersion"], "Version") or ""
        version = resources.pop(version_id, None)
        if function is None or version is None or version["Type"] != "AWS::Lambda::Version":
            raise ValueError(f"{logical_id}: an alias lambdapress did not write (a bug)")
        found[logical_id] = _LiveAlias(
            function=function,
            deletion_policy=version.get("DeletionPolicy", DELETED_WITH_STACK["DeletionPolicy"]),
            provisioned=properties.get("ProvisionedConcurrencyConfig"),
            update=resource.get("UpdatePolicy", {}).get("CodeDeployLambdaAliasUpdate"),
        )
        del resources[logical_id]
    return found


def _take_codedeploy(resources: dict[str, Any], aliases: dict[str, _LiveAlias]) -> dict[str, str]:
    """Each gradual alias's deployment group as its function's `DeploymentPreference`.

    Removes the groups and the application (SAM makes its own); returns the ids SAM gives them
    (`ServerlessDeploymentApplication`, `<Function>DeploymentGroup`) by the removed ids.
    """
    renamed: dict[str, str] = {}
    for alias_id, alias in list(aliases.items()):
        if alias.update is None:
            continue
        group_id = _ref(alias.update["DeploymentGroupName"]) or ""
        application_id = _ref(alias.update["ApplicationName"]) or ""
        group = resources.pop(group_id, None)
        if group is None or group["Type"] != "AWS::CodeDeploy::DeploymentGroup":
            raise ValueError(f"{alias_id}: an update policy lambdapress did not write (a bug)")
        properties = group["Properties"]
        config = properties["DeploymentConfigName"]
        preference: dict[str, Any] = {
            "Type": config.removeprefix(_PREDEFINED_CONFIG) if isinstance(config, str) else config,
            "Alarms": [alarm["Name"] for alarm in properties["AlarmConfiguration"]["Alarms"]],
            "Role": properties["ServiceRoleArn"],
        }
        hooks = {
            sam: alias.update[cloudformation]
            for cloudformation, sam in _HOOKS.items()
            if cloudformation in alias.update
        }
        if hooks:
            preference["Hooks"] = hooks
        aliases[alias_id] = dataclasses.replace(alias, preference=preference)
        renamed[group_id] = f"{alias.function}DeploymentGroup"
        renamed[application_id] = _SAM_APPLICATION
    for old, new in renamed.items():
        if new == _SAM_APPLICATION:
            resources.pop(old, None)
    return renamed


def _take_authorizers(resources: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Remove the API's authorizers; each as SAM's `Auth.Authorizers` entry, by logical id.

    A JWT authorizer keeps its issuer, audiences and identity source (SAM's keys in lowercase:
    they go into the API's OpenAPI body); a Lambda one its function, payload version, simple
    responses, identity sources and TTL (`Identity`), and SAM's own invoke permission
    (`EnableFunctionDefaultPermissions`) replaces the stack's, removed with the routes'.
    """
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for logical_id, resource in list(resources.items()):
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::ApiGatewayV2::Authorizer" and (
            _ref(properties["ApiId"]) == HTTP_API
        ):
            found[logical_id] = (properties["Name"], _sam_authorizer(properties))
            del resources[logical_id]
    return found


def _sam_authorizer(properties: dict[str, Any]) -> dict[str, Any]:
    """One `AWS::ApiGatewayV2::Authorizer`'s properties as SAM's `Auth.Authorizers` entry."""
    if properties["AuthorizerType"] == "JWT":
        jwt = properties["JwtConfiguration"]
        return {
            "IdentitySource": properties["IdentitySource"][0],
            "JwtConfiguration": {"issuer": jwt["Issuer"], "audience": jwt["Audience"]},
        }
    identity: dict[str, Any] = {}
    for source in properties["IdentitySource"]:
        prefix = next(p for p in _SAM_IDENTITY if source.startswith(p + "."))
        identity.setdefault(_SAM_IDENTITY[prefix], []).append(source[len(prefix) + 1 :])
    identity["ReauthorizeEvery"] = properties["AuthorizerResultTtlInSeconds"]
    return {
        "FunctionArn": properties["AuthorizerUri"]["Fn::Sub"][1]["Target"],
        "AuthorizerPayloadFormatVersion": properties["AuthorizerPayloadFormatVersion"],
        "EnableSimpleResponses": properties["EnableSimpleResponses"],
        "EnableFunctionDefaultPermissions": True,
        "Identity": identity,
    }


def _take_http_routes(
    resources: dict[str, Any],
    aliases: dict[str, _LiveAlias],
    authorizers: dict[str, tuple[str, dict[str, Any]]],
) -> dict[str, dict[str, Any]]:
    """Remove the API's routes, integrations and invoke permissions; each route as an event.

    Returns the events by the logical id of the function each route invokes.
    """
    events: dict[str, dict[str, Any]] = {}
    integrations: set[str] = set()
    for logical_id, resource in list(resources.items()):
        properties = resource.get("Properties", {})
        if resource["Type"] != "AWS::ApiGatewayV2::Route" or _ref(properties["ApiId"]) != HTTP_API:
            continue
        target = _INTEGRATION_TARGET.match(properties["Target"]["Fn::Sub"])
        if target is None:
            raise ValueError(f"{logical_id}: a route lambdapress did not write (a bug)")
        integration = resources[target.group(1)]["Properties"]
        function = _invoked_function(integration["IntegrationUri"], aliases)
        method, path = properties["RouteKey"].split(" ", 1)
        name = "Http" + camel(method.lower()) + (camel(path) or "Root")
        event: dict[str, Any] = {
            "ApiId": {"Ref": HTTP_API},
            "Method": method,
            "Path": path,
            "PayloadFormatVersion": integration["PayloadFormatVersion"],
        }
        guard = _ref(properties.get("AuthorizerId"))
        if guard is not None:
            event["Auth"] = {"Authorizer": authorizers[guard][0]}
            if "AuthorizationScopes" in properties:
                event["Auth"]["AuthorizationScopes"] = properties["AuthorizationScopes"]
        events.setdefault(function, {})[name] = {"Type": "HttpApi", "Properties": event}
        integrations.add(target.group(1))
        del resources[logical_id]
    for logical_id in integrations:
        del resources[logical_id]
    for logical_id, resource in list(resources.items()):
        if _is_route_permission(resource):
            del resources[logical_id]
    return events


def _invoked_function(target: Any, aliases: dict[str, _LiveAlias]) -> str:
    """The logical id of the function an integration invokes (itself, or its `live` alias)."""
    function = _get_att(target, "Arn")
    alias = _ref(target)
    if function is None and alias in aliases:
        function = aliases[alias].function
    if function is None:
        raise ValueError(f"an integration invokes {target!r}, not a function (a bug)")
    return function


def _is_route_permission(resource: dict[str, Any]) -> bool:
    """API Gateway's permission to invoke a function for one route of the stack's API."""
    properties = resource.get("Properties", {})
    source = properties.get("SourceArn")
    return (
        resource["Type"] == "AWS::Lambda::Permission"
        and properties.get("Principal") == "apigateway.amazonaws.com"
        and isinstance(source, dict)
        and f"${{{HTTP_API}}}/" in str(source.get("Fn::Sub", ""))
    )


def _serverless_http_api(
    resources: dict[str, Any], authorizers: dict[str, tuple[str, dict[str, Any]]]
) -> None:
    """The API, its `$default` stage and its authorizers as one `AWS::Serverless::HttpApi`.

    SAM's HTTP API without a `StageName` has exactly that stage, deployed automatically; no
    `DefaultAuthorizer`, so a route without `Auth` is open, as in the CloudFormation rendering.
    """
    api = resources.get(HTTP_API)
    if api is None or api["Type"] != "AWS::ApiGatewayV2::Api":
        return
    properties = {k: v for k, v in api["Properties"].items() if k != "ProtocolType"}
    for logical_id, resource in list(resources.items()):
        stage = resource.get("Properties", {})
        if resource["Type"] == "AWS::ApiGatewayV2::Stage" and _ref(stage["ApiId"]) == HTTP_API:
            if stage.get("StageName") != "$default" or stage.get("AutoDeploy") is not True:
                raise ValueError(f"{logical_id}: a stage lambdapress did not write (a bug)")
            if "AccessLogSettings" in stage:
                properties["AccessLogSettings"] = stage["AccessLogSettings"]
            del resources[logical_id]
    if authorizers:
        properties["Auth"] = {"Authorizers": dict(sorted(authorizers.values()))}
    resources[HTTP_API] = {"Type": "AWS::Serverless::HttpApi", "Properties": properties}


def _serverless_function(
    resource: dict[str, Any], events: dict[str, Any] | None, alias: _LiveAlias | None
) -> dict[str, Any]:
    """An `AWS::Lambda::Function` as an `AWS::Serverless::Function` (same settings)."""
    properties = dict(resource["Properties"])
    code = properties.pop("Code")
    properties["CodeUri"] = {"Bucket": code["S3Bucket"], "Key": code["S3Key"]}
    tracing = properties.pop("TracingConfig", None)
    if tracing is not None:  # SAM's name for it; the role's X-Ray statement is kept as is
        properties["Tracing"] = tracing["Mode"]
    if "Tags" in properties:
        properties["Tags"] = {tag["Key"]: tag["Value"] for tag in properties["Tags"]}
    if events:
        properties["Events"] = events
    if alias is not None:
        properties["AutoPublishAlias"] = LIVE_ALIAS
        properties["AutoPublishAliasAllProperties"] = True
        properties["VersionDeletionPolicy"] = alias.deletion_policy
        if alias.provisioned is not None:
            properties["ProvisionedConcurrencyConfig"] = alias.provisioned
        if alias.preference is not None:
            properties["DeploymentPreference"] = alias.preference
    return {**resource, "Type": "AWS::Serverless::Function", "Properties": properties}


def _ref(value: Any) -> str | None:
    """The logical id in `{"Ref": id}`, else None."""
    if isinstance(value, dict) and list(value) == ["Ref"] and isinstance(value["Ref"], str):
        return value["Ref"]
    return None


def _get_att(value: Any, attribute: str) -> str | None:
    """The logical id in `{"Fn::GetAtt": [id, attribute]}`, else None."""
    if isinstance(value, dict) and list(value) == ["Fn::GetAtt"]:
        target = value["Fn::GetAtt"]
        if isinstance(target, list) and len(target) == 2 and target[1] == attribute:
            return str(target[0])
    return None


def _renamed_refs(value: Any, renamed: dict[str, str]) -> Any:
    """`value` with each `{"Ref": old}` (and `${old}` of an `Fn::Sub`) of `renamed` made new."""
    if isinstance(value, dict):
        target = _ref(value)
        if target in renamed:
            return {"Ref": renamed[target]}
        text = value.get("Fn::Sub")
        if list(value) == ["Fn::Sub"] and isinstance(text, str):
            return {"Fn::Sub": _SUB_NAME.sub(lambda m: f"${{{renamed.get(m[1], m[1])}}}", text)}
        return {key: _renamed_refs(item, renamed) for key, item in value.items()}
    if isinstance(value, list):
        return [_renamed_refs(item, renamed) for item in value]
    return value


def _check_references(document: dict[str, Any], generated: set[str]) -> None:
    """Every `Ref`, `Fn::GetAtt` and `${...}` names a parameter or resource of the template.

    A resource of the CloudFormation rendering that named one this module removed (a route,
    an alias) would otherwise reach SAM as a dangling reference: a bug, said here. `generated`
    are the ids SAM's translator makes (the CodeDeploy application and groups).
    """
    known = {*document["Parameters"], *document["Resources"], *generated}
    for name in _references(document):
        logical_id = name.removesuffix(".Alias").removesuffix(".Stage")
        if not name.startswith("AWS::") and logical_id not in known:
            raise ValueError(f"the SAM template refers to {name}, which it lacks (a bug)")


def _references(value: Any) -> Iterator[str]:
    """The names `value` refers to through `Ref`, `Fn::GetAtt` and `Fn::Sub`."""
    if isinstance(value, list):
        for item in value:
            yield from _references(item)
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        if key == "Ref" and isinstance(item, str):
            yield item
        elif key == "Fn::GetAtt" and isinstance(item, list) and item:
            yield str(item[0])
        elif key == "Fn::Sub" and isinstance(item, str):
            yield from (name.split(".")[0] for name in _SUB_NAME.findall(item))
        else:
            yield from _references(item)


class _Dumper(yaml.SafeDumper):
    """YAML without anchors: a SAM template is read by people and by other YAML tools.

    The pure-Python emitter, never libyaml's: the same bytes on every machine, whichever
    PyYAML build it has (rendering the richest test stack takes about 16 ms).
    """

    def ignore_aliases(self, data: Any) -> bool:
        """Write a value again where it recurs, never as `*id001`."""
        return True


def sam_text(document: dict[str, Any]) -> str:
    """`document` as YAML; the same document gives the same bytes.

    Sections in CloudFormation's order, `Type` first in each resource, every other key sorted,
    no line folded.
    """
    ordered = {section: document[section] for section in _SECTIONS}
    ordered["Resources"] = {
        logical_id: {"Type": resource["Type"], **_sorted(resource)}
        for logical_id, resource in sorted(document["Resources"].items())
    }
    ordered = {k: v if k == "Resources" else _sorted(v) for k, v in ordered.items()}
    if "Outputs" in document:
        ordered["Outputs"] = _sorted(document["Outputs"])
    return yaml.dump(
        ordered,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1_000_000,
    )


def _sorted(value: Any) -> Any:
    """`value` with every mapping's keys in sorted order."""
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


SAM = register_output_format(
    OutputFormat(
        name="sam",
        suffix=".yaml",
        description="an AWS SAM template of the same stack and zips (YAML)",
        render=render_sam,
    )
)
