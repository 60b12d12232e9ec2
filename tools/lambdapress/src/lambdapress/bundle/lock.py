"""`uv.lock`, read as the single source of third-party versions.

A function ships exactly the locked versions of the distributions its code imports and what
those require, evaluated for the Lambda target's markers; nothing is resolved again at build
time, so a build is reproducible from the lock alone.

Extras are part of the closure. A requirement with extras (`psycopg[binary]`, declared by the
service, by a workspace package it depends on, or by a locked package: `foo` requires
`bar[x]`) turns those extras on for that distribution in the service's environment, as
`uv sync` does; a function that ships the distribution then ships what the extras require
on the target too (`Lock.extras_in`, then `requirements_of(..., extras=...)`), so psycopg
never ships without the psycopg-binary its service asked for.

Parsing a workspace's lock (800 KB of TOML here) takes longer than the rest of a no-op run's
planning, so a lock is parsed once per content: the parsed lock is kept with the planning
facts, as JSON named by the lock's digest (`read_lock(root, facts)`).
"""

from __future__ import annotations

import hashlib
import os
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from packaging.markers import InvalidMarker, Marker
from packaging.utils import canonicalize_name
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lambdapress.bundle._facts import FileFacts
from lambdapress.bundle.targets import Target
from lambdapress.config.pyproject import LOCK_FILE, load_toml
from lambdapress.config.validation import Source, config_error
from lambdapress.errors import BundleError, ConfigError
from lambdapress.support import files

LOCAL_SOURCES = frozenset({"editable", "virtual", "directory", "path"})
# Sources the bundler turns into a wheel itself (`bundle.sourced`): a git dependency, and a
# path outside the workspace (what `analysis` marks "path-build"). Pure Python only.
BUILT_SOURCES = frozenset({"git", "path-build"})
# Extras turned on, as a hashable memo key: (canonical name, extras) pairs.
Extras = frozenset[tuple[str, frozenset[str]]]


class Dependency(BaseModel):
    """A locked package's dependency on another, with its marker and extras."""

    model_config = ConfigDict(frozen=True)

    name: str
    marker: str | None = None
    extras: tuple[str, ...] = ()
    version: str | None = None

    def applies_to(self, target: Target, extra: str = "") -> bool:
        """Whether the dependency is needed on `target` (its marker evaluated there).

        `extra` is the extra the dependency belongs to ("" for a package's own dependencies):
        a marker may test it (`extra == "binary"`).
        """
        if self.marker is None:
            return True
        environment: dict[str, str] = dict(target.marker_environment())
        try:
            return Marker(self.marker).evaluate(environment | {"extra": extra})
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


@dataclass(frozen=True)
class Resolved:
    """A closure: its distributions by canonical name, and the extras turned on in it."""

    packages: dict[str, LockedPackage]
    extras: dict[str, frozenset[str]]


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
    def _closures(self) -> dict[tuple[str, str, frozenset[str], Extras], Resolved]:
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
        self,
        root: str,
        target: Target,
        skip: frozenset[str] = frozenset(),
        extras: Mapping[str, frozenset[str]] | None = None,
    ) -> dict[str, LockedPackage]:
        """Everything `root` needs on `target`, following markers and extras, by name.

        Distributions named in `skip` (canonical names) are left out with their requirements:
        the Lambda runtime provides them. `extras` (canonical name -> extras) turns extras on
        wherever their distribution is reached, as `extras_in` found them for a service.
        Worked out once per lock, root, target, skip and extras.
        """
        return dict(self._resolve(root, target, skip, extras).packages)

    def extras_in(self, root: str, target: Target) -> dict[str, frozenset[str]]:
        """The extras turned on in `root`'s environment, by canonical distribution name.

        What a requirement anywhere in the closure asks for (`psycopg[binary]` in a service's
        dependencies, `bar[x]` in a locked package's), with markers evaluated on `target`.
        """
        return dict(self._resolve(root, target, frozenset(), None).extras)

    def _resolve(
        self,
        root: str,
        target: Target,
        skip: frozenset[str],
        extras: Mapping[str, frozenset[str]] | None,
    ) -> Resolved:
        turned_on: Extras = frozenset((k, frozenset(v)) for k, v in (extras or {}).items() if v)
        memo = (root, target.model_dump_json(), skip, turned_on)
        known = self._closures.get(memo)
        if known is None:
            known = self._closures[memo] = self._walk(root, target, skip, dict(turned_on))
        return known

    def _walk(
        self,
        root: str,
        target: Target,
        skip: frozenset[str],
        turned_on: Mapping[str, frozenset[str]],
    ) -> Resolved:
        """Breadth first over (distribution, extra) pairs, each visited once.

        A pair's dependencies are the distribution's own (extra "") or those of that extra;
        a requirement queues its distribution with "" and each extra it names, plus the extras
        `turned_on` for it. Visiting pairs, not distributions, keeps extras that name each
        other (`foo[all]` requires `foo[a]`) from looping.
        """
        start = self.find(root)
        packages: dict[str, LockedPackage] = {}
        extras: dict[str, set[str]] = {}
        seen: set[tuple[str, str]] = set()
        queue: deque[tuple[LockedPackage, str]] = deque(
            (start, extra) for extra in ("", *sorted(turned_on.get(canonicalize_name(root), ())))
        )
        while queue:
            package, extra = queue.popleft()
            key = canonicalize_name(package.name)
            if (key, extra) in seen:
                continue
            seen.add((key, extra))
            packages[key] = package
            if extra:
                extras.setdefault(key, set()).add(extra)
            wanted = package.optional.get(extra, ()) if extra else package.dependencies
            for dependency in wanted:
                child_key = canonicalize_name(dependency.name)
                if child_key in skip or not dependency.applies_to(target, extra):
                    continue
                child = self.find(dependency.name, dependency.version)
                named = sorted({*dependency.extras, *turned_on.get(child_key, ())})
                queue.extend((child, e) for e in ("", *named))
        return Resolved(
            packages=packages, extras={k: frozenset(v) for k, v in sorted(extras.items())}
        )

    def requirements_of(
        self,
        names: Iterable[str],
        target: Target,
        skip: frozenset[str] = frozenset(),
        extras: Mapping[str, frozenset[str]] | None = None,
    ) -> dict[str, LockedPackage]:
        """The distributions `names` and everything they require on `target`.

        A name in `skip` is left out with its requirements, like any skipped dependency (the
        runtime provides boto3 and what boto3 needs); `extras` as for `closure`.
        """
        result: dict[str, LockedPackage] = {}
        for name in names:
            if canonicalize_name(name) not in skip:
                result.update(self.closure(name, target, skip, extras))
        return result


def read_lock(root: Path, facts: FileFacts | None = None) -> Lock:
    """Parse `uv.lock` at the workspace root; a missing lock is an error with the fix.

    With `facts`, a lock parsed before is reused: its digest (known by stat, so not read
    again) names the parsed copy kept with them.
    """
    path = root / LOCK_FILE
    if not path.is_file():
        raise ConfigError(
            "no uv.lock: third-party versions are taken from the lock file only",
            path=path,
            hint="run `uv lock` at the repository root and commit uv.lock",
        )
    kept = _kept_path(facts, path)
    lock = _read_kept(kept, path) if kept is not None else None
    if lock is None:
        data = _checked(load_toml(path), path)
        packages = tuple(_package(entry) for entry in data.get("package", []))
        lock = Lock(path=path, packages=packages)
        if kept is not None:
            _keep(kept, lock)
    return lock


_KEPT_PREFIX = "lock-"


def _kept_path(facts: FileFacts | None, path: Path) -> Path | None:
    if facts is None or facts.folder is None:
        return None
    return facts.folder / f"{_KEPT_PREFIX}{facts.digest(path)}.json"


def _read_kept(kept: Path, path: Path) -> Lock | None:
    """The lock parsed before, if its copy is there and whole (sealed by its sha256)."""
    try:
        seal, _, body = kept.read_bytes().partition(b"\n")
    except OSError:
        return None
    if seal.decode(errors="replace") != hashlib.sha256(body).hexdigest():
        files.discard(kept)
        return None
    try:
        return Lock.model_validate_json(body).model_copy(update={"path": path})
    except ValidationError:  # sealed, but not by this version's shape: parse the lock again
        files.discard(kept)
        return None


def _keep(kept: Path, lock: Lock) -> None:
    """Keep the parsed lock (and only it: copies of older locks go)."""
    body = lock.model_dump_json().encode()
    files.write_bytes(kept, hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
    with os.scandir(kept.parent) as found:
        for old in found:
            if old.name.startswith(_KEPT_PREFIX) and old.name != kept.name:
                Path(old.path).unlink(missing_ok=True)


class _LockedDependencyShape(BaseModel):
    """A dependency as uv.lock writes it: the keys read here must have these types."""

    model_config = ConfigDict(extra="allow", strict=True)

    name: str
    marker: str | None = None
    extra: list[str] = []
    version: str | None = None


class _WheelShape(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    url: str
    hash: str


class _PackageShape(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, populate_by_name=True)

    name: str
    version: str | None = None
    source: dict[str, str] = {}
    dependencies: list[_LockedDependencyShape] = []
    optional_dependencies: dict[str, list[_LockedDependencyShape]] = Field(
        default={}, alias="optional-dependencies"
    )
    wheels: list[_WheelShape] = []


class _LockShape(BaseModel):
    """uv.lock, as far as the bundler reads it (uv writes more; anything else is allowed)."""

    model_config = ConfigDict(extra="allow", strict=True)

    package: list[_PackageShape] = []


def _checked(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """`data` (uv.lock, parsed) when what the bundler reads has the types uv writes.

    A lock edited by hand, merged badly or written by something else would otherwise fail
    deep in planning with a KeyError; here it is a ConfigError naming the key.
    """
    try:
        _LockShape.model_validate(data)
    except ValidationError as exc:
        source = Source(
            path,
            (),
            data,
            default_fix="regenerate it: `uv lock` at the repository root (after resolving any "
            "merge conflict in pyproject.toml files)",
        )
        raise config_error(exc, source, "uv.lock is not a lock file uv wrote") from None
    return data


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
