"""Pinning a service to a published version, and back, without breaking the uv workspace."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

from lambdapress.config.workspace import load_workspace
from lambdapress.errors import PinError
from lambdapress.indexes.pins import Pin, read_pins
from lambdapress.publish.pins import (
    apply_edit,
    pin_text,
    plan_pin,
    plan_unpin,
    unpin_text,
)

SERVICE = textwrap.dedent(
    """
    [project]
    name = "orders"
    version = "0.1.0"
    requires-python = ">=3.11"
    dependencies = [
        "acme-models",
        "pydantic>=2.7",
    ]

    # Development uses the model library from source.
    [tool.poetry]
    packages = [{ include = "orders", from = "src" }]

    [tool.poetry.dependencies]
    acme-models = { path = "../../packages/acme-models", develop = true }

    [tool.uv.sources]
    acme-models = { workspace = true }

    [tool.lambdapress]
    memory = 256
    """
).lstrip()

PINNED = SERVICE.replace(
    'acme-models = { path = "../../packages/acme-models", develop = true }\n',
    'acme-models = { version = "==1.2.0", source = "local" }  '
    "# pinned by lambdapress: services ship this published version\n\n"
    "[[tool.poetry.source]]\n"
    'name = "local"\n'
    'url = "http://127.0.0.1:8080/simple/"\n'
    'priority = "explicit"\n',
)
PIN = Pin(
    package="acme-models", version="1.2.0", index="local", index_url="http://127.0.0.1:8080/simple/"
)
PUBLISHED = (Version("1.0.0"), Version("1.2.0"))


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "packages" / "acme-models").mkdir(parents=True)
    (root / "packages" / "acme-models" / "pyproject.toml").write_text(
        '[project]\nname = "acme-models"\nversion = "2.0.0"\ndependencies = ["pydantic>=2.7,<3"]\n'
        '[tool.poetry]\npackages = [{ include = "acme_models", from = "src" }]\n'
        '[build-system]\nrequires = ["poetry-core>=2.0"]\n'
        'build-backend = "poetry.core.masonry.api"\n',
        encoding="utf-8",
    )
    (root / "packages" / "acme-models" / "src" / "acme_models").mkdir(parents=True)
    (root / "packages" / "acme-models" / "src" / "acme_models" / "__init__.py").touch()
    (root / "services" / "orders" / "src" / "orders").mkdir(parents=True)
    (root / "services" / "orders" / "src" / "orders" / "__init__.py").touch()
    (root / "services" / "orders" / "pyproject.toml").write_text(
        SERVICE.replace("[tool.lambdapress]\nmemory = 256\n", "")
        + '[build-system]\nrequires = ["poetry-core>=2.0"]\n'
        'build-backend = "poetry.core.masonry.api"\n',
        encoding="utf-8",
    )
    (root / "pyproject.toml").write_text(
        '[tool.uv.workspace]\nmembers = ["packages/*", "services/*"]\n', encoding="utf-8"
    )
    return root


def test_pin_text_replaces_the_path_with_a_version_from_the_index(tmp_path: Path) -> None:
    assert pin_text(SERVICE, PIN, tmp_path) == PINNED


def test_unpin_restores_the_original_text(monorepo: Path) -> None:
    pyproject = monorepo / "services" / "orders" / "pyproject.toml"
    original = pyproject.read_text(encoding="utf-8")
    workspace = load_workspace(monorepo)
    edit = plan_pin(workspace, "orders", "acme-models", "1.2.0", "local", PIN.index_url, PUBLISHED)
    assert edit.pin == PIN
    assert apply_edit(edit)
    assert read_pins(pyproject) == (PIN,)
    text = pyproject.read_text(encoding="utf-8")
    assert "acme-models = { workspace = true }" in text  # uv keeps the source
    assert '"acme-models",' in text  # [project] dependencies untouched
    assert apply_edit(plan_unpin(load_workspace(monorepo), "orders", "acme-models"))
    assert pyproject.read_text(encoding="utf-8") == original
    assert read_pins(pyproject) == ()
    assert list(pyproject.parent.glob(".pyproject-*")) == []


def test_pinning_twice_changes_only_the_version(tmp_path: Path) -> None:
    again = pin_text(PINNED, PIN.model_copy(update={"version": "1.0.0"}), tmp_path)
    assert again == PINNED.replace("==1.2.0", "==1.0.0")


def test_only_published_versions_can_be_pinned(monorepo: Path) -> None:
    workspace = load_workspace(monorepo)
    with pytest.raises(PinError) as caught:
        plan_pin(workspace, "orders", "acme-models", "1.1.0", "local", PIN.index_url, PUBLISHED)
    assert caught.value.message == (
        "acme-models 1.1.0 is not on index 'local' (published: 1.0.0, 1.2.0)"
    )
    assert "lambdapress publish acme-models --index local" in str(caught.value.hint)


@pytest.mark.parametrize(
    ("service", "package", "version", "words"),
    [
        ("payments", "acme-models", "1.2.0", r"no service named 'payments' \(services: orders\)"),
        ("orders", "billing-models", "1.2.0", "no package named 'billing-models'"),
        ("orders", "acme-models", "one", "'one' is not a version"),
    ],
)
def test_mistakes_are_named(
    monorepo: Path, service: str, package: str, version: str, words: str
) -> None:
    workspace = load_workspace(monorepo)
    with pytest.raises(PinError, match=words):
        plan_pin(workspace, service, package, version, "local", PIN.index_url, PUBLISHED)


def test_a_service_that_does_not_use_the_package_is_refused(tmp_path: Path) -> None:
    text = SERVICE.replace('    "acme-models",\n', "")
    with pytest.raises(PinError, match="does not depend on acme-models") as caught:
        pin_text(text, PIN, tmp_path / "pyproject.toml")
    assert caught.value.path == tmp_path / "pyproject.toml"


def test_a_file_changed_since_the_plan_is_not_overwritten(monorepo: Path) -> None:
    workspace = load_workspace(monorepo)
    edit = plan_pin(workspace, "orders", "acme-models", "1.2.0", "local", PIN.index_url, PUBLISHED)
    edit.pyproject.write_text(edit.before + "# edited meanwhile\n", encoding="utf-8")
    with pytest.raises(PinError, match="changed since the pin was planned"):
        apply_edit(edit)
    assert edit.pyproject.read_text(encoding="utf-8").endswith("# edited meanwhile\n")


def test_other_poetry_sources_survive_an_unpin(tmp_path: Path) -> None:
    comment = "# pinned by lambdapress: services ship this published version\n"
    text = PINNED.replace(
        comment, comment + 'other = { version = "==3.0", source = "mirror" }\n'
    ).replace(
        "[tool.uv.sources]",
        '[[tool.poetry.source]]\nname = "mirror"\nurl = "http://127.0.0.1:9/simple/"\n\n'
        "[tool.uv.sources]",
    )
    out = unpin_text(text, "acme-models", "../../packages/acme-models", tmp_path)
    assert 'name = "local"' not in out
    assert 'name = "mirror"' in out
    assert 'other = { version = "==3.0", source = "mirror" }' in out
    assert read_pins_text(out) == ("other",)


def read_pins_text(text: str) -> tuple[str, ...]:
    import tomlkit

    from lambdapress.indexes.pins import pins_in

    return tuple(pin.package for pin in pins_in(tomlkit.parse(text)))


@pytest.mark.e2e
def test_uv_still_locks_the_workspace_with_a_pinned_service(monorepo: Path) -> None:
    workspace = load_workspace(monorepo)
    apply_edit(
        plan_pin(workspace, "orders", "acme-models", "1.2.0", "local", PIN.index_url, PUBLISHED)
    )
    result = subprocess.run(
        ["uv", "lock", "--quiet"], cwd=monorepo, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert 'name = "acme-models"' in (monorepo / "uv.lock").read_text(encoding="utf-8")


def test_the_pin_is_read_from_a_real_index_listing(
    index_server: Any, dists: Any, monorepo: Path
) -> None:
    from lambdapress.publish._simple import project_files, published_versions
    from lambdapress.publish._upload import upload_files

    built = dists("acme-models", "1.2.0")
    upload_files(index_server.resolved(), [built.wheel.path], monorepo)
    versions = published_versions(project_files(index_server.resolved(), "acme-models"))
    edit = plan_pin(
        load_workspace(monorepo),
        "orders",
        "acme-models",
        "1.2.0",
        "local",
        index_server.index_url,
        versions,
    )
    assert edit.pin is not None and edit.pin.index_url == index_server.index_url


@pytest.mark.parametrize("edit", ["pin", "unpin"])
def test_a_pyproject_that_is_not_toml_is_a_pin_error_naming_its_line(edit: str) -> None:
    pyproject = Path("services/orders/pyproject.toml")
    broken = SERVICE.replace("memory = 256", "memory = ")
    with pytest.raises(PinError, match="invalid TOML") as caught:
        if edit == "pin":
            pin_text(broken, PIN, pyproject)
        else:
            unpin_text(broken, "acme-models", "../../packages/acme-models", pyproject)
    assert caught.value.path == pyproject
    assert caught.value.line == SERVICE.splitlines().index("memory = 256") + 1
    assert caught.value.hint == "fix the syntax first"
