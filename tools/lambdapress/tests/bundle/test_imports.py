"""The first-party import graph: what reaches what, statically."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdapress.bundle._imports import ModuleIndex, first_party_closure, package_data
from lambdapress.errors import BundleError


def make_index(tmp_path: Path, files: dict[str, str]) -> ModuleIndex:
    src = tmp_path / "src"
    for name, text in files.items():
        path = src / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    index = ModuleIndex(project=tmp_path)
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


def test_package_data_ships_at_any_depth_each_file_once(tmp_path: Path) -> None:
    index = make_index(
        tmp_path,
        {
            "svc/__init__.py": "",
            "svc/h.py": "import svc.sub\n",
            "svc/schemas/order.json": "{}",
            "svc/schemas/v2/deep/line.json": "{}",
            "svc/sub/__init__.py": "",
            "svc/sub/page.html": "<p>",
        },
    )
    closure = first_party_closure(index, ["svc.h"])
    data = [
        p.relative_to(tmp_path / "src").as_posix() for p in package_data(index, closure.modules)
    ]
    # svc and svc.sub are both reached: svc/sub/page.html is under both, and listed once
    assert data == ["svc/schemas/order.json", "svc/schemas/v2/deep/line.json", "svc/sub/page.html"]


def test_a_subpackage_nothing_imports_gives_its_data_but_not_its_modules(tmp_path: Path) -> None:
    index = make_index(
        tmp_path,
        {
            "svc/__init__.py": "",
            "svc/h.py": "",
            "svc/sub/__init__.py": "",
            "svc/sub/mod.py": "",
            "svc/sub/page.html": "<p>",
            "svc/scripts/migrate.py": "",
        },
    )
    closure = first_party_closure(index, ["svc.h"])
    assert [m.name for m in closure.modules] == ["svc", "svc.h"]
    shipped = [p.name for p in package_data(index, closure.modules)]
    assert shipped == ["page.html"], "only data files ship with the imported package"


def test_tests_stubs_and_caches_are_not_package_data(tmp_path: Path) -> None:
    index = make_index(
        tmp_path,
        {
            "svc/__init__.py": "",
            "svc/tests/fixtures/order.json": "{}",
            "svc/test_fixture.json": "{}",
            "svc/models.pyi": "",
            "svc/__pycache__/models.cpython-311.pyc": "",
            "svc/.mypy_cache/x.json": "{}",
            "svc/kept.txt": "",
        },
    )
    closure = first_party_closure(index, ["svc"])
    assert [p.name for p in package_data(index, closure.modules)] == ["kept.txt"]


@pytest.mark.parametrize(
    ("test_file", "name", "why"),
    [
        ("svc/test_mode.py", "svc.test_mode", "svc.test_mode is a test module by its name"),
        ("svc/mode_test.py", "svc.mode_test", "svc.mode_test is a test module by its name"),
        ("svc/tests/helpers.py", "svc.tests.helpers", "svc.tests is a test module: it is in"),
    ],
)
def test_importing_a_test_module_says_test_modules_never_ship(
    tmp_path: Path, test_file: str, name: str, why: str
) -> None:
    parent, _, module = name.rpartition(".")
    index = make_index(
        tmp_path,
        {
            "svc/__init__.py": "",
            "svc/tests/__init__.py": "",
            test_file: "",
            "svc/h.py": f"x = 1\nfrom {parent} import {module}\n",
        },
    )
    with pytest.raises(BundleError) as caught:
        first_party_closure(index, ["svc.h"])
    error = caught.value
    assert error.message.startswith(why)
    assert "test modules never ship" in error.message
    assert error.path == tmp_path / "src/svc/h.py" and error.line == 2
    assert "rename" in (error.hint or "")


def test_odd_file_names_are_not_modules(tmp_path: Path) -> None:
    index = make_index(
        tmp_path,
        {"svc/__init__.py": "", "svc/my-script.py": "", "svc/a.b.py": "", "svc/ok.py": ""},
    )
    assert set(index.modules) == {"svc", "svc.ok"}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (b"def broken(:\n", "syntax error"),
        (b"x = 1\x00\n", "null bytes"),
        (b"x = '\xff\xfe'\n", "utf-8"),
        (b"# -*- coding: klingon -*-\nx = 1\n", "unknown encoding"),
    ],
)
def test_a_module_that_does_not_parse_names_the_file(
    tmp_path: Path, source: bytes, message: str
) -> None:
    index = make_index(tmp_path, {"svc/__init__.py": "", "svc/h.py": "import svc.helpers\n"})
    helpers = tmp_path / "src/svc/helpers.py"
    helpers.write_bytes(source)
    index.add_root(tmp_path / "src", "svc")
    with pytest.raises(BundleError) as caught:
        first_party_closure(index, ["svc.h"])
    assert caught.value.path == helpers
    assert message in caught.value.message
    assert caught.value.hint


def test_a_broken_symlinked_module_and_a_symlink_loop_are_named(tmp_path: Path) -> None:
    index = make_index(tmp_path, {"svc/__init__.py": "", "svc/h.py": "import svc.gone\n"})
    gone = tmp_path / "src/svc/gone.py"
    gone.symlink_to(tmp_path / "nowhere.py")
    index.add_root(tmp_path / "src", "svc")
    with pytest.raises(BundleError, match=r"symlink to .*nowhere\.py.*does not exist") as caught:
        first_party_closure(index, ["svc.h"])
    assert caught.value.path == gone and "symlink" in (caught.value.hint or "")

    gone.unlink()
    gone.symlink_to(gone)
    index.add_root(tmp_path / "src", "svc")
    with pytest.raises(BundleError, match="symlink loop") as caught:
        first_party_closure(index, ["svc.h"])
    assert caught.value.path == gone
