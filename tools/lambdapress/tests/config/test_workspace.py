"""Reading the uv workspace: members, conventions, and errors that point at the culprit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lambdapress.config.workspace import find_root, load_workspace
from lambdapress.errors import ConfigError, WorkspaceError

Writer = Callable[[Path, str], Path]


def test_find_root_from_the_root_a_subfolder_and_a_file(builder: Any) -> None:
    service = builder.service("orders")
    root = builder.root.resolve()
    assert find_root(builder.root) == root
    assert find_root(service / "src" / "orders") == root
    assert find_root(service / "pyproject.toml") == root


def test_find_root_without_workspace_says_how_to_fix(tmp_path: Path) -> None:
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    (lonely / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    with pytest.raises(WorkspaceError) as info:
        find_root(lonely)
    assert info.value.path == lonely
    assert info.value.hint is not None
    assert "[tool.uv.workspace]" in info.value.hint


def test_find_root_of_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="no such file or folder"):
        find_root(tmp_path / "missing")


def test_load_workspace_lists_members_sorted(builder: Any) -> None:
    builder.package("zeta-models", version="2.0.0")
    builder.package("acme-models", import_name="acme_models")
    builder.service("payments", settings='runtime = "python3.13"\narchitecture = "arm64"\n')
    builder.service("orders", settings="memory = 512\ntimeout = 30\n")
    (builder.root / "tools" / "lambdapress").mkdir(parents=True)
    (builder.root / "tools" / "lambdapress" / "pyproject.toml").write_text(
        '[project]\nname = "lambdapress"\n', encoding="utf-8"
    )
    workspace = load_workspace(builder.root)
    root = builder.root.resolve()
    assert workspace.root == root
    assert [p.name for p in workspace.packages] == ["acme-models", "zeta-models"]
    assert [s.name for s in workspace.services] == ["orders", "payments"]
    acme = workspace.packages[0]
    assert (acme.import_name, acme.version, acme.path) == (
        "acme_models",
        "0.1.0",
        root / "packages" / "acme-models",
    )
    assert workspace.packages[1].import_name == "zeta_models"
    orders = workspace.services[0]
    assert (orders.import_name, orders.settings.memory, orders.settings.timeout) == (
        "orders",
        512,
        30,
    )
    assert workspace.services[1].settings.architecture == "arm64"
    assert workspace.template_root is False
    assert workspace.answers is None
    # Members outside packages/ and services/ are libraries a service may ship (the runtime).
    (tool,) = workspace.libraries
    assert (tool.name, tool.import_name, tool.path) == (
        "lambdapress",
        "lambdapress",
        root / "tools" / "lambdapress",
    )


def test_a_library_and_a_package_cannot_ship_the_same_module(builder: Any) -> None:
    builder.package("acme-runtime", import_name="acme_runtime")
    (builder.root / "tools" / "acme-runtime").mkdir(parents=True)
    (builder.root / "tools" / "acme-runtime" / "pyproject.toml").write_text(
        '[project]\nname = "acme-runtime"\n', encoding="utf-8"
    )
    with pytest.raises(WorkspaceError, match="'acme_runtime' is used by both"):
        load_workspace(builder.root)


def test_lookups_and_relative_paths(builder: Any) -> None:
    builder.package("acme-models")
    builder.service("orders")
    workspace = load_workspace(builder.root)
    acme = workspace.package("acme-models")
    assert acme is not None
    assert workspace.relative(acme.path) == Path("packages/acme-models")
    assert workspace.service("orders") is not None
    assert workspace.service("nope") is None
    assert workspace.package("nope") is None
    assert workspace.relative(Path("/elsewhere")) == Path("/elsewhere")


def test_dynamic_version_is_none(builder: Any) -> None:
    builder.package("acme-models", version=None)
    assert load_workspace(builder.root).packages[0].version is None


def test_empty_and_dotfile_only_members_are_skipped(builder: Any) -> None:
    (builder.root / "services" / "draft").mkdir(parents=True)
    (builder.root / "services" / "kept").mkdir(parents=True)
    (builder.root / "services" / "kept" / ".gitkeep").write_text("", encoding="utf-8")
    (builder.root / "packages" / "notes.md").parent.mkdir(parents=True)
    (builder.root / "packages" / "notes.md").write_text("a file, not a member", encoding="utf-8")
    workspace = load_workspace(builder.root)
    assert workspace.services == ()
    assert workspace.packages == ()


def test_member_with_files_but_no_pyproject_is_an_error(builder: Any) -> None:
    leftover = builder.root / "services" / "old" / "src" / "__pycache__"
    leftover.mkdir(parents=True)
    with pytest.raises(WorkspaceError, match=r"no pyproject\.toml") as info:
        load_workspace(builder.root)
    assert info.value.path == (builder.root / "services" / "old").resolve()


def test_service_name_must_match_its_folder(builder: Any, write_file: Writer) -> None:
    folder = builder.service("orders")
    text = (folder / "pyproject.toml").read_text(encoding="utf-8")
    (folder / "pyproject.toml").write_text(text.replace('"orders"', '"order"', 1), "utf-8")
    with pytest.raises(WorkspaceError, match="differs from its folder") as info:
        load_workspace(builder.root)
    assert info.value.line == 2
    assert info.value.hint is not None
    assert 'name = "orders"' in info.value.hint


def test_service_import_name_must_match(builder: Any) -> None:
    builder.service("orders", import_name="orders_api")
    with pytest.raises(WorkspaceError, match="must be the same name") as info:
        load_workspace(builder.root)
    assert info.value.line == 7  # `packages = [...]` under [tool.poetry]


def test_duplicate_import_names_name_both_paths(builder: Any) -> None:
    builder.package("orders-lib", import_name="orders")
    builder.service("orders")
    with pytest.raises(WorkspaceError) as info:
        load_workspace(builder.root)
    message = info.value.message
    root = builder.root.resolve()
    assert str(root / "packages" / "orders-lib") in message
    assert str(root / "services" / "orders") in message
    assert "import name 'orders'" in message


def test_missing_project_name_is_a_config_error(builder: Any, write_file: Writer) -> None:
    write_file(builder.root / "packages" / "x" / "pyproject.toml", '[tool.poetry]\nname = "x"\n')
    with pytest.raises(ConfigError, match=r"\[project\] name"):
        load_workspace(builder.root)


def test_bad_poetry_packages_is_a_config_error(builder: Any, write_file: Writer) -> None:
    write_file(
        builder.root / "packages" / "x" / "pyproject.toml",
        '[project]\nname = "x"\n[tool.poetry]\npackages = ["x"]\n',
    )
    with pytest.raises(ConfigError, match=r"tool\.poetry") as info:
        load_workspace(builder.root)
    assert info.value.line == 4


def test_invalid_service_settings_propagate(builder: Any) -> None:
    folder = builder.service("orders", settings="memory = 1\n")
    with pytest.raises(ConfigError) as info:
        load_workspace(builder.root)
    assert info.value.path == (folder / "pyproject.toml").resolve()


def test_root_answers_template_flag_and_service_answers(builder: Any, write_file: Writer) -> None:
    builder.answers("gh:acme/template", "v1.2.0")
    write_file(builder.root / "copier.yml", "kind:\n  type: str\n")
    builder.service(
        "orders",
        answers="_src_path: gh:acme/template\n_commit: v1.1.0\nkind: service\nresource: orders\n",
    )
    workspace = load_workspace(builder.root)
    assert workspace.template_root is True
    assert workspace.answers is not None
    assert (workspace.answers.src_path, workspace.answers.commit) == ("gh:acme/template", "v1.2.0")
    service_answers = workspace.services[0].answers
    assert service_answers is not None
    assert service_answers.commit == "v1.1.0"
    assert service_answers.values == {"resource": "orders"}


def test_not_a_workspace_root(tmp_path: Path, write_file: Writer) -> None:
    path = write_file(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    with pytest.raises(WorkspaceError, match=r"tool\.uv\.workspace") as info:
        load_workspace(tmp_path)
    assert info.value.path == path.resolve()


def test_members_must_be_a_list_of_strings(tmp_path: Path, write_file: Writer) -> None:
    write_file(tmp_path / "pyproject.toml", '[tool.uv.workspace]\nmembers = "services/*"\n')
    with pytest.raises(ConfigError, match="list of glob strings") as info:
        load_workspace(tmp_path)
    assert info.value.line == 2


def test_globs_must_stay_inside_the_repository(tmp_path: Path, write_file: Writer) -> None:
    write_file(tmp_path / "pyproject.toml", '[tool.uv.workspace]\nmembers = ["../other/*"]\n')
    with pytest.raises(ConfigError, match="inside the repository"):
        load_workspace(tmp_path)


def test_exclude_globs_are_honoured(builder: Any, write_file: Writer) -> None:
    write_file(
        builder.root / "pyproject.toml",
        """
        [tool.uv.workspace]
        members = ["packages/*", "services/*"]
        exclude = ["services/legacy"]
        """,
    )
    builder.service("orders")
    (builder.root / "services" / "legacy" / "stuff").mkdir(parents=True)
    workspace = load_workspace(builder.root)
    assert [s.name for s in workspace.services] == ["orders"]
