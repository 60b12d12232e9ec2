"""The rules of `bundle.trim`: each leaves out what it should, and licences and metadata stay.

The reach rules are tested on a distribution written here (its sources, as the wheel cache
holds them), decided as planning decides them for a function; the rules by name on paths.
"""

from __future__ import annotations

import textwrap
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from lambdapress.bundle import PackageResult
from lambdapress.bundle._trim_facts import analyse_distribution
from lambdapress.bundle.trim import (
    BOOKKEEPING,
    DOCUMENTATION,
    FOREIGN_BYTECODE,
    MARKERS,
    RULES,
    STUBS,
    TEST_SUITES,
    UNIMPORTABLE,
    Omissions,
    Reach,
    Rule,
    by_name,
    omissions,
)

FOLDER = "vendorlib-1.0"

# A wheel of every kind of file the rules know, with the code that reaches some of them.
VENDORLIB: dict[str, str] = {
    "vendorlib/__init__.py": """
        from vendorlib import core
        from vendorlib.stores import Store
        """,
    "vendorlib/core.py": """
        import os

        import typing_extensions

        SAMPLE = os.path.join(os.path.dirname(__file__), "fixtures/tests/sample.json")
        """,
    "vendorlib/fixtures/tests/sample.json": "{}",
    # a package of its own whose `tests` module is run-time code, imported by its __init__
    "vendorlib/validators/__init__.py": "from .tests import checks\n",
    "vendorlib/validators/tests/__init__.py": "",
    "vendorlib/validators/tests/checks.py": "ok = True\n",
    # the test suite: nothing outside it imports it
    "vendorlib/tests/__init__.py": "",
    "vendorlib/tests/test_core.py": "import pytest\n\nfrom vendorlib import core\n",
    "vendorlib/tests/helpers.py": "VALUE = 1\n",
    "vendorlib/tests/LICENSE": "test data licence\n",
    "vendorlib/conftest.py": "import pytest\n",
    "vendorlib/testing/__init__.py": "import pytest\n",
    "vendorlib/docs/guide.md": "# Guide\n",
    "vendorlib/examples/demo.py": "from vendorlib.plugins import mypy_plugin\n",
    # modules with imports of what the distribution does not require
    "vendorlib/plugins/__init__.py": "",
    "vendorlib/plugins/mypy_plugin.py": """
        \"\"\"A mypy plugin: import mypy.plugin to use it.\"\"\"
        from mypy.plugin import Plugin
        """,
    "vendorlib/optional.py": "try:\n    import yaml\nexcept ImportError:\n    yaml = None\n",
    "vendorlib/lazy.py": "def load():\n    import yaml\n\n    return yaml\n",
    "vendorlib/checked.py": """
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            import yaml
        """,
    "vendorlib/on_lambda.py": "import boto3\nimport urllib3\n",
    "vendorlib/stores/__init__.py": "from .redis_store import Store\n",
    "vendorlib/stores/redis_store.py": "import redis\n\n\nclass Store:\n    pass\n",
    "vendorlib/by_name.py": "import importlib\n\nimportlib.import_module('vendorlib.extras')\n",
    "vendorlib/extras.py": "import yaml\n",
    "vendorlib/LICENSE.txt": "licence\n",
    "vendorlib/core.pyi": "SAMPLE: str\n",
    "vendorlib/py.typed": "",
    "README.md": "# vendorlib\n",
    f"{FOLDER.replace('-', '_')}.dist-info/METADATA": """
        Metadata-Version: 2.1
        Name: vendorlib
        Version: 1.0
        Requires-Dist: typing-extensions>=4
        Requires-Dist: pyyaml; extra == "yaml"
        """,
    f"{FOLDER.replace('-', '_')}.dist-info/WHEEL": "Wheel-Version: 1.0\n",
    f"{FOLDER.replace('-', '_')}.dist-info/entry_points.txt": "[vendorlib]\nx = vendorlib.core\n",
    f"{FOLDER.replace('-', '_')}.dist-info/top_level.txt": "vendorlib\n",
    f"{FOLDER.replace('-', '_')}.dist-info/licenses/LICENSE": "licence\n",
    f"{FOLDER.replace('-', '_')}.dist-info/sboms/vendorlib.cdx.json": "{}\n",
}
INFO = "vendorlib_1.0.dist-info"


def write_distribution(folder: Path, files: dict[str, str]) -> list[str]:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return sorted(files)


def decide(
    folder: Path,
    names: list[str],
    imported: frozenset[str] = frozenset({"vendorlib"}),
    available: frozenset[str] = frozenset({"vendorlib", "typing_extensions"}),
) -> dict[str, Rule]:
    """Each file the rules leave out, with the rule, as planning decides it for a function."""
    facts = analyse_distribution(folder, names)
    left = omissions("3.11", {FOLDER: facts}, Reach(imported, available))
    return {n: rule for n in names if (rule := left.rule_for(FOLDER, n)) is not None}


@pytest.fixture
def vendorlib(tmp_path: Path) -> tuple[Path, list[str]]:
    folder = tmp_path / FOLDER
    return folder, write_distribution(folder, VENDORLIB)


def test_each_rule_leaves_out_what_it_matches_and_nothing_reached(
    vendorlib: tuple[Path, list[str]],
) -> None:
    folder, names = vendorlib

    left = decide(folder, names)

    assert left == {
        "README.md": DOCUMENTATION,
        "vendorlib/conftest.py": TEST_SUITES,
        "vendorlib/core.pyi": STUBS,
        "vendorlib/docs/guide.md": DOCUMENTATION,
        "vendorlib/examples/demo.py": DOCUMENTATION,
        "vendorlib/plugins/mypy_plugin.py": UNIMPORTABLE,
        "vendorlib/py.typed": MARKERS,
        "vendorlib/tests/__init__.py": TEST_SUITES,
        "vendorlib/tests/helpers.py": TEST_SUITES,
        "vendorlib/tests/test_core.py": TEST_SUITES,
    }
    kept = set(names) - set(left)
    # licences wherever they are, and the metadata importlib.metadata and plugins read
    assert {"vendorlib/LICENSE.txt", "vendorlib/tests/LICENSE", f"{INFO}/licenses/LICENSE"} <= kept
    assert {f"{INFO}/{n}" for n in ("METADATA", "WHEEL", "entry_points.txt", "top_level.txt")} < (
        kept
    )
    assert f"{INFO}/sboms/vendorlib.cdx.json" in kept
    # run-time `tests` and data that code names, guarded and lazy imports, the runtime's SDK,
    # a module its package imports, a module named in a string, a `testing` package
    assert {
        "vendorlib/validators/tests/checks.py",
        "vendorlib/fixtures/tests/sample.json",
        "vendorlib/optional.py",
        "vendorlib/lazy.py",
        "vendorlib/checked.py",
        "vendorlib/on_lambda.py",
        "vendorlib/stores/redis_store.py",
        "vendorlib/extras.py",
        "vendorlib/testing/__init__.py",
    } <= kept


def test_a_tests_package_the_function_imports_ships(vendorlib: tuple[Path, list[str]]) -> None:
    folder, names = vendorlib

    left = decide(folder, names, imported=frozenset({"vendorlib", "vendorlib.tests.helpers"}))

    assert not any(n.startswith("vendorlib/tests/") for n in left)
    assert "vendorlib/conftest.py" in left


def test_what_a_kept_folder_reaches_ships_with_it(vendorlib: tuple[Path, list[str]]) -> None:
    """The function imports an example, which imports the mypy plugin: both ship."""
    folder, names = vendorlib

    left = decide(folder, names, imported=frozenset({"vendorlib.examples.demo"}))

    assert "vendorlib/examples/demo.py" not in left
    assert "vendorlib/plugins/mypy_plugin.py" not in left
    assert "vendorlib/docs/guide.md" in left


def test_a_module_whose_imports_all_ship_ships(vendorlib: tuple[Path, list[str]]) -> None:
    folder, names = vendorlib
    available = frozenset({"vendorlib", "typing_extensions", "mypy"})

    left = decide(folder, names, available=available)

    assert "vendorlib/plugins/mypy_plugin.py" not in left


def test_no_module_is_left_out_of_a_distribution_that_changes_sys_path(tmp_path: Path) -> None:
    """It may import what it vendors under another name (`import six` from its _vendor/)."""
    files = {
        **VENDORLIB,
        "vendorlib/_vendor/__init__.py": """
            import os, sys

            sys.path.insert(0, os.path.dirname(__file__))
            """,
    }
    folder = tmp_path / FOLDER
    names = write_distribution(folder, files)

    left = decide(folder, names)

    assert "vendorlib/plugins/mypy_plugin.py" not in left
    assert "vendorlib/tests/test_core.py" in left  # folders are still decided by reach


def test_a_sys_path_change_inside_a_function_leaves_modules_to_the_rules(tmp_path: Path) -> None:
    files = {
        **VENDORLIB,
        "vendorlib/loader.py": "import sys\n\n\ndef load(root):\n    sys.path.insert(0, root)\n",
    }
    folder = tmp_path / FOLDER
    names = write_distribution(folder, files)

    assert decide(folder, names)["vendorlib/plugins/mypy_plugin.py"] == UNIMPORTABLE


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("pkg/mod.pyi", STUBS),
        ("pkg/sub/py.typed", MARKERS),
        ("pkg/__pycache__/mod.cpython-39.pyc", FOREIGN_BYTECODE),
        ("pkg/__pycache__/mod.cpython-311.opt-1.pyc", FOREIGN_BYTECODE),
        ("pkg/__pycache__/mod.cpython-311.opt-2.pyc", FOREIGN_BYTECODE),
        ("pkg/__pycache__/mod.pypy39.pyc", FOREIGN_BYTECODE),
        ("pkg-1.0.dist-info/RECORD", BOOKKEEPING),
        ("pkg-1.0.dist-info/INSTALLER", BOOKKEEPING),
        ("pkg-1.0.dist-info/REQUESTED", BOOKKEEPING),
        ("pkg-1.0.dist-info/direct_url.json", BOOKKEEPING),
        ("pkg-1.0.dist-info/uv_cache.json", BOOKKEEPING),
        ("CHANGELOG.rst", DOCUMENTATION),
        ("README.md", DOCUMENTATION),
        # what ships
        ("pkg/__pycache__/mod.cpython-311.pyc", None),
        ("pkg/mod.pyc", None),
        ("pkg/README.md", None),  # inside a package: code may read it
        ("notes.txt", None),  # next to a top-level module: code may read it
        ("pkg-1.0.dist-info/METADATA", None),
        ("pkg-1.0.dist-info/entry_points.txt", None),
        ("pkg-1.0.dist-info/top_level.txt", None),
        ("pkg-1.0.dist-info/WHEEL", None),
        ("pkg-1.0.dist-info/licenses/docs/LICENSE.md", None),
        ("pkg-1.0.dist-info/sboms/pkg.cyclonedx.json", None),
        ("LICENSE.md", None),
        ("COPYING.rst", None),
        ("NOTICE.md", None),
        ("AUTHORS.rst", None),
        ("pkg/LICENCE.txt", None),
        ("pkg/py.typed/LICENSE", None),
    ],
)
def test_the_rules_by_name(name: str, rule: Rule | None) -> None:
    assert by_name(name, "3.11") == rule


def test_optimized_bytecode_ships_when_the_environment_asks_for_it() -> None:
    name = "pkg/__pycache__/mod.cpython-311.opt-1.pyc"
    assert by_name(name, "3.11", optimize=True) is None
    assert by_name("pkg/__pycache__/mod.cpython-312.opt-1.pyc", "3.11", True) == FOREIGN_BYTECODE


def test_a_left_out_module_takes_its_bytecode_with_it() -> None:
    left = Omissions(python="3.12", paths=(("dist-1.0", "pkg/mypy"),))

    for name in ("pkg/mypy.py", "pkg/mypy.pyc", "pkg/__pycache__/mypy.cpython-312.pyc"):
        assert left.rule_for("dist-1.0", name) == UNIMPORTABLE, name
    assert left.rule_for("dist-1.0", "pkg/mypy_extra.py") is None
    assert left.rule_for("other-1.0", "pkg/mypy.py") is None  # another distribution's


def test_what_is_left_out_is_part_of_the_inputs_hash() -> None:
    inputs = "0" * 64
    none = Omissions(python="3.12")
    some = Omissions(python="3.12", paths=(("dist-1.0", "pkg/tests/"),))

    assert none.keyed(inputs) != some.keyed(inputs)
    assert none.keyed(inputs) != Omissions(python="3.11").keyed(inputs)
    assert some.keyed(inputs) == some.model_copy().keyed(inputs)


def test_every_rule_says_what_it_matches_and_why() -> None:
    assert len({rule.name for rule in RULES}) == len(RULES)
    assert all(rule.matches and rule.why for rule in RULES)


def test_a_zip_built_with_every_source_still_leaves_py_typed_out(
    shop: Path, build: Callable[[Path], PackageResult]
) -> None:
    """`sources = "all"` ships the wheel folder as installed; the zip leaves its marker out
    and keeps its licence and metadata."""
    pyproject = shop / "services" / "shop" / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(
        text.replace("[tool.lambdapress]\n", '[tool.lambdapress]\nsources = "all"\n')
    )

    build(shop)

    with zipfile.ZipFile(shop / "dist" / "shop" / "create_item.zip") as archive:
        names = archive.namelist()
    assert not [n for n in names if n.endswith(("py.typed", ".pyi"))]
    markupsafe = [n for n in names if n.startswith("markupsafe-")]
    assert any(n.endswith("/METADATA") for n in markupsafe)
    assert any("LICENSE" in n for n in markupsafe), markupsafe
    assert any(n.startswith("markupsafe/") and n.endswith(".py") for n in names)


VENDORLIB_PROJECT = """\
[project]
name = "vendorlib"
version = "1.0"
requires-python = ">=3.11"

[tool.poetry]
packages = [{ include = "vendorlib", from = "src" }]

[build-system]
requires = ["poetry-core>=2.0"]
build-backend = "poetry.core.masonry.api"
"""

SERVICE = """\
[project]
name = "svc"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["vendorlib"]

[tool.poetry]
packages = [{ include = "svc", from = "src" }]

[tool.lambdapress]
runtime = "python3.11"
architecture = "x86_64"

[build-system]
requires = ["poetry-core>=2.0"]
build-backend = "poetry.core.masonry.api"
"""

HANDLERS = {
    # imports the wheel's own `tests` package at run time: it ships
    "with_tests.py": """
        from vendorlib.tests.helpers import fixture


        def handler(event, context):
            return fixture()
        """,
    "plain.py": """
        import importlib.metadata

        import vendorlib


        def handler(event, context):
            return {"version": importlib.metadata.version("vendorlib"), "value": vendorlib.VALUE}
        """,
}


@pytest.mark.e2e
def test_zips_without_what_nothing_loads_still_run_under_the_runtime_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wheel (built from a path outside the workspace) with stubs, a test suite, docs and a
    mypy plugin: each function ships what it can load, keeps the licence and the metadata
    `importlib.metadata` reads, and answers under awslambdaric."""
    import json
    import subprocess

    from lambdapress.bundle import package
    from lambdapress.emulator import Emulator

    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(tmp_path / "cache"))
    library = tmp_path / "vendorlib"
    write_distribution(
        library,
        {
            "pyproject.toml": VENDORLIB_PROJECT,
            "LICENSE": "MIT licence\n",
            "src/vendorlib/__init__.py": "VALUE = 42\n",
            "src/vendorlib/__init__.pyi": "VALUE: int\n",
            "src/vendorlib/py.typed": "",
            "src/vendorlib/tests/__init__.py": "",
            "src/vendorlib/tests/helpers.py": "def fixture():\n    return {'from': 'tests'}\n",
            "src/vendorlib/tests/test_helpers.py": "import pytest\n",
            "src/vendorlib/docs/guide.md": "# Guide\n",
            "src/vendorlib/mypy_plugin.py": "from mypy.plugin import Plugin\n",
        },
    )
    root = tmp_path / "project"
    write_distribution(
        root,
        {
            "pyproject.toml": '[tool.uv.workspace]\nmembers = ["services/*"]\n\n'
            f'[tool.uv.sources]\nvendorlib = {{ path = "{library}" }}\n',
            "services/svc/pyproject.toml": SERVICE,
            "services/svc/src/svc/__init__.py": "",
            "services/svc/src/svc/handlers/__init__.py": "",
            **{f"services/svc/src/svc/handlers/{n}": text for n, text in HANDLERS.items()},
        },
    )
    locked = subprocess.run(["uv", "lock", "--quiet"], cwd=root, capture_output=True, text=True)
    assert locked.returncode == 0, locked.stderr

    manifest = package(root, jobs=2).manifest

    def shipped(function: str) -> set[str]:
        with zipfile.ZipFile(root / "dist" / "svc" / f"{function}.zip") as archive:
            return {n for n in archive.namelist() if not n.startswith("svc")}

    plain, with_tests = shipped("plain"), shipped("with_tests")
    info = "vendorlib-1.0.dist-info"
    for names in (plain, with_tests):
        assert {"vendorlib/__init__.pyc", f"{info}/METADATA"} <= names, names
        assert any(n.startswith(f"{info}/") and "LICENSE" in n for n in names), names
        assert not [n for n in names if n.endswith((".pyi", "py.typed", ".md", "uv_cache.json"))]
        assert not [n for n in names if "mypy_plugin" in n]
    assert not [n for n in plain if n.startswith("vendorlib/tests/")]
    assert "vendorlib/tests/helpers.pyc" in with_tests
    assert "vendorlib/tests/test_helpers.pyc" in with_tests  # the package ships whole

    answers = {}
    with Emulator(manifest, root, cache_dir=tmp_path / "runtime") as emulator:
        for name in ("svc.plain", "svc.with_tests"):
            result = emulator.invoke(name, {})
            assert result.ok, result.logs
            answers[name] = json.loads(result.payload)
    assert answers == {
        "svc.plain": {"version": "1.0", "value": 42},
        "svc.with_tests": {"from": "tests"},
    }

    # A third-party module named in `include` ships even when nothing else reaches it.
    pyproject = root / "services" / "svc" / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(
        text.replace(
            "[tool.lambdapress]\n", '[tool.lambdapress]\ninclude = ["vendorlib.mypy_plugin"]\n'
        )
    )
    package(root, jobs=2)
    assert "vendorlib/mypy_plugin.pyc" in shipped("plain")


def test_a_second_run_reads_no_distribution_again(
    shop: Path, build: Callable[[Path], PackageResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each distribution's facts are remembered by the digest of its record."""
    from lambdapress.bundle import _trim_facts

    build(shop)
    analysed: list[Path] = []
    original = _trim_facts.analyse_distribution

    def spy(folder: Path, names: list[str]) -> _trim_facts.DistributionFacts:
        analysed.append(folder)
        return original(folder, names)

    monkeypatch.setattr(_trim_facts, "analyse_distribution", spy)
    build(shop)

    assert analysed == []
