"""The publish pipeline: select, build, check, compare, decide; then upload and tag.

`prepare_publish` does every step that reads (builds locally, asks the index, installs the
published and the local version into throwaway environments) and returns a frozen
`PublishPlan`; `execute_publish` is the only step that changes the index. A dry run is
`prepare_publish` alone. Each step is one small function over the previous step's result:

    select_packages -> build_package -> publish_order -> gather_facts -> decide
        -> execute_publish (upload_files, create_tag)
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version
from pydantic import BaseModel, ConfigDict

from lambdapress.config.pyproject import PYPROJECT
from lambdapress.config.workspace import Package, Workspace
from lambdapress.errors import PublishError, WorkspaceError
from lambdapress.indexes.config import ResolvedIndex
from lambdapress.publish._build import BuiltPackage, build_package
from lambdapress.publish._compat import assess
from lambdapress.publish._metadata import check_package, ensure_publishable, wheel_metadata
from lambdapress.publish._schemas import local_schemas, published_schemas
from lambdapress.publish._simple import project_files, published_versions
from lambdapress.publish._tags import create_tag, tag_exists, tag_name
from lambdapress.publish._upload import upload_files
from lambdapress.publish.plan import (
    PackageFacts,
    PlannedFile,
    PublishPlan,
    baseline_version,
    decide,
)
from lambdapress.support.files import cache_folder

BUILD_FOLDER = "publish"
"""Where built files go, in the repository's cache folder (`.cache/` is ignored by git)."""


StepDone = Callable[[str, int, int], None]
"""Progress for a display: (what was just done, steps done, steps in all)."""


@dataclass(frozen=True)
class PublishRun:
    """What every package of one `prepare_publish` is checked and compared with."""

    index: ResolvedIndex
    first_party: tuple[str, ...]
    """The workspace's packages: a dependency on one of them must be published too."""
    find_links: tuple[Path, ...]
    """The folders of the wheels just built, where the local version is installed from."""
    tags_in: Path | None = None
    """The repository whose tags are asked; None: no tag is made."""


class PublishedPackage(BaseModel):
    """One package that was uploaded."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    files: tuple[str, ...]
    tag: str
    tagged: bool


class PublishResult(BaseModel):
    """What `execute_publish` changed."""

    model_config = ConfigDict(frozen=True)

    index: str
    published: tuple[PublishedPackage, ...]
    up_to_date: tuple[str, ...]


def select_packages(workspace: Workspace, names: Sequence[str]) -> tuple[tuple[Package, bool], ...]:
    """(package, named explicitly) for the names given, or every package of the workspace."""
    if not names:
        if not workspace.packages:
            raise WorkspaceError(
                "the workspace has no packages to publish",
                path=workspace.root / "packages",
                hint="create one: lambdapress new package NAME",
            )
        return tuple((package, False) for package in workspace.packages)
    selected = []
    for name in dict.fromkeys(names):
        package = workspace.package(name) or next(
            (p for p in workspace.packages if canonicalize_name(p.name) == canonicalize_name(name)),
            None,
        )
        if package is None:
            known = ", ".join(p.name for p in workspace.packages) or "none"
            raise WorkspaceError(
                f"no package named {name!r} in {workspace.root / 'packages'} (packages: {known})",
                path=workspace.root / PYPROJECT,
                hint="name a folder of packages/ (services are deployed, not published)",
            )
        selected.append((package, True))
    return tuple(selected)


def publish_order(built: Mapping[str, BuiltPackage]) -> tuple[str, ...]:
    """Package names with each one's first-party dependencies before it, ties by name."""
    names = {canonicalize_name(name): name for name in built}
    needs: dict[str, set[str]] = {}
    for name, package in built.items():
        requires = wheel_metadata(package.wheel.path).requires_dist or []
        deps = {canonicalize_name(r.name) for r in requires} & names.keys()
        needs[name] = {names[d] for d in deps} - {name}
    order: list[str] = []
    while needs:
        ready = sorted(name for name, deps in needs.items() if not deps - set(order))
        if not ready:  # a cycle: uv would refuse it anyway; keep a stable order
            ready = sorted(needs)
        order.append(ready[0])
        del needs[ready[0]]
    return tuple(order)


def prepare_publish(
    workspace: Workspace,
    names: Sequence[str],
    index: ResolvedIndex,
    *,
    out_dir: Path | None = None,
    create_tags: bool = False,
    progress: StepDone | None = None,
) -> PublishPlan:
    """Build and check the packages, ask the index, run the gate: the plan, nothing uploaded.

    `progress` hears of each package built, then of each compared with the index.
    """
    selected = select_packages(workspace, names)
    out = out_dir if out_dir is not None else cache_folder(workspace.root) / BUILD_FOLDER
    steps = 2 * len(selected)
    built: dict[str, BuiltPackage] = {}
    for package, _ in selected:
        built[package.name] = build_package(package, out)
        if progress is not None:
            progress(f"built {package.name}", len(built), steps)
    by_name = {package.name: (package, explicit) for package, explicit in selected}
    run = PublishRun(
        index=index,
        first_party=tuple(p.name for p in workspace.packages),
        find_links=tuple(b.wheel.path.parent for b in built.values()),
        tags_in=workspace.root if create_tags else None,
    )
    plans = []
    with tempfile.TemporaryDirectory(prefix="lambdapress-compat-") as workdir:
        for name in publish_order(built):
            package, explicit = by_name[name]
            facts = gather_facts(
                package, built[name], run, explicit=explicit, workdir=Path(workdir) / name
            )
            plans.append(decide(facts))
            if progress is not None:
                progress(f"compared {name} with the index", len(built) + len(plans), steps)
    return PublishPlan(
        index=index.name,
        index_url=index.index_url,
        upload_url=index.upload_url,
        credentials_from=index.credentials_from,
        create_tags=create_tags,
        packages=tuple(plans),
    )


def gather_facts(
    package: Package, built: BuiltPackage, run: PublishRun, *, explicit: bool, workdir: Path
) -> PackageFacts:
    """Check the files, list the index, and run the gate when there is something to compare.

    `explicit`: the package was named on the command line; `workdir`: its own scratch folder.
    """
    index, root = run.index, run.tags_in
    pyproject = package.path / PYPROJECT
    problems = check_package(built, pyproject, run.first_party)
    published = project_files(index, package.name)
    versions = published_versions(published)
    baseline = baseline_version(versions, built.version)
    taken = Version(built.version) in versions
    compat = None
    if baseline is not None and not problems and not taken:
        old = published_schemas(index, package.name, package.import_name, baseline, workdir)
        new = local_schemas(
            built.wheel.path,
            package.name,
            package.import_name,
            workdir,
            index=index,
            find_links=run.find_links,
        )
        compat = assess(package.name, baseline, built.version, old, new)
    tag = tag_name(package.name, built.version)
    return PackageFacts(
        name=package.name,
        version=built.version,
        pyproject=pyproject,
        index=index.name,
        explicit=explicit,
        files=tuple(
            PlannedFile(filename=f.filename, kind=f.kind, sha256=f.sha256, size=f.size, path=f.path)
            for f in built.files
        ),
        problems=problems,
        published=published,
        baseline=baseline,
        compat=compat,
        tag=tag,
        tag_requested=root is not None,
        tag_exists=root is not None and tag_exists(root, tag),
    )


def execute_publish(
    plan: PublishPlan, index: ResolvedIndex, root: Path, progress: StepDone | None = None
) -> PublishResult:
    """Upload what the plan says, in order, then tag; refuses a plan with blocked packages.

    `progress` hears of each package uploaded (and tagged).
    """
    refusal = plan.refusal()
    if refusal is not None:
        raise refusal
    if index.name != plan.index:
        raise PublishError(
            f"the plan was made for index {plan.index!r}, not {index.name!r}",
            hint="prepare the plan again for this index",
        )
    published = []
    for package in plan.to_publish:
        for file in package.files:
            _verify_unchanged(file.path, file.sha256, package.pyproject)
        ensure_publishable([f.path for f in package.files], package.pyproject)
        uploaded = upload_files(index, [f.path for f in package.files], package.pyproject)
        if plan.create_tags:
            create_tag(root, package.tag)
        published.append(
            PublishedPackage(
                name=package.name,
                version=package.version,
                files=uploaded,
                tag=package.tag,
                tagged=plan.create_tags,
            )
        )
        if progress is not None:
            progress(
                f"uploaded {package.name} {package.version}", len(published), len(plan.to_publish)
            )
    up_to_date = tuple(p.name for p in plan.packages if p.status == "up-to-date")
    return PublishResult(index=plan.index, published=tuple(published), up_to_date=up_to_date)


def _verify_unchanged(path: Path, sha256: str, pyproject: Path) -> None:
    try:
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        actual = ""
    if actual != sha256:
        raise PublishError(
            f"{path} changed or disappeared since the plan was made",
            path=pyproject,
            hint="run lambdapress publish again (it rebuilds)",
        )
