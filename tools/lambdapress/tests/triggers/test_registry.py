"""The trigger-kind registry: built-in kinds by module path, loaded on first lookup; HTTP's facets.

The tool's own uses of each facet (package, template, serve, invoke, bench) are tested where
those commands are; here: what the registry promises, and the HTTP kind's sample events.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from model_functions import model_function

from lambdapress.errors import ConfigError
from lambdapress.model.trigger_kinds import (
    BUILT_IN,
    register_trigger_kind,
    sample_event,
    trigger_kind,
    trigger_kinds,
    unregister_trigger_kind,
)
from lambdapress.triggers.http import KIND, HttpKind

from .tick_kind import TickKind

BUILT_IN_NAMES = [
    "dynamodb-stream",
    "eventbridge",
    "http",
    "http-authorizer",
    "s3",
    "schedule",
    "sns",
    "sqs",
]
KIND_MODULES = [
    "lambdapress.triggers",
    "lambdapress.triggers._authorized",
    "lambdapress.triggers._declarations",
    "lambdapress.triggers._event_kind",
    "lambdapress.triggers._references",
    "lambdapress.triggers.dynamodb_stream",
    "lambdapress.triggers.eventbridge",
    "lambdapress.triggers.http",
    "lambdapress.triggers.http_authorizer",
    "lambdapress.triggers.s3",
    "lambdapress.triggers.schedule",
    "lambdapress.triggers.sns",
    "lambdapress.triggers.sqs",
]


def test_the_built_in_kinds_are_named_once_by_module_and_found_by_name() -> None:
    assert BUILT_IN == (
        "lambdapress.triggers.http",
        "lambdapress.triggers.http_authorizer",
        "lambdapress.triggers.sqs",
        "lambdapress.triggers.sns",
        "lambdapress.triggers.schedule",
        "lambdapress.triggers.eventbridge",
        "lambdapress.triggers.s3",
        "lambdapress.triggers.dynamodb_stream",
    )
    assert trigger_kind("http") is KIND
    assert [kind.name for kind in trigger_kinds()] == BUILT_IN_NAMES


def test_reading_a_manifest_loads_no_kind_and_a_lookup_loads_only_the_kind() -> None:
    """The model reads manifests alone; the kinds' modules (nothing above them) come on lookup.

    A lookup loads every built-in kind (the registry lists them all), and no kind loads the
    emulator or the bundler until a facet that needs it runs.
    """
    script = (
        "import json, sys\n"
        "from lambdapress.model.application import Application\n"
        "Application.model_validate({'functions': []})\n"
        "before = 'lambdapress.triggers.http' in sys.modules\n"
        "from lambdapress.model.trigger_kinds import trigger_kind\n"
        "trigger_kind('http')\n"
        "after = sorted(m for m in sys.modules if m.startswith(('lambdapress.triggers', "
        "'lambdapress.emulator', 'lambdapress.bundle')))\n"
        "print(json.dumps([before, after]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    before, after = json.loads(result.stdout)
    assert before is False
    assert after == KIND_MODULES


def test_an_unknown_kind_is_a_clear_error() -> None:
    known = ", ".join(BUILT_IN_NAMES)
    with pytest.raises(
        ConfigError, match=rf"no trigger kind 'queue' is registered \(known: {known}\)"
    ):
        trigger_kind("queue")


def test_a_second_kind_of_one_name_is_refused_and_unregistering_forgets_it() -> None:
    with pytest.raises(TypeError, match="trigger kind 'http' is registered twice"):
        register_trigger_kind(HttpKind())
    register_trigger_kind(TickKind())
    try:
        assert [kind.name for kind in trigger_kinds()] == [*BUILT_IN_NAMES, "tick"]
    finally:
        unregister_trigger_kind("tick")
    assert [kind.name for kind in trigger_kinds()] == BUILT_IN_NAMES


@pytest.mark.parametrize(
    ("route", "method", "raw_path", "parameters"),
    [
        ("GET /orders", "GET", "/orders", None),
        ("GET /orders/{order_id}", "GET", "/orders/order_id", {"order_id": "order_id"}),
        ("ANY /files/{path+}", "GET", "/files/path", {"path": "path"}),  # ANY: a GET is sent
        ("DELETE /", "DELETE", "/", None),
    ],
)
def test_a_routes_sample_event_is_a_request_to_it(
    route: str, method: str, raw_path: str, parameters: dict[str, str] | None
) -> None:
    event = sample_event(model_function("shop.f", routes=[route, "POST /other"]))
    assert event["routeKey"] == route  # the first route's
    assert event["requestContext"]["http"]["method"] == method
    assert event["rawPath"] == raw_path
    assert event.get("pathParameters") == parameters
    assert event["version"] == "2.0"


def test_a_function_without_triggers_gets_the_empty_event() -> None:
    assert sample_event(model_function("shop.job")) == {}
