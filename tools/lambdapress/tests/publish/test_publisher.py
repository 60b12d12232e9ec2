"""The whole pipeline against a real pypiserver: publish, consume, refuse, gate, tag."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from lambdapress.config.workspace import load_workspace
from lambdapress.errors import DistributionError, PublishError, WorkspaceError
from lambdapress.indexes.config import choose_index, load_indexes
from lambdapress.indexes.credentials import resolve_index
from lambdapress.publish._simple import project_files
from lambdapress.publish._tags import tag_exists
from lambdapress.publish.plan import PackagePlan, PlannedFile, PublishPlan
from lambdapress.publish.publisher import (
    execute_publish,
    prepare_publish,
    publish_order,
    select_packages,
)

CONSUMER = """
from datetime import datetime, timezone

import pydantic
from acme_models import Entity, Page

now = datetime(2026, 1, 2, tzinfo=timezone.utc)
entity = Entity(id="order-1", created_at=now, updated_at=now)
page = Page[Entity](items=[entity])
assert page.items[0].id == "order-1"
try:
    Entity(id="", created_at=now, updated_at=now)
except pydantic.ValidationError as exc:
    print("rejected:", exc.errors()[0]["type"])
import acme_models
print("from:", acme_models.__file__)
"""


def local_index(root: Path) -> Any:
    config = choose_index(load_indexes(root), "local", root / "pyproject.toml")
    return resolve_index(config)


def set_version(root: Path, version: str) -> None:
    pyproject = root / "packages" / "acme-models" / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    old = next(line for line in text.splitlines() if line.startswith("version = "))
    pyproject.write_text(text.replace(old, f'version = "{version}"'), encoding="utf-8")


def edit_models(root: Path, old: str, new: str) -> None:
    base = root / "packages" / "acme-models" / "src" / "acme_models" / "base.py"
    text = base.read_text(encoding="utf-8")
    assert old in text
    base.write_text(text.replace(old, new), encoding="utf-8")


def publish(root: Path, *names: str, tags: bool = False) -> PublishPlan:
    index = local_index(root)
    plan = prepare_publish(load_workspace(root), names, index, create_tags=tags)
    if plan.refusal() is None:
        execute_publish(plan, index, root)
    return plan


UPDATED_AT = '    updated_at: AwareDatetime = Field(description="When it last changed (UTC)")\n'


@pytest.mark.e2e
def test_publish_then_pip_install_in_a_new_virtualenv_outside_the_repo(
    repo: Path, index_server: Any, tmp_path: Path
) -> None:
    plan = publish(repo, "acme-models")
    (package,) = plan.packages
    assert (package.name, package.version, package.status) == ("acme-models", "1.0.0", "publish")
    assert package.tag == "acme-models/1.0.0"
    assert set(index_server.snapshot()) == {
        "acme_models-1.0.0-py3-none-any.whl",
        "acme_models-1.0.0.tar.gz",
    }
    assert index_server.snapshot() == {f.filename: f.sha256 for f in package.files}

    consumer = tmp_path / "consumer"  # beside the repository, not inside it
    subprocess.run([sys.executable, "-m", "venv", str(consumer / "venv")], check=True)
    python = consumer / "venv" / "bin" / "python"
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--index-url",
            index_server.index_url,
            "acme-models==1.0.0",
        ],
        check=True,
        cwd=consumer,
    )
    result = subprocess.run(
        [str(python), "-I", "-c", textwrap.dedent(CONSUMER)],
        check=True,
        cwd=consumer,
        capture_output=True,
        text=True,
    )
    assert "rejected: string_too_short" in result.stdout
    assert str(consumer / "venv") in result.stdout


@pytest.mark.e2e
def test_publishing_the_same_version_again_fails_and_changes_nothing(
    repo: Path, index_server: Any
) -> None:
    publish(repo, "acme-models")
    before = index_server.snapshot()
    index = local_index(repo)
    plan = prepare_publish(load_workspace(repo), ["acme-models"], index)
    assert plan.packages[0].status == "blocked"
    with pytest.raises(PublishError) as caught:
        execute_publish(plan, index, repo)
    message = str(caught.value)
    assert "acme-models 1.0.0 is already on index 'local' (identical files)" in message
    assert "nothing was uploaded" in message
    assert "bump `version`" in str(caught.value.hint)
    assert index_server.snapshot() == before
    # Without names (publish everything), identical files are simply up to date.
    again = prepare_publish(load_workspace(repo), [], index)
    assert again.packages[0].status == "up-to-date"
    assert execute_publish(again, index, repo).up_to_date == ("acme-models",)
    assert index_server.snapshot() == before


@pytest.mark.e2e
def test_the_gate_refuses_breaking_changes_without_a_major_bump(
    repo: Path, index_server: Any
) -> None:
    publish(repo, "acme-models")  # 1.0.0
    edit_models(repo, UPDATED_AT, "")  # a removed field
    edit_models(
        repo,
        "class Page(BaseModel, Generic[ItemT]):\n",
        "class Page(BaseModel, Generic[ItemT]):\n    total: int\n",
    )
    set_version(repo, "1.1.0")
    plan = publish(repo, "acme-models")
    (package,) = plan.packages
    assert package.status == "blocked"
    assert package.baseline == "1.0.0"
    assert package.reasons == (
        "acme-models 1.1.0 vs 1.0.0: 2 of 2 models changed; needs a major bump, "
        "this is a minor bump: refused",
        "Entity: field removed `updated_at` (breaking)",
        "Page: field added `total`: required (breaking)",
    )
    assert package.hint.startswith("publish as 2.0.0 (a major bump")
    assert set(index_server.snapshot()) == {
        "acme_models-1.0.0-py3-none-any.whl",
        "acme_models-1.0.0.tar.gz",
    }

    set_version(repo, "2.0.0")  # the same change with a major bump passes
    plan = publish(repo, "acme-models")
    assert plan.packages[0].status == "publish"
    assert plan.packages[0].compat is not None and plan.packages[0].compat.ok

    edit_models(
        repo,
        "    next_cursor: str | None = None\n",
        "    next_cursor: str | None = None\n    note: str | None = None\n",
    )
    set_version(repo, "2.1.0")  # an additive optional field with a minor bump passes
    plan = publish(repo, "acme-models")
    (package,) = plan.packages
    assert (package.status, package.baseline) == ("publish", "2.0.0")
    assert package.compat is not None
    assert package.compat.lines() == [
        "Entity: unchanged",
        "Page: field added `note`: optional (compatible)",
    ]
    versions = {f.version for f in project_files(index_server.resolved(), "acme-models")}
    assert versions == {"1.0.0", "2.0.0", "2.1.0"}


@pytest.mark.e2e
def test_tags_are_created_after_the_upload(repo: Path, run_git: Any) -> None:
    run_git(repo, "init", "-q")
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-q", "-m", "models")
    plan = publish(repo, "acme-models", tags=True)
    assert plan.packages[0].status == "publish"
    assert tag_exists(repo, "acme-models/1.0.0")
    assert run_git(repo, "tag", "--list").split() == ["acme-models/1.0.0"]


def test_select_packages(builder: Any) -> None:
    builder.package("acme-models", import_name="acme_models")
    builder.package("billing-models", import_name="billing_models")
    workspace = load_workspace(builder.root)
    assert [(p.name, explicit) for p, explicit in select_packages(workspace, [])] == [
        ("acme-models", False),
        ("billing-models", False),
    ]
    assert [(p.name, e) for p, e in select_packages(workspace, ["Billing_Models"])] == [
        ("billing-models", True)
    ]
    with pytest.raises(WorkspaceError, match=r"no package named 'orders'.*acme-models, billing"):
        select_packages(workspace, ["orders"])


def test_an_empty_workspace_has_nothing_to_publish(builder: Any) -> None:
    with pytest.raises(WorkspaceError, match="no packages to publish"):
        select_packages(load_workspace(builder.root), [])


def test_dependencies_are_published_first(dists: Any) -> None:
    built = {
        "billing-models": dists("billing-models", requires=("acme-models>=1,<2",)),
        "acme-models": dists("acme-models"),
        "zeta-models": dists("zeta-models"),
    }
    assert publish_order(built) == ("acme-models", "billing-models", "zeta-models")


def hand_plan(built: Any, status: str = "publish", tags: bool = False) -> PublishPlan:
    files = tuple(
        PlannedFile(filename=f.filename, kind=f.kind, sha256=f.sha256, size=f.size, path=f.path)
        for f in built.files
    )
    package = PackagePlan(
        name=built.name,
        version=built.version,
        pyproject=Path("/repo/packages/demo-models/pyproject.toml"),
        status=status,  # type: ignore[arg-type]
        reasons=("by hand",),
        tag=f"{built.name}/{built.version}",
        files=files,
        published_versions=(),
        baseline=None,
        compat=None,
    )
    return PublishPlan(
        index="local",
        index_url="http://127.0.0.1:1/simple/",
        upload_url="http://127.0.0.1:1/",
        credentials_from="the test",
        create_tags=tags,
        packages=(package,),
    )


def test_execute_uploads_what_the_plan_says(index_server: Any, dists: Any, tmp_path: Path) -> None:
    built = dists("demo-models", "1.0.0")
    result = execute_publish(hand_plan(built), index_server.resolved(), tmp_path)
    assert result.published[0].files == (built.wheel.filename, built.sdist.filename)
    assert not result.published[0].tagged
    assert set(index_server.snapshot()) == {built.wheel.filename, built.sdist.filename}


def test_execute_refuses_a_blocked_plan(index_server: Any, dists: Any, tmp_path: Path) -> None:
    plan = hand_plan(dists("demo-models", "1.0.0"), status="blocked")
    with pytest.raises(PublishError, match=r"demo-models 1\.0\.0 cannot be published"):
        execute_publish(plan, index_server.resolved(), tmp_path)
    assert index_server.snapshot() == {}


def test_execute_never_uploads_a_wheel_with_a_path_dependency(
    index_server: Any, dists: Any, tmp_path: Path
) -> None:
    leaky = dists("demo-models", "1.0.0", requires=("acme-models @ file:///home/me/acme",))
    with pytest.raises(DistributionError, match="points at a local path"):
        execute_publish(hand_plan(leaky), index_server.resolved(), tmp_path)
    assert index_server.snapshot() == {}


def test_execute_refuses_files_changed_since_the_plan(
    index_server: Any, dists: Any, tmp_path: Path
) -> None:
    built = dists("demo-models", "1.0.0")
    plan = hand_plan(built)
    built.wheel.path.write_bytes(b"tampered")
    with pytest.raises(PublishError, match="changed or disappeared since the plan"):
        execute_publish(plan, index_server.resolved(), tmp_path)
    assert index_server.snapshot() == {}


def test_execute_refuses_another_index(index_server: Any, dists: Any, tmp_path: Path) -> None:
    plan = hand_plan(dists("demo-models", "1.0.0"))
    with pytest.raises(PublishError, match="made for index 'local', not 'other'"):
        execute_publish(plan, index_server.resolved(name="other"), tmp_path)
