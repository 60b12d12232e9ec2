"""The one rule of what ships (git-tracked package data) and the names that stop a build."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePath

import pytest

from lambdapress.bundle._imports import ModuleIndex, first_party_closure, package_data
from lambdapress.bundle._shipping import check_credentials, looks_like_credential
from lambdapress.errors import BundleError

Git = Callable[..., str]


def write_tree(src: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = src / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def shipped_data(src: Path) -> list[str]:
    index = ModuleIndex(project=src.parent)
    index.add_root(src, "svc")
    closure = first_party_closure(index, ["svc"])
    return [p.relative_to(src).as_posix() for p in package_data(index, closure.modules)]


def test_in_git_only_tracked_files_ship(tmp_path: Path, run_git: Git) -> None:
    src = tmp_path / "src"
    write_tree(
        src,
        {
            "svc/__init__.py": "",
            "svc/schemas/order.json": "{}",
            "svc/schemas/draft.json": "{}",
            "svc/local.db": "",
            "svc/.gitignore": "local.db\n",
        },
    )
    run_git(tmp_path, "init", "-q")
    run_git(
        tmp_path, "add", "src/svc/__init__.py", "src/svc/schemas/order.json", "src/svc/.gitignore"
    )
    # draft.json is untracked, local.db ignored: neither ships
    assert shipped_data(src) == ["svc/schemas/order.json"]


def test_outside_git_every_file_but_the_exclusions_ships(tmp_path: Path) -> None:
    src = tmp_path / "src"
    write_tree(src, {"svc/__init__.py": "", "svc/schemas/order.json": "{}", "svc/a/b/c.txt": ""})
    assert shipped_data(src) == ["svc/a/b/c.txt", "svc/schemas/order.json"]


def test_inside_git_without_git_installed_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_git: Git
) -> None:
    src = tmp_path / "src"
    write_tree(src, {"svc/__init__.py": "", "svc/order.json": "{}"})
    run_git(tmp_path, "init", "-q")
    monkeypatch.setenv("PATH", str(tmp_path / "no-binaries-here"))
    with pytest.raises(BundleError, match="git is not installed") as caught:
        shipped_data(src)
    assert caught.value.path == src / "svc" and "install git" in (caught.value.hint or "")


@pytest.mark.parametrize(
    "name",
    ["order.json", "id_rsa.pub", "id_map.json", "credentials.py", "keys.py", "environment.txt"],
)
def test_ordinary_names_are_not_credentials(name: str) -> None:
    assert not looks_like_credential(PurePath("svc") / name)


def test_allow_files_matches_paths_relative_to_the_service_or_the_zip(tmp_path: Path) -> None:
    service = tmp_path / "services/orders"
    pem = service / "src/orders/certs/ca.pem"
    files = [(pem, "orders/certs/ca.pem")]
    pyproject = service / "pyproject.toml"
    with pytest.raises(BundleError, match=r"orders/certs/ca\.pem looks like a credential") as info:
        check_credentials(files, [], [service, service / "src"], "orders", pyproject)
    assert info.value.path == pem and "allow_files" in (info.value.hint or "")
    for allowed in (["src/orders/certs/ca.pem"], ["orders/certs/*.pem"], ["src/**/ca.pem"]):
        check_credentials(files, allowed, [service, service / "src"], "orders", pyproject)
    with pytest.raises(BundleError):
        check_credentials(files, ["other.pem"], [service, service / "src"], "orders", pyproject)
