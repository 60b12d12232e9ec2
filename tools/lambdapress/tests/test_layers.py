"""The layer maps hold: import-linter's contracts pass, and they would fail.

The contracts live in the root pyproject (`[tool.importlinter]`): the tool's layers (its
README) and the runtime library's (`lambdapress_runtime`, whose private modules once imported
each other in a loop); `nox -s lint` runs them. The last tests prove they can fail: a copy of
the packages with one import that climbs a layer, or closes a loop.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import lambdapress
import lambdapress_runtime

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = Path(lambdapress.__file__).parent
RUNTIME = Path(lambdapress_runtime.__file__).parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
RUNTIME_LAYERS = "the runtime's layers"
RUNTIME_ACYCLIC = "the runtime's modules import each other without a loop"


def _lint_imports(*source_roots: Path) -> subprocess.CompletedProcess[str]:
    """Run the contracts of the root pyproject over the packages found in `source_roots`."""
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, source_roots))}
    return subprocess.run(
        [str(LINT_IMPORTS), str(ROOT / "pyproject.toml"), "--no-cache", "--no-logo"],
        cwd=source_roots[0],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def _copy_package(tmp_path: Path) -> Path:
    """Both root packages, side by side in one folder."""
    source_root = tmp_path / "src"
    for package in (PACKAGE, RUNTIME):
        shutil.copytree(package, source_root / package.name, ignore=shutil.ignore_patterns("*.pyc"))
    return source_root


def test_the_contracts_hold() -> None:
    result = _lint_imports(PACKAGE.parent, RUNTIME.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_copy_of_the_package_is_what_the_contracts_check(tmp_path: Path) -> None:
    result = _lint_imports(_copy_package(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "forbidden", "broken"),
    [
        ("bundle/archive.py", "lambdapress.publish.publisher", "lambdapress layers"),
        ("bundle/archive.py", "tomlkit", "the bundler loads neither the publisher nor tomlkit"),
        ("indexes/config.py", "lambdapress.bundle.lock", "lambdapress layers"),
        ("emulator/routes.py", "lambdapress.publish._tags", "lambdapress layers"),
        ("config/settings.py", "lambdapress.bundle.targets", "lambdapress layers"),
        ("support/files.py", "lambdapress.model.manifest", "lambdapress layers"),
        ("config/settings.py", "lambdapress.model.manifest", "lambdapress layers"),
        (
            "config/lambda_platform.py",
            "lambdapress.config.workspace",
            "configuration above the platform's facts and rules",
        ),
    ],
)
def test_an_import_that_climbs_a_layer_breaks_the_contracts(
    tmp_path: Path, module: str, forbidden: str, broken: str
) -> None:
    source_root = _copy_package(tmp_path)
    with (source_root / "lambdapress" / module).open("a", encoding="utf-8") as handle:
        handle.write(f"\nimport {forbidden}  # climbs a layer\n")
    result = _lint_imports(source_root)
    assert result.returncode != 0
    assert f"{broken} BROKEN" in result.stdout
    assert forbidden in result.stdout


# How the loop was made: a module below the container naming it for its type annotations.
TYPE_ONLY_IMPORT = "\nTYPE_CHECKING = False\nif TYPE_CHECKING:\n    import {module}\n"


@pytest.mark.parametrize(
    ("module", "imported", "broken"),
    [
        ("_provider.py", "_container", (RUNTIME_LAYERS, RUNTIME_ACYCLIC)),
        ("_scope.py", "_invocation", (RUNTIME_LAYERS, RUNTIME_ACYCLIC)),
        ("_lifetimes.py", "_provider", (RUNTIME_LAYERS, RUNTIME_ACYCLIC)),
        ("_override.py", "_container", (RUNTIME_LAYERS, RUNTIME_ACYCLIC)),
        # Siblings of one layer: no loop, but the provider and the scope stay apart.
        ("_scope.py", "_provider", (RUNTIME_LAYERS,)),
    ],
)
def test_an_import_that_loops_back_in_the_runtime_breaks_its_contracts(
    tmp_path: Path, module: str, imported: str, broken: tuple[str, ...]
) -> None:
    source_root = _copy_package(tmp_path)
    with (source_root / "lambdapress_runtime" / module).open("a", encoding="utf-8") as handle:
        handle.write(TYPE_ONLY_IMPORT.format(module=f"lambdapress_runtime.{imported}"))
    result = _lint_imports(source_root)
    assert result.returncode != 0
    for contract in (RUNTIME_LAYERS, RUNTIME_ACYCLIC):
        assert (f"{contract} BROKEN" in result.stdout) is (contract in broken), result.stdout
    assert f"lambdapress_runtime.{imported}" in result.stdout
    assert "lambdapress layers KEPT" in result.stdout


def _private_imports_from_outside(package: Path) -> list[str]:
    """`importer -> module` for each import of a `_module` from outside its subpackage."""
    found: list[str] = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        importer = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        names: list[str] = []
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names += [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        for name in names:
            dotted = name.split(".")
            if (
                dotted[0] == "lambdapress"
                and len(dotted) >= 3
                and (package / dotted[1]).is_dir()
                and dotted[2].startswith("_")
                and not dotted[2].startswith("__")
            ):
                home = ".".join(dotted[:2])
                if importer != home and not importer.startswith(home + "."):
                    found.append(f"{importer} -> {name}")
    return found


def test_no_layer_imports_another_subpackages_private_module() -> None:
    """A module named `_x` is its subpackage's own business (the tool's README, "Layers")."""
    assert _private_imports_from_outside(PACKAGE) == []


def test_the_private_module_check_would_see_one(tmp_path: Path) -> None:
    copy = tmp_path / "lambdapress"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    private = next(p for p in sorted((copy / "bundle").glob("_*.py")) if p.name != "__init__.py")
    with (copy / "deploy" / "template.py").open("a", encoding="utf-8") as module:
        module.write(f"\nfrom lambdapress.bundle import {private.stem}  # noqa\n")
    assert _private_imports_from_outside(copy) == [
        f"lambdapress.deploy.template -> lambdapress.bundle.{private.stem}"
    ]
