"""Planning and creating new services and packages from the repository's template."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from lambdapress.config.workspace import load_workspace
from lambdapress.errors import PackageIndexError, ScaffoldError
from lambdapress.scaffold import (
    NewPlan,
    execute_new,
    head_commit,
    models_data,
    parse_data,
    plan_new,
    template_is_dirty,
)
from lambdapress.support.loopback import free_port

Git = Callable[..., str]


# ---------------------------------------------------------------- planning


def test_service_plan_from_root_answers(builder: Any) -> None:
    builder.answers("gh:acme/template", "v0.4.0")
    builder.package("acme-models")
    plan = plan_new(load_workspace(builder.root), "service", "payments", {"runtime": "python3.13"})
    assert plan == NewPlan(
        kind="service",
        name="payments",
        destination=Path("services/payments"),
        src_path="gh:acme/template",
        vcs_ref="v0.4.0",
        data={
            "runtime": "python3.13",
            "kind": "service",
            "resource": "payments",
            "models_package": "acme-models",
        },
    )


def test_package_plan(builder: Any) -> None:
    builder.answers("https://example.invalid/template.git", None)
    plan = plan_new(load_workspace(builder.root), "package", "billing-models", None)
    assert plan.destination == Path("packages/billing-models")
    assert plan.vcs_ref is None
    assert plan.src_path == "https://example.invalid/template.git"
    assert plan.data == {"kind": "package", "package_name": "billing-models"}


def test_relative_local_template_path_is_resolved_from_the_root(builder: Any) -> None:
    builder.answers("../template")
    plan = plan_new(load_workspace(builder.root), "package", "billing-models")
    assert plan.src_path == str((builder.root / ".." / "template").resolve())


def test_plan_is_frozen(builder: Any) -> None:
    builder.answers("gh:acme/template")
    plan = plan_new(load_workspace(builder.root), "package", "billing-models")
    with pytest.raises(ValueError, match="frozen"):
        plan.name = "other"


def test_existing_destination_is_refused(builder: Any) -> None:
    builder.answers("gh:acme/template")
    builder.package("acme-models")
    builder.service("payments")
    (builder.root / "services" / "draft").mkdir(parents=True)
    (builder.root / "services" / "draft" / ".gitkeep").write_text("", encoding="utf-8")
    workspace = load_workspace(builder.root)
    with pytest.raises(ScaffoldError, match="services/payments already exists") as info:
        plan_new(workspace, "service", "payments")
    assert info.value.path == workspace.root / "services" / "payments"
    with pytest.raises(ScaffoldError, match="services/draft already exists"):
        plan_new(workspace, "service", "draft")


def test_service_named_like_a_package_module_is_refused(builder: Any) -> None:
    builder.answers("gh:acme/template")
    builder.package("acme-models", import_name="acme_models")
    with pytest.raises(ScaffoldError, match="import name 'acme_models' is already used") as info:
        plan_new(load_workspace(builder.root), "service", "acme_models")
    assert info.value.message.endswith("packages/acme-models")


def test_package_whose_module_clashes_with_a_service_is_refused(builder: Any) -> None:
    builder.answers("gh:acme/template")
    builder.service("orders")
    with pytest.raises(ScaffoldError, match="already used by services/orders"):
        plan_new(load_workspace(builder.root), "package", "orders")


def test_models_override_must_name_a_workspace_package(builder: Any) -> None:
    builder.answers("gh:acme/template")
    builder.package("acme-models")
    builder.package("billing-models")
    workspace = load_workspace(builder.root)
    plan = plan_new(workspace, "service", "payments", {"models_package": "billing-models"})
    assert plan.data["models_package"] == "billing-models"
    with pytest.raises(ScaffoldError, match="no package 'nope'") as info:
        plan_new(workspace, "service", "payments", {"models_package": "nope"})
    assert "acme-models, billing-models" in info.value.message


def test_models_with_a_version_and_an_index_is_a_published_library() -> None:
    assert models_data("acme-models", None) == {"models_package": "acme-models"}
    assert models_data("billing-models==1.2", "company") == {
        "models_package": "billing-models",
        "models_source": "index",
        "models_spec": "==1.2",
        "models_index": "company",
    }
    with pytest.raises(ScaffoldError, match="a version needs the index") as info:
        models_data("billing-models==1.2", None)
    assert info.value.hint is not None and "--index NAME" in info.value.hint
    with pytest.raises(ScaffoldError, match="is not PACKAGE or PACKAGE==VERSION"):
        models_data("billing models", "company")


def test_a_published_library_is_planned_without_packages(builder: Any) -> None:
    builder.answers("gh:acme/template")
    builder.package("acme-models")
    workspace = load_workspace(builder.root)
    data = models_data("billing-models==1.2", "company")
    plan = plan_new(workspace, "service", "payments", data)
    assert plan.data == {**data, "kind": "service", "resource": "payments"}
    with pytest.raises(ScaffoldError, match="acme-models is a package of this workspace"):
        plan_new(workspace, "service", "payments", models_data("acme-models==1.0", "company"))


def test_a_workspace_package_that_is_missing_points_at_published_ones(builder: Any) -> None:
    builder.answers("gh:acme/template")
    builder.package("acme-models")
    with pytest.raises(ScaffoldError, match="no package 'billing-models'") as info:
        plan_new(
            load_workspace(builder.root),
            "service",
            "payments",
            {"models_package": "billing-models"},
        )
    assert info.value.hint is not None
    assert "--models billing-models==VERSION --index NAME" in info.value.hint


def test_an_unreachable_index_fails_before_anything_is_rendered(
    template_repo: Path, builder: Any
) -> None:
    builder.answers(str(template_repo), "v0.1.0")
    port = free_port()  # nothing listens there
    pyproject = builder.root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8") + "\n[tool.lambdapress.indexes.company]\n"
        f'upload-url = "http://127.0.0.1:{port}/"\n'
        f'index-url = "http://127.0.0.1:{port}/simple/"\n',
        encoding="utf-8",
    )
    before = pyproject.read_text(encoding="utf-8")
    workspace = load_workspace(builder.root)
    plan = plan_new(workspace, "service", "payments", models_data("billing-models==1.2", "company"))
    with pytest.raises(PackageIndexError, match="cannot reach index 'company'") as info:
        execute_new(plan, workspace.root)
    assert info.value.hint is not None and "start it" in info.value.hint
    assert not (builder.root / "services").exists()
    assert pyproject.read_text(encoding="utf-8") == before
    assert not (builder.root / "uv.lock").exists()


def test_several_model_libraries_need_models(builder: Any) -> None:
    builder.answers("gh:acme/template")
    builder.package("acme-models")
    builder.package("billing-models")
    with pytest.raises(ScaffoldError, match="several model libraries") as info:
        plan_new(load_workspace(builder.root), "service", "payments")
    assert "acme-models, billing-models" in info.value.message
    assert info.value.hint == "pass --models NAME"


def test_no_model_library_says_to_create_one(builder: Any) -> None:
    builder.answers("gh:acme/template")
    with pytest.raises(ScaffoldError, match="no model libraries") as info:
        plan_new(load_workspace(builder.root), "service", "payments")
    assert info.value.hint is not None
    assert "lambdapress new package" in info.value.hint


@pytest.mark.parametrize(
    "name",
    [
        *["Orders", "1orders", "line-items", "orders!", "", "class", "match", "json", "boto3"],
        *["tests", "lambdapress_runtime", "psycopg", "pytest", "a" * 25],
    ],
)
def test_invalid_service_names(builder: Any, name: str) -> None:
    builder.answers("gh:acme/template")
    builder.package("acme-models")
    with pytest.raises(ScaffoldError) as info:
        plan_new(load_workspace(builder.root), "service", name)
    assert info.value.hint


@pytest.mark.parametrize("name", ["line_items", "orders2", "payments", "a" * 24])
def test_valid_service_names(builder: Any, name: str) -> None:
    builder.answers("gh:acme/template")
    builder.package("acme-models")
    assert plan_new(load_workspace(builder.root), "service", name).data["resource"] == name


@pytest.mark.parametrize(
    "name",
    ["Acme", "acme_models", "acme--models", "-acme", "acme-", "9lives", "json", "email", "a" * 31],
)
def test_invalid_package_names(builder: Any, name: str) -> None:
    builder.answers("gh:acme/template")
    with pytest.raises(ScaffoldError) as info:
        plan_new(load_workspace(builder.root), "package", name)
    assert info.value.hint


@pytest.mark.parametrize(
    ("kind", "overrides", "match"),
    [
        ("service", {"kind": "package"}, "kind"),
        ("service", {"resource": "other"}, "resource"),
        ("package", {"package_name": "other"}, "package_name"),
        ("package", {"models_package": "acme-models"}, "--models only applies to services"),
        ("service", {"_commit": "x"}, "private copier key"),
    ],
)
def test_overrides_cannot_contradict_the_command(
    builder: Any, kind: str, overrides: dict[str, str], match: str
) -> None:
    builder.answers("gh:acme/template")
    builder.package("acme-models")
    with pytest.raises(ScaffoldError, match=match):
        plan_new(load_workspace(builder.root), kind, "payments", overrides)


def test_unknown_kind(builder: Any) -> None:
    builder.answers("gh:acme/template")
    with pytest.raises(ScaffoldError, match="unknown kind 'project'"):
        plan_new(load_workspace(builder.root), "project", "x")


def test_no_template_source(builder: Any) -> None:
    builder.package("acme-models")
    with pytest.raises(ScaffoldError, match="no template source") as info:
        plan_new(load_workspace(builder.root), "service", "payments")
    assert info.value.path == builder.root.resolve()


# ---------------------------------------------------------------- the template repository itself


def test_template_repository_is_its_own_source(template_workspace: Any, run_git: Git) -> None:
    root = template_workspace.root.resolve()
    plan = plan_new(load_workspace(root), "service", "payments")
    assert plan.src_path == str(root)
    assert plan.vcs_ref == run_git(root, "rev-parse", "HEAD").strip()
    assert plan.vcs_ref == head_commit(root)


def test_uncommitted_template_changes_are_refused(template_workspace: Any) -> None:
    root = template_workspace.root
    assert template_is_dirty(root) is False
    with (root / "copier.yml").open("a", encoding="utf-8") as handle:
        handle.write("# edited\n")
    assert template_is_dirty(root) is True
    with pytest.raises(ScaffoldError, match=r"uncommitted changes \(copier.yml\)") as info:
        plan_new(load_workspace(root), "service", "payments")
    assert info.value.hint is not None
    assert info.value.hint.startswith("commit the template first")


def test_untracked_template_files_count_as_changes(template_workspace: Any) -> None:
    root = template_workspace.root
    (root / "template" / "service" / "new.txt").write_text("x", encoding="utf-8")
    assert template_is_dirty(root) is True


def test_changes_outside_the_template_do_not_matter(template_workspace: Any) -> None:
    root = template_workspace.root
    (root / "notes.txt").write_text("work in progress", encoding="utf-8")
    assert template_is_dirty(root) is False


def test_template_root_that_is_not_a_git_repository(builder: Any, write_file: Any) -> None:
    write_file(builder.root / "copier.yml", "kind:\n  type: str\n")
    builder.package("acme-models")
    with pytest.raises(ScaffoldError, match="git status") as info:
        plan_new(load_workspace(builder.root), "service", "payments")
    assert info.value.hint is not None
    assert "commit the template first" in info.value.hint


# ---------------------------------------------------------------- --data


def test_parse_data() -> None:
    assert parse_data(["runtime=python3.13", "description=a=b", "empty="]) == {
        "runtime": "python3.13",
        "description": "a=b",
        "empty": "",
    }
    assert parse_data([]) == {}


@pytest.mark.parametrize("pair", ["novalue", "=x", "bad key=x", "1x=y"])
def test_parse_data_refuses_malformed_pairs(pair: str) -> None:
    with pytest.raises(ScaffoldError, match="is not KEY=VALUE"):
        parse_data([pair])


# ---------------------------------------------------------------- executing with copier


def _service_plan(template: Path, name: str, ref: str | None = "v0.1.0") -> NewPlan:
    return NewPlan(
        kind="service",
        name=name,
        destination=Path("services") / name,
        src_path=str(template),
        vcs_ref=ref,
        data={"kind": "service", "resource": name, "models_package": "acme-models"},
    )


def test_execute_new_renders_and_records_answers(template_repo: Path, builder: Any) -> None:
    builder.answers(str(template_repo), "v0.1.0")
    builder.package("acme-models")
    workspace = load_workspace(builder.root)
    plan = plan_new(workspace, "service", "payments")
    created = execute_new(plan, workspace.root)
    assert created == workspace.root / "services" / "payments"
    answers = yaml.safe_load((created / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert answers == {
        "_commit": "v0.1.0",
        "_src_path": str(template_repo),
        "kind": "service",
        "models_package": "acme-models",
        "resource": "payments",
    }
    assert 'name = "payments"' in (created / "pyproject.toml").read_text(encoding="utf-8")
    service = load_workspace(builder.root).service("payments")
    assert service is not None
    assert service.answers is not None
    assert service.answers.commit == "v0.1.0"


def test_execute_new_package(template_repo: Path, builder: Any) -> None:
    builder.answers(str(template_repo), "v0.1.0")
    plan = plan_new(load_workspace(builder.root), "package", "billing-models")
    created = execute_new(plan, builder.root)
    assert (
        (created / "pyproject.toml")
        .read_text(encoding="utf-8")
        .startswith('[project]\nname = "billing-models"')
    )
    assert [p.name for p in load_workspace(builder.root).packages] == ["billing-models"]


def test_validator_failure_leaves_nothing_behind(template_repo: Path, tmp_path: Path) -> None:
    plan = _service_plan(template_repo, "bad_orders")
    with pytest.raises(ScaffoldError) as info:
        execute_new(plan, tmp_path)
    assert "Validation error for question 'resource'" in info.value.message
    assert "'bad_orders' is not" in info.value.message
    assert info.value.hint is not None
    assert "nothing was written" in info.value.hint
    assert not (tmp_path / "services").exists()


def test_failure_keeps_folders_that_existed_before(template_repo: Path, tmp_path: Path) -> None:
    (tmp_path / "services" / "orders").mkdir(parents=True)
    with pytest.raises(ScaffoldError):
        execute_new(_service_plan(template_repo, "bad_new"), tmp_path)
    assert sorted(p.name for p in (tmp_path / "services").iterdir()) == ["orders"]


def test_unknown_template_version_leaves_nothing_behind(
    template_repo: Path, tmp_path: Path
) -> None:
    with pytest.raises(ScaffoldError, match=r"v9\.9\.9"):
        execute_new(_service_plan(template_repo, "orders", ref="v9.9.9"), tmp_path)
    assert not (tmp_path / "services" / "orders").exists()


def test_existing_empty_destination_is_kept_on_failure(template_repo: Path, tmp_path: Path) -> None:
    destination = tmp_path / "services" / "bad_x"
    destination.mkdir(parents=True)
    with pytest.raises(ScaffoldError):
        execute_new(_service_plan(template_repo, "bad_x"), tmp_path)
    assert destination.is_dir()
    assert list(destination.iterdir()) == []


def test_non_empty_destination_is_never_overwritten(template_repo: Path, tmp_path: Path) -> None:
    destination = tmp_path / "services" / "orders"
    destination.mkdir(parents=True)
    (destination / "mine.py").write_text("keep me", encoding="utf-8")
    with pytest.raises(ScaffoldError, match="not empty"):
        execute_new(_service_plan(template_repo, "orders"), tmp_path)
    assert (destination / "mine.py").read_text(encoding="utf-8") == "keep me"


def test_template_repository_records_a_real_commit_despite_other_changes(
    template_workspace: Any, run_git: Git
) -> None:
    root = template_workspace.root.resolve()
    (root / "scratch.txt").write_text("uncommitted, outside the template", encoding="utf-8")
    plan = plan_new(load_workspace(root), "service", "payments")
    created = execute_new(plan, root)
    answers = yaml.safe_load((created / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert answers["_commit"] == "v0.2.0"
    assert answers["_src_path"] == str(root)
    assert run_git(root, "rev-parse", "v0.2.0^{commit}").strip() == plan.vcs_ref


@pytest.mark.parametrize("error", [KeyboardInterrupt(), RuntimeError("bug")])
def test_interrupts_and_bugs_clean_up_and_propagate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    def half_copy(src_path: str, dst_path: Path, **_: object) -> None:
        (dst_path / "src").mkdir(parents=True)
        (dst_path / "src" / "half.py").write_text("", encoding="utf-8")
        raise error

    monkeypatch.setattr("copier.run_copy", half_copy)
    with pytest.raises(type(error)):
        execute_new(_service_plan(tmp_path / "template", "orders"), tmp_path)
    assert not (tmp_path / "services").exists()
