"""`sources = "first-party"`: third-party modules ship as bytecode only, first-party keeps sources.

The shop fixture's zips are unzipped and imported by a Python of the target version, as
Lambda would: sourceless modules import, `importlib.metadata` reads the dist-info, and a
traceback through a third-party module still names its file and line.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import textwrap
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest

from lambdapress.bundle import PackageResult
from lambdapress.bundle._sourceless import without_description
from lambdapress.bundle.bytecode import (
    bytecode_only_layout,
    compile_bytecode_only,
    find_compiler,
)
from lambdapress.bundle.wheels import BYTECODE_ONLY
from lambdapress.errors import ConfigError

Build = Callable[[Path], PackageResult]
PYPROJECT = "services/shop/pyproject.toml"


def names_in(root: Path, artifact: str) -> set[str]:
    with zipfile.ZipFile(root / artifact) as archive:
        return set(archive.namelist())


def set_sources(root: Path, lines: str, pyproject: str = PYPROJECT) -> None:
    """Add settings under a service's `[tool.lambdapress]` table (the shop's by default)."""
    path = root / pyproject
    text = path.read_text()
    path.write_text(text.replace("[tool.lambdapress]\n", f"[tool.lambdapress]\n{lines}\n", 1))


def test_the_layout_moves_each_modules_bytecode_where_its_source_was() -> None:
    names = [
        "pkg/__init__.py",
        "pkg/__pycache__/__init__.cpython-312.pyc",
        "pkg/mod.py",
        "pkg/__pycache__/mod.cpython-312.pyc",
        "pkg/__pycache__/mod.cpython-311.pyc",  # another interpreter's: never the target's
        "pkg/no_bytecode.py",
        "pkg/_speedups.cpython-312-x86_64-linux-gnu.so",
        "pkg/data/template.txt",
        "pkg-1.0.dist-info/METADATA",
        "single.py",
        "__pycache__/single.cpython-312.pyc",
    ]

    assert bytecode_only_layout(names, "3.12") == {
        "pkg/__init__.pyc": "pkg/__pycache__/__init__.cpython-312.pyc",
        "pkg/mod.pyc": "pkg/__pycache__/mod.cpython-312.pyc",
        "pkg/no_bytecode.py": "pkg/no_bytecode.py",
        "pkg/_speedups.cpython-312-x86_64-linux-gnu.so": (
            "pkg/_speedups.cpython-312-x86_64-linux-gnu.so"
        ),
        "pkg/data/template.txt": "pkg/data/template.txt",
        "pkg-1.0.dist-info/METADATA": "pkg-1.0.dist-info/METADATA",
        "single.pyc": "__pycache__/single.cpython-312.pyc",
    }


def test_third_party_ships_bytecode_only_and_first_party_keeps_its_sources(
    shop: Path, build: Build
) -> None:
    result = build(shop)

    names = names_in(shop, result.manifest.function("shop.create_item").artifact.path)
    assert "markupsafe/__init__.pyc" in names
    assert not {n for n in names if n.startswith("markupsafe/") and n.endswith(".py")}
    assert not any(n.startswith("markupsafe/__pycache__/") for n in names)
    assert any(n.startswith("markupsafe-") and n.endswith(".dist-info/METADATA") for n in names)
    assert {
        "shop/handlers/create_item.py",
        "shop/handlers/__pycache__/create_item.cpython-311.pyc",
    } <= names


def test_sources_all_ships_every_source_and_keep_sources_keeps_one_distribution(
    shop: Path, build: Build
) -> None:
    first = build(shop).manifest.function("shop.create_item")
    set_sources(shop, 'keep_sources = ["MarkupSafe"]')  # compared as the lock spells it

    kept = build(shop).manifest.function("shop.create_item")
    names = names_in(shop, kept.artifact.path)
    assert {"markupsafe/__init__.py", "markupsafe/__pycache__/__init__.cpython-311.pyc"} <= names
    assert "markupsafe/__init__.pyc" not in names
    assert kept.artifact.sha256 != first.artifact.sha256

    set_sources(shop, 'sources = "all"')
    everything = build(shop).manifest.function("shop.create_item")
    assert names_in(shop, everything.artifact.path) == names  # keeps everything: nothing to exempt
    assert everything.artifact.sha256 == kept.artifact.sha256
    assert everything.artifact.size > first.artifact.size


def test_a_bytecode_only_zip_imports_reads_metadata_and_names_lines_in_tracebacks(
    shop: Path, build: Build, tmp_path: Path
) -> None:
    python = find_compiler("3.11")
    assert python is not None, "the shop fixture targets python3.11, which this machine has"
    artifact = shop / build(shop).manifest.function("shop.create_item").artifact.path
    task = tmp_path / "task"
    with zipfile.ZipFile(artifact) as archive:
        archive.extractall(task)
    script = textwrap.dedent(
        """
        import importlib.metadata, sys, traceback
        sys.path[:0] = [sys.argv[1]]
        import markupsafe
        print(markupsafe.__file__)
        print(importlib.metadata.version("markupsafe"))
        print(markupsafe.escape("<b>"))
        try:
            markupsafe.Markup("%d") % "not a number"
        except ValueError:
            traceback.print_exc(file=sys.stdout)
        """
    )

    result = subprocess.run(
        [python, "-I", "-S", "-c", script, str(task)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd=task,
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == str(task / "markupsafe" / "__init__.pyc")
    (info,) = task.glob("markupsafe-*.dist-info")
    assert lines[1] == info.name.removeprefix("markupsafe-").removesuffix(".dist-info")
    assert lines[2] == "&lt;b&gt;"
    # No source to show the line's text, but the file and line are there, as on Lambda.
    frame = r'File "/var/task/markupsafe/__init__\.py", line \d+, in __mod__'
    assert re.search(frame, result.stdout), result.stdout


def test_bytecode_without_docstrings_keeps_asserts_lines_and_drops_column_positions(
    tmp_path: Path,
) -> None:
    python = find_compiler("3.11")
    assert python is not None, "the shop fixture targets python3.11, which this machine has"
    source = tmp_path / "mod.py"
    source.write_text(
        textwrap.dedent(
            '''
            """The module."""
            from __future__ import annotations


            class Only:
                """Nothing but a docstring."""


            def check(value: int) -> int:
                """Fails on negatives."""
                assert value >= 0, "negative"
                return value if __debug__ else -1
            '''
        )
    )
    compile_bytecode_only([(source, tmp_path / "mod.pyc", "pkg/mod.py")], python, docstrings=False)
    source.unlink()  # imported as Lambda would: bytecode only
    script = textwrap.dedent(
        """
        import sys, traceback
        sys.path[:0] = [sys.argv[1]]
        import mod
        print(mod.__doc__, mod.Only.__doc__, mod.check.__doc__, mod.check(3))
        print({column for _, _, column, _ in mod.check.__code__.co_positions()})
        try:
            mod.check(-1)
        except AssertionError:
            traceback.print_exc(file=sys.stdout)
        """
    )

    result = subprocess.run(
        [python, "-I", "-S", "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == ["None None None 3", "{None}"]
    assert 'File "/var/task/pkg/mod.py", line 12, in check' in result.stdout
    assert "AssertionError: negative" in result.stdout


def test_bytecode_only_keeps_docstrings_unless_docstrings_first_party(
    shop: Path, build: Build, tmp_path: Path
) -> None:
    python = find_compiler("3.11")
    assert python is not None, "the shop fixture targets python3.11, which this machine has"
    script = textwrap.dedent(
        """
        import importlib.metadata, sys
        sys.path[:0] = [sys.argv[1]]
        import markupsafe
        metadata = importlib.metadata.metadata("markupsafe")
        print(markupsafe.Markup.__doc__ is None, metadata["Name"], metadata.get_payload() != "")
        """
    )

    def run(function: str, name: str) -> tuple[set[str], str]:
        task = tmp_path / name
        with zipfile.ZipFile(shop / function) as archive:
            archive.extractall(task)
        result = subprocess.run(
            [python, "-I", "-S", "-c", script, str(task)],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return names_in(shop, function), result.stdout.strip()

    kept_names, kept = run(build(shop).manifest.function("shop.create_item").artifact.path, "keep")
    set_sources(shop, 'docstrings = "first-party"')
    names, stripped = run(build(shop).manifest.function("shop.create_item").artifact.path, "strip")

    # METADATA's headers are read as installed; its description (the README) does not ship.
    assert kept == "False MarkupSafe False"
    assert stripped == "True MarkupSafe False"
    assert "markupsafe/py.typed" not in names | kept_names
    assert "markupsafe/__init__.pyc" in names & kept_names


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('sources = "none"', "sources"),
        ('keep_sources = ["not a name"]', "not a distribution name"),
        ('docstrings = "none"', "docstrings"),
    ],
)
def test_a_wrong_sources_setting_names_the_key(
    shop: Path, build: Build, line: str, message: str
) -> None:
    set_sources(shop, line)

    with pytest.raises(ConfigError, match=message) as caught:
        build(shop)

    assert caught.value.path == shop / PYPROJECT


PYDANTIC_ONLY: dict[str, str] = {
    "pyproject.toml": """
[tool.uv.workspace]
members = ["services/*"]
""",
    "services/greet/pyproject.toml": """
[project]
name = "greet"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["pydantic==2.14.4"]

[tool.uv]
package = false

[tool.lambdapress]
runtime = "python3.11"
""",
    "services/greet/src/greet/__init__.py": "",
    "services/greet/src/greet/handlers/__init__.py": "",
    "services/greet/src/greet/handlers/hello.py": """
import importlib.metadata

from pydantic import BaseModel


class Greeting(BaseModel):
    name: str


def handler(event, context):
    greeting = Greeting.model_validate(event)
    return {"hello": greeting.name, "pydantic": importlib.metadata.version("pydantic")}
""",
}


@pytest.fixture(scope="module")
def pydantic_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A service whose one handler imports only pydantic, locked by uv."""
    root = tmp_path_factory.mktemp("pydantic-only") / "workspace"
    for relative, text in PYDANTIC_ONLY.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.lstrip("\n"))
    result = subprocess.run(
        ["uv", "lock", "--quiet"], cwd=root, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return root


@pytest.mark.e2e
def test_a_pydantic_handler_drops_its_dependencies_sources_and_runs_under_the_runtime_client(
    pydantic_only: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lambdapress.bundle import package
    from lambdapress.emulator import Emulator, Listeners
    from lambdapress.support.files import cache_folder

    repository = Path(__file__).resolve().parents[4]
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(cache_folder(repository)))
    every_source = tmp_path / "all"
    shutil.copytree(pydantic_only, every_source)
    set_sources(every_source, 'sources = "all"', pyproject="services/greet/pyproject.toml")

    bytecode = package(pydantic_only, jobs=2).manifest.function("greet.hello")
    sources = package(every_source, jobs=2).manifest.function("greet.hello")

    # Every third-party source is gone, with its zip entry: the zip shrinks by at least their
    # compressed bytes (pydantic-core's 2 MB extension is most of what is left; see README).
    with zipfile.ZipFile(every_source / sources.artifact.path) as archive:
        dropped = sum(
            i.compress_size
            for i in archive.infolist()
            if i.filename.endswith(".py") and not i.filename.startswith("greet/")
        )
    assert dropped > 0.1 * sources.artifact.size
    assert bytecode.artifact.size <= sources.artifact.size - dropped
    with Emulator(
        package(pydantic_only, jobs=2).manifest,
        pydantic_only,
        listeners=Listeners(on_warning=lambda _m: None),
    ) as emulator:
        answered = emulator.invoke("greet.hello", {"name": "Ada"})
        refused = emulator.invoke("greet.hello", {"name": 1})
    assert answered.response == {"hello": "Ada", "pydantic": "2.14.4"}, answered.logs
    assert answered.report.init_duration_ms is not None
    assert refused.error is not None and refused.error.error_type == "ValidationError"
    trace = "\n".join(refused.error.stack_trace)
    assert re.search(r'File "/var/task/pydantic/main\.py", line \d+, in model_validate', trace)


METADATA_SCRIPT = """
import importlib.metadata, json, sys
sys.path[:0] = [sys.argv[1]]
metadata = importlib.metadata.metadata("pydantic")
fields = {key.lower(): metadata.get_all(key) for key in set(metadata.keys())}
print(json.dumps({
    "version": importlib.metadata.version("pydantic"),
    "requires": importlib.metadata.requires("pydantic"),
    "fields": fields,
    "description": len(metadata.get_payload() or "") + len(metadata.get("Description") or ""),
}, sort_keys=True))
"""


def test_metadata_ships_its_headers_without_the_description_and_reads_as_installed(
    pydantic_only: Path, tmp_path: Path
) -> None:
    from lambdapress.bundle import package

    python = find_compiler("3.11")
    assert python is not None, "the fixture targets python3.11, which this machine has"
    artifact = (
        pydantic_only
        / package(pydantic_only, jobs=2).manifest.function("greet.hello").artifact.path
    )
    task = tmp_path / "task"
    with zipfile.ZipFile(artifact) as archive:
        archive.extractall(task)
    (installed,) = (pydantic_only / ".cache" / "lambdapress" / "wheels").glob(
        "v*/cp311-x86_64/pydantic-2.14.4"
    )
    (info,) = installed.glob("pydantic-*.dist-info")

    def read(folder: Path) -> dict[str, Any]:
        result = subprocess.run(
            [python, "-I", "-S", "-c", METADATA_SCRIPT, str(folder)],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return cast(dict[str, Any], json.loads(result.stdout))

    shipped, as_installed = read(task), read(installed)

    assert as_installed["description"] > 10_000  # pydantic's README and changelog
    assert shipped["description"] == 0
    assert shipped["version"] == as_installed["version"] == "2.14.4"
    assert shipped["requires"] == as_installed["requires"]
    assert any(r.startswith("pydantic-core==") for r in shipped["requires"])
    assert shipped["fields"] == {
        k: v for k, v in as_installed["fields"].items() if k != "description"
    }
    shipped_bytes = (task / info.name / "METADATA").read_bytes()
    installed_bytes = (info / "METADATA").read_bytes()
    assert installed_bytes.startswith(shipped_bytes)  # the headers byte for byte, in order
    assert len(shipped_bytes) < len(installed_bytes) // 5


def test_metadata_without_its_description_keeps_every_other_field_line_for_line() -> None:
    metadata = (
        b"Metadata-Version: 2.1\r\nName: demo\r\nVersion: 1.0\r\n"
        b"Description: old style\r\n        |  continued\r\n"
        b"License: MIT\r\n\tsecond line of the licence field\r\n"
        b"Description-Content-Type: text/markdown\r\nRequires-Dist: pydantic>=2\r\n"
        b"\r\n# Demo\r\n\r\nA long README and a changelog.\r\n"
    )

    assert without_description(metadata) == (
        b"Metadata-Version: 2.1\r\nName: demo\r\nVersion: 1.0\r\n"
        b"License: MIT\r\n\tsecond line of the licence field\r\n"
        b"Description-Content-Type: text/markdown\r\nRequires-Dist: pydantic>=2\r\n"
    )
    headers_only = b"Metadata-Version: 2.4\nName: bare\nVersion: 2"
    assert without_description(headers_only) == headers_only + b"\n"


def test_a_wheel_file_edited_through_its_hard_link_is_installed_and_derived_again(
    shop: Path, build: Build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(tmp_path / "private-cache"))  # it is damaged
    # and so is the user-level cache entry it is linked to: not the session's, which every
    # later test takes wheels from.
    monkeypatch.setenv("LAMBDAPRESS_CACHE_DIR", str(tmp_path / "private-user-cache"))
    clean = build(shop).manifest.function("shop.create_item")
    (derived,) = (tmp_path / "private-cache" / "wheels").glob(f"v*/*{BYTECODE_ONLY}/markupsafe-*")
    # Bytecode is compiled anew for this folder; the extension is linked to the installed one.
    (module,) = (derived / "markupsafe").glob("_speedups*.so")
    assert module.stat().st_nlink > 1
    with module.open("r+b") as handle:  # in place: the installed folder's file changes too
        handle.seek(-1, 2)
        last = handle.read(1)
        handle.seek(-1, 2)
        handle.write(bytes([last[0] ^ 0xFF]))
    (shop / clean.artifact.path).unlink()
    for record in (tmp_path / "private-cache" / "artifacts").iterdir():
        record.unlink()

    result = build(shop)

    assert any(f"{derived} does not match its record" in w for w in result.warnings)
    assert any(f"{derived} was damaged" in w for w in result.warnings), result.warnings
    assert result.manifest.function("shop.create_item").artifact.sha256 == clean.artifact.sha256


def test_without_an_interpreter_for_the_target_sources_ship_and_the_build_says_so(
    shop: Path, build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lambdapress.bundle import _build as building
    from lambdapress.bundle import pipeline, wheels

    for module in (wheels, pipeline, building):
        monkeypatch.setattr(module, "find_compiler", lambda _python: None)

    result = build(shop)

    names = names_in(shop, result.manifest.function("shop.create_item").artifact.path)
    assert "markupsafe/__init__.py" in names
    assert "markupsafe/__init__.pyc" not in names
    assert any("no Python 3.11 interpreter here" in w for w in result.warnings)
