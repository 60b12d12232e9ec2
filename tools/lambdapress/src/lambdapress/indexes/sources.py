"""Where each service's model libraries come from, read from its pyproject.

A service builds on a model library from the workspace (source), pinned to a published
version, or from a private index (see `lambdapress.publish.models`, which edits these tables).
Reading is on every build's path (the bundler's gate and its index credentials), so it uses
tomllib only: the edits, with tomlkit, stay with the publisher.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from pydantic import BaseModel, ConfigDict

from lambdapress.config.names import import_name
from lambdapress.config.pyproject import PYPROJECT, load_toml
from lambdapress.config.workspace import Service, Workspace
from lambdapress.indexes.pins import pins_in

ACCEPT_KEY = "accept_models"
Origin = Literal["workspace", "pinned", "index"]


class _LockedPackage(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...


class Lock(Protocol):
    """What is read of uv.lock here (`lambdapress.bundle.lock.Lock` is one): its packages."""

    @property
    def packages(self) -> Sequence[_LockedPackage]:
        """Every locked package."""
        ...


class ModelLibrary(BaseModel):
    """One model library one service builds on, and where it comes from."""

    model_config = ConfigDict(frozen=True)

    service: str
    package: str
    origin: Origin
    requirement: str
    """As written in `[project] dependencies` (`billing-models==1.2`)."""
    version: str | None
    """What ships: the workspace package's version, the pin, or the version in uv.lock."""
    index: str | None
    """The index's name (`[tool.lambdapress.indexes]` and `[[tool.uv.index]]`)."""
    accepted: str | None
    """`[tool.lambdapress] accept_models` for this package, if recorded."""

    @property
    def import_name(self) -> str:
        """The module the library is imported as."""
        return import_name(self.package)


def read_models(workspace: Workspace, lock: Lock | None) -> tuple[ModelLibrary, ...]:
    """Every service's model libraries, in service order."""
    found: list[ModelLibrary] = []
    for service in workspace.services:  # tomllib: reading is on every build's path
        found.extend(models_of(workspace, service, load_toml(service.path / PYPROJECT), lock))
    return tuple(found)


def models_of(
    workspace: Workspace, service: Service, document: Any, lock: Lock | None
) -> tuple[ModelLibrary, ...]:
    """The model libraries of one service's parsed pyproject."""
    packages = {canonicalize_name(p.name): p for p in workspace.packages}
    pins = {canonicalize_name(p.package): p for p in pins_in(document)}
    sources = document.get("tool", {}).get("uv", {}).get("sources", {})
    sources = {canonicalize_name(k): v for k, v in sources.items()}
    accepted = {
        canonicalize_name(k): str(v)
        for k, v in document.get("tool", {}).get("lambdapress", {}).get(ACCEPT_KEY, {}).items()
    }
    found = []
    for raw in document.get("project", {}).get("dependencies", []):
        try:
            requirement = Requirement(str(raw))
        except InvalidRequirement:
            continue
        key = canonicalize_name(requirement.name)
        source = sources.get(key)
        origin: Origin
        version: str | None
        index: str | None
        if key in pins:
            origin, version, index = "pinned", pins[key].version, pins[key].index
        elif key in packages:
            origin, version, index = "workspace", packages[key].version, None
        elif isinstance(source, dict) and "index" in source:
            origin, version = "index", _locked_version(lock, requirement.name)
            index = str(source["index"])
        else:
            continue
        found.append(
            ModelLibrary(
                service=service.name,
                package=requirement.name,
                origin=origin,
                requirement=str(raw),
                version=version,
                index=index,
                accepted=accepted.get(key),
            )
        )
    return tuple(found)


def _locked_version(lock: Lock | None, package: str) -> str | None:
    if lock is None:
        return None
    wanted = canonicalize_name(package)
    return next((p.version for p in lock.packages if canonicalize_name(p.name) == wanted), None)


def uv_index_named(root: Path, url: str) -> str | None:
    """The name of the root pyproject's `[[tool.uv.index]]` at `url`, or None.

    uv.lock records that URL as a package's registry; with the name, the bundler fetches the
    package's wheels with that index's credentials.
    """
    indexes = load_toml(root / PYPROJECT).get("tool", {}).get("uv", {}).get("index", [])
    wanted = url.rstrip("/")
    for entry in indexes if isinstance(indexes, list) else []:
        if isinstance(entry, dict) and str(entry.get("url", "")).rstrip("/") == wanted:
            name = entry.get("name")
            return str(name) if name else None
    return None
