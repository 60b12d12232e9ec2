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


def test_a_stream_worker_without_dynamodb_storage_is_refused(
    copier_cli: Any, workspace: Path
) -> None:
    """The default storage is memory: asking for the stream worker alone is the likely slip."""
    destination = workspace / "services" / "orders"
    data = {"kind": "service", "resource": "orders", "workers": "[sqs, dynamodb-stream]"}
    result = copier_cli.copy(destination, data, cwd=workspace, check=False)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("ValueError: Validation error for question 'workers'")
    assert "reads the stream of the service's DynamoDB table, and storage is 'memory'" in (
        last_line
    )
    assert "answer storage=dynamodb, or leave dynamodb-stream out of workers" in last_line
    assert not destination.exists()


def test_workers_whose_resources_would_be_too_long_are_refused(
    copier_cli: Any, workspace: Path
) -> None:
    """A resource over 24 characters is taken only with every answer given (how `copier
    update` renders a service made before the limit); its workers' names must still fit."""
    resource = "a" * 27
    data = {
        "kind": "service",
        "resource": resource,
        "singular": "item",
        "model_name": "Item",
        "endpoints": "[get]",
        "runtime": "python3.12",
        "architecture": "x86_64",
        "memory": "256",
        "timeout": "10",
    }
    destination = workspace / "services" / resource
    result = copier_cli.copy(
        destination, {**data, "workers": "[schedule, sns]"}, cwd=workspace, check=False
    )
    assert result.returncode != 0
    assert f"'{resource}-notifications' would name a resource of the workers" in result.stderr
    assert not destination.exists()
    copier_cli.copy(destination, {**data, "workers": "[schedule, s3]"}, cwd=workspace)
    assert (destination / "src" / resource / "handlers" / f"on_{resource}_uploads.py").is_file()


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ("orderPlaced", "'orderPlaced' is not a CapWords class name"),
        ("Order-Placed", "'Order-Placed' is not a CapWords class name"),
        ("E" * 30, f"'{'E' * 30}' is longer than 29 characters"),
        ("Page", "'Page' is a name the service's modules already use"),
        ("None", "'None' is a name the service's modules already use"),
        ("Order", "'Order' is already a class of the service"),
        ("OrderIn", "'OrderIn' is already a class of the service"),
        ("InMemoryOrderRepository", "'InMemoryOrderRepository' is already a class of the service"),
    ],
)
def test_bad_created_event_names_are_refused(
    copier_cli: Any, workspace: Path, event: str, message: str
) -> None:
    destination = workspace / "services" / "orders"
    data = {"kind": "service", "resource": "orders", "created_event": event}
    result = copier_cli.copy(destination, data, cwd=workspace, check=False)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("ValueError: Validation error for question 'created_event'")
    assert message in last_line
    assert not destination.exists()


def test_a_created_event_without_the_create_endpoint_is_refused(
    copier_cli: Any, workspace: Path
) -> None:
    """Not asked without `create`; given anyway, it would publish from no handler."""
    destination = workspace / "services" / "orders"
    data = {
        "kind": "service",
        "resource": "orders",
        "endpoints": "[list, get]",
        "created_event": "OrderPlaced",
    }
    result = copier_cli.copy(destination, data, cwd=workspace, check=False)
    assert result.returncode != 0
    assert (
        "the create endpoint publishes OrderPlaced, and endpoints are [list, get]: add create "
        "to endpoints, or leave created_event out"
    ) in result.stderr
    assert not destination.exists()


def test_a_created_event_whose_topic_would_be_too_long_is_refused(
    copier_cli: Any, workspace: Path
) -> None:
    """A singular over 29 characters is taken only with every answer given (a service made
    before the limit); the topic `<singular>-events` must still fit in 40."""
    data = {
        "kind": "service",
        "resource": "items",
        "singular": "a" * 34,
        "model_name": "Item",
        "endpoints": "[create]",
        "runtime": "python3.12",
        "architecture": "x86_64",
        "memory": "256",
        "timeout": "10",
        "created_event": "ItemAdded",
    }
    destination = workspace / "services" / "items"
    result = copier_cli.copy(destination, data, cwd=workspace, check=False)
    assert result.returncode != 0
    assert f"'{'a' * 34}-events' would name the topic ItemAdded is published to" in result.stderr
    assert not destination.exists()
    copier_cli.copy(destination, {**data, "singular": "a" * 33}, cwd=workspace)
    pyproject = (destination / "pyproject.toml").read_text()
    assert f"[tool.lambdapress.topics.{'a' * 33}-events]" in pyproject
