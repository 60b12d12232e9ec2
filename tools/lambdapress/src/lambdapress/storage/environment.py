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
from lambdapress.errors import LambdapressError
from lambdapress.model.application import Application
from lambdapress.model.resources import DynamoDBTable, PostgresDatabase, Resource
from lambdapress.storage.state import LocalStorageState, read_state

DYNAMODB_ENDPOINT_ENV = "AWS_ENDPOINT_URL_DYNAMODB"
LOCAL_STAGE = "local"


@dataclass(frozen=True)
class StorageEnvironment:
    """Per service: the variables to add, or why its storage is not available."""

    variables: dict[str, dict[str, str]] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)


def local_table_name(project: str, service: str, table: str) -> str:
    """A table's physical name on the local stage: the name deploy gives it, stage `local`."""
    return physical_table_name(project, LOCAL_STAGE, service, table)


def storage_environment(
    application: Application,
    project: str,
    services: Iterable[str],
    state: LocalStorageState | None,
    environ: Mapping[str, str] | None = None,
) -> StorageEnvironment:
    """The storage variables of each named service whose functions use resources."""
    env = os.environ if environ is None else environ
    result = StorageEnvironment()
    for name in sorted(set(services)):
        resources = application.resources_of(name)
        databases = [r for r in resources if isinstance(r, PostgresDatabase)]
        tables = [r for r in resources if isinstance(r, DynamoDBTable)]
        variables: dict[str, str] = {}
        if databases:
            url = state.databases.get(name) if state is not None else None
            url = url or env.get(DATABASE_URL_ENV)
            if not url:
                result.missing[name] = _missing(name, "PostgreSQL", DATABASE_URL_ENV)
                continue
            variables[DATABASE_URL_ENV] = url
        if tables:
            endpoint = state.dynamodb_endpoint if state is not None else None
            endpoint = endpoint or env.get(DYNAMODB_ENDPOINT_ENV)
            if not endpoint:
                result.missing[name] = _missing(name, "DynamoDB", DYNAMODB_ENDPOINT_ENV)
                continue
            running = (state.tables.get(name) if state is not None else None) or {}
            variables[DYNAMODB_ENDPOINT_ENV] = endpoint
            for table in tables:
                physical = running.get(table.name) or local_table_name(project, name, table.name)
                variables[table_env_name(table.name)] = physical
        if variables:
            result.variables[name] = variables
    return result


def _missing(service: str, what: str, variable: str) -> str:
    return (
        f"the {service} service keeps its data in {what}, and no local server is running: "
        f"start one with `nox -s db` (or `lambdapress db`) in another terminal, or set "
        f"{variable}"
    )


def local_storage_environment(
    application: Application,
    root: Path,
    services: Iterable[str],
    environ: Mapping[str, str] | None = None,
) -> StorageEnvironment:
    """`storage_environment` for the project at `root` and its running `lambdapress db`.

    A folder that is not a project (built zips only) has no storage to look up: empty.
    """
    if not any(isinstance(r, Resource) for r in application.resources):
        return StorageEnvironment()
    try:
        project = project_name(root)
    except LambdapressError:
        return StorageEnvironment()
    return storage_environment(application, project, services, read_state(root), environ)
