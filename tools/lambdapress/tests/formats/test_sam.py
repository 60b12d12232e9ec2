"""The SAM rendering: the CloudFormation stack written SAM's way, and nothing else changed.

Pure, like the CloudFormation tests: models made in memory, templates compared as documents.
The translator's and cfn-lint's views are in test_sam_translation.py and test_format_lint.py.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
import yaml
from deploy.stacks import application, config, entry, service

from lambdapress.deploy.template import template_body
from lambdapress.deploy.template_ids import function_id
from lambdapress.formats._sam import SAM_TRANSFORM, render_sam, sam_document

from .rich import BUCKET, ROUTES, of_type, rich_application, rich_config

# What SAM writes its own way; every other resource passes through.
REWRITTEN = {
    "AWS::Lambda::Function",
    "AWS::Lambda::Version",
    "AWS::Lambda::Alias",
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Stage",
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Route",
}


def both(stage: str = "dev") -> tuple[dict[str, Any], dict[str, Any]]:
    """The rich stack's CloudFormation and SAM templates, parsed."""
    model, settings = rich_application(), rich_config()
    cloudformation = json.loads(template_body(model, settings, stage, BUCKET))
    sam = yaml.safe_load(render_sam(model, settings, stage, BUCKET))
    return cloudformation, sam


def test_a_sam_template_of_the_same_parameters_and_outputs() -> None:
    cloudformation, sam = both()
    assert sam["Transform"] == SAM_TRANSFORM
    for section in ("AWSTemplateFormatVersion", "Description", "Parameters", "Outputs"):
        assert sam[section] == cloudformation[section], section


def test_each_function_is_a_serverless_function_with_the_same_code_role_and_settings() -> None:
    cloudformation, sam = both()
    functions = of_type(cloudformation, "AWS::Lambda::Function")
    serverless = of_type(sam, "AWS::Serverless::Function")
    assert set(serverless) == set(functions)
    for logical_id, function in functions.items():
        before = dict(function["Properties"])
        after = dict(serverless[logical_id]["Properties"])
        code = before.pop("Code")
        assert after.pop("CodeUri") == {"Bucket": {"Ref": "ArtifactBucket"}, "Key": code["S3Key"]}
        assert after.pop("Tags") == {t["Key"]: t["Value"] for t in before.pop("Tags")}
        after.pop("Events", None)
        for added in ("AutoPublishAlias", "AutoPublishAliasAllProperties"):
            after.pop(added, None)
        after.pop("VersionDeletionPolicy", None)
        after.pop("ProvisionedConcurrencyConfig", None)
        assert after == before, logical_id  # role, handler, runtime, memory, environment...
    roles = {f["Properties"]["Role"]["Fn::GetAtt"][0] for f in serverless.values()}
    assert len(roles) == len(serverless)  # each function keeps its own role


def test_every_other_resource_passes_through_unchanged_but_for_the_alias_it_invoked() -> None:
    cloudformation, sam = both()
    kept = {
        logical_id: resource
        for logical_id, resource in cloudformation["Resources"].items()
        if resource["Type"] not in REWRITTEN and not _route_permission(resource)
    }
    rules = {k for k, v in kept.items() if v["Type"] == "AWS::Events::Rule"}
    assert {v["Type"] for v in kept.values()} >= {
        "AWS::DynamoDB::Table",
        "AWS::IAM::Role",
        "AWS::Logs::LogGroup",
        "AWS::Events::Rule",
        "AWS::Lambda::Permission",
    }
    for logical_id, resource in kept.items():
        # Every invoker names its function's alias: `<Function>.Alias` in SAM.
        text = re.sub(
            r'"Ref": "(\w+)LiveAlias"', r'"Ref": "\1Function.Alias"', json.dumps(resource)
        )
        assert sam["Resources"][logical_id] == json.loads(text), logical_id
    assert len(rules) == 2
    warm = sam["Resources"]["CustomersGetCustomerWarmUpRule"]["Properties"]["Targets"][0]
    assert warm["Arn"] == {"Ref": "CustomersGetCustomerFunction.Alias"}


def _route_permission(resource: dict[str, Any]) -> bool:
    return resource["Properties"].get("Principal") == "apigateway.amazonaws.com"


def test_routes_are_http_api_events_one_per_route_key_of_the_model() -> None:
    _, sam = both()
    model = rich_application()
    for function in model.functions:
        properties = sam["Resources"][function_id(function.name)]["Properties"]
        events = properties.get("Events", {})
        assert {
            f"{e['Properties']['Method']} {e['Properties']['Path']}" for e in events.values()
        } == set(ROUTES[function.name])
        for event in events.values():
            assert event["Type"] == "HttpApi"
            assert event["Properties"]["ApiId"] == {"Ref": "HttpApi"}
            assert event["Properties"]["PayloadFormatVersion"] == "2.0"
    events = sam["Resources"]["OrdersApiFunction"]["Properties"]["Events"]
    assert set(events) == {
        "HttpGetRoot",
        "HttpGetOrders",
        "HttpPostOrders",
        "HttpGetOrdersOrderId",
        "HttpDeleteOrdersOrderId",
        "HttpAnyOrdersProxy",
    }


def test_the_api_and_its_stage_are_one_serverless_http_api() -> None:
    cloudformation, sam = both()
    api = cloudformation["Resources"]["HttpApi"]["Properties"]
    stage = cloudformation["Resources"]["HttpApiDefaultStage"]["Properties"]
    assert sam["Resources"]["HttpApi"] == {
        "Type": "AWS::Serverless::HttpApi",
        "Properties": {
            "Name": api["Name"],
            "Description": api["Description"],
            "Tags": api["Tags"],
            "CorsConfiguration": api["CorsConfiguration"],
            "AccessLogSettings": stage["AccessLogSettings"],
        },
    }
    assert not {"AWS::ApiGatewayV2::Stage", "AWS::ApiGatewayV2::Route"} & {
        r["Type"] for r in sam["Resources"].values()
    }


def test_provisioned_concurrency_is_sam_s_auto_published_alias() -> None:
    cloudformation, sam = both()
    alias = cloudformation["Resources"]["CustomersGetCustomerLiveAlias"]["Properties"]
    version = cloudformation["Resources"]["CustomersGetCustomerVersion"]
    properties = sam["Resources"]["CustomersGetCustomerFunction"]["Properties"]
    assert properties["AutoPublishAlias"] == alias["Name"] == "live"
    assert properties["AutoPublishAliasAllProperties"] is True
    assert properties["VersionDeletionPolicy"] == version["DeletionPolicy"] == "Delete"
    assert properties["ProvisionedConcurrencyConfig"] == alias["ProvisionedConcurrencyConfig"]
    others = sam["Resources"]["CustomersListCustomersFunction"]["Properties"]
    assert others["AutoPublishAlias"] == "live"  # every function is published behind `live`
    assert "ProvisionedConcurrencyConfig" not in others
    assert not of_type(sam, "AWS::Lambda::Version") and not of_type(sam, "AWS::Lambda::Alias")


def test_the_same_model_gives_the_same_bytes_in_yaml_without_anchors() -> None:
    first = render_sam(rich_application(), rich_config(), "dev", BUCKET)
    assert render_sam(rich_application(), rich_config(), "dev", BUCKET) == first
    assert "&id" not in first and "*id" not in first
    assert first.startswith("AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless")
    assert max(len(line) for line in first.splitlines()) > 200  # long strings are not folded


def test_the_cloudformation_rendering_it_reads_is_left_as_it_was() -> None:
    cloudformation, _ = both()
    kept = copy.deepcopy(cloudformation)
    sam_document(cloudformation)
    assert cloudformation == kept


def test_a_stack_without_routes_has_no_api_and_no_events() -> None:
    """As the CloudFormation rendering: the HTTP kind renders the API once there is a route."""
    document = yaml.safe_load(
        render_sam(application([entry("shop.nightly")], [service("shop")]), config(), "dev", None)
    )
    assert "HttpApi" not in document["Resources"] and "Outputs" not in document
    assert document["Resources"]["ShopNightlyFunction"]["Type"] == "AWS::Serverless::Function"
    assert "Events" not in document["Resources"]["ShopNightlyFunction"]["Properties"]
    assert "Default" not in document["Parameters"]["ArtifactBucket"]


def test_a_reference_to_what_sam_writes_itself_is_a_bug_said_plainly() -> None:
    """Should the CloudFormation rendering ever point at a route, the SAM one says so."""
    cloudformation, _ = both()
    cloudformation["Resources"]["Extra"] = {
        "Type": "AWS::SSM::Parameter",
        "Properties": {"Type": "String", "Value": {"Ref": "OrdersApiRouteGetOrders"}},
    }
    with pytest.raises(ValueError, match="refers to OrdersApiRouteGetOrders, which it lacks"):
        sam_document(cloudformation)
