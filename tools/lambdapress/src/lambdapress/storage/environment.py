"""The variables that tell a function where its service's data lives, locally.

    postgres:  DATABASE_URL=postgresql://lambdapress@127.0.0.1:PORT/orders
    dynamodb:  AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:PORT, CUSTOMERS_TABLE=<physical name>
               (fake credentials and the region are set by the emulator for every function)

They come from the running `lambdapress db` (its state file); without one, from the caller's
own `DATABASE_URL` / `AWS_ENDPOINT_URL_DYNAMODB` (a database of your own, a shared moto). A
service whose storage is not reachable either way gets a message saying how to start it,
instead of a function that fails later on a missing variable.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lambdapress.config.project import project_name
from lambdapress.config.storage_settings import (
    DATABASE_URL_ENV,
    physical_table_name,
    table_env_name,
)
from lambdapress.config.workspace import Service, Workspace, load_workspace
from lambdapress.errors import LambdapressError
from lambdapress.storage.state import LocalStorageState, read_state

DYNAMODB_ENDPOINT_ENV = "AWS_ENDPOINT_URL_DYNAMODB"
LOCAL_STAGE = "local"


@dataclass(frozen=True)
class StorageEnvironment:
    """Per service: the variables to add, or why its storage is not available."""

    variables: dict[str, dict[str, str]] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)


def local_project_name(workspace: Workspace) -> str:
    """The project part of local physical table names: the same name deploy gives the stack."""
    return project_name(workspace.root)


def local_tables(workspace: Workspace, service: Service) -> dict[str, str]:
    """table -> physical name, for the local stage."""
    project = local_project_name(workspace)
    return {
        table: physical_table_name(project, LOCAL_STAGE, service.name, table)
        for table in service.settings.storage.tables
    }


def storage_environment(
    workspace: Workspace,
    services: Iterable[str],
    state: LocalStorageState | None,
    environ: Mapping[str, str] | None = None,
) -> StorageEnvironment:
    """The storage variables of each named service that declares storage."""
    env = os.environ if environ is None else environ
    result = StorageEnvironment()
    for name in sorted(set(services)):
        service = workspace.service(name)
        if service is None:
            continue
        kind = service.settings.storage.kind
        if kind == "postgres":
            url = state.databases.get(name) if state is not None else None
            url = url or env.get(DATABASE_URL_ENV)
            if url:
                result.variables[name] = {DATABASE_URL_ENV: url}
            else:
                result.missing[name] = _missing(name, "PostgreSQL", DATABASE_URL_ENV)
        elif kind == "dynamodb":
            endpoint = state.dynamodb_endpoint if state is not None else None
            endpoint = endpoint or env.get(DYNAMODB_ENDPOINT_ENV)
            tables = (state.tables.get(name) if state is not None else None) or local_tables(
                workspace, service
            )
            if endpoint:
                variables = {DYNAMODB_ENDPOINT_ENV: endpoint}
                variables.update({table_env_name(t): physical for t, physical in tables.items()})
                result.variables[name] = variables
            else:
                result.missing[name] = _missing(name, "DynamoDB", DYNAMODB_ENDPOINT_ENV)
    return result


def _missing(service: str, what: str, variable: str) -> str:
    return (
        f"the {service} service keeps its data in {what}, and no local server is running: "
        f"start one with `nox -s db` (or `lambdapress db`) in another terminal, or set "
        f"{variable}"
    )


def workspace_storage_environment(
    root: Path, services: Iterable[str], environ: Mapping[str, str] | None = None
) -> StorageEnvironment:
    """`storage_environment` for the workspace at `root` and its running `lambdapress db`.

    A folder that is not a workspace (built zips only) has no storage to look up: empty.
    """
    try:
        workspace = load_workspace(root)
    except LambdapressError:
        return StorageEnvironment()
    return storage_environment(workspace, services, read_state(root), environ)
