"""The parts of deploy, sync and destroy that decide without AWS: plans, names, errors, secrets."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, NoCredentialsError, NoRegionError
from model_functions import model_function

from lambdapress.deploy._aws_errors import translate
from lambdapress.deploy._secret_values import Secrets
from lambdapress.deploy._stack import change_set_kind, check_created, failure_reasons, is_empty
from lambdapress.deploy.aws import ChangeSetState, ResourceChange, StackState
from lambdapress.deploy.syncing import template_differences
from lambdapress.deploy.upload import Artifact, UploadPlan, artifacts, default_bucket
from lambdapress.errors import DeployError
from lambdapress.model.application import Function


def _client_error(code: str, message: str = "", operation: str = "CreateChangeSet") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


# -- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("error", "said", "fix"),
    [
        (NoCredentialsError(), "no AWS credentials found", "AWS_PROFILE"),
        (NoRegionError(), "no AWS region configured", "AWS_REGION"),
        (_client_error("AccessDenied", "not allowed"), "access denied (not allowed)", "allow"),
        (_client_error("AccessDeniedException"), "access denied", "allow"),
        (_client_error("ThrottlingException"), "AWS throttled", "again in a minute"),
        (_client_error("Throttling"), "AWS throttled", "again in a minute"),
        (_client_error("ExpiredToken"), "AWS does not accept the credentials", "aws sso login"),
    ],
)
def test_aws_errors_become_one_line_and_a_fix(error: Exception, said: str, fix: str) -> None:
    assert isinstance(error, NoCredentialsError | NoRegionError | ClientError)
    problem = translate("creating the change set", error, Secrets())
    assert isinstance(problem, DeployError)
    assert str(problem).startswith(f"creating the change set: {said}")
    assert problem.hint is not None and fix in problem.hint


def test_a_message_from_aws_never_carries_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t-key-value")
    monkeypatch.setenv("LAMBDAPRESS_INDEX_LOCAL_PASSWORD", "hunter2-pw")
    secrets = Secrets.gather(
        {"DATABASE_URL": "postgresql://u:pw@db/x", "LOG_LEVEL": "INFO", "USE_KEY": "true"}
    )
    message = "bad value s3cr3t-key-value, hunter2-pw and postgresql://u:pw@db/x at INFO: true"

    problem = translate("x", _client_error("ValidationError", message), secrets)

    # Not a secret: a variable whose name says nothing, and a value too short to be one.
    assert str(problem) == "x: bad value ***, *** and *** at INFO: true (ValidationError)"


# -- change sets and stacks ---------------------------------------------------------------------
def _change_set(status: str, reason: str = "", changes: int = 1) -> ChangeSetState:
    change = ResourceChange("Modify", "F", "AWS::Lambda::Function", "False")
    return ChangeSetState("id", status, reason, "AVAILABLE", (change,) * changes)


def test_the_no_changes_answers_mean_up_to_date_and_other_failures_are_errors() -> None:
    identical = "The submitted information didn't contain changes. Submit different information."
    no_updates = "No updates are to be performed."
    assert is_empty(_change_set("FAILED", identical, changes=0))
    assert is_empty(_change_set("FAILED", no_updates, changes=0))
    assert is_empty(_change_set("CREATE_COMPLETE", changes=0))
    assert not is_empty(_change_set("CREATE_COMPLETE"))
    check_created(_change_set("FAILED", identical, changes=0), "s")  # not an error

    with pytest.raises(DeployError, match="Template format error: bad ref"):
        check_created(_change_set("FAILED", "Template format error: bad ref", 0), "s")


def _state(status: str) -> StackState:
    return StackState(stack_id="arn", status=status, reason="", outputs={})


def test_a_missing_or_never_executed_stack_is_created_a_live_one_updated() -> None:
    assert change_set_kind("p-dev", "dev", None) == "CREATE"
    assert change_set_kind("p-dev", "dev", _state("REVIEW_IN_PROGRESS")) == "CREATE"
    for status in ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"):
        assert change_set_kind("p-dev", "dev", _state(status)) == "UPDATE"


@pytest.mark.parametrize(
    ("status", "fix"),
    [
        ("ROLLBACK_COMPLETE", "lambdapress destroy --stage dev"),
        ("UPDATE_IN_PROGRESS", "wait until"),
        ("UPDATE_ROLLBACK_FAILED", "continue the rollback"),
    ],
)
def test_a_stack_that_cannot_take_a_change_set_says_what_to_do(status: str, fix: str) -> None:
    with pytest.raises(DeployError) as raised:
        change_set_kind("p-dev", "dev", _state(status))
    assert raised.value.hint is not None and fix in raised.value.hint


def test_failure_reasons_name_each_failed_resource_once_without_knock_on_cancellations() -> None:
    from lambdapress.deploy.aws import StackEvent

    events = [
        StackEvent("1", "Fn", "AWS::Lambda::Function", "CREATE_FAILED", "bad memory"),
        StackEvent(
            "2", "Other", "AWS::Logs::LogGroup", "CREATE_FAILED", "Resource creation cancelled"
        ),
        StackEvent("3", "Fn", "AWS::Lambda::Function", "CREATE_FAILED", "bad memory"),
        StackEvent("4", "Role", "AWS::IAM::Role", "CREATE_COMPLETE", ""),
    ]
    assert failure_reasons(events) == "\n  Fn (AWS::Lambda::Function): bad memory"
    assert failure_reasons(events[3:]) == ""


# -- sync ---------------------------------------------------------------------------------
TEMPLATE = {
    "Parameters": {"ArtifactBucket": {"Type": "String"}},
    "Resources": {
        "Fn": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"Code": {"S3Key": "p/s/aaa.zip"}, "MemorySize": 256},
        },
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 14}},
    },
}


def _edited(**changes: object) -> str:
    document = json.loads(json.dumps(TEMPLATE))
    fn = document["Resources"]["Fn"]["Properties"]
    fn.update(changes)
    return json.dumps(document)


def test_sync_sees_no_difference_when_only_code_changed() -> None:
    new = _edited(Code={"S3Key": "p/s/bbb.zip"})
    assert template_differences(TEMPLATE, new, {"Fn"}) == []
    assert template_differences(json.dumps(TEMPLATE), new, {"Fn"}) == []  # YAML-less text too


def test_sync_names_every_other_difference() -> None:
    assert template_differences(TEMPLATE, _edited(MemorySize=512), {"Fn"}) == ["Fn (changed)"]
    grown = json.loads(_edited())
    grown["Resources"]["New"] = {"Type": "AWS::Logs::LogGroup"}
    del grown["Resources"]["Logs"]
    grown["Outputs"] = {"Url": {"Value": "x"}}
    assert template_differences(TEMPLATE, json.dumps(grown), {"Fn"}) == [
        "Outputs",
        "Logs (removed)",
        "New (added)",
    ]
    # Code outside a function being synced is a difference like any other.
    assert template_differences(TEMPLATE, _edited(Code={"S3Key": "x"}), set()) == ["Fn (changed)"]
    assert template_differences("Resources: {}", _edited(), {"Fn"}) == [
        "the deployed template is not lambdapress's JSON"
    ]


# -- uploads -----------------------------------------------------------------------------------
def test_the_default_bucket_is_a_valid_s3_name() -> None:
    assert default_bucket("acme", "123456789012", "eu-west-1") == (
        "acme-artifacts-123456789012-eu-west-1"
    )
    long = default_bucket("a" * 40, "123456789012", "ap-southeast-2")
    assert len(long) <= 63 and long.endswith("-artifacts-123456789012-ap-southeast-2")


def _entry(root: Path, name: str, data: bytes, sha: str) -> Function:
    path = root / "dist" / f"{name}.zip"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return model_function(
        name,
        handler="x.handler",
        artifact=f"dist/{name}.zip",
        sha256=sha * 64,
        size=len(data),
        inputs_hash="h",
        architecture="arm64",
        memory=256,
    )


def test_functions_sharing_one_zip_share_one_upload(tmp_path: Path) -> None:
    one = _entry(tmp_path, "shop.a", b"zip-a", "a")
    two = _entry(tmp_path, "shop.b", b"zip-a", "a")
    three = _entry(tmp_path, "shop.c", b"zip-c", "c")
    locations = [("shop.a", "k/a.zip"), ("shop.b", "k/a.zip"), ("shop.c", "k/c.zip")]

    found = artifacts(locations, [one, two, three], tmp_path)

    assert [(a.key, a.functions) for a in found] == [
        ("k/a.zip", ("shop.a", "shop.b")),
        ("k/c.zip", ("shop.c",)),
    ]
    plan = UploadPlan(bucket="b", artifacts=found, missing=found[1:])
    assert plan.missing_bytes == len(b"zip-c")
    with pytest.raises(ValueError, match="frozen"):
        plan.bucket = "other"  # type: ignore[misc]


def test_a_zip_changed_since_packaging_is_refused_before_any_upload(tmp_path: Path) -> None:
    entry = _entry(tmp_path, "shop.a", b"zip-a", "a")
    (tmp_path / entry.artifact.path).write_bytes(b"zip-a and more")

    with pytest.raises(DeployError, match=r"differs from dist/manifest\.json") as raised:
        artifacts([("shop.a", "k/a.zip")], [entry], tmp_path)
    assert raised.value.hint == "run `lambdapress package` again"
    assert Artifact.model_config.get("frozen") is True


# -- the command line ---------------------------------------------------------------------------
def test_the_command_line_loads_boto3_only_for_the_commands_that_call_aws() -> None:
    import subprocess
    import sys

    probe = "import sys, lambdapress.cli; print('boto3' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


@pytest.fixture
def no_aws_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No AWS variables, config or credentials files; a workspace with deploy settings."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    root = tmp_path / "repo"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[tool.uv.workspace]\nmembers = []\n\n[tool.lambdapress.deploy]\nproject = "acme"\n'
    )
    return root


def test_no_region_is_an_error_with_the_fix(
    no_aws_configuration: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from lambdapress.cli import main

    code = main(["destroy", "--stage", "dev", "--root", str(no_aws_configuration)])

    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: no AWS region configured\n  fix: set AWS_REGION")


def test_no_credentials_is_an_error_with_the_fix(
    no_aws_configuration: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from lambdapress.cli import main

    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    code = main(["destroy", "--stage", "dev", "--root", str(no_aws_configuration)])

    err = capsys.readouterr().err
    assert code == 1
    assert "no AWS credentials found" in err
    assert "fix: configure AWS credentials" in err


@pytest.mark.parametrize("command", ["deploy", "sync"])
def test_a_bad_stage_is_refused_before_anything_is_built(
    no_aws_configuration: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    from lambdapress.cli import main

    code = main([command, "--stage", "Bad Stage", "--root", str(no_aws_configuration)])

    err = capsys.readouterr().err
    assert code == 1
    assert "'Bad Stage' is not a valid stage name" in err
    assert not (no_aws_configuration / "dist").exists()  # the bundler never ran


def test_following_a_stack_waits_for_the_end_of_the_operation_it_started(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Right after ExecuteChangeSet the stack may still show the last update's COMPLETE."""
    import datetime

    from botocore.stub import Stubber

    from lambdapress.deploy import _stack
    from lambdapress.deploy.aws import Aws

    monkeypatch.setattr(_stack, "POLL_SECONDS", 0.0)
    aws = Aws(Secrets())
    stubber = Stubber(aws._cfn)
    now = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)

    def described(status: str) -> dict[str, object]:
        return {
            "Stacks": [
                {"StackName": "s", "StackId": "id", "CreationTime": now, "StackStatus": status}
            ]
        }

    def events(*items: tuple[str, str, str]) -> dict[str, object]:
        return {
            "StackEvents": [
                {
                    "StackId": "id",
                    "StackName": "s",
                    "EventId": event_id,
                    "LogicalResourceId": logical_id,
                    "ResourceStatus": status,
                    "Timestamp": now,
                }
                for event_id, logical_id, status in items
            ]
        }

    old = ("old", "s", "UPDATE_COMPLETE")
    stubber.add_response("describe_stacks", described("UPDATE_COMPLETE"))  # stale
    stubber.add_response("describe_stack_events", events(old))
    stubber.add_response("describe_stacks", described("UPDATE_IN_PROGRESS"))
    stubber.add_response("describe_stack_events", events(("1", "s", "UPDATE_IN_PROGRESS"), old))
    stubber.add_response("describe_stacks", described("UPDATE_COMPLETE"))
    stubber.add_response(
        "describe_stack_events",
        events(
            ("3", "s", "UPDATE_COMPLETE"),
            ("2", "Fn", "UPDATE_COMPLETE"),
            ("1", "s", "UPDATE_IN_PROGRESS"),
            old,
        ),
    )
    reported: list[str] = []

    with stubber:
        final, fresh = _stack.follow(
            aws, "s", "id", {"old"}, lambda event: reported.append(event.event_id)
        )
        stubber.assert_no_pending_responses()

    assert final is not None and final.status == "UPDATE_COMPLETE"
    assert reported == [event.event_id for event in fresh] == ["1", "2", "3"]


def test_the_plan_shows_each_resource_change_and_each_code_change(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from lambdapress.cli._deploy import _print_plan
    from lambdapress.deploy.deploying import CodeChange, DeployPlan

    changes = (
        ResourceChange("Add", "OrdersNewFunction", "AWS::Lambda::Function", ""),
        ResourceChange("Modify", "OrdersGetFunction", "AWS::Lambda::Function", "False"),
        ResourceChange("Modify", "HttpApi", "AWS::ApiGatewayV2::Api", "Conditional"),
        ResourceChange("Remove", "OrdersOldFunction", "AWS::Lambda::Function", ""),
    )
    artifact = Artifact(key="k", path=Path("z.zip"), sha256="a" * 64, size=2048, functions=())
    plan = DeployPlan(
        stack_name="acme-dev",
        kind="UPDATE",
        change_set=ChangeSetState("id", "CREATE_COMPLETE", "", "AVAILABLE", changes),
        code_changes=(CodeChange(function="orders.get", function_name="acme-dev-orders-get",
                                 deployed="old=", built="new="),),
        uploads=UploadPlan(bucket="b", artifacts=(artifact,), missing=(artifact,)),
    )  # fmt: skip

    _print_plan(plan)

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "plan: update stack acme-dev (4 resource changes)"
    assert [line.split() for line in lines[3:7]] == [
        ["add", "OrdersNewFunction", "AWS::Lambda::Function"],
        ["modify", "OrdersGetFunction", "AWS::Lambda::Function", "False"],
        ["modify", "HttpApi", "AWS::ApiGatewayV2::Api", "Conditional"],
        ["remove", "OrdersOldFunction", "AWS::Lambda::Function"],
    ]
    assert ["orders.get", "acme-dev-orders-get", "old=", "new="] in [line.split() for line in lines]
    assert lines[-1] == "uploads: 1 of 1 zip (2.0 KiB) to s3://b"
    with pytest.raises(ValueError, match="frozen"):
        plan.kind = "CREATE"  # type: ignore[misc]
