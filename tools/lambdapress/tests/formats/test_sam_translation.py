"""The SAM rendering through AWS's own SAM translator, and the result deployed to moto.

The translator (`samtranslator`, the library CloudFormation's `AWS::Serverless` transform
runs) turns the SAM template into CloudFormation here, in this process and offline; the
result must say what the CloudFormation rendering says: the same functions, code and roles,
the same routes invoking the same function or alias, one permission per route scoped alike,
the same stage and access log, provisioned concurrency on the alias `live`. Then it is
deployed to moto's server (S3, CloudFormation, Lambda) through a change set, as `deploy`
does, after the zips are uploaded under the keys the template names.

moto's CloudFormation creates no API Gateway v2 resource (it skips them with a warning), and
aliases only through the tests' models (`moto_cloudformation`: no provisioned concurrency), so
the deployed stack is the rich one without provisioned concurrency; the API is checked in the
translated template above.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import zipfile
from typing import Any

import boto3
import pytest
import yaml
from deploy.stacks import lint_findings

from lambdapress.config.storage_settings import WARMUP_EVENT
from lambdapress.deploy.template import template_body
from lambdapress.deploy.template_ids import function_id
from lambdapress.formats._sam import render_sam

from .rich import BUCKET, ROUTES, of_type, rich_application, rich_config, translate

_SUB = re.compile(r"\$\{([^}]+)\}")
_ANY = "x-amazon-apigateway-any-method"


def _invoked(document: dict[str, Any], target: Any) -> tuple[str, str]:
    """What an invoker's target names: (the function's logical id, `$LATEST` or the alias)."""
    if "Fn::GetAtt" in target:
        return target["Fn::GetAtt"][0], "$LATEST"
    if "Fn::Sub" in target:  # an OpenAPI integration's URI: `...functions/${X.Arn}/invocations`
        name = _SUB.findall(target["Fn::Sub"])[-1].removesuffix(".Arn")
        return _invoked(document, {"Ref": name})
    resource = document["Resources"][target["Ref"]]
    if resource["Type"] == "AWS::Lambda::Alias":
        properties = resource["Properties"]
        return properties["FunctionName"]["Ref"], properties["Name"]
    return target["Ref"], "$LATEST"


def _cloudformation_routes(document: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Route key -> what it invokes, in the CloudFormation rendering."""
    routes = {}
    for route in of_type(document, "AWS::ApiGatewayV2::Route").values():
        integration = _SUB.findall(route["Properties"]["Target"]["Fn::Sub"])[0]
        uri = document["Resources"][integration]["Properties"]["IntegrationUri"]
        routes[route["Properties"]["RouteKey"]] = _invoked(document, uri)
    return routes


def _translated_routes(document: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Route key -> what it invokes, in the translated API's OpenAPI body."""
    body = document["Resources"]["HttpApi"]["Properties"]["Body"]
    routes = {}
    for path, methods in body["paths"].items():
        for method, operation in methods.items():
            integration = operation["x-amazon-apigateway-integration"]
            assert (integration["type"], integration["payloadFormatVersion"]) == (
                "aws_proxy",
                "2.0",
            )
            key = f"{'ANY' if method == _ANY else method.upper()} {path}"
            routes[key] = _invoked(document, integration["uri"])
    return routes


def _permissions(document: dict[str, Any], principal: str) -> set[tuple[tuple[str, str], str]]:
    """(what it lets be invoked, its SourceArn as one `Fn::Sub` string) of each permission."""
    found = set()
    for permission in of_type(document, "AWS::Lambda::Permission").values():
        properties = permission["Properties"]
        if properties["Principal"] != principal:
            continue
        source = properties["SourceArn"]
        if "Fn::Sub" in source and isinstance(source["Fn::Sub"], list):  # SAM's variables
            text, variables = source["Fn::Sub"]
            for name, value in variables.items():
                replacement = f"${{{value['Ref']}}}" if isinstance(value, dict) else value
                text = text.replace(f"${{{name}}}", replacement)
            source = {"Fn::Sub": text}
        found.add((_invoked(document, properties["FunctionName"]), json.dumps(source)))
    return found


def test_the_translated_template_says_what_the_cloudformation_one_says() -> None:
    model, settings = rich_application(), rich_config()
    cloudformation = json.loads(template_body(model, settings, "dev", BUCKET))
    text = render_sam(model, settings, "dev", BUCKET)
    translated = translate(text)
    document = yaml.safe_load(text)

    def sam(logical_id: str) -> dict[str, Any]:
        properties: dict[str, Any] = document["Resources"][logical_id]["Properties"]
        return properties

    assert not [r for r in translated["Resources"].values() if "Serverless" in r["Type"]]
    functions = of_type(cloudformation, "AWS::Lambda::Function")
    made = of_type(translated, "AWS::Lambda::Function")
    assert set(made) == set(functions)
    for logical_id, function in functions.items():
        expected = dict(function["Properties"])
        actual = dict(made[logical_id]["Properties"])
        # The translator resolves the parameter where it hashes the code location to name
        # a version (AutoPublishAlias); CloudFormation hands it the stack's value.
        versioned = "AutoPublishAlias" in sam(logical_id)
        bucket = BUCKET if versioned else {"Ref": "ArtifactBucket"}
        code = {"S3Bucket": bucket, "S3Key": expected.pop("Code")["S3Key"]}
        assert actual.pop("Code") == code, logical_id
        tags = actual.pop("Tags")
        assert [t for t in tags if t["Key"] != "lambda:createdBy"] == expected.pop("Tags")
        assert actual == expected, logical_id

    assert _translated_routes(translated) == _cloudformation_routes(cloudformation)
    assert set(_translated_routes(translated)) == {r for rs in ROUTES.values() for r in rs}
    api = "apigateway.amazonaws.com"
    assert _permissions(translated, api) == _permissions(cloudformation, api)
    events = "events.amazonaws.com"
    assert _permissions(translated, events) == _permissions(cloudformation, events)

    stage = translated["Resources"]["HttpApiApiGatewayDefaultStage"]["Properties"]
    expected_stage = cloudformation["Resources"]["HttpApiDefaultStage"]["Properties"]
    assert (stage["StageName"], stage["AutoDeploy"]) == ("$default", True)
    assert stage["AccessLogSettings"] == expected_stage["AccessLogSettings"]

    alias = translated["Resources"]["CustomersGetCustomerFunctionAliaslive"]
    assert alias["Properties"]["ProvisionedConcurrencyConfig"] == {
        "ProvisionedConcurrentExecutions": 2
    }
    version = alias["Properties"]["FunctionVersion"]["Fn::GetAtt"][0]
    assert translated["Resources"][version]["DeletionPolicy"] == "Delete"
    rule = translated["Resources"]["CustomersGetCustomerWarmUpRule"]["Properties"]
    assert _invoked(translated, rule["Targets"][0]["Arn"]) == (
        "CustomersGetCustomerFunction",
        "live",
    )
    for logical_id in ("CustomersCustomersTable", "CustomersGetCustomerRole", "OrdersApiRole"):
        assert translated["Resources"][logical_id] == cloudformation["Resources"][logical_id]

    # Every function is auto-published, and the translator resolves each `CodeUri` with the
    # parameters' values to hash the version (CloudFormation's transform gets the stack's
    # values alike), so the translated template no longer refers to `ArtifactBucket`.
    unused = "W2001: Parameter ArtifactBucket not used. (['Parameters', 'ArtifactBucket'])"
    assert lint_findings(json.dumps(translated)) == [unused]


def _zip(name: str) -> bytes:
    """A zip of its own for each function, so its CodeSha256 says which one Lambda got."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("handler.py", date_time=(1980, 1, 1, 0, 0, 0))
        archive.writestr(info, f"def handler(event, context):\n    return {name!r}\n")
    return buffer.getvalue()


@pytest.mark.e2e
def test_the_translated_template_deploys_to_moto_with_each_function_s_own_zip(
    moto_server: object,
) -> None:
    zips = {name: _zip(name) for name in ROUTES}
    digests = {
        name: {
            "sha256": hashlib.sha256(data).hexdigest(),
            "code_sha256": base64.b64encode(hashlib.sha256(data).digest()).decode(),
        }
        for name, data in zips.items()
    }
    model = rich_application(provisioned=False, **digests)
    sam = render_sam(model, rich_config(), "dev", BUCKET)
    translated = translate(sam)

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    serverless = of_type(yaml.safe_load(sam), "AWS::Serverless::Function")
    for function in model.functions:
        key = serverless[function_id(function.name)]["Properties"]["CodeUri"]["Key"]
        s3.put_object(Bucket=BUCKET, Key=key, Body=zips[function.name])
    cloudformation = boto3.client("cloudformation")
    cloudformation.create_change_set(
        StackName="acme-dev",
        ChangeSetName="sam",
        ChangeSetType="CREATE",
        TemplateBody=json.dumps(translated),
        Capabilities=["CAPABILITY_IAM"],
    )
    fast = {"Delay": 1, "MaxAttempts": 60}
    cloudformation.get_waiter("change_set_create_complete").wait(
        StackName="acme-dev", ChangeSetName="sam", WaiterConfig=fast
    )
    cloudformation.execute_change_set(StackName="acme-dev", ChangeSetName="sam")
    cloudformation.get_waiter("stack_create_complete").wait(StackName="acme-dev", WaiterConfig=fast)

    lambda_ = boto3.client("lambda")
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cloudformation.list_stack_resources(StackName="acme-dev")["StackResourceSummaries"]
    }
    for function in model.functions:
        properties = translated["Resources"][function_id(function.name)]["Properties"]
        found = lambda_.get_function(FunctionName=properties["FunctionName"])
        configuration = found["Configuration"]
        assert configuration["CodeSha256"] == function.artifact.code_sha256, function.name
        assert properties["Code"]["S3Key"] in found["Code"]["Location"]
        assert (configuration["Handler"], configuration["Runtime"]) == (
            function.handler,
            function.runtime,
        )
        assert (configuration["MemorySize"], configuration["Timeout"]) == (
            function.memory,
            function.timeout,
        )
        role = physical[function_id(function.name, "Role")]
        assert configuration["Role"].rsplit("/", 1)[1] == role.rsplit("/", 1)[-1]
    get_customer = lambda_.get_function(FunctionName="acme-dev-customers-get_customer")
    variables = get_customer["Configuration"]["Environment"]["Variables"]
    assert variables["CUSTOMERS_TABLE"] == "acme-dev-customers-customers"
    assert get_customer["Concurrency"]["ReservedConcurrentExecutions"] == 5

    rule = physical["CustomersGetCustomerWarmUpRule"]
    (target,) = boto3.client("events").list_targets_by_rule(Rule=rule.rsplit("/", 1)[-1])["Targets"]
    assert target["Arn"] == get_customer["Configuration"]["FunctionArn"] + ":live"
    assert json.loads(target["Input"]) == WARMUP_EVENT
    policy = json.loads(lambda_.get_policy(FunctionName="acme-dev-orders-api")["Policy"])
    assert len(policy["Statement"]) == len(ROUTES["orders.api"])
