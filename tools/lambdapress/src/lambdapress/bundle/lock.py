"""`uv.lock`, read as the single source of third-party versions.

A function ships exactly the locked versions of the distributions its code imports and what
those require, evaluated for the Lambda target's markers; nothing is resolved again at build
time, so a build is reproducible from the lock alone.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import Any

from packaging.markers import InvalidMarker, Marker
from packaging.utils import canonicalize_name
from pydantic import BaseModel, ConfigDict

from lambdapress.bundle.targets import Target
from lambdapress.errors import BundleError, ConfigError
from lambdapress.pyproject import load_toml

LOCAL_SOURCES = frozenset({"editable", "virtual", "directory", "path"})
# Sources the bundler turns into a wheel itself (`bundle.sourced`): a git dependency, and a
# path outside the workspace (what `analysis` marks "path-build"). Pure Python only.
BUILT_SOURCES = frozenset({"git", "path-build"})


class Dependency(BaseModel):
    """A locked package's dependency on another, with its marker and extras."""

    model_config = ConfigDict(frozen=True)

    name: str
    marker: str | None = None
    extras: tuple[str, ...] = ()
    version: str | None = None

    def applies_to(self, target: Target, extras: Iterable[str] = ()) -> bool:
        """Whether the dependency is needed on `target` (its marker evaluated there)."""
        if self.marker is None:
            return True
        environment: dict[str, str] = dict(target.marker_environment())
        try:
            marker = Marker(self.marker)
            if not extras:
                return marker.evaluate(environment | {"extra": ""})
            return any(marker.evaluate(environment | {"extra": e}) for e in extras)
        except InvalidMarker:
            return True


class WheelFile(BaseModel):
    """One wheel uv.lock records for a package: where it is and its hash."""

    model_config = ConfigDict(frozen=True)

    url: str
    hash: str  # "sha256:..."

    @property
    def filename(self) -> str:
        """The wheel's file name, from its URL."""
        return self.url.rsplit("/", 1)[-1].split("#", 1)[0]


class LockedPackage(BaseModel):
    """One package of uv.lock: its version, source, wheels and dependencies."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    source_kind: str
    source: str
    dependencies: tuple[Dependency, ...] = ()
    optional: dict[str, tuple[Dependency, ...]] = {}
    wheels: tuple[WheelFile, ...] = ()
    revision: str | None = None
    """For a built source: the locked commit, or the digest of the path's files."""

    @property
    def is_built(self) -> bool:
        """Built into a wheel by lambdapress (git, or a path outside the workspace)."""
        return self.source_kind in BUILT_SOURCES

    @property
    def is_local(self) -> bool:
        """A workspace member or local path: first-party code, shipped from source."""
        return self.source_kind in LOCAL_SOURCES

    @property
    def index_url(self) -> str | None:
        """The index the package comes from, when it comes from one."""
        return self.source if self.source_kind in ("registry", "pinned") else None

    @property
    def is_pinned(self) -> bool:
        """A shared workspace package that a service takes as a published wheel instead."""
        return self.source_kind == "pinned"


class Lock(BaseModel):
    """The parts of uv.lock the bundler reads."""

    model_config = ConfigDict(frozen=True)

    path: Path
    packages: tuple[LockedPackage, ...]

    @cached_property
    def _by_name(self) -> dict[str, list[LockedPackage]]:
        """The packages by canonical name (planning looks them up once per function)."""
        index: dict[str, list[LockedPackage]] = {}
        for package in self.packages:
            index.setdefault(canonicalize_name(package.name), []).append(package)
        return index

    @cached_property
    def _closures(self) -> dict[tuple[str, str, frozenset[str]], dict[str, LockedPackage]]:
        return {}

    def find(self, name: str, version: str | None = None) -> LockedPackage:
        """The locked package called `name` (in `version`), or a BundleError."""
        found = self._by_name.get(canonicalize_name(name), [])
        if version is not None:
            found = [p for p in found if p.version == version]
        if not found:
            raise BundleError(
                f"{name} is not in the lock file",
                path=self.path,
                hint="run `uv lock` after changing dependencies",
            )
        return found[0]

    def closure(
        self, root: str, target: Target, skip: frozenset[str] = frozenset()
    ) -> dict[str, LockedPackage]:
        """Everything `root` needs on `target`, following markers and extras, by name.

        Distributions named in `skip` (canonical names) are left out with their requirements:
        the Lambda runtime provides them. Worked out once per lock, root, target and skip.
        """
        memo = (root, target.model_dump_json(), skip)
        known = self._closures.get(memo)
        if known is None:
            known = self._closures[memo] = self._closure(root, target, skip)
        return dict(known)

    def _closure(self, root: str, target: Target, skip: frozenset[str]) -> dict[str, LockedPackage]:
        start = self.find(root)
        seen: dict[str, LockedPackage] = {}
        queue: deque[tuple[LockedPackage, tuple[str, ...]]] = deque([(start, ())])
        while queue:
            package, extras = queue.popleft()
            key = canonicalize_name(package.name)
            if key in seen and not extras:
                continue
            seen[key] = package
            wanted = list(package.dependencies)
            for extra in extras:
                wanted += package.optional.get(extra, ())
            for dependency in wanted:
                if canonicalize_name(dependency.name) in skip:
                    continue
                if dependency.applies_to(target, extras):
                    child = self.find(dependency.name, dependency.version)
                    queue.append((child, dependency.extras))
        return seen

    def requirements_of(
        self, names: Iterable[str], target: Target, skip: frozenset[str] = frozenset()
    ) -> dict[str, LockedPackage]:
        """The distributions `names` and everything they require on `target`."""
        result: dict[str, LockedPackage] = {}
        for name in names:
            result.update(self.closure(name, target, skip))
        return result


def read_lock(root: Path) -> Lock:
    """Parse `uv.lock` at the workspace root; a missing lock is an error with the fix."""
    path = root / "uv.lock"
    if not path.is_file():
        raise ConfigError(
            "no uv.lock: third-party versions are taken from the lock file only",
            path=path,
            hint="run `uv lock` at the repository root and commit uv.lock",
        )
    data = load_toml(path)
    packages = tuple(_package(entry) for entry in data.get("package", []))
    return Lock(path=path, packages=packages)


def _package(entry: dict[str, Any]) -> LockedPackage:
    source: dict[str, str] = entry.get("source", {})
    kind, location = next(iter(source.items()), ("unknown", ""))
    optional = {
        extra: tuple(_dependency(d) for d in deps)
        for extra, deps in entry.get("optional-dependencies", {}).items()
    }
    return LockedPackage(
        name=entry["name"],
        version=str(entry.get("version", "0")),
        source_kind=kind,
        source=location,
        dependencies=tuple(_dependency(d) for d in entry.get("dependencies", [])),
        optional=optional,
        wheels=tuple(WheelFile(url=w["url"], hash=w["hash"]) for w in entry.get("wheels", [])),
    )


def _dependency(entry: dict[str, Any]) -> Dependency:
    return Dependency(
        name=entry["name"],
        marker=entry.get("marker"),
        extras=tuple(entry.get("extra", ())),
        version=entry.get("version"),
    )
