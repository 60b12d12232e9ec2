"""The first-party import graph: what reaches what, statically."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdapress.bundle.imports import ModuleIndex, first_party_closure, package_data
from lambdapress.errors import BundleError


def make_index(tmp_path: Path, files: dict[str, str]) -> ModuleIndex:
    src = tmp_path / "src"
    for name, text in files.items():
        path = src / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    index = ModuleIndex()
    for top in sorted({name.split("/")[0] for name in files}):
        index.add_root(src, top.removesuffix(".py"))
    return index


def test_absolute_relative_and_from_imports_are_followed(tmp_path: Path) -> None:
    index = make_index(
        tmp_path,
        {
            "app/__init__.py": "from app import config\n",
            "app/config.py": "import json\n",
            "app/handlers/__init__.py": "",
            "app/handlers/h.py": (
                "from ..core import logic\nfrom . import sibling\nimport app.extra.deep\n"
            ),
            "app/handlers/sibling.py": "from app.core.logic import run\n",
            "app/core/__init__.py": "",
            "app/core/logic.py": "import pydantic\nfrom pydantic import BaseModel\n",
            "app/extra/__init__.py": "",
            "app/extra/deep.py": "",
            "app/unused.py": "import requests\n",
        },
    )
    closure = first_party_closure(index, ["app.handlers.h"])
    assert [m.name for m in closure.modules] == [
        "app",
        "app.config",
        "app.core",
        "app.core.logic",
        "app.extra",
        "app.extra.deep",
        "app.handlers",
        "app.handlers.h",
        "app.handlers.sibling",
    ]
    external = {ref.top_level for ref in closure.external}
    assert external == {"json", "pydantic"}


def test_type_checking_imports_and_guarded_optional_imports(tmp_path: Path) -> None:
    index = make_index(
        tmp_path,
        {
            "svc/__init__.py": "",
            "svc/h.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from svc import heavy\nelse:\n    from svc import light\n"
                "try:\n    import ujson\nexcept ImportError:\n    ujson = None\n"
                "def later():\n    import svc.lazy\n"
            ),
            "svc/heavy.py": "",
            "svc/light.py": "",
            "svc/lazy.py": "",
        },
    )
    closure = first_party_closure(index, ["svc.h"])
    names = [m.name for m in closure.modules]
    assert "svc.heavy" not in names and {"svc.light", "svc.lazy"} <= set(names)
    (ujson,) = [ref for ref in closure.external if ref.top_level == "ujson"]
    assert ujson.optional


def test_a_missing_first_party_module_is_an_error_with_its_line(tmp_path: Path) -> None:
    index = make_index(tmp_path, {"svc/__init__.py": "", "svc/h.py": "x = 1\nimport svc.gone\n"})
    with pytest.raises(BundleError, match=r"'svc\.gone'") as caught:
        first_party_closure(index, ["svc.h"])
    assert caught.value.line == 2


def test_tests_and_caches_are_never_indexed_and_data_files_ship(tmp_path: Path) -> None:
    index = make_index(
        tmp_path,
        {
            "svc/__init__.py": "",
            "svc/tests/test_x.py": "",
            "svc/conftest.py": "",
            "svc/schema.json": "{}",
            "svc/py.typed": "",
        },
    )
    assert set(index.modules) == {"svc"}
    closure = first_party_closure(index, ["svc"])
    assert [p.name for p in package_data(index, closure.modules)] == ["schema.json"]
