"""What a symlink points at decides what ships: the rules apply to the target, not just the name.

A tracked symlink in a package ships its target's bytes under the link's name. So a link that
leaves the project (a key in the home folder, a `.env` above the checkout), one into `.git`, at
a test file, at a credential or at a file git does not track stops the build, naming the link
and its target; a symlinked folder is followed like Python follows it, unless it loops.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from lambdapress.bundle import package
from lambdapress.bundle._imports import ModuleIndex, first_party_closure, package_data
from lambdapress.cli import main
from lambdapress.errors import BundleError

Git = Callable[..., str]
PACKAGE = "services/shop/src/shop"
HANDLER = f"{PACKAGE}/handlers/get_item.py"
PYPROJECT = "services/shop/pyproject.toml"
SECRET = "AKIA-do-not-ship"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def link(path: Path, target: str | Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)
    return path


def import_in_handler(root: Path, statement: str) -> None:
    handler = root / HANDLER
    text = handler.read_text()
    handler.write_text(text.replace("from shop.store import ITEMS\n", f"{statement}\n", 1))


def all_zipped_bytes(root: Path) -> bytes:
    found = b""
    for archive in sorted((root / "dist").rglob("*.zip")):
        with zipfile.ZipFile(archive) as opened:
            found += b"".join(opened.read(name) for name in opened.namelist())
    return found


def dist_state(root: Path) -> dict[str, bytes]:
    dist = root / "dist"
    return {p.relative_to(dist).as_posix(): p.read_bytes() for p in dist.rglob("*") if p.is_file()}


# ------------------------------------------------------------ links that leave the project
# case: make the link (under the shop checkout `root`, with `outside` a folder next to it) and
# return (the link the error must name, the words of its target it must show).


def _key_in_home(root: Path, outside: Path) -> tuple[Path, str]:
    write(outside / "home/.ssh/deploy_key", SECRET)
    return link(root / PACKAGE / "config.json", outside / "home/.ssh/deploy_key"), "deploy_key"


def _env_above_the_checkout(root: Path, outside: Path) -> tuple[Path, str]:
    write(root.parent / ".env", f"TOKEN={SECRET}\n")
    return link(root / PACKAGE / "settings.txt", "../../../../../.env"), "../../../../../.env"


def _absolute_link_to_a_system_like_file(root: Path, outside: Path) -> tuple[Path, str]:
    write(outside / "etc/shadow", SECRET)
    return link(root / PACKAGE / "data/users.txt", outside / "etc/shadow"), "shadow"


def _symlinked_folder_outside(root: Path, outside: Path) -> tuple[Path, str]:
    write(outside / "keys/prod.json", SECRET)
    return link(root / PACKAGE / "assets", outside / "keys"), "keys"


def _module_outside(root: Path, outside: Path) -> tuple[Path, str]:
    write(outside / "lib/helpers.py", f"TOKEN = {SECRET!r}\n")
    import_in_handler(root, "from shop.store import ITEMS\nfrom shop import helpers")
    return link(root / PACKAGE / "helpers.py", outside / "lib/helpers.py"), "helpers.py"


def _link_inside_a_symlinked_folder(root: Path, outside: Path) -> tuple[Path, str]:
    write(root / "shared/readme.txt", "shared\n")
    write(outside / "token.txt", SECRET)
    nested = link(root / "shared/token.txt", outside / "token.txt")
    link(root / PACKAGE / "shared", "../../../../shared")
    return nested, "token.txt"


LEAVING = {
    "a key in the home folder": _key_in_home,
    "a .env one level above the checkout": _env_above_the_checkout,
    "an absolute link to a system file": _absolute_link_to_a_system_like_file,
    "a symlinked folder outside": _symlinked_folder_outside,
    "a module outside": _module_outside,
    "a link inside a symlinked folder": _link_inside_a_symlinked_folder,
}


@pytest.mark.parametrize("case", list(LEAVING))
def test_a_tracked_symlink_leaving_the_project_stops_the_build_naming_link_and_target(
    shop: Path, tmp_path: Path, run_git: Git, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    blamed, target_words = LEAVING[case](shop, tmp_path / "outside")
    run_git(shop, "init", "-q")
    run_git(shop, "add", ".")
    with pytest.raises(BundleError) as caught:
        package(shop, function="shop.get_item", jobs=1)
    error = caught.value
    assert error.path == blamed
    assert "outside the project" in error.message and target_words in error.message
    assert "never ship" in (error.hint or "")
    assert not (shop / "dist").exists(), "nothing is written when the build stops"

    assert main(["package", "--root", str(shop)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {blamed}: ") and "fix: " in err and "Traceback" not in err
    assert not (shop / "dist").exists()


def test_a_refused_link_leaves_an_existing_dist_as_it_was(
    shop: Path, tmp_path: Path, run_git: Git
) -> None:
    run_git(shop, "init", "-q")
    run_git(shop, "add", ".")
    package(shop, jobs=1)
    before = dist_state(shop)
    _key_in_home(shop, tmp_path / "outside")
    run_git(shop, "add", ".")
    with pytest.raises(BundleError, match="outside the project"):
        package(shop, jobs=1)
    assert dist_state(shop) == before
    assert SECRET.encode() not in all_zipped_bytes(shop)


def test_an_untracked_symlink_leaving_the_project_never_ships_and_does_not_stop_the_build(
    shop: Path, tmp_path: Path, run_git: Git
) -> None:
    run_git(shop, "init", "-q")
    run_git(shop, "add", ".")
    _key_in_home(shop, tmp_path / "outside")  # created after `git add`: untracked
    _symlinked_folder_outside(shop, tmp_path / "outside")
    result = package(shop, function="shop.get_item", jobs=1)
    assert SECRET.encode() not in all_zipped_bytes(shop)
    assert any("config.json" in w and "not tracked" in w for w in result.warnings)


# ------------------------------------------ links inside the project at what never ships


def _env_at_the_root(root: Path) -> tuple[Path, str]:
    write(root / ".env", f"TOKEN={SECRET}\n")
    write(root / ".gitignore", ".env\n")
    return link(root / PACKAGE / "settings.txt", "../../../../.env"), "which git does not track"


def _git_config(root: Path) -> tuple[Path, str]:
    return link(root / PACKAGE / "data/git.txt", "../../../../../.git/config"), "inside .git"


def _git_folder(root: Path) -> tuple[Path, str]:
    return link(root / PACKAGE / "history", "../../../../.git"), "inside .git"


def _test_module(root: Path) -> tuple[Path, str]:
    write(root / "services/shop/tests/helpers_test.py", "HELP = 1\n")
    import_in_handler(root, "from shop.store import ITEMS\nfrom shop import helpers")
    target = "../../tests/helpers_test.py"
    return link(root / PACKAGE / "helpers.py", target), "a test file"


def _test_data(root: Path) -> tuple[Path, str]:
    write(root / "services/shop/tests/fixtures/orders.json", "[]\n")
    return link(root / PACKAGE / "orders.json", "../../tests/fixtures/orders.json"), "a test file"


def _module_at_a_credential(root: Path) -> tuple[Path, str]:
    write(root / "deploy/id_ed25519", SECRET)
    import_in_handler(root, "from shop.store import ITEMS\nfrom shop import keys")
    target = "../../../../deploy/id_ed25519"
    return link(root / PACKAGE / "keys.py", target), "holds a credential"


def _data_at_a_tracked_credential(root: Path) -> tuple[Path, str]:
    write(root / "deploy/server.pem", SECRET)
    return link(
        root / PACKAGE / "ca.txt", "../../../../deploy/server.pem"
    ), "looks like a credential"


INSIDE = {
    "a gitignored .env at the root": _env_at_the_root,
    "a file in .git": _git_config,
    "the .git folder": _git_folder,
    "a test module": _test_module,
    "test data": _test_data,
    "a module at a key": _module_at_a_credential,
    "a data file at a tracked key": _data_at_a_tracked_credential,
}


@pytest.mark.parametrize("case", list(INSIDE))
def test_a_symlink_to_what_would_be_refused_is_refused_too(
    shop: Path, run_git: Git, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run_git(shop, "init", "-q")
    blamed, words = INSIDE[case](shop)
    run_git(shop, "add", ".")
    with pytest.raises(BundleError) as caught:
        package(shop, function="shop.get_item", jobs=1)
    error = caught.value
    assert error.path == blamed, error
    assert words in error.message and "symlink to" in error.message
    assert error.hint
    assert not (shop / "dist").exists()
    assert main(["package", "--root", str(shop)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {blamed}: ") and "Traceback" not in err


def test_a_link_to_a_credential_ships_when_allow_files_lists_it(shop: Path, run_git: Git) -> None:
    run_git(shop, "init", "-q")
    _data_at_a_tracked_credential(shop)
    pyproject = shop / PYPROJECT
    pyproject.write_text(
        pyproject.read_text().replace(
            "timeout = 5", 'timeout = 5\nallow_files = ["src/shop/ca.txt"]'
        )
    )
    run_git(shop, "add", ".")
    package(shop, function="shop.get_item", jobs=1)
    with zipfile.ZipFile(shop / "dist/shop/get_item.zip") as archive:
        assert archive.read("shop/ca.txt") == SECRET.encode()


# ------------------------------------------------------------------ symlinked folders


def test_a_tracked_symlinked_folder_inside_the_project_ships_like_python_imports_it(
    shop: Path, run_git: Git
) -> None:
    write(shop / "shared/__init__.py", "")
    write(shop / "shared/money.py", "def cents(x):\n    return round(x * 100)\n")
    write(shop / "shared/rates.json", '{"eur": 1}\n')
    write(shop / "shared/draft.json", "{}\n")
    link(shop / PACKAGE / "shared", "../../../../shared")
    import_in_handler(shop, "from shop.store import ITEMS\nfrom shop.shared.money import cents")
    link(shop / PACKAGE / "logo.txt", "../../../../shared/rates.json")  # a file link, in project
    run_git(shop, "init", "-q")
    run_git(shop, "add", ".")
    run_git(shop, "rm", "-q", "--cached", "shared/draft.json")
    result = package(shop, function="shop.get_item", jobs=1)
    with zipfile.ZipFile(shop / "dist/shop/get_item.zip") as archive:
        names = set(archive.namelist())
        assert {"shop/shared/__init__.py", "shop/shared/money.py"} <= names
        assert archive.read("shop/shared/rates.json") == b'{"eur": 1}\n'
        assert archive.read("shop/logo.txt") == b'{"eur": 1}\n'
    assert "shop/shared/draft.json" not in names, "untracked where it really lives"
    assert any("shared/draft.json" in w for w in result.warnings)


def _self(package_folder: Path, project: Path) -> Path:
    return link(package_folder / "again", ".")


def _parent(package_folder: Path, project: Path) -> Path:
    return link(package_folder / "sub/up", "..")


def _project_root(package_folder: Path, project: Path) -> Path:
    return link(package_folder / "everything", project)


def _mutual(package_folder: Path, project: Path) -> Path:
    (project / "a").mkdir()
    (project / "b").mkdir()
    link(project / "b/to_a", "../a")
    link(project / "a/to_b", "../b")
    link(package_folder / "linked", project / "a")
    return project / "b/to_a"


LOOPS = {
    "the folder itself": _self,
    "its parent": _parent,
    "the project root": _project_root,
    "two folders linked to each other": _mutual,
}


@pytest.mark.parametrize("case", list(LOOPS))
def test_a_symlinked_folder_that_loops_is_an_error_naming_it(tmp_path: Path, case: str) -> None:
    project = tmp_path / "project"
    src = project / "src"
    write(src / "svc/__init__.py", "")
    (src / "svc/sub").mkdir()
    blamed = LOOPS[case](src / "svc", project)
    index = ModuleIndex(project=project)
    with pytest.raises(BundleError, match="symlink loop") as caught:
        index.add_root(src, "svc")
    assert caught.value.path == blamed
    assert str(blamed.readlink()) in caught.value.message


def test_outside_git_a_symlinked_folder_in_the_project_ships(tmp_path: Path) -> None:
    project = tmp_path / "project"
    src = project / "src"
    write(src / "svc/__init__.py", "")
    write(project / "assets/logo.svg", "<svg/>")
    link(src / "svc/static", project / "assets")
    index = ModuleIndex(project=project)
    index.add_root(src, "svc")
    closure = first_party_closure(index, ["svc"])
    shipped = [p.relative_to(src).as_posix() for p in package_data(index, closure.modules)]
    assert shipped == ["svc/static/logo.svg"]


@pytest.mark.parametrize(
    "name", ["test_helpers.py", "helpers_test.py", "conftest.py", "tests/x.py", "my-script.py"]
)
def test_a_link_leaving_the_project_that_never_ships_does_not_stop_the_build(
    tmp_path: Path, name: str
) -> None:
    """Test modules and files no import can name never ship, wherever they point."""
    project = tmp_path / "project"
    src = project / "src"
    write(src / "svc/__init__.py", "")
    write(tmp_path / "outside/code.py", f"TOKEN = {SECRET!r}\n")
    link(src / "svc" / name, tmp_path / "outside/code.py")
    index = ModuleIndex(project=project)
    index.add_root(src, "svc")
    assert sorted(index.modules) == ["svc"]
