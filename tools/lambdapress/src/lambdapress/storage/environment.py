"""The variables that tell a function where its service's data lives, locally.

    postgres:  DATABASE_URL=postgresql://lambdapress@127.0.0.1:PORT/orders
    dynamodb:  AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:PORT, CUSTOMERS_TABLE=<physical name>
               (fake credentials and the region are set by the emulator for every function)

Each storage backend says which (`local_environment`, see `model.storage_backends`): from the
running `lambdapress db` (its part of the state file) or, without one, from the caller's own
variables (a database of your own, a shared moto). A service whose storage is not reachable
either way gets a message saying how to start it, instead of a function that fails later on a
missing variable.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lambdapress.config.project import project_name
from lambdapress.errors import LambdapressError
from lambdapress.model.application import Application
from lambdapress.model.storage_backends import (
    LOCAL_STAGE,
    LocalLookup,
    StageNames,
    Unavailable,
    by_backend,
    stored_resources,
)
from lambdapress.storage.state import LocalStorageState, backend_state, read_state


@dataclass(frozen=True)
class StorageEnvironment:
    """Per service: the variables to add, or why its storage is not available."""

    variables: dict[str, dict[str, str]] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)


def storage_environment(
    application: Application,
    project: str,
    services: Iterable[str],
    state: LocalStorageState | None,
    environ: Mapping[str, str] | None = None,
) -> StorageEnvironment:
    """The storage variables of each named service whose functions use resources."""
    env = os.environ if environ is None else environ
    names = StageNames(project, LOCAL_STAGE)
    result = StorageEnvironment()
    for name in sorted(set(services)):
        variables: dict[str, str] = {}
        for backend, resources in by_backend(stored_resources(application.resources_of(name))):
            running = backend_state(state, backend) if state is not None else None
            found = backend.local_environment(resources, LocalLookup(names, running, env))
            if isinstance(found, Unavailable):
                result.missing[name] = _missing(name, found)
                break
            variables.update(found)
        else:
            if variables:
                result.variables[name] = variables
    return result


def _missing(service: str, unavailable: Unavailable) -> str:
    return (
        f"the {service} service keeps its data in {unavailable.what}, and no local server is "
        f"running: start one with `nox -s db` (or `lambdapress db`) in another terminal, or set "
        f"{unavailable.variable}"
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
    if not application.resources:
        return StorageEnvironment()
    try:
        project = project_name(root)
    except LambdapressError:
        return StorageEnvironment()
    return storage_environment(application, project, services, read_state(root), environ)
