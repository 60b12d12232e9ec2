"""Schemas come from an installed copy in a throwaway environment, not from the source tree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lambdapress.config.workspace import Package
from lambdapress.errors import CompatCheckError
from lambdapress.publish._build import build_package
from lambdapress.publish._schemas import local_schemas


def build(folder: Path, out: Path) -> Path:
    package = Package(name="acme-models", import_name="acme_models", version="1.0.0", path=folder)
    return build_package(package, out).wheel.path


@pytest.mark.e2e
def test_schemas_of_the_exported_models_of_a_built_wheel(tmp_path: Path, library: Any) -> None:
    folder = library(tmp_path / "acme-models")
    wheel = build(folder, tmp_path / "out")
    (folder / "src").rename(tmp_path / "moved")  # proof that the wheel, not the source, is read
    schemas = local_schemas(wheel, "acme-models", "acme_models", tmp_path / "work")
    assert sorted(schemas) == ["Entity", "Page"]
    assert schemas["Entity"]["required"] == ["id", "created_at", "updated_at"]
    assert schemas["Entity"]["properties"]["id"]["maxLength"] == 64
    assert schemas["Page"]["required"] == ["items"]


@pytest.mark.e2e
def test_a_model_without_a_json_schema_is_a_clear_error(tmp_path: Path, library: Any) -> None:
    folder = library(tmp_path / "acme-models")
    init = folder / "src" / "acme_models" / "__init__.py"
    init.write_text(
        init.read_text(encoding="utf-8")
        + "\nfrom collections.abc import Callable\nfrom pydantic import BaseModel\n\n\n"
        "class Hook(BaseModel):\n    run: Callable[[], None]\n\n\n"
        '__all__ += ["Hook"]\n',
        encoding="utf-8",
    )
    wheel = build(folder, tmp_path / "out")
    with pytest.raises(CompatCheckError) as caught:
        local_schemas(wheel, "acme-models", "acme_models", tmp_path / "work")
    assert "cannot produce the JSON Schema of exported models of acme_models: Hook:" in str(
        caught.value
    )
    assert "leave it out of __all__" in str(caught.value.hint)


@pytest.mark.e2e
def test_an_install_failure_quotes_uv(tmp_path: Path) -> None:
    missing = tmp_path / "acme_models-9.9.9-py3-none-any.whl"
    with pytest.raises(CompatCheckError, match="failed") as caught:
        local_schemas(missing, "acme-models", "acme_models", tmp_path / "work")
    assert "uv pip install" in caught.value.message
