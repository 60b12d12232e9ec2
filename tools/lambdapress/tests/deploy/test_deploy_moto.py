"""deploy, sync and destroy end to end against moto's server (S3, CloudFormation, Lambda).

What moto does NOT do, and so what these tests cannot show (the README's "verified by" table):
- CloudFormation: `AWS::ApiGatewayV2::*` (Api, Integration, Route, Stage) are not implemented;
  moto skips them with a warning, so the stack has no HTTP API and no `ApiUrl` output here.
  Those resources are checked by cfn-lint only. `AWS::Lambda::Alias`, alarms and CodeDeploy's
  resources are created through moto's own APIs by the test's `moto_cloudformation` models.
- CloudFormation creates functions without `Architectures` or `Tags`, reports no per-resource
  events (only the stack's own), never fails a resource and never rolls back (a failed stack
  is tested with recorded AWS answers in test_stack.py), and omits `Replacement` in changes.
- S3 accepts a PUT whose ChecksumSHA256 is wrong (real S3 refuses it with BadDigest).
What it does do, and these tests rely on: change sets (CREATE/UPDATE, "didn't contain changes"
as a FAILED change set), IAM roles, log groups, Lambda functions from an S3 zip with CodeSha256
computed from the object, UpdateFunctionCode from S3, permissions, EventBridge rules, delete.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from lambdapress.cli import main
from lambdapress.model.application import Application
from lambdapress.model.manifest import manifest_path, read_manifest

from .conftest import MARKER

PROJECT = "shop"
STAGE = "dev"
STACK = f"{PROJECT}-{STAGE}"


class Run:
    """`lambdapress ...` in this process; every output is kept to look for the marker."""

    def __init__(self, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.root = root
        self.capsys = capsys
        self.outputs: list[str] = []

    def __call__(self, *args: str) -> tuple[int, str, str]:
        code = main([*args, "--root", str(self.root)])
        out, err = self.capsys.readouterr()
        self.outputs += [out, err]
        return code, out, err


def _client(name: str) -> Any:
    return boto3.client(name)


def _bucket() -> str:
    return f"{PROJECT}-artifacts-123456789012-us-east-1"


def _objects() -> dict[str, Any]:
    listing = _client("s3").list_objects_v2(Bucket=_bucket()).get("Contents", [])
    return {item["Key"]: item["LastModified"] for item in listing}


def _expected_keys(manifest: Application) -> set[str]:
    return {f"lambdapress/{f.service}/{f.artifact.sha256}.zip" for f in manifest.functions}


def _code_sha(function_name: str) -> str:
    configuration = _client("lambda").get_function(FunctionName=function_name)["Configuration"]
    return str(configuration["CodeSha256"])


@pytest.mark.e2e
def test_deploy_up_to_date_plan_sync_and_destroy(
    shop: Path,
    moto_server: object,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # moto accepts any credentials, so the secret key itself can be the marker.
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", MARKER + "-key")
    root = shop
    run = Run(root, capsys)
    unrelated = _client("iam").create_role(
        RoleName="unrelated", AssumeRolePolicyDocument=json.dumps({"Statement": []})
    )["Role"]["Arn"]
    _client("s3").create_bucket(Bucket="elsewhere")
    _client("s3").put_object(Bucket="elsewhere", Key="f.zip", Body=b"PK\x05\x06" + b"\0" * 18)
    _client("lambda").create_function(
        FunctionName="unrelated",
        Runtime="python3.11",
        Role=unrelated,
        Handler="x.handler",
        Code={"S3Bucket": "elsewhere", "S3Key": "f.zip"},
    )

    # 1. The first deploy creates the bucket and the stack, each distinct zip uploaded once.
    code, out, err = run("deploy", "--stage", STAGE, "--yes")
    assert code == 0, err
    manifest = read_manifest(manifest_path(root))
    assert "plan: create stack shop-dev" in out
    assert f"uploaded {len(manifest.functions)} zips, 0 already" in out
    assert set(_objects()) == _expected_keys(manifest)
    first_upload = _objects()
    stack = _client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    for function in manifest.functions:
        name = f"{STACK}-{function.name.replace('.', '-')}"
        assert _code_sha(name) == function.artifact.code_sha256
    s3 = _client("s3")
    tags = s3.get_bucket_tagging(Bucket=_bucket())["TagSet"]
    assert {"Key": "lambdapress:project", "Value": PROJECT} in tags
    block = s3.get_public_access_block(Bucket=_bucket())["PublicAccessBlockConfiguration"]
    assert all(block.values())
    warm_up = _warm_up_rules()
    # The ping calls the live alias (`function:<name>:live`), as every invoker does.
    assert [target["Arn"].split(":")[-2:] for _, target in warm_up] == [
        [f"{STACK}-shop-stock", "live"]
    ]
    assert json.loads(warm_up[0][1]["Input"]) == {"lambdapress": "warmup"}
    concurrency = _client("lambda").get_function_concurrency(FunctionName=f"{STACK}-shop-stock")
    assert concurrency["ReservedConcurrentExecutions"] == 5
    events = _events()

    # 2. Nothing changed: "up to date", nothing uploaded, no change set executed or left over.
    code, out, err = run("deploy", "--stage", STAGE, "--yes")
    assert code == 0, err
    assert "up to date" in out
    assert _objects() == first_upload
    assert _events() == events
    assert _change_sets() == []

    # 3. One handler edited: the plan names exactly it, uploads nothing, executes nothing.
    greet = root / "services/shop/src/shop/handlers/greet.py"
    greet.write_text(greet.read_text().replace("hello", "hi there"), encoding="utf-8")
    # --no-build deploys what dist/ holds (a pipeline's package step built it): the manifest
    # still describes the deployed build, so there is nothing to do, and nothing is read of
    # the sources.
    code, out, err = run("deploy", "--stage", STAGE, "--plan", "--no-build")
    assert code == 0, err
    assert "up to date" in out
    code, out, err = run("deploy", "--stage", STAGE, "--plan")
    assert code == 0, err
    edited = read_manifest(manifest_path(root))
    changed = {f.name for f in edited.functions} - _unchanged(manifest, edited)
    assert changed == {"shop.greet"}
    plan_rows = _table_after(out, "action")
    # The function's code and a new version of it (the live alias then moves to it).
    greet_id = _logical_id(root, edited, "shop.greet")
    assert [row.split()[:2] for row in plan_rows] == [
        ["modify", greet_id],
        ["modify", greet_id.removesuffix("Function") + "Version"],
    ]
    code_rows = _table_after(out, "function")
    assert [row.split()[0] for row in code_rows] == ["shop.greet"]
    assert "uploads: 1 of 3 zips" in out
    assert _objects() == first_upload
    assert _events() == events
    assert _change_sets() == []

    # Without a terminal and without --yes, nothing is executed (and the fix is named).
    code, out, err = run("deploy", "--stage", STAGE)
    assert code == 1
    assert "--yes" in err
    assert _change_sets() == []
    assert _objects() == first_upload

    # 4. sync updates exactly that function's code, read back through boto3.
    before = {f.name: _code_sha(_physical(f.name)) for f in edited.functions}
    code, out, err = run("sync", "--stage", STAGE)
    assert code == 0, err
    assert "meant for development stages" in err
    assert "code of 1 function updated" in out
    after = {f.name: _code_sha(_physical(f.name)) for f in edited.functions}
    assert after["shop.greet"] == edited.function("shop.greet").artifact.code_sha256
    assert after["shop.greet"] != before["shop.greet"]
    # ...published behind the live alias, which every invoker calls.
    lambda_ = _client("lambda")
    live = lambda_.get_alias(FunctionName=_physical("shop.greet"), Name="live")
    published = lambda_.get_function(
        FunctionName=_physical("shop.greet"), Qualifier=live["FunctionVersion"]
    )
    assert published["Configuration"]["CodeSha256"] == after["shop.greet"]
    assert {k: v for k, v in after.items() if k != "shop.greet"} == {
        k: v for k, v in before.items() if k != "shop.greet"
    }
    assert set(_objects()) == _expected_keys(manifest) | _expected_keys(edited)

    # sync again: nothing left to do; a change beyond code: refused, pointing at deploy.
    code, out, err = run("sync", "--stage", STAGE)
    assert (code, "nothing to sync" in out) == (0, True), err
    service = root / "services/shop/pyproject.toml"
    service.write_text(
        service.read_text().replace("[tool.lambdapress]\n", "[tool.lambdapress]\nmemory = 512\n")
    )
    code, out, err = run("sync", "--stage", STAGE)
    assert code == 1
    assert "differs in more than code" in err
    assert f"lambdapress deploy --stage {STAGE}" in err

    # 5. destroy: the stack's resources go; the unrelated function and the bucket stay.
    code, out, err = run("destroy", "--stage", STAGE, "--yes")
    assert code == 0, err
    functions = {f["FunctionName"] for f in _client("lambda").list_functions()["Functions"]}
    assert functions == {"unrelated"}
    roles = {r["RoleName"] for r in _client("iam").list_roles()["Roles"]}
    assert roles == {"unrelated"}
    assert (
        _client("logs").describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{STACK}")["logGroups"]
        == []
    )
    assert _warm_up_rules() == []
    assert "kept bucket" in out
    assert set(_objects()) >= _expected_keys(manifest)

    # ...and with --with-bucket, the bucket once it holds only lambdapress's keys.
    code, out, err = run("destroy", "--stage", STAGE, "--with-bucket", "--yes")
    assert code == 0, err
    assert _bucket() not in {b["Name"] for b in _client("s3").list_buckets()["Buckets"]}

    for output in run.outputs:
        assert MARKER not in output


@pytest.mark.e2e
def test_destroy_keeps_a_bucket_holding_foreign_objects_or_another_stages_code(
    shop: Path,
    moto_server: object,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = shop
    run = Run(root, capsys)
    assert run("deploy", "--stage", STAGE, "--yes")[0] == 0
    _client("s3").put_object(Bucket=_bucket(), Key="notes/readme.txt", Body=b"mine")

    code, _, err = run("destroy", "--stage", STAGE, "--with-bucket", "--yes")

    assert code == 1
    assert "'notes/readme.txt'" in err
    assert "without --with-bucket" in err
    # Refused before anything was deleted.
    assert _client("cloudformation").describe_stacks(StackName=STACK)["Stacks"]

    # Another stage's code lives in the same bucket: refused too, naming it.
    _client("s3").delete_object(Bucket=_bucket(), Key="notes/readme.txt")
    assert run("deploy", "--stage", "qa", "--yes")[0] == 0
    code, _, err = run("destroy", "--stage", STAGE, "--with-bucket", "--yes")
    assert code == 1
    assert "still holds the code of shop-qa" in err
    assert _client("cloudformation").describe_stacks(StackName=STACK)["Stacks"]


@pytest.mark.e2e
def test_an_interrupted_deploy_uploads_only_what_is_missing_when_run_again(
    shop: Path,
    moto_server: object,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lambdapress.deploy.aws import Aws

    root = shop
    run = Run(root, capsys)
    put_file = Aws.put_file
    uploads: list[str] = []
    started: list[str] = []
    interrupted = threading.Event()

    def put_then_interrupt(self: Aws, bucket: str, key: str, path: Path, sha256: str) -> None:
        started.append(key)
        if uploads:  # a later upload stays in flight until the run has taken the Ctrl-C
            interrupted.wait(60)
        put_file(self, bucket, key, path, sha256)
        uploads.append(key)
        if len(uploads) == 1:  # Ctrl-C once the first zip is in the bucket
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    monkeypatch.setattr(Aws, "put_file", put_then_interrupt)
    code, out, err = run("deploy", "--stage", STAGE, "--yes", "--jobs", "1")
    assert code == 130, err
    # The in-flight upload may finish (nothing aborts a PUT half-way); the queued one must not
    # start. Without the wait above, a loaded machine let the worker finish all three before
    # the main thread ran the signal handler.
    interrupted.set()
    deadline = time.monotonic() + 30
    while len(uploads) < len(started) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # time enough for another upload to start, were one still queued
    stored = _objects()
    assert 1 <= len(started) <= 2, started  # what was queued behind the one in flight: cancelled
    assert len(stored) == len(uploads) == len(started)
    assert _client("cloudformation").list_stacks()["StackSummaries"] == [] or all(
        s["StackStatus"] == "DELETE_COMPLETE"
        for s in _client("cloudformation").list_stacks()["StackSummaries"]
    )

    uploads.clear()
    monkeypatch.setattr(Aws, "put_file", put_file)
    code, out, err = run("deploy", "--stage", STAGE, "--yes")
    assert code == 0, err
    manifest = read_manifest(manifest_path(root))
    missing = 3 - len(stored)
    assert f"uploaded {missing} zip{'s' if missing > 1 else ''}, {len(stored)} already" in out
    assert {k: v for k, v in _objects().items() if k in stored} == stored
    assert set(_objects()) == _expected_keys(manifest)


def _warm_up_rules() -> list[tuple[str, dict[str, Any]]]:
    """Every EventBridge rule with its target: (rule name, target)."""
    events = _client("events")
    return [
        (rule["Name"], target)
        for rule in events.list_rules()["Rules"]
        for target in events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    ]


def _events() -> list[str]:
    found = _client("cloudformation").describe_stack_events(StackName=STACK)["StackEvents"]
    return [event["EventId"] for event in found]


def _change_sets() -> list[str]:
    found = _client("cloudformation").list_change_sets(StackName=STACK)["Summaries"]
    return [c["ChangeSetName"] for c in found if c.get("ExecutionStatus") != "EXECUTE_COMPLETE"]


def _physical(name: str) -> str:
    return f"{STACK}-{name.replace('.', '-')}"


def _unchanged(old: Application, new: Application) -> set[str]:
    before = {f.name: f.artifact.sha256 for f in old.functions}
    return {f.name for f in new.functions if before.get(f.name) == f.artifact.sha256}


def _logical_id(root: Path, manifest: Application, function: str) -> str:
    """The logical id the template gives `function`'s AWS::Lambda::Function."""
    from lambdapress.deploy.config import load_deploy_config
    from lambdapress.deploy.template import build_template

    template = build_template(manifest, load_deploy_config(root), STAGE, _bucket())
    return next(f.logical_id for f in template.functions if f.function == function)


def _table_after(out: str, header: str) -> list[str]:
    """The rows of the plain table whose header line starts with `header`."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == [header])
    rows = []
    for line in lines[start + 2 :]:  # header, rule
        if not line.strip():
            break
        rows.append(line)
    return rows


@pytest.mark.e2e
def test_a_template_too_large_to_send_inline_goes_through_the_bucket(
    shop: Path,
    moto_server: object,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lambdapress.deploy import target

    monkeypatch.setattr(target, "TEMPLATE_BODY_LIMIT", 1000)  # the shop's is larger than this
    run = Run(shop, capsys)

    code, _, err = run("deploy", "--stage", STAGE, "--yes")

    assert code == 0, err
    templates = [key for key in _objects() if key.startswith(f"lambdapress/templates/{STACK}/")]
    assert len(templates) == 1
    stack = _client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert run("deploy", "--stage", STAGE, "--yes")[1].startswith(f"{STACK}: up to date")
