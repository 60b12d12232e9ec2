"""What a zip holds, end to end: package data at any depth, git's say, credentials refused,
and every bad module or setting an error that names the file instead of a traceback."""

from __future__ import annotations

import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lambdapress.bundle import PackageResult, package
from lambdapress.cli import main
from lambdapress.errors import BundleError, LambdapressError
from lambdapress.model.manifest import read_manifest

Build = Callable[[Path], PackageResult]
Git = Callable[..., str]
PACKAGE = "services/shop/src/shop"
HANDLER = f"{PACKAGE}/handlers/get_item.py"
PYPROJECT = "services/shop/pyproject.toml"

# Each stops the build when found in a package folder (see bundle.shipping.CREDENTIAL_NAMES).
CREDENTIAL_NAMES = [
    ".npmrc",
    ".pypirc",
    ".netrc",
    ".env",
    ".env.production",
    "server.pem",
    "private.key",
    "client.p12",
    "client.pfx",
    "store.jks",
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
    "id_ed25519_sk",
    "secrets.json",
    "secrets.yaml",
    "credentials",
    "credentials.json",
    "passwords.kdbx",
    ".htpasswd",
    ".git-credentials",
]


def names_in(zip_path: Path) -> set[str]:
    with zipfile.ZipFile(zip_path) as archive:
        return set(archive.namelist())


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def edit(root: Path, relative: str, old: str, new: str) -> None:
    path = root / relative
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def import_in_handler(root: Path, statement: str) -> None:
    edit(
        root,
        HANDLER,
        "from shop.store import ITEMS\n",
        f"from shop.store import ITEMS\n{statement}\n",
    )


def test_package_data_at_any_depth_ships_and_the_manifest_lists_it(
    shop: Path, build: Build
) -> None:
    write(shop, f"{PACKAGE}/schemas/order.json", '{"title": "Order"}\n')
    write(shop, f"{PACKAGE}/schemas/v2/deep/line.json", "{}\n")
    build(shop)
    contents = names_in(shop / "dist/shop/get_item.zip")
    assert {"shop/schemas/order.json", "shop/schemas/v2/deep/line.json"} <= contents
    manifest = read_manifest(shop / "dist/manifest.json")
    assert manifest.function("shop.get_item").contents.data_files == (
        "shop/schemas/order.json",
        "shop/schemas/v2/deep/line.json",
        "shop_models/schema.json",
    )


def test_in_a_git_checkout_untracked_and_ignored_files_do_not_ship(
    shop: Path, build: Build, run_git: Git
) -> None:
    write(shop, f"{PACKAGE}/schemas/order.json", "{}\n")
    write(shop, f"{PACKAGE}/schemas/draft.json", "{}\n")
    write(shop, f"{PACKAGE}/cache.sqlite", "")
    write(shop, ".gitignore", "dist/\n*.sqlite\n")
    run_git(shop, "init", "-q")
    run_git(shop, "add", ".")
    run_git(shop, "rm", "-q", "--cached", f"{PACKAGE}/schemas/draft.json")
    # the credential check sees only what would ship: an ignored key never stops the build
    write(shop, f"{PACKAGE}/.env.sqlite", "TOKEN=1\n")
    result = build(shop)
    contents = names_in(shop / "dist/shop/get_item.zip")
    assert "shop/schemas/order.json" in contents
    assert "shop/schemas/draft.json" not in contents, "untracked"
    # ...and the run says so, naming only the untracked data file (not ignored files)
    untracked = [w for w in result.warnings if "not tracked by git" in w]
    assert untracked == [
        f"shop: not tracked by git, so not shipped: {PACKAGE}/schemas/draft.json; `git add` "
        "what the code reads (or ignore it in .gitignore)"
    ]
    assert "shop/cache.sqlite" not in contents and "shop/.env.sqlite" not in contents, "ignored"
    # modules ship through the import closure, tracked or not
    run_git(shop, "rm", "-q", "--cached", f"{PACKAGE}/store.py")
    build(shop)
    assert "shop/store.py" in names_in(shop / "dist/shop/get_item.zip")


@pytest.mark.parametrize("name", CREDENTIAL_NAMES)
def test_a_credential_like_file_stops_the_build_unless_allowed(shop: Path, name: str) -> None:
    secret = write(shop, f"{PACKAGE}/{name}", "do-not-ship\n")
    with pytest.raises(BundleError) as caught:
        package(shop, function="shop.get_item", jobs=1)
    error = caught.value
    assert error.path == secret
    assert f"shop/{name} looks like a credential" in error.message
    assert "allow_files" in (error.hint or "") and str(shop / PYPROJECT) in (error.hint or "")
    assert not (shop / "dist").exists(), "nothing is written when the build stops"

    edit(shop, PYPROJECT, "timeout = 5", f'timeout = 5\nallow_files = ["src/shop/{name}"]')
    package(shop, function="shop.get_item", jobs=1)
    assert f"shop/{name}" in names_in(shop / "dist/shop/get_item.zip")


def _syntax(root: Path) -> Path:
    return write(root, f"{PACKAGE}/store.py", "ITEMS = {\n")


def _null_byte(root: Path) -> Path:
    path = root / PACKAGE / "store.py"
    path.write_bytes(b"ITEMS = {}\x00\n")
    return path


def _bad_encoding(root: Path) -> Path:
    path = root / PACKAGE / "store.py"
    path.write_bytes(b"ITEMS = {'\xff': 1}\n")
    return path


def _broken_symlink(root: Path) -> Path:
    path = root / PACKAGE / "store.py"
    path.unlink()
    path.symlink_to(root / "moved-away.py")
    return path


def _symlink_loop(root: Path) -> Path:
    path = root / PACKAGE / "store.py"
    path.unlink()
    path.symlink_to(path)
    return path


def _test_module(root: Path) -> Path:
    write(root, f"{PACKAGE}/test_mode.py", "ON = True\n")
    import_in_handler(root, "from shop import test_mode")
    return root / HANDLER


def _include_typo(root: Path) -> Path:
    edit(root, PYPROJECT, "timeout = 5", 'timeout = 5\ninclude = ["shop.nope"]')
    return root / PYPROJECT


def _odd_handler_name(root: Path) -> Path:
    return write(root, f"{PACKAGE}/handlers/get-items.py", "def handler(event, context): ...\n")


def _unknown_method(root: Path) -> Path:
    edit(root, HANDLER, '@app.get("/items/<item_id>")', '@app.route("/items/<item_id>", "FETCH")')
    return root / HANDLER


ERROR_CASES: dict[str, tuple[Callable[[Path], Path], str, bool]] = {
    # case: (break the workspace and return the file to blame, words of the message, has a line)
    "syntax error in a module": (_syntax, "syntax error", True),
    "null byte in a module": (_null_byte, "null bytes", True),
    "bad encoding in a module": (_bad_encoding, "utf-8", True),
    "broken symlinked module": (_broken_symlink, "moved-away.py', which does not exist", False),
    "symlink loop": (_symlink_loop, "symlink loop", False),
    "test module imported": (_test_module, "shop.test_mode is a test module by its name", True),
    "include names no module": (
        _include_typo,
        "`tool.lambdapress.include` names 'shop.nope'",
        True,
    ),
    "handler name not a module": (_odd_handler_name, "is not a Python module name", False),
    "unknown HTTP method": (_unknown_method, "'FETCH' is not an HTTP method", True),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_bad_input_is_an_error_naming_the_file_and_the_fix(
    shop: Path, build: Build, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    breaks, words, has_line = ERROR_CASES[case]
    blamed = breaks(shop)
    with pytest.raises(LambdapressError) as caught:
        build(shop)
    error = caught.value
    assert error.path == blamed
    assert words in error.message
    assert error.hint
    assert (error.line is not None) == has_line

    assert main(["package", "--root", str(shop)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {blamed}") and "fix: " in err
    assert "Traceback" not in err


def test_a_distribution_without_a_wheel_names_the_service_and_its_pyproject(
    shop: Path, build: Build
) -> None:
    edit(shop, PYPROJECT, '"markupsafe"]', '"markupsafe", "docopt==0.6.2"]')
    subprocess.run(["uv", "lock", "--quiet"], cwd=shop, check=True)
    with pytest.raises(BundleError) as caught:
        build(shop)
    error = caught.value
    assert "docopt 0.6.2 has no wheel" in error.message
    assert "service 'shop' needs it" in error.message
    assert error.path == shop / PYPROJECT and error.line == 5
    assert "[project] dependencies" in (error.hint or "")


def test_git_is_asked_once_per_package_not_per_function(
    shop: Path, build: Build, run_git: Git, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_git(shop, "init", "-q")
    run_git(shop, "add", ".")
    asked: list[str] = []
    real_run = subprocess.run

    def counting_run(command: list[str], **kwargs: Any) -> Any:
        if "ls-files" in command:
            asked.append(Path(command[command.index("-C") + 1]).name)
        return real_run(command, **kwargs)

    monkeypatch.setattr("lambdapress.bundle._shipping.subprocess.run", counting_run)
    result = build(shop)
    assert len(result.functions) == 2
    assert sorted(asked) == ["shop", "shop_models"]
