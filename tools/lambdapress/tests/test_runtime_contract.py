"""The names the tool and lambdapress-runtime share: the runtime cannot import the tool (it
ships in Lambda zips), so each defines them and this test keeps the two equal."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lambdapress_runtime
from lambdapress.config.event_settings import REFERENCE
from lambdapress.config.storage_settings import WARMUP_EVENT
from lambdapress.emulator import pytest_plugin
from lambdapress.model.config_resources import Secret, config_environment
from lambdapress.model.resources import ADDRESS_VARIABLES, environment_name
from lambdapress_runtime import secrets as runtime_secrets
from lambdapress_runtime import triggers

PROPERTIES = settings(
    max_examples=int(os.environ.get("LAMBDAPRESS_PROPERTY_EXAMPLES", "60")),
    deadline=None,
    derandomize=True,
    database=None,
)
SUFFIXES = sorted({suffix for suffixes in ADDRESS_VARIABLES.values() for suffix in suffixes})
HANDLES = {  # the handle of each resource kind, and what it reads its address as
    "sqs-queue": (triggers.Queue, "url", "QUEUE_URL"),
    "sns-topic": (triggers.Topic, "arn", "TOPIC_ARN"),
    "event-bus": (triggers.Bus, "bus_name", "BUS_NAME"),
    "s3-bucket": (triggers.Bucket, "bucket_name", "BUCKET_NAME"),
}


def test_the_warmup_event_is_the_one_the_runtime_answers() -> None:
    assert lambdapress_runtime.WARMUP_EVENT == WARMUP_EVENT
    assert lambdapress_runtime.is_warmup(dict(WARMUP_EVENT))


def test_strict_mode_is_switched_by_the_variable_the_runtime_reads() -> None:
    assert pytest_plugin.STRICT_ENV == lambdapress_runtime.STRICT_ENV


@PROPERTIES
@given(st.from_regex(REFERENCE, fullmatch=True), st.sampled_from(SUFFIXES))
def test_the_variable_of_a_used_resource_is_named_alike(reference: str, suffix: str) -> None:
    """What the tool sets for a resource's address is what the runtime's handles read."""
    assert environment_name(reference, suffix) == triggers.environment_name(reference, suffix)


@pytest.mark.parametrize("kind", sorted(HANDLES))
def test_each_handle_reads_a_variable_the_tool_sets_for_its_kind(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    handle, attribute, suffix = HANDLES[kind]
    assert suffix in ADDRESS_VARIABLES[kind]
    variable = environment_name("orders/order-events", suffix)
    monkeypatch.setenv(variable, "the-address")
    assert getattr(handle("orders/order-events"), attribute) == "the-address"
    assert set(HANDLES) == set(ADDRESS_VARIABLES)


def test_the_tools_variable_names_are_the_runtimes() -> None:
    declared = Secret(service="s", name="shared-token", secret_name="x", max_age=7)
    assert sorted(config_environment(declared, "acme", "dev")) == [
        "SHARED_TOKEN_SECRET_MAX_AGE",
        "SHARED_TOKEN_SECRET_NAME",
    ]
    with pytest.raises(lambdapress_runtime.SettingsError) as error:
        runtime_secrets.secret("shared-token", environ={})
    assert error.value.variables == ("SHARED_TOKEN_SECRET_NAME",)


def test_the_variables_a_stage_adds_are_the_ones_the_runtime_and_template_read() -> None:
    """The proxy's endpoint and tracing's switch: named once in the tool, read by name there."""
    from lambdapress.config.network_settings import DATABASE_PROXY_HOST_ENV
    from lambdapress.config.observability_settings import TRACING_ENV

    assert runtime_secrets.PROXY_HOST_ENV == DATABASE_PROXY_HOST_ENV
    repository = Path(__file__).resolve().parents[3]
    tracing = (repository / "template/service/src/{{ resource }}/tracing.py.jinja").read_text()
    assert f'os.environ.get("{TRACING_ENV}") != "xray"' in tracing
