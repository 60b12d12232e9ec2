"""Issue 25's workload as the bench generates it: files only, no lock, no index."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

from lambdapress.bench import _workload
from lambdapress.bench._workload import (
    FALLBACK_PINS,
    Workload,
    create_workload,
    edit_handler,
    export_requirements,
    function_name,
    pins_from,
    set_handlers,
)
from lambdapress.config.workspace import load_workspace
from lambdapress.errors import ToolchainError

PINS = {"pydantic": "==2.9.0", "requests": "==2.32.0"}


def imported(path: Path) -> set[str]:
    """The top-level modules a generated handler imports."""
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names - {"typing"}


@pytest.fixture
def generated(tmp_path: Path) -> Workload:
    return create_workload(tmp_path / "workload", PINS, lock=False)


def test_the_workspace_is_one_python_311_service_on_a_poetry_core_library(
    generated: Workload,
) -> None:
    space = load_workspace(generated.root)

    [service] = space.services
    [library] = space.packages
    assert (service.name, service.settings.runtime, service.settings.architecture) == (
        "scaled",
        "python3.11",
        "x86_64",
    )
    assert (library.name, library.import_name) == ("scaled-models", "scaled_models")
    service_toml = (service.path / "pyproject.toml").read_text()
    assert '"pydantic==2.9.0"' in service_toml and '"requests==2.32.0"' in service_toml
    assert "poetry.core.masonry.api" in (library.path / "pyproject.toml").read_text()


def test_n_handlers_one_on_pydantic_alone_two_with_requests_the_rest_on_the_library(
    generated: Workload,
) -> None:
    set_handlers(generated, 6)

    modules = sorted(p.name for p in generated.handlers.glob("handler_*.py"))
    assert modules == [f"handler_{i:04d}.py" for i in range(6)]
    uses = [imported(generated.handlers / name) for name in modules]
    assert uses[0] == {"pydantic"}
    assert uses[1] == uses[2] == {"requests", "scaled_models"}
    assert all(u == {"scaled_models"} for u in uses[3:])
    assert function_name(0) == "scaled.handler_0000"

    set_handlers(generated, 2)
    assert len(list(generated.handlers.glob("handler_*.py"))) == 2, "an N replaces the last"


def test_an_edit_changes_the_last_handler_alone(generated: Workload) -> None:
    set_handlers(generated, 4)
    before = {p.name: p.read_text() for p in generated.handlers.glob("*.py")}

    edited = edit_handler(generated, 4, "run 0")

    after = {p.name: p.read_text() for p in generated.handlers.glob("*.py")}
    assert [name for name in before if before[name] != after[name]] == [edited.name]
    assert edited.name == "handler_0003.py"
    ast.parse(after[edited.name])  # still a module


def test_pins_come_from_the_callers_lock_or_fall_back_to_ranges(tmp_path: Path) -> None:
    assert pins_from(tmp_path) == FALLBACK_PINS  # no uv.lock there
    (tmp_path / "uv.lock").write_text(
        'version = 1\nrevision = 3\nrequires-python = ">=3.11"\n\n'
        '[[package]]\nname = "pydantic"\nversion = "2.11.1"\n'
        'source = { registry = "https://pypi.org/simple" }\n'
    )
    assert pins_from(tmp_path) == {"pydantic": "==2.11.1", "requests": FALLBACK_PINS["requests"]}


def test_requirements_name_the_library_by_absolute_path_for_sams_pip(
    generated: Workload, monkeypatch: pytest.MonkeyPatch
) -> None:
    exported = "-e ./packages/scaled-models\nannotated-types==0.7.0\npydantic==2.9.0\n"
    asked: list[list[str]] = []

    def uv(arguments: list[str], folder: Path) -> str:
        asked.append(arguments)
        return exported

    monkeypatch.setattr(_workload, "_uv", uv)

    text = export_requirements(generated)

    library = (generated.root / "packages" / "scaled-models").resolve()
    assert text.splitlines() == [
        f"scaled-models @ {library.as_uri()}",
        "annotated-types==0.7.0",
        "pydantic==2.9.0",
    ]
    assert {"--frozen", "--no-hashes", "--no-emit-project"} <= set(asked[0])


def test_a_failing_uv_is_an_error_that_says_how_to_skip(
    generated: Workload, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(*args: object, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(["uv"], 2, "", "error: no lock file")

    monkeypatch.setattr(subprocess, "run", failing)
    with pytest.raises(ToolchainError, match="no lock file") as caught:
        export_requirements(generated)
    assert caught.value.hint is not None and "--sizes ''" in caught.value.hint


def test_a_copy_leaves_builds_and_caches_behind(generated: Workload, tmp_path: Path) -> None:
    for leftover in ("dist/x.zip", ".cache/lambdapress/a", ".aws-sam/build/b"):
        path = generated.root / leftover
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")

    copy = generated.copy_to(tmp_path / "copy")

    assert (copy.root / "services" / "scaled" / "pyproject.toml").is_file()
    assert not any((copy.root / name).exists() for name in ("dist", ".cache", ".aws-sam"))
