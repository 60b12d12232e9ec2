"""Wrong answers are refused by copier.yml's validators: a clear message, nothing written."""

import hashlib
from pathlib import Path
from typing import Any

import pytest


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        ("Orders-2", "is not a lowercase Python identifier"),
        ("2orders", "is not a lowercase Python identifier"),
        ("class", "is a Python keyword or the name of a standard library"),
        ("json", "is a Python keyword or the name of a standard library"),
        ("boto3", "is a Python keyword or the name of a standard library"),
    ],
)
def test_bad_resource_names_are_refused(
    copier_cli: Any, workspace: Path, resource: str, message: str
) -> None:
    destination = workspace / "services" / "x"
    result = copier_cli.copy(
        destination, {"kind": "service", "resource": resource}, cwd=workspace, check=False
    )
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("ValueError: Validation error for question 'resource'")
    assert f"'{resource}' {message}" in last_line
    assert not destination.exists()


def test_an_existing_service_is_refused_and_left_untouched(
    copier_cli: Any, workspace: Path
) -> None:
    destination = workspace / "services" / "orders"
    copier_cli.copy(destination, {"kind": "service", "resource": "orders"}, cwd=workspace)
    handler = destination / "src" / "orders" / "handlers" / "get_order.py"
    handler.write_text(handler.read_text() + "\n# the team's own change\n")
    before = tree_digest(destination)

    result = copier_cli.copy(
        destination, {"kind": "service", "resource": "orders"}, cwd=workspace, check=False
    )

    assert result.returncode != 0
    assert "is already the service 'orders'" in result.stderr
    assert tree_digest(destination) == before


@pytest.mark.parametrize("name", ["Acme_Models", "acme--models", "-acme", "acme models", "json"])
def test_bad_package_names_are_refused(copier_cli: Any, workspace: Path, name: str) -> None:
    destination = workspace / "packages" / "x"
    result = copier_cli.copy(
        destination, {"kind": "package", "package_name": name}, cwd=workspace, check=False
    )
    assert result.returncode != 0
    assert f"'{name}'" in result.stderr
    assert not destination.exists()


def test_bad_settings_are_refused(copier_cli: Any, workspace: Path) -> None:
    destination = workspace / "services" / "orders"
    result = copier_cli.copy(
        destination,
        {"kind": "service", "resource": "orders", "memory": "64"},
        cwd=workspace,
        check=False,
    )
    assert result.returncode != 0
    assert "memory must be between 128 and 10240 MB" in result.stderr
    assert not destination.exists()


def test_a_bad_project_name_is_refused(copier_cli: Any, tmp_path: Path) -> None:
    destination = tmp_path / "My Platform"
    result = copier_cli.copy(
        destination, {"kind": "project", "project_name": "My Platform"}, cwd=tmp_path, check=False
    )
    assert result.returncode != 0
    assert "'My Platform' is not a valid project name" in result.stderr
    assert not destination.exists()
