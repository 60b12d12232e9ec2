"""`aws_rules` says what AWS says: its rules agree with AWS's own service models, value by value.

botocore ships the API models AWS publishes (`botocore/data/<service>/<version>/service-2.json`);
each rule that a model carries is compared with it on generated strings, so a rule written
wrong (a character too many, a length off by one) fails here.
"""

from __future__ import annotations

import gzip
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import botocore
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdapress.config.aws_rules import (
    BUCKET_NAME_PATTERN,
    ENVIRONMENT_KEY,
    FUNCTION_NAME,
    HANDLER,
    LOG_GROUP_NAME,
    ROLE_NAME,
    TABLE_NAME,
    Rule,
    camel,
    environment_key_problem,
    environment_size,
    is_bucket_name,
    route_key_problem,
    route_path_problem,
)
from lambdapress.deploy.template_ids import camel as template_camel


@cache
def shape(service: str, version: str, name: str) -> dict[str, Any]:
    path = Path(botocore.__file__).parent / "data" / service / version / "service-2.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as model:
        found: dict[str, Any] = json.load(model)["shapes"][name]
    return found


def model_allows(found: dict[str, Any], value: str, longest: int | None = None) -> bool:
    longest = found.get("max", longest if longest is not None else len(value))
    return (
        # AWS's patterns are Java's: `\w` and `\s` are ASCII there
        re.fullmatch(found["pattern"], value, re.ASCII) is not None
        and found.get("min", 0) <= len(value) <= longest
    )


MODELS: dict[str, tuple[Rule, tuple[str, str, str], int | None]] = {
    # rule: (its Rule, the model's service, version and shape, a length the model leaves out)
    "handler": (HANDLER, ("lambda", "2015-03-31", "Handler"), None),
    "log group": (LOG_GROUP_NAME, ("logs", "2014-03-28", "LogGroupName"), None),
    "table": (TABLE_NAME, ("dynamodb", "2012-08-10", "TableName"), None),
    "role": (ROLE_NAME, ("iam", "2010-05-08", "roleNameType"), None),
    "variable": (
        ENVIRONMENT_KEY,
        ("lambda", "2015-03-31", "EnvironmentVariableName"),
        ENVIRONMENT_KEY.max_length,
    ),
}
ALPHABET = st.sampled_from(list("aZ09_-./#@+=,:; \t\\é€😀{}*")) | st.characters(
    blacklist_categories=("Cs",)
)
SAMPLES = st.text(ALPHABET, max_size=12) | st.integers(0, 600).map(lambda n: "a" * n)


@pytest.mark.parametrize("name", list(MODELS))
@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(value=SAMPLES)
def test_each_rule_accepts_exactly_what_aws_s_model_accepts(name: str, value: str) -> None:
    rule, (service, version, shape_name), longest = MODELS[name]
    assert rule.allows(value) == model_allows(shape(service, version, shape_name), value, longest)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(value=SAMPLES)
def test_the_function_name_rule_is_the_models_name_part(value: str) -> None:
    """CreateFunction takes a name or an ARN (140 characters); a name alone has at most 64."""
    found = shape("lambda", "2015-03-31", "FunctionName")
    as_a_name = model_allows(found, value) and ":" not in value and len(value) <= 64
    assert FUNCTION_NAME.allows(value) == as_a_name


def test_a_refusal_says_what_and_why() -> None:
    too_long = FUNCTION_NAME.problem("a" * 65) or ""
    assert too_long.startswith("the Lambda function name 'aaaa")
    assert too_long.endswith("' has 65 characters; AWS allows 64")
    assert "('é')" in (FUNCTION_NAME.problem("café") or "")
    assert TABLE_NAME.problem("ab") == "the DynamoDB table name 'ab' is shorter than 3 characters"


def test_the_environment_is_measured_as_lambda_measures_it() -> None:
    # Lambda's refusal quotes what it measured: {"KEY":"value",...}
    assert environment_size({}) == len("{}")
    assert environment_size({"A1": "x", "B2": "yz"}) == len('{"A1":"x","B2":"yz"}')
    assert environment_size({"Q": 'say "hi"'}) == len('{"Q":"say \\"hi\\""}')
    assert environment_size({"E": "é"}) == len('{"E":"\\u00e9"}')
    assert environment_key_problem("AWS_LAMBDA_EXEC_WRAPPER") is None  # settable, by the docs
    assert "reserved" in (environment_key_problem("AWS_LAMBDA_FUNCTION_NAME") or "")


@pytest.mark.parametrize(
    "path",
    ["/", "/a", "/a/b", "/{a}", "/a/{b}/c", "/{proxy+}", "/a/{b}/{rest+}", "/v1.0/x_y-z"],
)
def test_route_paths_api_gateway_takes(path: str) -> None:
    assert route_path_problem(path) is None
    assert route_key_problem("ANY", path) is None


@pytest.mark.parametrize(
    "path",
    [
        "",
        "a",
        "/a/",
        "//",
        "/a//b",
        "/{a}x",
        "/x{a}",
        "/{a",
        "/a}",
        "/{proxy+}/b",
        "/{a}/{a}",
        "/{1a}",
        "/{a-b}",
        "/.",
        "/..",
        "/a/%20",
        "/a?b",
        "/a#b",
        "/ü",
    ],
)
def test_route_paths_api_gateway_refuses(path: str) -> None:
    assert route_path_problem(path) is not None


def test_a_route_key_needs_a_method_api_gateway_routes() -> None:
    assert "not a method" in (route_key_problem("FETCH", "/a") or "")


def test_the_template_names_resources_with_the_same_words() -> None:
    assert template_camel is camel
    assert camel("orders.get_order") == camel("orders.getOrder") == "OrdersGetOrder"


@pytest.mark.parametrize(
    ("name", "accepted"),
    [
        ("acme-artifacts-123456789012-eu-west-1", True),
        ("a.b-c", True),
        ("abc", True),
        ("ab", False),  # 3 characters at least
        ("a" * 63, True),
        ("a" * 64, False),
        ("Acme", False),  # lowercase only
        ("-acme", False),  # begins and ends with a letter or a digit
        ("a..b", False),  # no two adjacent dots
    ],
)
def test_the_s3_bucket_name_rule(name: str, accepted: bool) -> None:
    """One rule for the deploy bucket, the template's parameter and the shared build cache."""
    from lambdapress.bundle._remote_config import split_url

    assert is_bucket_name(name) is accepted
    if ".." not in name:  # the parameter's pattern says all but the dots rule
        assert (re.match(BUCKET_NAME_PATTERN, name) is not None) is accepted
    if accepted:
        assert split_url(f"s3://{name}/prefix/") == (name, "prefix")
    else:
        with pytest.raises(ValueError, match="not an S3 bucket name"):
            split_url(f"s3://{name}/prefix/")
