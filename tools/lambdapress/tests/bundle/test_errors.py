"""Bad input stops `lambdapress package` with the file, the line and the fix; dist/ is untouched."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from lambdapress.bundle import PackageResult
from lambdapress.cli import main
from lambdapress.errors import BundleError, ConfigError, LambdapressError

Build = Callable[[Path], PackageResult]
HANDLER = "services/shop/src/shop/handlers/get_item.py"


def dist_bytes(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in (root / "dist").rglob("*") if p.is_file()
    }


def edit(root: Path, relative: str, old: str, new: str) -> None:
    path = root / relative
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def fails_leaving_dist(shop: Path, build: Build, error: type[LambdapressError]) -> LambdapressError:
    before = dist_bytes(shop)
    with pytest.raises(error) as caught:
        build(shop)
    assert dist_bytes(shop) == before, "dist/ must be left as it was"
    return caught.value


def test_an_import_nobody_provides_names_the_import_and_the_file(shop: Path, build: Build) -> None:
    build(shop)
    edit(
        shop,
        HANDLER,
        "from shop.store import ITEMS\n",
        "from shop.store import ITEMS\nimport requests\n",
    )
    error = fails_leaving_dist(shop, build, BundleError)
    assert "'requests'" in str(error) and "not provided by any dependency" in str(error)
    assert error.path is not None and error.path.name == "get_item.py"
    assert error.line == 2
    assert "[project] dependencies" in (error.hint or "")


def test_an_undeclared_workspace_member_is_refused(shop: Path, build: Build) -> None:
    build(shop)
    other = shop / "packages/other-models"
    (other / "src/other_models").mkdir(parents=True)
    (other / "src/other_models/__init__.py").write_text("X = 1\n")
    (other / "pyproject.toml").write_text(
        '[project]\nname = "other-models"\nversion = "1.0.0"\n'
        '[tool.poetry]\npackages = [{ include = "other_models", from = "src" }]\n'
        '[build-system]\nrequires = ["poetry-core>=2.0"]\n'
        'build-backend = "poetry.core.masonry.api"\n'
    )
    subprocess.run(["uv", "lock", "--quiet"], cwd=shop, check=True)
    edit(
        shop,
        HANDLER,
        "from shop.store import ITEMS\n",
        "from shop.store import ITEMS\nimport other_models\n",
    )
    error = fails_leaving_dist(shop, build, BundleError)
    assert "other-models" in str(error) and "does not declare" in str(error)


def test_two_functions_on_one_route_are_refused(shop: Path, build: Build) -> None:
    build(shop)
    edit(
        shop,
        "services/shop/src/shop/handlers/create_item.py",
        '@app.post("/items")',
        '@app.get("/items/<id>")',
    )
    error = fails_leaving_dist(shop, build, BundleError)
    assert "is declared twice" in str(error)
    assert "get_item.py" in str(error) and "create_item.py" in str(error)


def test_a_syntax_error_in_a_handler_names_the_line(shop: Path, build: Build) -> None:
    build(shop)
    edit(shop, HANDLER, "def handler(event, context):", "def handler(event, context)")
    error = fails_leaving_dist(shop, build, BundleError)
    assert "syntax error" in str(error) and error.line is not None and error.line > 1


def test_a_route_that_does_not_parse(shop: Path, build: Build) -> None:
    edit(shop, HANDLER, '@app.get("/items/<item_id>")', '@app.get("items/<item_id")')
    error = fails_leaving_dist(shop, build, BundleError)
    assert "does not parse" in str(error) and error.line == 7


def test_a_handler_module_without_a_handler(shop: Path, build: Build) -> None:
    edit(shop, HANDLER, "def handler(event, context):", "def main(event, context):")
    error = fails_leaving_dist(shop, build, BundleError)
    assert "has no `handler` function" in str(error)


def test_a_broken_pyproject(shop: Path, build: Build) -> None:
    build(shop)
    edit(shop, "services/shop/pyproject.toml", "memory = 512", "memory = = 512")
    error = fails_leaving_dist(shop, build, ConfigError)
    assert error.path is not None and error.path.name == "pyproject.toml" and error.line


def test_the_cli_says_error_and_exits_1(
    shop: Path, build: Build, capsys: pytest.CaptureFixture[str]
) -> None:
    build(shop)
    before = dist_bytes(shop)
    edit(
        shop,
        HANDLER,
        "from shop.store import ITEMS\n",
        "from shop.store import ITEMS\nimport requests\n",
    )
    assert main(["package", "--root", str(shop)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "get_item.py:2" in err and "fix:" in err
    assert "Traceback" not in err
    assert dist_bytes(shop) == before
