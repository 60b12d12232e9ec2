"""Building through PEP 517 with poetry-core: reproducible, atomic, and clear when it fails."""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

from lambdapress.config.workspace import Package
from lambdapress.errors import BuildError
from lambdapress.publish._build import build_package
from lambdapress.publish._metadata import check_package


def package_at(folder: Path, version: str | None = "1.0.0") -> Package:
    return Package(name="acme-models", import_name="acme_models", version=version, path=folder)


@pytest.mark.e2e
def test_two_checkouts_build_byte_identical_files(
    tmp_path: Path, library: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = library(tmp_path / "checkout-a" / "acme-models")
    second = tmp_path / "elsewhere" / "deeper" / "acme-models"
    shutil.copytree(first, second)
    for path in second.rglob("*"):  # other mtimes, as after a fresh clone
        os.utime(path, (1_700_000_000, 1_700_000_000))
    a = build_package(package_at(first), tmp_path / "out-a")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # the caller's value must not matter
    b = build_package(package_at(second), tmp_path / "out-b")
    assert (a.wheel.filename, a.sdist.filename) == (
        "acme_models-1.0.0-py3-none-any.whl",
        "acme_models-1.0.0.tar.gz",
    )
    assert (a.wheel.sha256, a.sdist.sha256) == (b.wheel.sha256, b.sdist.sha256)
    with zipfile.ZipFile(a.wheel.path) as wheel:
        assert {info.date_time for info in wheel.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        metadata = wheel.read("acme_models-1.0.0.dist-info/METADATA").decode()
    assert "Requires-Dist: pydantic (>=2.7,<3)" in metadata
    assert check_package(a, first / "pyproject.toml", ["acme-models"]) == ()


@pytest.mark.e2e
def test_a_rebuild_replaces_the_previous_files(tmp_path: Path, library: Any) -> None:
    folder = library(tmp_path / "acme-models")
    out = tmp_path / "out"
    build_package(package_at(folder), out)
    (out / "acme-models-1.0.0" / "stale.txt").write_text("old", encoding="utf-8")
    built = build_package(package_at(folder), out)
    assert sorted(p.name for p in out.iterdir()) == ["acme-models-1.0.0"]
    assert sorted(p.name for p in built.wheel.path.parent.iterdir()) == [
        built.wheel.filename,
        built.sdist.filename,
    ]


@pytest.mark.e2e
def test_a_backend_failure_names_the_pyproject_and_shows_the_output(
    tmp_path: Path, library: Any
) -> None:
    folder = library(tmp_path / "acme-models")
    shutil.rmtree(folder / "src" / "acme_models")  # [tool.poetry] packages points at nothing
    with pytest.raises(BuildError) as caught:
        build_package(package_at(folder), tmp_path / "out")
    error = caught.value
    assert error.path == folder / "pyproject.toml"
    assert error.message.startswith("the build backend failed to build the sdist")
    assert "acme_models" in error.message  # poetry-core's own words are quoted
    assert "python -m build" in str(error.hint)
    assert not (tmp_path / "out" / "acme-models-1.0.0").exists()
    assert [p.name for p in (tmp_path / "out").iterdir()] == []


def test_a_dynamic_version_cannot_be_published(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="has a dynamic version") as caught:
        build_package(package_at(tmp_path, version=None), tmp_path / "out")
    assert caught.value.hint == 'set `version = "X.Y.Z"` in [project]'


@pytest.mark.e2e
def test_poetry_core_leaks_a_legacy_path_dependency_and_it_is_refused(
    tmp_path: Path, library: Any
) -> None:
    shared = tmp_path / "packages" / "shared-models"
    (shared / "src" / "shared_models").mkdir(parents=True)
    (shared / "src" / "shared_models" / "__init__.py").write_text("", encoding="utf-8")
    (shared / "pyproject.toml").write_text(
        '[project]\nname = "shared-models"\nversion = "1.0.0"\n'
        '[tool.poetry]\npackages = [{ include = "shared_models", from = "src" }]\n'
        '[build-system]\nrequires = ["poetry-core>=2.0"]\n'
        'build-backend = "poetry.core.masonry.api"\n',
        encoding="utf-8",
    )
    folder = library(
        tmp_path / "packages" / "acme-models",
        extra_pyproject="[tool.poetry.dependencies]\n"
        'python = ">=3.11"\npydantic = ">=2.7,<3"\n'
        'shared-models = { path = "../shared-models" }\n',
        dependencies=None,  # the legacy, tool.poetry-only style
    )
    built = build_package(package_at(folder), tmp_path / "out")
    problems = check_package(built, folder / "pyproject.toml", ["acme-models", "shared-models"])
    leaks = [p for p in problems if "points at a local path" in p.message]
    assert leaks, problems
    assert "file://" in leaks[0].message
    assert leaks[0].file == built.wheel.filename
