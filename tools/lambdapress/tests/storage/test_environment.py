from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from lambdapress.bundle._wiring import service_resources
from lambdapress.config.workspace import Workspace, load_workspace
from lambdapress.errors import StorageError
from lambdapress.model.application import Application
from lambdapress.storage.environment import local_storage_environment, storage_environment
from lambdapress.storage.state import LocalStorageState, read_state, state_path, write_state

ALL = ("orders", "customers", "notes")


def model(workspace: Workspace) -> Application:
    """The resources `package` records for the workspace's services (no functions needed)."""
    resources = [r for s in workspace.services for r in service_resources(s, workspace.root)]
    return Application(resources=tuple(resources))


def state(pid: int | None = None) -> LocalStorageState:
    """What `lambdapress db` records: one part per backend whose server runs."""
    return LocalStorageState(
        pid=pid or os.getpid(),
        backends={
            "postgres": {
                "port": 5999,
                "databases": {"orders": "postgresql://lambdapress@127.0.0.1:5999/orders"},
            },
            "dynamodb": {
                "endpoint": "http://127.0.0.1:6001",
                "region": "us-east-1",
                "tables": {
                    "customers": {"customers": "p-local-customers-customers", "events": "p-e"}
                },
            },
        },
    )


def test_each_service_gets_the_variables_of_its_own_storage(workspace: Workspace) -> None:
    found = storage_environment(model(workspace), "repo", ALL, state(), environ={})
    assert found.missing == {}
    assert found.variables == {
        "orders": {"DATABASE_URL": "postgresql://lambdapress@127.0.0.1:5999/orders"},
        "customers": {
            "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:6001",
            "CUSTOMERS_TABLE": "p-local-customers-customers",
            "EVENTS_TABLE": "p-e",
        },
    }


def test_without_a_running_db_storage_services_say_how_to_start_it(workspace: Workspace) -> None:
    found = storage_environment(model(workspace), "repo", ALL, None, environ={})
    assert found.variables == {}
    assert set(found.missing) == {"orders", "customers"}
    assert all("nox -s db" in message for message in found.missing.values())
    assert "PostgreSQL" in found.missing["orders"]
    assert "DynamoDB" in found.missing["customers"]


def test_the_callers_own_servers_are_used_when_no_db_runs(workspace: Workspace) -> None:
    environ = {
        "DATABASE_URL": "postgresql://me@127.0.0.1:5432/mine",
        "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:4566",
    }
    found = storage_environment(model(workspace), "repo", ALL, None, environ=environ)
    assert found.missing == {}
    assert found.variables["orders"] == {"DATABASE_URL": "postgresql://me@127.0.0.1:5432/mine"}
    customers = found.variables["customers"]
    assert customers["AWS_ENDPOINT_URL_DYNAMODB"] == "http://127.0.0.1:4566"
    assert customers["CUSTOMERS_TABLE"] == "repo-local-customers-customers"


def test_a_services_queues_and_topics_are_not_storage(workspace: Workspace) -> None:
    """A service's queues, topics, buses and buckets are among its resources, and no storage
    backend makes them: they add nothing here (the events server has them), and a service with
    only those needs no `db` server."""
    customers = workspace.root / "services" / "customers" / "pyproject.toml"
    notes = workspace.root / "services" / "notes" / "pyproject.toml"
    customers.write_text(customers.read_text() + "\n[tool.lambdapress.queues.signups]\n")
    notes.write_text(notes.read_text() + "\n[tool.lambdapress.topics.notes]\n")
    application = model(load_workspace(workspace.root))
    assert {r.kind for r in application.resources} >= {"sqs-queue", "sns-topic"}

    found = storage_environment(application, "repo", ALL, state(), environ={})

    assert found.missing == {}
    assert found.variables["customers"]["CUSTOMERS_TABLE"] == "p-local-customers-customers"
    assert "notes" not in found.variables


def test_a_state_file_left_by_a_dead_db_is_ignored(workspace: Workspace) -> None:
    dead = 2**22 + 12345  # above the default pid_max: no such process
    write_state(workspace.root, state(pid=dead))
    assert state_path(workspace.root).is_file()
    assert read_state(workspace.root) is None
    write_state(workspace.root, state())
    assert read_state(workspace.root) == state()


def test_local_tables_take_the_project_name_deploy_uses(workspace: Workspace) -> None:
    """One name in one place: `[tool.lambdapress.deploy] project` names local tables too."""
    from lambdapress.deploy.config import load_deploy_config

    pyproject = workspace.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.lambdapress.deploy]\nproject = "acme"\n')
    environ = {"AWS_ENDPOINT_URL_DYNAMODB": "x"}
    found = local_storage_environment(model(workspace), workspace.root, ALL, environ=environ)
    assert load_deploy_config(workspace.root).project == "acme"
    assert found.variables["customers"]["CUSTOMERS_TABLE"] == "acme-local-customers-customers"


def test_the_environment_comes_from_the_model_not_the_services(workspace: Workspace) -> None:
    """With the services' pyprojects gone, the model alone says what each service uses."""
    application = model(workspace)
    for service in workspace.services:
        (service.path / "pyproject.toml").unlink()
    found = storage_environment(application, "repo", ALL, state(), environ={})
    assert set(found.variables) == {"orders", "customers"}
    assert not Path(workspace.root / "services" / "orders" / "pyproject.toml").exists()


@pytest.mark.parametrize(
    ("part", "problem"),
    [
        ({"postgres": {"port": "five"}}, "`backends.postgres.port`"),
        ({"dynamodb": {"region": "us-east-1"}}, "`backends.dynamodb.endpoint`"),
        ({"sqlite": {}}, "no storage backend 'sqlite'"),
    ],
)
def test_a_backends_part_it_would_not_write_is_refused_naming_the_file(
    workspace: Workspace, part: dict[str, Any], problem: str
) -> None:
    write_state(workspace.root, LocalStorageState(pid=os.getpid(), backends=part))
    with pytest.raises(StorageError) as caught:
        read_state(workspace.root)
    assert problem in caught.value.message
    assert caught.value.path == state_path(workspace.root)
    assert "restart `lambdapress db`" in (caught.value.hint or "")
