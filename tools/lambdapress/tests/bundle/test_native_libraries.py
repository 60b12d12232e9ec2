"""`package` reports the shared libraries a function loads that Lambda's runtime lacks.

A module that loads a library by name through ctypes, or a native extension whose ELF
`DT_NEEDED` names one, works on a machine that has the library and fails on Lambda. The
objects here are crafted by `elf_object` (conftest): what the loader reads, no compiler needed.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from lambdapress.bundle import PackageResult, _native
from lambdapress.cli import main
from lambdapress.errors import BundleError
from lambdapress.model.manifest import manifest_path

Build = Callable[[Path], PackageResult]
MakeElf = Callable[..., bytes]
PACKAGE = "services/shop/src/shop"
PYPROJECT = "services/shop/pyproject.toml"
EXTENSION = f"{PACKAGE}/_pg.cpython-311-x86_64-linux-gnu.so"


def write(root: Path, relative: str, data: str | bytes) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data)
    return path


def edit(root: Path, relative: str, old: str, new: str) -> None:
    path = root / relative
    text = path.read_text()
    assert old in text, text
    path.write_text(text.replace(old, new, 1))


def import_in_get_item(root: Path, statement: str) -> None:
    edit(
        root,
        f"{PACKAGE}/handlers/get_item.py",
        "from shop.store import ITEMS\n",
        f"from shop.store import ITEMS\n{statement}\n",
    )


def set_lambdapress(root: Path, line: str) -> None:
    edit(root, PYPROJECT, "[tool.lambdapress]\n", f"[tool.lambdapress]\n{line}\n")


def package_cli(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """The exit status, and stderr from its `error:` line on (installs may be said before)."""
    status = main(["package", "--jobs", "2", "--root", str(root)])
    err = capsys.readouterr().err
    return status, err[err.find("error: ") :]


def test_a_ctypes_lookup_of_a_library_lambda_lacks_stops_package(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    loads = 'import ctypes\n\nLIBMAGIC = ctypes.CDLL("libmagic.so.1")\n'
    write(shop, f"{PACKAGE}/magic.py", loads)
    import_in_get_item(shop, "from shop import magic")

    status, err = package_cli(shop, capsys)

    assert status == 1, err
    module = shop / PACKAGE / "magic.py"
    assert err.startswith(f"error: {module}:3: shop.get_item: ")  # file, line, function
    assert "the shared library libmagic.so.1 (ctypes.CDLL('libmagic.so.1'))" in err
    assert "neither in the zip nor in the Lambda runtime's image" in err
    assert "fix: depend on a binary wheel that bundles libmagic.so.1" in err
    assert 'layer_libraries = ["libmagic.so.1"]' in err
    assert "shop.create_item" not in err  # it does not import the module
    assert "Traceback" not in err
    assert not manifest_path(shop).exists()  # nothing half-written


def test_a_native_extension_needing_libpq_stops_package(
    shop: Path, make_elf: MakeElf, capsys: pytest.CaptureFixture[str]
) -> None:
    write(shop, EXTENSION, make_elf(("libpq.so.5", "libpthread.so.0", "libc.so.6")))

    status, err = package_cli(shop, capsys)

    assert status == 1, err
    assert err.startswith(f"error: {shop / PACKAGE}/_pg.cpython-311-x86_64-linux-gnu.so: ")
    # Package data ships with every function of the package: both are named, once.
    assert "shop.create_item, shop.get_item: " in err
    assert "libpq.so.5 (needed by this ELF object (DT_NEEDED))" in err
    assert "libpthread" not in err and "libc.so" not in err  # the runtime has those
    assert "fix: depend on a binary wheel that bundles libpq.so.5" in err
    assert 'layer_libraries = ["libpq.so.5"]' in err
    assert not manifest_path(shop).exists()


def test_every_missing_library_is_listed_at_once(
    shop: Path, make_elf: MakeElf, build: Build
) -> None:
    write(shop, EXTENSION, make_elf(("libpq.so.5",)))
    write(shop, f"{PACKAGE}/magic.py", 'import ctypes.util\nctypes.util.find_library("magic")\n')
    import_in_get_item(shop, "import shop.magic")

    with pytest.raises(BundleError) as caught:
        build(shop)

    message = caught.value.message
    assert "libmagic (ctypes.util.find_library('magic'))" in message
    assert "\n  also: " in message and "libpq.so.5" in message


def test_a_library_the_zip_bundles_or_a_layer_provides_is_not_reported(
    shop: Path, make_elf: MakeElf, build: Build
) -> None:
    write(shop, EXTENSION, make_elf(("libpq.so.5",), runpath="$ORIGIN/../shop.libs"))
    # As auditwheel bundles it: another file name, the soname the extension needs.
    write(shop, f"{PACKAGE}/libs/libpq-0a1b2c3d.so.5.18", make_elf(soname="libpq.so.5"))
    build(shop)

    (shop / PACKAGE / "libs" / "libpq-0a1b2c3d.so.5.18").unlink()
    write(shop, f"{PACKAGE}/magic.py", 'import ctypes\nctypes.CDLL("libmagic.so.1")\n')
    import_in_get_item(shop, "from shop import magic")
    with pytest.raises(BundleError):
        build(shop)

    set_lambdapress(shop, 'layer_libraries = ["libpq.so.6", "libmagic.so.1"]')
    with pytest.raises(BundleError, match=r"libpq\.so\.5 \(needed by"):  # another version
        build(shop)
    edit(shop, PYPROJECT, '"libpq.so.6"', '"libpq"')  # the library, any version
    manifest = build(shop).manifest
    assert manifest.function("shop.get_item").contents.layer_libraries == ("libpq", "libmagic.so.1")


def test_a_lookup_that_handles_a_missing_library_is_a_warning(shop: Path, build: Build) -> None:
    write(
        shop,
        f"{PACKAGE}/magic.py",
        "import ctypes\n\ntry:\n    LIB = ctypes.CDLL('libmagic.so.1')\nexcept OSError:\n"
        "    LIB = None\n",
    )
    import_in_get_item(shop, "from shop import magic")

    result = build(shop)

    (warning,) = [w for w in result.warnings if "libmagic.so.1" in w]
    assert warning.startswith("shop.get_item: services/shop/src/shop/magic.py:4 needs")
    assert "inside a try that handles its absence" in warning
    assert "if that code runs on Lambda, loading it fails there" in warning


def test_a_wrong_layer_library_name_is_a_settings_error(shop: Path, build: Build) -> None:
    from lambdapress.errors import ConfigError

    set_lambdapress(shop, 'layer_libraries = ["/opt/lib/libpq.so.5"]')
    with pytest.raises(ConfigError, match="not a shared library's file name"):
        build(shop)


def test_native_facts_are_read_once_per_content(
    shop: Path, make_elf: MakeElf, build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(shop, EXTENSION, make_elf(("libc.so.6",)))
    analysed: list[Path] = []
    analyse = _native._analyse
    monkeypatch.setattr(_native, "_analyse", lambda p, k: analysed.append(p) or analyse(p, k))

    build(shop)
    first = list(analysed)
    analysed.clear()
    build(shop)

    assert shop / EXTENSION in first
    assert analysed == []  # a no-op reads no ELF object and parses no module for the check


PSYCOPG_SERVICE = """\
[project]
name = "shop"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["psycopg==3.3.9"]

[tool.poetry]
packages = [{ include = "shop", from = "src" }]

[tool.lambdapress]
runtime = "python3.11"
architecture = "x86_64"
"""


@pytest.fixture
def psycopg_alone(shop: Path) -> Path:
    """The shop with psycopg and no psycopg-binary: only psycopg's pure-Python one ships."""
    write(shop, PYPROJECT, PSYCOPG_SERVICE)
    handler = "import psycopg\n\n\ndef handler(event, context):\n    return 1\n"
    write(shop, f"{PACKAGE}/handlers/get_item.py", handler)
    (shop / PACKAGE / "handlers" / "create_item.py").unlink()
    locked = subprocess.run(["uv", "lock", "--quiet"], cwd=shop, capture_output=True, text=True)
    assert locked.returncode == 0, locked.stderr
    return shop


def test_psycopg_without_its_binary_is_pinned_to_python_and_its_libpq_reported(
    psycopg_alone: Path, build: Build
) -> None:
    with pytest.raises(BundleError) as caught:
        build(psycopg_alone)

    error = caught.value
    assert "shop.get_item: psycopg/pq/misc.py in psycopg 3.3.9 needs the shared library libpq" in (
        error.message
    )
    assert "ctypes.util.find_library('pq') on line" in error.message
    assert error.path == psycopg_alone / PYPROJECT
    assert "depend on psycopg[binary]" in (error.hint or "")
    assert "PSYCOPG_IMPL=binary" in (error.hint or "")
    suggested = 'layer_libraries = ["libpq"]'  # what the fix says works, as written
    assert suggested in (error.hint or "")

    set_lambdapress(psycopg_alone, suggested)
    entry = build(psycopg_alone).manifest.function("shop.get_item")
    assert entry.environment["PSYCOPG_IMPL"] == "python"
    assert "psycopg-binary" not in entry.contents.distributions


def test_a_pinned_implementation_that_does_not_ship_is_an_error(
    psycopg_alone: Path, build: Build
) -> None:
    psycopg_alone.joinpath(PYPROJECT).write_text(
        PSYCOPG_SERVICE + '\n[tool.lambdapress.environment]\nPSYCOPG_IMPL = "binary"\n'
    )
    with pytest.raises(BundleError) as caught:
        build(psycopg_alone)
    assert "PSYCOPG_IMPL = 'binary'" in caught.value.message
    assert "psycopg-binary does not ship in shop.get_item" in caught.value.message
    assert caught.value.line == 15
