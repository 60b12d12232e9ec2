"""A storage backend added from the test suite alone: `kv` (`kv_backend.py`), registered here.

Nothing in the tool names it, so each facet below is reached through the registry or not at
all: its settings are validated (a wrong key stops `package` at its line, with the fix), its
resources are in the manifest (and in the JSON Schema generated with it registered), its
permissions in the function's role, its variables reach the function run by the emulator
(after `lambdapress db` started its server) and are in the rendered template, and its
resources render into a CloudFormation template cfn-lint accepts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import tomlkit
from cfnlint.api import ManualArgs, lint  # type: ignore[import-untyped]

from lambdapress.bundle._aws_names import check_for_aws
from lambdapress.config.lambda_platform import ENVIRONMENT_MAX_BYTES
from lambdapress.config.settings import parse_service_settings
from lambdapress.config.workspace import Service, Workspace, load_workspace
from lambdapress.errors import BundleError, ConfigError, StorageError
from lambdapress.model.kinds import RESOURCES
from lambdapress.model.manifest import manifest_path, manifest_schema
from lambdapress.model.storage_backends import (
    register_storage_backend,
    storage_backends,
    unregister_storage_backend,
)
from lambdapress.storage.local import plan_local_storage

from .kv_backend import KV, OBJECT_ACTIONS, KvBucket, s3_client

STORAGE = '\n[tool.lambdapress.storage]\nkind = "kv"\nbuckets = ["notes"]\n'
# The bare workspace's service, with boto3 (the runtime's: `aws_sdk = "runtime"`) and on kv.
SHOP = """
[project]
name = "shop"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["boto3"]

[tool.poetry]
packages = [{ include = "shop", from = "src" }]

[tool.lambdapress]
runtime = "python3.11"
"""
NOTES = """
import os

import boto3


def handler(event, context):
    bucket = os.environ["NOTES_BUCKET"]
    s3 = boto3.client("s3")
    s3.put_object(Bucket=bucket, Key="note.txt", Body=event["note"].encode())
    stored = s3.get_object(Bucket=bucket, Key="note.txt")["Body"].read().decode()
    return {"bucket": bucket, "stored": stored}
"""


@pytest.fixture
def kv() -> Iterator[None]:
    """The `kv` backend registered for one test, and forgotten after it."""
    register_storage_backend(KV)
    try:
        yield
    finally:
        unregister_storage_backend(KV.name)
    assert KV.name not in [b.name for b in storage_backends()]
    assert "kv-bucket" not in RESOURCES.kinds()


def service(tmp_path: Path, storage: dict[str, Any], **settings: Any) -> Service:
    folder = tmp_path / "services" / "shop"
    folder.mkdir(parents=True)
    pyproject = folder / "pyproject.toml"
    data = {"project": {"name": "shop"}, "tool": {"lambdapress": {**settings, "storage": storage}}}
    pyproject.write_text(tomlkit.dumps(data))
    parsed = parse_service_settings(data, pyproject)
    return Service(name="shop", import_name="shop", path=folder, settings=parsed, answers=None)


def check(tmp_path: Path, one: Service) -> None:
    workspace = Workspace(
        root=tmp_path, packages=(), services=(one,), template_root=False, answers=None
    )
    check_for_aws(workspace, ())


@pytest.mark.usefixtures("kv")
def test_its_settings_are_validated_with_the_line_and_its_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        check(tmp_path, service(tmp_path, {"kind": "kv", "buckets": ["notes", "Bad-Name"]}))
    error = caught.value
    assert "`tool.lambdapress.storage.buckets`: 'Bad-Name' is not a bucket name" in error.message
    assert error.path == tmp_path / "services/shop/pyproject.toml"
    assert error.line is not None
    assert error.path.read_text().splitlines()[error.line - 1].startswith("buckets = ")
    assert error.hint is not None and 'buckets = ["notes"]' in error.hint


@pytest.mark.usefixtures("kv")
def test_its_package_time_checks_and_its_4_kb_budget_run(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="would be named 68 characters long locally"):
        check(tmp_path / "long", service(tmp_path / "long", {"kind": "kv", "buckets": ["n" * 16]}))
    spare = 40  # NOTES_BUCKET and 63 characters do not fit in 40 bytes
    big = {"BIG": "x" * (ENVIRONMENT_MAX_BYTES - len('{"BIG":""}') - spare)}
    near_full = service(tmp_path, {"kind": "kv", "buckets": ["notes"]}, environment=big)
    with pytest.raises(BundleError) as caught:
        check(tmp_path, near_full)
    assert "the stack adds NOTES_BUCKET (bucket names counted as 63 characters)" in (
        caught.value.message
    )


def test_unregistered_its_kind_is_unknown(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no storage backend 'kv'"):
        check(tmp_path, service(tmp_path, {"kind": "kv", "buckets": ["notes"]}))


@pytest.mark.usefixtures("kv")
def test_db_plans_its_server_and_names_it_when_nothing_needs_one(
    bare_workspace: Callable[[dict[str, str]], Path],
) -> None:
    root = bare_workspace({})
    with pytest.raises(StorageError) as caught:
        plan_local_storage(load_workspace(root))
    assert "(PostgreSQL or DynamoDB or the kv store)" in caught.value.message
    assert '"kv"' in (caught.value.hint or "")
    pyproject = root / "services/shop/pyproject.toml"
    pyproject.write_text(pyproject.read_text() + STORAGE)
    (server,) = plan_local_storage(load_workspace(root)).servers
    assert server.backend is KV and [d.service for d in server.declarations] == ["shop"]


def _statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    policies = template["Resources"][role]["Properties"]["Policies"]
    return [s for policy in policies for s in policy["PolicyDocument"]["Statement"]]


@pytest.mark.e2e
@pytest.mark.usefixtures("kv")
def test_a_service_on_it_packages_renders_and_runs_locally_on_its_server(
    bare_workspace: Callable[[dict[str, str]], Path],
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from lambdapress.bundle.pipeline import package
    from lambdapress.cli import main
    from lambdapress.storage.local import start_local_storage
    from lambdapress.storage.state import state_path

    root = bare_workspace(
        {
            "services/shop/pyproject.toml": SHOP + STORAGE,
            "services/shop/src/shop/handlers/notes.py": NOTES,
        }
    )
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(tmp_path_factory.mktemp("cache")))
    pyproject = root / "services/shop/pyproject.toml"

    # settings: a misspelt key stops `package` at its line, nothing built
    pyproject.write_text(SHOP + STORAGE.replace("buckets", "bucket"))
    with pytest.raises(ConfigError) as caught:
        package(root, jobs=1)
    assert caught.value.path == pyproject and caught.value.line is not None
    assert pyproject.read_text().splitlines()[caught.value.line - 1].startswith("bucket = ")
    assert "did you mean `buckets`?" in (caught.value.hint or "")
    assert not manifest_path(root).exists()

    # resources and permissions: in the model, the manifest and its schema
    pyproject.write_text(SHOP + STORAGE)
    application = package(root, jobs=1).manifest
    (bucket,) = application.resources
    assert isinstance(bucket, KvBucket) and bucket.id == "shop/kv-bucket/notes"
    function = application.function("shop.notes")
    assert function.uses == (bucket.id,)
    granted = [p for p in function.permissions if p.reason == "kv of shop"]
    assert [(p.actions, p.resources) for p in granted] == [
        (OBJECT_ACTIONS, (f"resource:{bucket.id}",))
    ]
    schema = manifest_schema()
    assert "KvBucket" in schema["$defs"]
    jsonschema.validate(json.loads(manifest_path(root).read_text()), schema)

    # rendered: the bucket, its variable and the role's grant, in a template cfn-lint accepts
    output = tmp_path_factory.mktemp("template") / "dev.json"
    assert main(["template", "--stage", "dev", "--output", str(output), "--root", str(root)]) == 0
    template = json.loads(output.read_text())
    assert template["Resources"]["ShopNotesKvBucket"]["Type"] == "AWS::S3::Bucket"
    variables = template["Resources"]["ShopNotesFunction"]["Properties"]["Environment"]
    assert variables["Variables"]["NOTES_BUCKET"] == {"Ref": "ShopNotesKvBucket"}
    assert {
        "Effect": "Allow",
        "Action": list(OBJECT_ACTIONS),
        "Resource": [{"Fn::Sub": "${ShopNotesKvBucket.Arn}/*"}],
    } in _statements(template, "ShopNotesRole")
    findings = lint(output.read_text(), config=ManualArgs(regions=["us-east-1"]))
    assert [f"{m.rule.id}: {m.message}" for m in findings] == []

    # local: `lambdapress db` starts its server, `invoke` runs the zip under awslambdaric
    capsys.readouterr()
    with start_local_storage(plan_local_storage(load_workspace(root))) as running:
        assert running.report()[0].startswith("kv (moto's S3) on http://127.0.0.1:")
        endpoint = json.loads(state_path(root).read_text())["backends"]["kv"]["endpoint"]
        event = root / "event.json"
        event.write_text(json.dumps({"note": "kept in the kv store"}))
        assert main(["invoke", "shop.notes", "--event", str(event), "--root", str(root)]) == 0
        answer = json.loads(capsys.readouterr().out)
        assert answer == {"bucket": "shop-local-shop-notes", "stored": "kept in the kv store"}
        stored = s3_client(endpoint).get_object(Bucket="shop-local-shop-notes", Key="note.txt")
        assert stored["Body"].read() == b"kept in the kv store"
    assert not state_path(root).exists()
