"""The template as a whole: the interface `deploy` uses, determinism, and what it refuses."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdapress.config.workspace import Service
from lambdapress.deploy.template import artifact_key, build_template, template_body
from lambdapress.errors import ConfigError
from lambdapress.model.application import Application

from .stacks import application, config, entry, render, service

FUNCTIONS = [
    entry("orders.get_order", "GET /orders/{order_id}"),
    entry("orders.create_order", "POST /orders", environment={"B": "2", "A": "1"}),
    entry("customers.list_customers", "GET /customers", runtime="python3.11"),
]
SERVICES = [
    service("orders", {"functions": {"get_order": {"warm_every_minutes": 5}}}),
    service(
        "customers",
        {"storage": {"kind": "dynamodb", "tables": {"customers": {"partition_key": "id"}}}},
    ),
]


def test_build_template_gives_deploy_what_it_needs() -> None:
    manifest = application(FUNCTIONS, SERVICES)
    stack = build_template(manifest, config(prefix="builds"), "dev", "b1")
    assert stack.stack_name == "acme-dev"
    by_name = {f.function: f for f in stack.functions}
    assert sorted(by_name) == [
        "customers.list_customers",
        "orders.create_order",
        "orders.get_order",
    ]
    get = by_name["orders.get_order"]
    source = manifest.function("orders.get_order")
    assert get.logical_id == "OrdersGetOrderFunction"
    assert get.function_name == "acme-dev-orders-get_order"
    assert (get.service, get.sha256) == ("orders", source.artifact.code_sha256)
    assert (get.code.bucket, get.code.key) == ("b1", f"builds/orders/{source.artifact.sha256}.zip")
    document = json.loads(stack.body)
    code = document["Resources"]["OrdersGetOrderFunction"]["Properties"]["Code"]
    assert code == {"S3Bucket": {"Ref": "ArtifactBucket"}, "S3Key": get.code.key}
    assert document["Parameters"]["ArtifactBucket"]["Default"] == "b1"


def test_artifact_keys_are_content_addressed() -> None:
    assert artifact_key("lambdapress", "orders", "ab" * 32) == f"lambdapress/orders/{'ab' * 32}.zip"


def test_without_a_bucket_the_parameter_has_no_default() -> None:
    document = render(FUNCTIONS, SERVICES, bucket=None)
    parameter = document["Parameters"]["ArtifactBucket"]
    assert "Default" not in parameter
    assert parameter["Type"] == "String"


@settings(max_examples=25, deadline=None)
@given(order=st.permutations(range(len(FUNCTIONS))), services=st.permutations(SERVICES))
def test_same_manifest_same_bytes(order: list[int], services: list[Service]) -> None:
    """The bytes depend on the content only: not on the order of functions, services or keys."""
    model = application(FUNCTIONS, SERVICES)
    expected = template_body(model, config(), "dev", "b")
    shuffled = [model.functions[i] for i in order]
    shuffled = [
        f.model_copy(update={"environment": dict(reversed(f.environment.items()))})
        for f in shuffled
    ]
    resources = tuple(reversed(model.resources)) if services != SERVICES else model.resources
    body = template_body(
        Application(functions=tuple(shuffled), resources=resources), config(), "dev", "b"
    )
    assert body == expected
    assert body.endswith("}\n")
    assert json.loads(body)  # well-formed


def test_the_stage_is_part_of_every_name() -> None:
    dev = render(FUNCTIONS, SERVICES, stage="dev")
    # Production stages roll out gradually by default (CodeDeploy's resources): all at once
    # here, so the two stacks hold the same resources.
    at_once = config(stages={"prod": {"rollout": {"strategy": "all-at-once"}}})
    prod = render(FUNCTIONS, SERVICES, at_once, stage="prod")
    name = "FunctionName"
    assert (
        dev["Resources"]["OrdersGetOrderFunction"]["Properties"][name]
        == "acme-dev-orders-get_order"
    )
    assert (
        prod["Resources"]["OrdersGetOrderFunction"]["Properties"][name]
        == "acme-prod-orders-get_order"
    )
    assert set(dev["Resources"]) == set(prod["Resources"])  # same logical ids


def test_a_bad_stage_is_refused() -> None:
    with pytest.raises(ConfigError, match="not a valid stage name"):
        render(FUNCTIONS, SERVICES, stage="Prod")


def test_a_permission_naming_a_resource_the_model_lacks_is_refused() -> None:
    """A hand-edited manifest: the template never guesses a resource."""
    model = application(FUNCTIONS, SERVICES)
    without_tables = model.model_copy(update={"resources": ()})
    with pytest.raises(ConfigError) as caught:
        template_body(without_tables, config(), "dev")
    assert "no resource 'customers/dynamodb-table/customers' in the manifest" in str(caught.value)
    assert "run `nox -s package` again" in str(caught.value)


def test_more_resources_than_cloudformation_allows_are_refused() -> None:
    many = [entry(f"orders.h{i}", f"GET /h{i}") for i in range(110)]  # 5 resources each
    with pytest.raises(ConfigError) as caught:
        render(many, [service("orders")])
    assert "CloudFormation allows 500 per stack" in str(caught.value)
    assert 'bundle = "service"' in str(caught.value)


def test_the_api_url_is_the_output() -> None:
    document = render(FUNCTIONS, SERVICES)
    assert document["Outputs"]["ApiUrl"]["Value"] == {"Fn::GetAtt": ["HttpApi", "ApiEndpoint"]}
    assert document["AWSTemplateFormatVersion"] == "2010-09-09"
