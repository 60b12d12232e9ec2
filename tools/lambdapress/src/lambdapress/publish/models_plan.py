"""`models add` and `models upgrade`: a frozen plan of every file change, then one write.

A plan is computed entirely before anything is written: the index is asked which versions
exist (so a wrong name, an index that is down, refused credentials or a version that was never
published fail here, naming the index and the fix), the new pyproject texts are computed, the
new `uv.lock` comes from uv run on a scratch copy, and the version change is checked against
the service's accepted version. `apply_plan` then writes the files, refusing if any of them
changed since the plan was made. On any failure no file has changed.

One verb family covers every origin (see `models`): adding a published version of a package
that is *not* in the workspace takes it from the index (uv source + explicit uv index);
adding one that *is* in the workspace with a version pins it (`pins`), and without a version
puts the service back on its source. `pin`/`unpin` are kept as aliases of those two forms.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version
from pydantic import BaseModel, ConfigDict

from lambdapress.config.names import import_name
from lambdapress.config.pyproject import LOCK_FILE, PYPROJECT
from lambdapress.config.workspace import Service, Workspace
from lambdapress.errors import ModelsError
from lambdapress.indexes.config import ResolvedIndex
from lambdapress.indexes.sources import ModelLibrary, Origin, models_of
from lambdapress.publish._models_lock import lock_with
from lambdapress.publish._simple import project_files, published_versions
from lambdapress.publish.models import (
    accepted_in,
    parse,
    read_pyproject,
    with_accepted,
    with_first_party,
    with_index_dependency,
    with_uv_index,
    without_accepted,
)
from lambdapress.publish.models_gate import VersionCheck, check_versions
from lambdapress.publish.pins import plan_pin, plan_unpin
from lambdapress.support.files import cache_folder, write_text

IndexResolver = Callable[[str | None], ResolvedIndex]
Locker = Callable[[Workspace, dict[Path, str], ResolvedIndex, tuple[str, ...]], str]
Checker = Callable[[ResolvedIndex, str, str, str, Path], VersionCheck]


class FileChange(BaseModel):
    """One file's text before and after the plan."""

    model_config = ConfigDict(frozen=True)

    path: Path
    before: str
    after: str

    @property
    def changed(self) -> bool:
        """Whether applying the change alters the file."""
        return self.before != self.after


class ModelsPlan(BaseModel):
    """What `models add`/`upgrade` will do to one service's model library."""

    model_config = ConfigDict(frozen=True)

    action: str
    service: str
    package: str
    origin: Origin
    index: str | None
    index_url: str | None
    requirement: str
    version_before: str | None
    version_after: str | None
    accepted_before: str | None
    accepted_after: str | None
    check: VersionCheck | None
    changes: tuple[FileChange, ...]

    @property
    def changed(self) -> tuple[FileChange, ...]:
        """The changes that alter a file."""
        return tuple(change for change in self.changes if change.changed)

    @property
    def awaits_acceptance(self) -> bool:
        """The version that will ship is not accepted: `lambdapress package` will refuse."""
        return self.origin != "workspace" and self.accepted_after != self.version_after


class LibraryRequest(BaseModel):
    """What `models add` (or `upgrade`) is asked: one service, one library, which version."""

    model_config = ConfigDict(frozen=True)

    service: str
    package: str
    specifier: str = ""
    """`==1.2`, `>=1.2,<2`; empty: a workspace package back on its source."""
    index: str | None = None
    """The index's name in `[tool.lambdapress.indexes]`; None: the default one."""
    accept: bool = False
    """Record the new version as accepted even when it breaks the models (`--accept`)."""
    action: Literal["add", "upgrade"] = "add"


class Deps(BaseModel):
    """The outside world a plan talks to; tests replace it to plan without a network."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    resolve: IndexResolver
    versions: Callable[[ResolvedIndex, str], tuple[Version, ...]]
    lock: Locker
    check: Checker


def real_deps(workspace: Workspace) -> Deps:
    """The index, uv and the schema comparison, for real."""
    from lambdapress.indexes.credentials import resolve_configured

    def resolve(name: str | None) -> ResolvedIndex:
        return resolve_configured(workspace.root, name)

    def versions(index: ResolvedIndex, package: str) -> tuple[Version, ...]:
        return published_versions(project_files(index, package))

    return Deps(resolve=resolve, versions=versions, lock=lock_with, check=_check)


def _check(index: ResolvedIndex, package: str, old: str, new: str, cache: Path) -> VersionCheck:
    return check_versions(index, package, old, new, cache)


def parse_requirement(text: str) -> tuple[str, str]:
    """`billing-models==1.2` -> ("billing-models", "==1.2"); a bare name has no specifier."""
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        raise ModelsError(
            f"{text!r} is not PACKAGE or PACKAGE==VERSION",
            hint="write it like billing-models==1.2 (or billing-models>=1.2,<2)",
        ) from None
    if requirement.url or requirement.extras or requirement.marker:
        raise ModelsError(
            f"{text!r}: only a name and a version specifier are supported",
            hint="write it like billing-models==1.2",
        )
    return requirement.name, str(requirement.specifier)


def plan_add(workspace: Workspace, request: LibraryRequest, deps: Deps) -> ModelsPlan:
    """The plan that makes `request.service` build on `request.package` as asked."""
    service = _service(workspace, request.service)
    wanted = canonicalize_name(request.package)
    if any(canonicalize_name(p.name) == wanted for p in workspace.packages):
        return _plan_workspace(workspace, service, request, deps)
    return _plan_index(workspace, service, request, deps)


def plan_upgrade(
    workspace: Workspace,
    service_name: str,
    package: str,
    deps: Deps,
    *,
    to: str | None = None,
    accept: bool = False,
) -> ModelsPlan:
    """Move the service to the newest published version (or `to`) of a published library."""
    service = _service(workspace, service_name)
    library = _library(workspace, service, package)
    if library.origin == "workspace":
        raise ModelsError(
            f"{service.name} builds {library.package} from packages/: there is no published "
            "version to upgrade",
            path=service.path / PYPROJECT,
            hint=f"to ship a published version: lambdapress models add {service.name} "
            f"{library.package}==VERSION --index NAME",
        )
    index = deps.resolve(library.index)
    published = _published(deps, index, library.package, service)
    if to is not None:
        target = _exact(to)
    else:
        final = [v for v in published if not v.is_prerelease] or list(published)
        target = max(final)
    request = LibraryRequest(
        service=service.name,
        package=library.package,
        specifier=f"=={target}",
        index=library.index,
        accept=accept,
        action="upgrade",
    )
    return plan_add(workspace, request, deps)


def apply_plan(plan: ModelsPlan) -> tuple[Path, ...]:
    """Write every changed file; refuse (writing nothing) if one changed since planning."""
    for change in plan.changed:
        current = change.path.read_text(encoding="utf-8") if change.path.exists() else ""
        if current != change.before:
            raise ModelsError(
                "the file changed since the plan was made",
                path=change.path,
                hint="run the command again",
            )
    written = []
    for change in plan.changed:
        write_text(change.path, change.after)
        written.append(change.path)
    return tuple(written)


# ------------------------------------------------------------------ published packages


def require_published(
    workspace: Workspace, package: str, specifier: str, index_name: str | None, deps: Deps
) -> ResolvedIndex:
    """The index, once it has shown a version of `package` matching `specifier`.

    Every way this can fail (no such index, index down, credentials refused, nothing
    published that matches) is an error naming the index and the fix.
    """
    index = deps.resolve(index_name)
    pyproject = workspace.root / PYPROJECT
    published = deps.versions(index, package)
    if not published:
        raise ModelsError(
            f"there is no package {package!r} on index {index.name!r} ({index.index_url}), and "
            "none in this workspace's packages/",
            path=pyproject,
            hint=f"check the name, publish it first from the project that owns it "
            f"(lambdapress publish {package} --index {index.name}), or name the index it is "
            "on with --index NAME",
        )
    wanted = _specifier(specifier)
    if not any(wanted.contains(v, prereleases=True) for v in published):
        have = ", ".join(str(v) for v in published)
        raise ModelsError(
            f"{package}{specifier} is not on index {index.name!r} ({index.index_url}; "
            f"published: {have})",
            path=pyproject,
            hint=f"pick a published version (e.g. {package}=={published[-1]}), or publish it "
            f"first from the project that owns it (lambdapress publish {package} --index "
            f"{index.name})",
        )
    return index


def _plan_index(
    workspace: Workspace, service: Service, request: LibraryRequest, deps: Deps
) -> ModelsPlan:
    package, specifier = request.package, request.specifier
    pyproject = service.path / PYPROJECT
    root_pyproject = workspace.root / PYPROJECT
    index = require_published(workspace, package, specifier, request.index, deps)
    service_before = read_pyproject(pyproject)
    root_before = read_pyproject(root_pyproject)
    lock_path = workspace.root / LOCK_FILE
    lock_before = lock_path.read_text(encoding="utf-8") if lock_path.is_file() else ""
    previous = _library_or_none(workspace, service, package)
    service_text = with_index_dependency(service_before, package, specifier, index.name, pyproject)
    root_text = with_uv_index(root_before, index.name, index.index_url, root_pyproject)
    root_text = with_first_party(root_text, import_name(package), root_pyproject)
    lock_text = deps.lock(
        workspace, {pyproject: service_text, root_pyproject: root_text}, index, (package,)
    )
    locked = _locked(lock_text, package, lock_path)
    accepted_before = accepted_in(service_before, package, pyproject)
    check, accepted_after = _decide(
        deps, index, package, accepted_before, locked, request.accept, workspace
    )
    service_text = with_accepted(service_text, package, accepted_after, pyproject)
    return ModelsPlan(
        action=request.action,
        service=service.name,
        package=package,
        origin="index",
        index=index.name,
        index_url=index.index_url,
        requirement=f"{package}{specifier}",
        version_before=previous.version if previous is not None else None,
        version_after=locked,
        accepted_before=accepted_before,
        accepted_after=accepted_after,
        check=check,
        changes=(
            FileChange(path=pyproject, before=service_before, after=service_text),
            FileChange(path=root_pyproject, before=root_before, after=root_text),
            FileChange(path=lock_path, before=lock_before, after=lock_text),
        ),
    )


def _decide(
    deps: Deps,
    index: ResolvedIndex,
    package: str,
    accepted: str | None,
    version: str,
    accept: bool,
    workspace: Workspace,
) -> tuple[VersionCheck | None, str | None]:
    """(the comparison, the version to record as accepted).

    The first version a service takes is accepted (its code is written against it); a move
    is recorded when it breaks nothing, or when asked (`--accept`); otherwise the old version
    stays recorded and `lambdapress package` refuses until the service accepts the new one.
    """
    if accepted is None or accepted == version:
        return None, version
    check = deps.check(index, package, accepted, version, cache_folder(workspace.root))
    if not check.breaking or accept:
        return check, version
    return check, accepted


def _published(
    deps: Deps, index: ResolvedIndex, package: str, service: Service
) -> tuple[Version, ...]:
    published = deps.versions(index, package)
    if not published:
        raise ModelsError(
            f"there is no package {package!r} on index {index.name!r} ({index.index_url}), and "
            "none in this workspace's packages/",
            path=service.path / PYPROJECT,
            hint=f"check the name, publish it first from the project that owns it "
            f"(lambdapress publish {package} --index {index.name}), or pass the index it is "
            "on with --index NAME",
        )
    return published


def _locked(lock_text: str, package: str, lock_path: Path) -> str:
    """The version of `package` in a `uv.lock` text."""
    import tomllib

    wanted = canonicalize_name(package)
    for entry in tomllib.loads(lock_text).get("package", []):
        if canonicalize_name(entry["name"]) == wanted:
            return str(entry["version"])
    raise ModelsError(
        f"uv did not lock {package}", path=lock_path, hint="run `uv lock` and read its output"
    )


# ------------------------------------------------------------------ workspace packages


def _plan_workspace(
    workspace: Workspace, service: Service, request: LibraryRequest, deps: Deps
) -> ModelsPlan:
    """A workspace package: on its source (no version), or pinned to a published version."""
    package, specifier = request.package, request.specifier
    pyproject = service.path / PYPROJECT
    previous = _library_or_none(workspace, service, package)
    accepted_before = accepted_in(read_pyproject(pyproject), package, pyproject)
    if not specifier:
        edit = plan_unpin(workspace, service.name, package)
        return ModelsPlan(
            action="add",
            service=service.name,
            package=edit.package,
            origin="workspace",
            index=None,
            index_url=None,
            requirement=edit.package,
            version_before=previous.version if previous is not None else None,
            version_after=_member_version(workspace, package),
            accepted_before=accepted_before,
            accepted_after=None,
            check=None,
            changes=(
                FileChange(
                    path=pyproject,
                    before=edit.before,
                    after=without_accepted(edit.after, edit.package, pyproject),
                ),
            ),
        )
    if not specifier.startswith("==") or "," in specifier:
        raise ModelsError(
            f"{package} is a package of this workspace: only an exact published version can "
            f"be shipped instead of its source ({specifier!r} given)",
            path=pyproject,
            hint=f"write {package}==VERSION, or drop the version to build from packages/",
        )
    version = _exact(specifier.removeprefix("=="))
    index = deps.resolve(request.index)
    published = deps.versions(index, package)
    edit = plan_pin(
        workspace, service.name, package, str(version), index.name, index.index_url, published
    )
    check, accepted_after = _decide(
        deps, index, edit.package, accepted_before, str(version), request.accept, workspace
    )
    after = with_accepted(edit.after, edit.package, accepted_after, pyproject)
    return ModelsPlan(
        action="add",
        service=service.name,
        package=edit.package,
        origin="pinned",
        index=index.name,
        index_url=index.index_url,
        requirement=f"{edit.package}=={version}",
        version_before=previous.version if previous is not None else None,
        version_after=str(version),
        accepted_before=accepted_before,
        accepted_after=accepted_after,
        check=check,
        changes=(FileChange(path=pyproject, before=edit.before, after=after),),
    )


# ------------------------------------------------------------------ helpers


def _service(workspace: Workspace, name: str) -> Service:
    service = workspace.service(name)
    if service is None:
        known = ", ".join(s.name for s in workspace.services) or "none"
        raise ModelsError(
            f"no service named {name!r} (services: {known})",
            path=workspace.root / "services",
            hint="name a folder of services/ (lambdapress models lists them)",
        )
    return service


def _library_or_none(workspace: Workspace, service: Service, package: str) -> ModelLibrary | None:
    pyproject = service.path / PYPROJECT
    lock = None
    if (workspace.root / LOCK_FILE).is_file():
        from lambdapress.bundle.lock import read_lock

        lock = read_lock(workspace.root)
    document = parse(read_pyproject(pyproject), pyproject)
    wanted = canonicalize_name(package)
    return next(
        (
            lib
            for lib in models_of(workspace, service, document, lock)
            if canonicalize_name(lib.package) == wanted
        ),
        None,
    )


def _library(workspace: Workspace, service: Service, package: str) -> ModelLibrary:
    library = _library_or_none(workspace, service, package)
    if library is None:
        raise ModelsError(
            f"service {service.name!r} has no model library {package!r}",
            path=service.path / PYPROJECT,
            hint=f"add it first: lambdapress models add {service.name} {package}==VERSION "
            "--index NAME",
        )
    return library


def _member_version(workspace: Workspace, package: str) -> str | None:
    wanted = canonicalize_name(package)
    return next(
        (p.version for p in workspace.packages if canonicalize_name(p.name) == wanted), None
    )


def _specifier(text: str) -> SpecifierSet:
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        raise ModelsError(
            f"{text!r} is not a version specifier", hint="write it like ==1.2 or >=1.2,<2"
        ) from None


def _exact(text: str) -> Version:
    from packaging.version import InvalidVersion

    try:
        return Version(text)
    except InvalidVersion:
        raise ModelsError(f"{text!r} is not a version", hint="write it like 1.2.0") from None
