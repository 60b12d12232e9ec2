"""A trigger kind of the tests' own (`tick_kind`), registered here and nowhere else in the tool.

It is discovered by `package` in a handler module, validated (a bad declaration fails with its
file and line, two functions on one tick are refused), recorded in the manifest and its JSON
Schema, given the permission it implies, rendered into the stack (cfn-lint clean; SAM too),
delivered by `serve` to the function's artifact under the official runtime client, and sent as a
sample by `invoke --sample`. Each test checks one facet through the tool's own commands, so a
facet the registry does not reach fails here; the last one shows the registration is what wires
it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.api import ManualArgs, lint  # type: ignore[import-untyped]

from lambdapress.bundle.pipeline import package
from lambdapress.cli import main
from lambdapress.deploy.config import DeployConfig
from lambdapress.deploy.template import template_body
from lambdapress.emulator import Emulator, ServeOptions, serve
from lambdapress.errors import BundleError, ConfigError
from lambdapress.formats._sam import render_sam
from lambdapress.model.manifest import manifest_path, manifest_schema, read_manifest
from lambdapress.model.trigger_kinds import register_trigger_kind, unregister_trigger_kind

from .tick_kind import DEFAULT_BUS, Tick, TickDelivery, TickKind

WEB = """
class APIGatewayHttpResolver:
    def get(self, path):
        return lambda function: function

    def resolve(self, event, context):
        return {"statusCode": 200, "body": "{}"}
"""
MODULES = {
    "services/shop/src/shop/web.py": WEB,
    "services/shop/src/shop/handlers/greet.py": """
from shop.web import APIGatewayHttpResolver

app = APIGatewayHttpResolver()


@app.get("/greet")
def greet():
    return {"greeting": "hello"}


def handler(event, context):
    return app.resolve(event, context)
""",
    "services/shop/src/shop/handlers/cleanup.py": """
TICKS = {
    "cleanup": 5,
}


def handler(event, context):
    return {"ticked": event["detail-type"], "rule": event["resources"][0]}
""",
}
CLEANUP = "services/shop/src/shop/handlers/cleanup.py"
WITHIN = 60.0
"""Seconds: a bound on waiting for the ticker, not a measurement."""


@pytest.fixture
def tick_kind() -> Iterator[TickKind]:
    """The kind, registered for one test (its registration is all the tool learns of it)."""
    kind = TickKind()
    register_trigger_kind(kind)
    try:
        yield kind
    finally:
        unregister_trigger_kind("tick")


@pytest.fixture
def shop(bare_workspace: Any, runtime_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The workspace: `shop.greet` on GET /greet and `shop.cleanup` on the tick `cleanup`."""
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(runtime_cache))
    root: Path = bare_workspace(MODULES)
    return root


def test_package_discovers_records_and_permits_it(shop: Path, tick_kind: TickKind) -> None:
    manifest = package(shop, jobs=1).manifest
    cleanup = manifest.function("shop.cleanup")
    assert cleanup.triggers == (Tick(name="cleanup", every_minutes=5),)
    assert [t.kind for t in manifest.function("shop.greet").triggers] == ["http"]
    granted = [p for p in cleanup.permissions if p.actions == ("events:PutEvents",)]
    assert [p.resources for p in granted] == [(DEFAULT_BUS,)]
    assert not any(
        p.actions == ("events:PutEvents",) for p in manifest.function("shop.greet").permissions
    )

    again = read_manifest(manifest_path(shop))  # read back as its kind's class
    assert again == manifest and isinstance(again.function("shop.cleanup").triggers[0], Tick)
    schema = manifest_schema()
    assert schema["$defs"]["Tick"]["properties"]["kind"]["const"] == "tick"
    assert {"$ref": "#/$defs/Tick"} in schema["$defs"]["Trigger"]["oneOf"]


def test_a_bad_declaration_fails_package_at_its_line(
    shop: Path, tick_kind: TickKind, capsys: pytest.CaptureFixture[str]
) -> None:
    module = shop / CLEANUP
    module.write_text(module.read_text().replace('"cleanup": 5', '"cleanup": 0'))
    assert main(["package", "--root", str(shop)]) == 1
    error = capsys.readouterr().err
    assert (
        f"{module}:2" in error
        and "tick 'cleanup'" in error
        and "greater than or equal to 1" in error
    )
    assert not manifest_path(shop).exists()  # nothing written


def test_two_functions_on_one_tick_are_refused_naming_both(shop: Path, tick_kind: TickKind) -> None:
    other = shop / "services/shop/src/shop/handlers/sweep.py"
    other.write_text('TICKS = {"cleanup": 10}\n\n\ndef handler(event, context):\n    return {}\n')
    with pytest.raises(BundleError, match="tick 'cleanup' is declared twice") as caught:
        package(shop, jobs=1)
    assert (caught.value.path, caught.value.line) == (other, 1)
    assert f"{shop / CLEANUP}:2" in caught.value.message


def test_the_stack_has_its_rule_and_permission_and_lints_clean(
    shop: Path, tick_kind: TickKind
) -> None:
    manifest = package(shop, jobs=1).manifest
    document = json.loads(template_body(manifest, DeployConfig(project="shop"), "dev", "bucket"))
    rule = document["Resources"]["ShopCleanupTickCleanupRule"]
    assert rule["Type"] == "AWS::Events::Rule"
    assert rule["Properties"]["ScheduleExpression"] == "rate(5 minutes)"
    assert rule["Properties"]["Targets"][0]["Arn"] == {"Ref": "ShopCleanupLiveAlias"}
    allowed = document["Resources"]["ShopCleanupTickCleanupPermission"]["Properties"]
    assert allowed["Principal"] == "events.amazonaws.com"
    assert allowed["SourceArn"] == {"Fn::GetAtt": ["ShopCleanupTickCleanupRule", "Arn"]}
    policies = document["Resources"]["ShopCleanupRole"]["Properties"]["Policies"]
    assert "events:PutEvents" in json.dumps(policies)
    assert "HttpApi" in document["Resources"]  # the built-in kind renders alongside
    findings = lint(
        json.dumps(document), config=ManualArgs(regions=["us-east-1"], include_checks=["I"])
    )
    assert [f"{m.rule.id}: {m.message}" for m in findings] == []
    sam = yaml.safe_load(render_sam(manifest, DeployConfig(project="shop"), "dev", "bucket"))
    assert sam["Resources"]["ShopCleanupTickCleanupRule"]["Type"] == "AWS::Events::Rule"


def test_serve_delivers_ticks_to_the_artifact(
    shop: Path, tick_kind: TickKind, runtime_cache: Path
) -> None:
    manifest = package(shop, jobs=1).manifest
    delivered: list[TickDelivery] = []
    arrived = threading.Event()

    def on_delivery(record: object) -> None:
        if isinstance(record, TickDelivery):
            delivered.append(record)
            arrived.set()

    with (
        Emulator(manifest, shop, cache_dir=runtime_cache) as emulator,
        serve(emulator, ServeOptions(lambda_port=None, on_delivery=on_delivery)) as serving,
    ):
        assert sorted(serving.sources) == ["http", "tick"]
        assert arrived.wait(WITHIN), "the ticker delivered nothing"
    (first, *_) = delivered
    assert (first.function, first.tick) == ("shop.cleanup", "cleanup")
    assert first.result.error is None, first.result.error
    assert json.loads(first.result.payload) == {
        "ticked": "Scheduled Event",
        "rule": "arn:aws:events:us-east-1:123456789012:rule/tick-cleanup",
    }
    assert "INIT_START" in first.result.readable_logs()  # awslambdaric, in a worker of its own


def test_invoke_sample_sends_its_event(
    shop: Path, tick_kind: TickKind, capsys: pytest.CaptureFixture[str]
) -> None:
    package(shop, jobs=1)
    capsys.readouterr()
    assert main(["invoke", "shop.cleanup", "--sample", "--root", str(shop)]) == 0
    assert json.loads(capsys.readouterr().out)["ticked"] == "Scheduled Event"


def test_unregistered_the_kind_is_gone_from_discovery_and_manifests(shop: Path) -> None:
    register_trigger_kind(TickKind())
    try:
        package(shop, jobs=1)
    finally:
        unregister_trigger_kind("tick")
    with pytest.raises(ConfigError, match="unknown trigger kind 'tick'"):
        read_manifest(manifest_path(shop))
    rebuilt = package(shop, jobs=1).manifest  # TICKS is a plain constant again
    assert rebuilt.function("shop.cleanup").triggers == ()
    assert "Tick" not in manifest_schema()["$defs"]


def test_a_service_bundled_whole_refuses_it_at_its_line(shop: Path, tick_kind: TickKind) -> None:
    """The one function of such a service dispatches HTTP events only: a tick would be a 404."""
    pyproject = shop / "services/shop/pyproject.toml"
    whole = '[tool.lambdapress]\nbundle = "service"\n'
    pyproject.write_text(pyproject.read_text().replace("[tool.lambdapress]\n", whole))
    with pytest.raises(BundleError, match="dispatches HTTP requests only") as caught:
        package(shop, jobs=1)
    assert (caught.value.path, caught.value.line) == (shop / CLEANUP, 2)
