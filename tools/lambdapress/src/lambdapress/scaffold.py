"""Creating a new service or package from the repository's own copier template.

Planning and doing are split on purpose: `plan_new` reads the workspace and decides
everything (destination, template source and version, answers) without touching the disk, so
every refusal happens before a single file is written and tests can check decisions cheaply.
`execute_new` then hands the plan to copier and guarantees all-or-nothing: a failed copy
leaves no half-rendered folder behind.

The template version matters: a new service must come from the same template commit as the
rest of the repository (recorded in the root `.copier-answers.yml`), otherwise the next
`copier update` would treat it as a different generation and produce spurious conflicts.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from lambdapress.config.names import (
    DISTRIBUTION_PATTERN,
    IDENTIFIER_PATTERN,
    MAX_PACKAGE_NAME,
    MAX_SERVICE_NAME,
    import_name,
    is_reserved,
)
from lambdapress.config.workspace import (
    PACKAGES_DIR,
    SERVICES_DIR,
    TEMPLATE_CONFIGS,
    Package,
    Service,
    Workspace,
)
from lambdapress.errors import ScaffoldError

Kind = Literal["service", "package"]
KINDS: tuple[Kind, ...] = ("service", "package")

_DATA_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# The answers lambdapress derives from NAME; overriding them with --data would contradict it.
_DERIVED = {"service": ("kind", "resource"), "package": ("kind", "package_name")}


class NewPlan(BaseModel):
    """Everything `execute_new` needs, decided up front."""

    model_config = ConfigDict(frozen=True)

    kind: Kind
    name: str
    destination: Path
    """Folder to create, relative to the workspace root (services/<name>, packages/<name>)."""
    src_path: str
    """Template source handed to copier (URL or local path)."""
    vcs_ref: str | None
    """Template version (tag or commit id); None lets copier pick the latest tag."""
    data: dict[str, str]
    """Answers passed to copier; the rest come from the template's defaults."""


def parse_data(pairs: Sequence[str]) -> dict[str, str]:
    """Turn `KEY=VALUE` strings (the CLI's --data) into a mapping."""
    data: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not _DATA_KEY.match(key):
            raise ScaffoldError(
                f"--data {pair!r} is not KEY=VALUE",
                hint="write it like --data runtime=python3.12 (KEY is a template question)",
            )
        data[key] = value
    return data


def plan_new(
    workspace: Workspace,
    kind: str,
    name: str,
    data_overrides: Mapping[str, str] | None = None,
) -> NewPlan:
    """Decide how to create service or package `name`, refusing anything that would clash."""
    overrides = dict(data_overrides or {})
    checked_kind = _check_kind(kind)
    if checked_kind == "service":
        _check_service_name(name)
        destination = Path(SERVICES_DIR) / name
    else:
        _check_package_name(name)
        destination = Path(PACKAGES_DIR) / name
    _check_overrides(checked_kind, overrides)
    if (workspace.root / destination).exists():
        raise ScaffoldError(
            f"{destination} already exists",
            path=workspace.root / destination,
            hint="pick another name, or remove the folder if it is a leftover",
        )
    _check_import_name(workspace, import_name(name))
    data = dict(overrides)
    data["kind"] = checked_kind
    if checked_kind == "service":
        data["resource"] = name
        if overrides.get("models_source") == "index":
            data["models_package"] = _published_models(workspace, overrides)
        else:
            data["models_package"] = _models_package(workspace, overrides.get("models_package"))
    else:
        data["package_name"] = name
    src_path, vcs_ref = _template_source(workspace)
    return NewPlan(
        kind=checked_kind,
        name=name,
        destination=destination,
        src_path=src_path,
        vcs_ref=vcs_ref,
        data=data,
    )


def describe_plan(plan: NewPlan) -> list[str]:
    """What `new` is about to do, one line each.

    The answers come one per line as `question: answer`, the way copier records them, so a
    specifier such as `==1.2` reads as itself (not as `models_spec===1.2`).
    """
    version = plan.vcs_ref if plan.vcs_ref is not None else "latest tag"
    return [
        f"create {plan.kind} {plan.name!r} in {plan.destination}",
        f"  template: {plan.src_path}",
        f"  version:  {version}",
        "  answers:",
        *(f"    {key}: {value}" for key, value in sorted(plan.data.items())),
    ]


def models_data(models: str, index: str | None) -> dict[str, str]:
    """The template answers for `--models PKG[==SPEC] [--index NAME]`.

    With an index the library is a published package of another project (`models_source:
    index`); without one it is a folder of packages/. The name is written in its normalised
    form (`Billing.Models` -> `billing-models`), the one its import name is made from.
    """
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        requirement = Requirement(models)
    except InvalidRequirement:
        raise ScaffoldError(
            f"--models {models!r} is not PACKAGE or PACKAGE==VERSION",
            hint="write it like --models billing-models or --models billing-models==1.2 "
            "--index company",
        ) from None
    if index is None:
        if str(requirement.specifier):
            raise ScaffoldError(
                f"--models {models}: a version needs the index it is published to",
                hint=f"add --index NAME (an index of the root pyproject), or pass only "
                f"--models {requirement.name} for a package of packages/",
            )
        return {"models_package": canonicalize_name(requirement.name)}
    return {
        "models_package": canonicalize_name(requirement.name),
        "models_source": "index",
        "models_spec": str(requirement.specifier),
        "models_index": index,
    }


def execute_new(plan: NewPlan, root: Path) -> Path:
    """Render the plan with copier into `root / plan.destination`; return that folder.

    Nothing half-written survives a failure: a folder this call created is removed again,
    whatever went wrong (a validator, a missing template commit, Ctrl-C). A service on a
    published model library is then added exactly as `lambdapress models add` does (uv
    source, explicit uv index, lock); the index is asked first, so a wrong index name, an
    index that is down, refused credentials or a missing version fail before anything exists.
    """
    if plan.data.get("models_source") != "index":
        return _render(plan, root)
    from lambdapress.config.workspace import load_workspace
    from lambdapress.publish.models_plan import (
        LibraryRequest,
        apply_plan,
        plan_add,
        real_deps,
        require_published,
    )

    package, spec, index = (
        plan.data["models_package"],
        plan.data.get("models_spec", ""),
        plan.data["models_index"],
    )
    before = load_workspace(root)
    require_published(before, package, spec, index, real_deps(before))
    created = _first_missing(root, root / plan.destination)
    destination = _render(plan, root)
    try:
        workspace = load_workspace(root)
        request = LibraryRequest(service=plan.name, package=package, specifier=spec, index=index)
        apply_plan(plan_add(workspace, request, real_deps(workspace)))
    except BaseException:
        if created is not None and created.exists():
            shutil.rmtree(created, ignore_errors=True)
        raise
    return destination


def _render(plan: NewPlan, root: Path) -> Path:
    destination = root / plan.destination
    created = _first_missing(root, destination)
    if created is None and any(destination.iterdir()):
        raise ScaffoldError(
            f"{plan.destination} already exists and is not empty",
            path=destination,
            hint="pick another name, or remove the folder if it is a leftover",
        )
    # copier takes ~0.4 s to import: only `new` pays for it, not every lambdapress command.
    import copier
    from copier.errors import CopierError, MissingFileWarning

    try:
        with warnings.catch_warnings():
            # Templates before v0.4.0 read the destination's own answers file
            # (`_external_data`) in every new folder, where there is none; copier warns
            # about it, but that is the expected case.
            warnings.filterwarnings("ignore", category=MissingFileWarning)
            copier.run_copy(
                plan.src_path,
                destination,
                data=dict(plan.data),
                defaults=True,
                unsafe=True,
                vcs_ref=plan.vcs_ref,
                quiet=True,
            )
    except BaseException as exc:
        if created is not None and created.exists():
            shutil.rmtree(created, ignore_errors=True)
        if isinstance(exc, ValueError | CopierError | subprocess.CalledProcessError):
            raise ScaffoldError(
                f"copier could not create {plan.destination}: {_message(exc)}",
                path=destination,
                hint=_copier_hint(plan),
            ) from exc
        raise
    return destination


def _first_missing(root: Path, destination: Path) -> Path | None:
    """The outermost folder of `destination` below `root` that does not exist yet, if any.

    That is what a failed copy must remove: `services/` too, when the first service made it.
    """
    missing = None
    for parent in (destination.relative_to(root), *destination.relative_to(root).parents):
        candidate = root / parent
        if candidate == root or candidate.exists():
            break
        missing = candidate
    return missing


def template_is_dirty(root: Path) -> bool:
    """Whether the template files (copier.yml, template/) of the repository at `root` changed.

    Copier renders a git template from a commit and records that commit in the answers; an
    uncommitted edit would either be left out or, with copier's draft-commit behaviour, be
    recorded under a commit that exists nowhere, breaking every later `copier update`.
    """
    return bool(_template_changes(root))


def _template_changes(root: Path) -> list[str]:
    """`git status --porcelain` lines of the template files, e.g. " M copier.yml"."""
    paths = [name for name in (*TEMPLATE_CONFIGS, "template") if (root / name).exists()]
    output = _git(root, "status", "--porcelain", "--", *paths)
    return [line for line in output.splitlines() if line.strip()]


def head_commit(root: Path) -> str:
    """The full id of the commit checked out in the repository at `root`.

    A new member is rendered from this id rather than from the name "HEAD": for a local
    template copier treats "HEAD" as "the working tree", and if anything in the repository is
    uncommitted it renders a throwaway draft commit and records *that* in the answers.
    """
    return _git(root, "rev-parse", "--verify", "HEAD^{commit}").strip()


def _git(root: Path, *args: str) -> str:
    """Run git in `root`; any failure is the user's repository state, so a ScaffoldError."""
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        raise ScaffoldError(
            f"cannot run git to read the template repository: {exc}",
            path=root,
            hint="install git: copier needs it to render a template repository",
        ) from None
    if result.returncode != 0:
        raise ScaffoldError(
            f"`git {args[0]}` failed in the template repository: {result.stderr.strip()}",
            path=root,
            hint="commit the template first (`git init`, `git add -A`, `git commit`): copier "
            "renders a template from a commit",
        )
    return result.stdout


def _check_kind(kind: str) -> Kind:
    for known in KINDS:
        if kind == known:
            return known
    raise ScaffoldError(f"unknown kind {kind!r}", hint="use `service` or `package`")


def _check_service_name(name: str) -> None:
    if not IDENTIFIER_PATTERN.match(name):
        raise ScaffoldError(
            f"{name!r} is not a valid service name",
            hint="use a lowercase Python identifier: letters, digits and underscores, starting "
            "with a letter (e.g. orders, line_items)",
        )
    if len(name) > MAX_SERVICE_NAME:
        raise ScaffoldError(
            f"{name!r} is longer than {MAX_SERVICE_NAME} characters (it names the package, the "
            "handlers and lines of their code)",
            hint="pick a shorter name",
        )
    if is_reserved(name):
        raise ScaffoldError(
            f"{name!r} is a Python keyword or the name of a standard library or runtime module, "
            "and would shadow it inside the Lambda",
            hint=f"pick another name (e.g. {name}_api)",
        )


def _check_package_name(name: str) -> None:
    if not DISTRIBUTION_PATTERN.match(name):
        raise ScaffoldError(
            f"{name!r} is not a valid package name",
            hint="use lowercase letters, digits and single dashes, starting with a letter "
            "(e.g. billing-models)",
        )
    if len(name) > MAX_PACKAGE_NAME:
        raise ScaffoldError(
            f"{name!r} is longer than {MAX_PACKAGE_NAME} characters (it names modules, imports "
            "and lines of code the services write)",
            hint="pick a shorter name",
        )
    module = import_name(name)
    if is_reserved(module):
        raise ScaffoldError(
            f"{name!r} would be imported as {module!r}, which shadows a standard library or "
            "runtime module",
            hint=f"pick another name (e.g. {name}-models)",
        )


def _check_overrides(kind: Kind, overrides: Mapping[str, str]) -> None:
    for key in _DERIVED[kind]:
        if key in overrides:
            raise ScaffoldError(
                f"--data {key}=... cannot be given: lambdapress sets it from the command",
                hint=f"drop --data {key}; the kind and NAME arguments decide it",
            )
    if kind == "package" and "models_package" in overrides:
        raise ScaffoldError(
            "--models only applies to services",
            hint="drop --models when creating a package",
        )
    for key in overrides:
        if key.startswith("_"):
            raise ScaffoldError(
                f"--data {key}=... sets a private copier key",
                hint="pass only template questions with --data",
            )


def _check_import_name(workspace: Workspace, module: str) -> None:
    members: list[Service | Package] = [*workspace.services, *workspace.packages]
    for member in members:
        if member.import_name == module:
            raise ScaffoldError(
                f"the import name {module!r} is already used by {workspace.relative(member.path)}",
                path=member.path,
                hint="pick another name: two top-level modules of one name would overwrite "
                "each other",
            )


def _models_package(workspace: Workspace, override: str | None) -> str:
    """The model library a new service builds on: the one asked for, or the only one there."""
    names = [package.name for package in workspace.packages]
    listed = ", ".join(names) if names else "none"
    if override is not None:
        if workspace.package(override) is None:
            raise ScaffoldError(
                f"there is no package {override!r} in the workspace (packages: {listed})",
                path=workspace.root / PACKAGES_DIR,
                hint="pass --models with one of the packages, create it first with "
                f"`lambdapress new package {override}`, or, if another project publishes it, "
                f"name its version and index: --models {override}==VERSION --index NAME",
            )
        return override
    if len(names) == 1:
        return names[0]
    if not names:
        raise ScaffoldError(
            "no model libraries: a service needs one in packages/ or a published one",
            path=workspace.root / PACKAGES_DIR,
            hint="create one first (`lambdapress new package acme-models`) and pass "
            "--models NAME, or build on a published one: --models PACKAGE==VERSION --index NAME",
        )
    raise ScaffoldError(
        f"several model libraries ({listed}): lambdapress cannot choose",
        path=workspace.root / PACKAGES_DIR,
        hint="pass --models NAME",
    )


def _published_models(workspace: Workspace, overrides: Mapping[str, str]) -> str:
    """A published model library: any name but a package of this workspace."""
    name = overrides.get("models_package", "")
    if not name or not overrides.get("models_index"):
        raise ScaffoldError(
            "a service on a published model library needs its name and index",
            hint="pass --models PACKAGE==VERSION --index NAME",
        )
    if workspace.package(name) is not None:
        raise ScaffoldError(
            f"{name} is a package of this workspace: a new service builds on its source",
            path=workspace.root / PACKAGES_DIR / name,
            hint=f"drop --index (--models {name}); to ship a published version later: "
            f"lambdapress models add SERVICE {name}==VERSION --index NAME",
        )
    return name


def _template_source(workspace: Workspace) -> tuple[str, str | None]:
    """Template URL and version: the root answers, else the template repository itself."""
    # The answers win: a project generated from the template may later gain a copier.yml of
    # its own, but its members must keep following the template it was generated from.
    if workspace.answers is not None:
        return _resolve_src(workspace.answers.src_path, workspace.root), workspace.answers.commit
    if workspace.template_root:
        changes = _template_changes(workspace.root)
        if changes:
            shown = ", ".join(line[3:] for line in changes[:5])
            more = f" and {len(changes) - 5} more" if len(changes) > 5 else ""
            raise ScaffoldError(
                f"the template has uncommitted changes ({shown}{more})",
                path=workspace.root,
                hint="commit the template first: copier would record a commit that does not exist",
            )
        return str(workspace.root), head_commit(workspace.root)
    raise ScaffoldError(
        "no template source: the root has neither .copier-answers.yml nor copier.yml",
        path=workspace.root,
        hint="run lambdapress in a repository generated from the lambdapress template (or in "
        "the template repository itself)",
    )


def _resolve_src(src_path: str, root: Path) -> str:
    """A relative local template path is relative to the repository, not to the cwd."""
    remote = "://" in src_path or src_path.startswith(("gh:", "gl:", "git@", "git+", "~"))
    if remote or Path(src_path).is_absolute():
        return src_path
    return str((root / src_path).resolve())


def _message(exc: BaseException) -> str:
    return str(exc).strip() or type(exc).__name__


def _copier_hint(plan: NewPlan) -> str:
    version = f" at {plan.vcs_ref}" if plan.vcs_ref else ""
    return (
        f"check the answers (--data) against the template {plan.src_path}{version}; "
        "nothing was written"
    )
