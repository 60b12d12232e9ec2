"""deploy's checks before any change, deploy right after sync, and destroy --plan, against
moto's server (S3, CloudFormation, Lambda, Secrets Manager, SSM on 127.0.0.1).

A missing secret or parameter the stack refers to stops deploy before it changes anything: no
stack, no change set, no bucket, no upload. After `sync`, the stack's template still names the
previous zips while the functions run the new ones: deploy says "no changes" and executes
nothing. `destroy --plan` lists what would go and deletes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdapress.model.manifest import manifest_path, read_manifest

from .test_deploy_moto import (
    STACK,
    STAGE,
    Run,
    _bucket,
    _change_sets,
    _client,
    _code_sha,
    _events,
    _physical,
)

pytestmark = pytest.mark.e2e

POSTGRES = '\n[tool.lambdapress.storage]\nkind = "postgres"\n'
SECRET = f"shop/{STAGE}/shop/database-url"
PARAMETER = f"/shop/{STAGE}/api-url"


def _add_to_service(root: Path, text: str, *, environment: str = "") -> None:
    path = root / "services/shop/pyproject.toml"
    settings = path.read_text(encoding="utf-8")
    if environment:
        settings = settings.replace(
            "[tool.lambdapress.environment]\n", f"[tool.lambdapress.environment]\n{environment}\n"
        )
    path.write_text(settings + text, encoding="utf-8")


def _nothing_changed() -> None:
    """No stack (not even one under review), no bucket: deploy stopped before any change."""
    with pytest.raises(ClientError, match="does not exist"):
        _client("cloudformation").describe_stacks(StackName=STACK)
    assert _bucket() not in {b["Name"] for b in _client("s3").list_buckets()["Buckets"]}


@pytest.mark.parametrize(
    ("setup", "named", "problem"),
    [
        ("nothing", f"secret {SECRET}", "does not exist"),
        ("secret deleted", f"secret {SECRET}", "is scheduled for deletion"),
        ("secret only", f"parameter {PARAMETER}", "does not exist"),
        ("secret, secure parameter", f"parameter {PARAMETER}", "is a SecureString"),
    ],
)
def test_deploy_stops_before_any_change_when_a_referenced_secret_or_parameter_is_missing(
    shop: Path,
    moto_server: object,
    capsys: pytest.CaptureFixture[str],
    setup: str,
    named: str,
    problem: str,
) -> None:
    """The PostgreSQL secret of [tool.lambdapress.storage] and a parameter the environment
    refers to: each missing (or unusable) one stops deploy, named, with the command that
    creates it; once both exist, the same deploy goes through."""
    _add_to_service(shop, POSTGRES, environment=f'API_URL = "{{{{resolve:ssm:{PARAMETER}}}}}"')
    secrets, ssm = _client("secretsmanager"), _client("ssm")
    if setup.startswith("secret"):
        secrets.create_secret(Name=SECRET, SecretString="postgresql://u:p@db.internal/shop")
    if setup == "secret deleted":
        secrets.delete_secret(SecretId=SECRET, RecoveryWindowInDays=7)
    if setup == "secret, secure parameter":
        ssm.put_parameter(Name=PARAMETER, Value="https://api", Type="SecureString")
    run = Run(shop, capsys)

    for arguments in (["--plan"], ["--yes"]):
        code, out, err = run("deploy", "--stage", STAGE, *arguments)
        assert code == 1, out
        assert f"{named} {problem}" in err
        assert "nothing was changed" in err
        assert "fix: create them first" in err
        assert (
            "aws secretsmanager create-secret --name" in err
            if named.startswith("secret")
            else "aws ssm put-parameter --name" in err
        )
        _nothing_changed()

    if setup == "secret deleted":
        secrets.restore_secret(SecretId=SECRET)
    elif not setup.startswith("secret"):
        secrets.create_secret(Name=SECRET, SecretString="postgresql://u:p@db.internal/shop")
    if setup == "secret, secure parameter":
        ssm.delete_parameter(Name=PARAMETER)
    ssm.put_parameter(Name=PARAMETER, Value="https://api.example.com", Type="String")
    code, out, err = run("deploy", "--stage", STAGE, "--yes")
    assert code == 0, err
    assert f"{STACK}: CREATE_COMPLETE" in out


def test_an_update_that_adds_a_missing_reference_changes_nothing(
    shop: Path, moto_server: object, capsys: pytest.CaptureFixture[str]
) -> None:
    run = Run(shop, capsys)
    assert run("deploy", "--stage", STAGE, "--yes")[0] == 0
    events, objects = _events(), _client("s3").list_objects_v2(Bucket=_bucket())["KeyCount"]
    _add_to_service(shop, "", environment=f'API_URL = "{{{{resolve:ssm:{PARAMETER}:2}}}}"')
    _client("ssm").put_parameter(Name=PARAMETER, Value="v1", Type="String")  # version 1 only

    code, out, err = run("deploy", "--stage", STAGE, "--yes")

    assert code == 1, out
    assert f"parameter {PARAMETER} (version 2) does not exist" in err
    assert "ShopGreetFunction API_URL" in err
    assert _events() == events
    assert _change_sets() == []
    assert _client("s3").list_objects_v2(Bucket=_bucket())["KeyCount"] == objects


def test_deploy_right_after_sync_is_a_no_op(
    shop: Path, moto_server: object, capsys: pytest.CaptureFixture[str]
) -> None:
    run = Run(shop, capsys)
    assert run("deploy", "--stage", STAGE, "--yes")[0] == 0
    for handler, before, after in (("greet", "hello", "hi"), ("stock", "3", "4")):
        path = shop / f"services/shop/src/shop/handlers/{handler}.py"
        path.write_text(path.read_text().replace(before, after), encoding="utf-8")
    code, out, err = run("sync", "--stage", STAGE)
    assert code == 0, err
    assert "code of 2 functions updated" in out
    events = _events()

    code, out, err = run("deploy", "--stage", STAGE, "--yes")

    assert code == 0, err
    assert out.startswith(f"{STACK}: up to date, no changes: 2 functions already run the built")
    assert "shop.greet, shop.stock" in out
    assert _events() == events  # no change set executed
    assert _change_sets() == []  # none left over either
    manifest = read_manifest(manifest_path(shop))
    for function in manifest.functions:
        assert _code_sha(_physical(function.name)) == function.artifact.code_sha256

    # Anything beyond code is a real change again: planned and executed as usual.
    path = shop / "services/shop/pyproject.toml"
    path.write_text(
        path.read_text().replace("[tool.lambdapress]\n", "[tool.lambdapress]\nmemory = 512\n")
    )
    code, out, err = run("deploy", "--stage", STAGE, "--yes")
    assert code == 0, err
    assert "plan: update stack" in out
    assert _events() != events
    configuration = _client("lambda").get_function(FunctionName=_physical("shop.greet"))
    assert configuration["Configuration"]["MemorySize"] == 512
    assert run("deploy", "--stage", STAGE, "--yes")[1].startswith(f"{STACK}: up to date (")


def test_destroy_plan_lists_what_would_be_deleted_and_deletes_nothing(
    shop: Path, moto_server: object, capsys: pytest.CaptureFixture[str]
) -> None:
    run = Run(shop, capsys)
    assert run("deploy", "--stage", STAGE, "--yes")[0] == 0
    pages: Any = _client("cloudformation").get_paginator("list_stack_resources")
    resources = [
        r["LogicalResourceId"]
        for page in pages.paginate(StackName=STACK)
        for r in page["StackResourceSummaries"]
    ]
    # moto lists the resources it skipped (API Gateway v2) without a logical id.
    logical_ids = {r for r in resources if r}
    objects = _client("s3").list_objects_v2(Bucket=_bucket())["KeyCount"]

    # Without a terminal, destroy refuses and names the options that exist.
    code, _, err = run("destroy", "--stage", STAGE)
    assert code == 1
    assert "--yes" in err
    assert "--plan" in err

    code, out, err = run("destroy", "--stage", STAGE, "--plan")
    assert code == 0, err
    assert f"plan: delete stack {STACK} (CREATE_COMPLETE) and its {len(resources)} resources" in (
        out
    )
    listed = {line.split()[0] for line in out.splitlines()[3:] if line.strip()} - {"plan"}
    assert logical_ids <= listed
    assert _physical("shop.greet") in out
    assert f"plan only: nothing was deleted; bucket {_bucket()} is kept" in out

    code, out, err = run("destroy", "--stage", STAGE, "--plan", "--with-bucket")
    assert code == 0, err
    assert f"plan: delete bucket {_bucket()} and its {objects} objects" in out
    assert "plan only: nothing was deleted\n" in out

    assert _client("cloudformation").describe_stacks(StackName=STACK)["Stacks"]
    assert _client("s3").list_objects_v2(Bucket=_bucket())["KeyCount"] == objects
    assert run("destroy", "--stage", STAGE, "--with-bucket", "--yes")[0] == 0
    code, out, _ = run("destroy", "--stage", STAGE, "--plan")
    assert (code, out) == (0, f"{STACK}: no such stack, nothing to delete\n")
