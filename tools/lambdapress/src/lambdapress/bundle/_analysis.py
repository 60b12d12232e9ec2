"""From a service's sources and the lock to each function's exact contents.

For every function: the first-party modules its handler reaches, the distributions its code
imports (mapped through the wheels installed for its target) plus what they require, and the
inputs hash that decides whether its zip must be rebuilt.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

from lambdapress.bundle import sourced
from lambdapress.bundle._entry import ENTRY_MODULE, entry_source
from lambdapress.bundle._facts import FileFacts
from lambdapress.bundle._imports import (
    ImportRef,
    ModuleIndex,
    SourceModule,
    first_party_closure,
    is_stdlib,
    package_data,
)
from lambdapress.bundle._shipping import check_credentials, unreadable
from lambdapress.bundle.discovery import HandlerModule
from lambdapress.bundle.lock import Lock, LockedPackage
from lambdapress.bundle.plan import SourceFile
from lambdapress.bundle.targets import Target
from lambdapress.bundle.wheels import (
    INDEX_NAME,
    InstalledDistribution,
    Installer,
    SourcePolicy,
    check_has_wheel,
    ensure_installed,
)
from lambdapress.config.lambda_platform import Architecture
from lambdapress.config.pyproject import PYPROJECT, find_key_line
from lambdapress.config.settings import TABLE
from lambdapress.config.workspace import Service, Workspace
from lambdapress.errors import BundleError
from lambdapress.indexes.config import load_indexes
from lambdapress.indexes.credentials import resolve_index
from lambdapress.indexes.pins import Pin, read_pins
from lambdapress.indexes.sources import uv_index_named

# The AWS SDK that the Lambda Python runtime already has on its path (/var/runtime). Their own
# requirements are provided there too; a distribution the code needs directly still ships.
# Under `aws_sdk = "runtime"` they are not installed either (their import names are their
# distribution names), so the build never fetches, nor says it installs, what it will not ship.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer"})
FORMAT_VERSION = 2  # 2: shared inputs, then the handler's, digested in parts


@dataclass(frozen=True)
class AnalysisRun:
    """What every service of one plan is analysed with: the same for each of them."""

    workspace: Workspace
    lock: Lock
    cache: Path
    """Where wheels are installed."""
    jobs: int
    """Parallel wheel installs."""
    architecture: Architecture | None = None
    """Overrides each service's, for a local build on a machine of another kind."""
    facts: FileFacts | None = None
    """Spares reading and parsing files that did not change since they were last seen."""


@dataclass(frozen=True)
class ServiceContext:
    """What every function of one service shares: its target, code index and wheels."""

    service: Service
    target: Target
    index: ModuleIndex
    folders: tuple[Path, ...]  # the service's and its packages' folders, for `allow_files`
    installed: dict[str, InstalledDistribution]  # canonical name -> folder
    import_map: dict[str, tuple[str, ...]]  # import name -> canonical distribution names
    provided: frozenset[str]
    extras: dict[str, frozenset[str]]  # canonical name -> the extras the service turns on
    foreign: dict[str, Path]  # import name -> workspace member the service does not declare
    warnings: tuple[str, ...] = ()  # said once per run, e.g. data files git does not track
    facts: FileFacts | None = None  # digests by stat, imports by digest (`bundle.facts`)
    # What the service's functions share, worked out once per run: each first-party file as
    # it ships, and the distributions that a set of imported distributions brings.
    _files: dict[Path, SourceFile] = field(default_factory=dict, init=False, repr=False)
    _needed: dict[tuple[str, ...], tuple[InstalledDistribution, ...]] = field(
        default_factory=dict, init=False, repr=False
    )
    _data: dict[frozenset[str], list[SourceFile]] = field(
        default_factory=dict, init=False, repr=False
    )
    _shared: dict[tuple[bool, str], bytes] = field(default_factory=dict, init=False, repr=False)
    _inputs: dict[Path, tuple[str, bytes]] = field(default_factory=dict, init=False, repr=False)


@dataclass(frozen=True)
class Contents:
    """What one function's zip holds: first-party files, modules, package data and wheels."""

    first_party: tuple[SourceFile, ...]
    modules: tuple[str, ...]
    data_files: tuple[str, ...]  # arcnames of the package data that ships
    distributions: tuple[InstalledDistribution, ...]


def service_context(
    run: AnalysisRun,
    service: Service,
    on_install: Callable[[LockedPackage], None] | None = None,
) -> ServiceContext:
    """Index the service's first-party code and install its locked wheels for its target."""
    workspace, lock, architecture, facts = run.workspace, run.lock, run.architecture, run.facts
    target = Target.of(service.settings)
    if architecture is not None:
        target = target.model_copy(update={"architecture": architecture})
    # Every workspace member a service may depend on ships from source, first-party: shared
    # packages, and libraries such as lambdapress-runtime (tools/), only when a handler imports it.
    members: dict[str, tuple[Path, str]] = {
        canonicalize_name(p.name): (p.path, p.import_name)
        for p in (*workspace.packages, *workspace.libraries)
    }
    members.update({canonicalize_name(s.name): (s.path, s.import_name) for s in workspace.services})
    closure = lock.closure(service.name, target)
    provided = RUNTIME_PROVIDED if service.settings.aws_sdk == "runtime" else frozenset()
    pins: dict[str, Pin] = {
        canonicalize_name(pin.package): pin for pin in read_pins(service.path / PYPROJECT)
    }
    index = ModuleIndex(facts=facts, project=workspace.root)
    folders: list[Path] = [service.path]
    third_party: list[LockedPackage] = []
    for key, package in sorted(closure.items()):
        if key in provided:  # on Lambda's path already: never shipped, so never installed
            continue
        if key in pins:  # ships the published wheel instead of the workspace source
            pin = pins[key]
            third_party.append(
                package.model_copy(
                    update={
                        "version": pin.version,
                        "source_kind": "pinned",
                        "source": pin.index_url,
                    }
                )
            )
        elif package.is_local and key in members:
            folder, import_name = members[key]
            index.add_root(_src(folder), import_name)
            folders += [folder, _src(folder)]
        elif package.source_kind in ("directory", "path", "editable"):  # outside the workspace
            third_party.append(sourced.from_path(package, workspace.root))
        elif not package.is_local:
            third_party.append(sourced.prepare(package))
    foreign = {
        import_name: folder
        for key, (folder, import_name) in members.items()
        if import_name not in index.roots
    }
    pins_by_url = {pin.index_url: pin.index for pin in pins.values()}

    def credentials(index_url: str) -> dict[str, str]:
        # A pin names its index; a published model library is locked from a named uv index.
        name = pins_by_url.get(index_url) or uv_index_named(workspace.root, index_url)
        return _index_credentials(workspace.root, name) if name is not None else {}

    pyproject = service.path / PYPROJECT
    for package in third_party:  # first, so that the error names the service that needs it
        check_has_wheel(package, target, service=service.name, pyproject=pyproject)
    installer = Installer(run.cache, jobs=run.jobs, on_install=on_install, credentials=credentials)
    installed = ensure_installed(third_party, target, installer, SourcePolicy.of(service.settings))
    import_map: dict[str, list[str]] = {name: [name] for name in provided if name in closure}
    for name, dist in installed.items():
        for import_name in dist.import_names:
            import_map.setdefault(import_name, []).append(canonicalize_name(name))
    return ServiceContext(
        service=service,
        target=target,
        index=index,
        folders=tuple(dict.fromkeys(folders)),
        installed={canonicalize_name(k): v for k, v in installed.items()},
        import_map={k: tuple(sorted(v)) for k, v in import_map.items()},
        provided=provided,
        extras=lock.extras_in(service.name, target),
        foreign=foreign,
        warnings=_untracked_warning(workspace, service, index),
        facts=facts,
    )


def _untracked_warning(
    workspace: Workspace, service: Service, index: ModuleIndex
) -> tuple[str, ...]:
    """Data files that git does not track do not ship: say so, before a deploy finds out."""
    if not index.untracked:
        return ()
    names = sorted(workspace.relative(p).as_posix() for p in index.untracked)
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return (
        f"{service.name}: not tracked by git, so not shipped: {shown}; `git add` what the code "
        "reads (or ignore it in .gitignore)",
    )


def function_contents(
    context: ServiceContext,
    lock: Lock,
    entries: tuple[str, ...],
    extra_files: tuple[SourceFile, ...],
) -> Contents:
    """The first-party files and distributions that the entry modules reach."""
    include = tuple(context.service.settings.include)
    if include:
        _check_include(context, include)
    first_party_roots = [e for e in (*entries, *include) if context.index.owns(e)]
    closure = first_party_closure(context.index, first_party_roots)
    refs = list(closure.external)  # each one leaves first-party code
    if include:
        pyproject = context.service.path / PYPROJECT
        refs += [ImportRef(n, pyproject, 0, False) for n in include if not context.index.owns(n)]
    direct = _distributions_for(context, refs)
    distributions = _shipped(context, lock, tuple(sorted(direct)))
    modules = [_source_file(context, m.path) for m in closure.modules]
    data = _data_files(context, closure.modules)
    files = [*modules, *data, *extra_files]
    return Contents(
        first_party=tuple(sorted(files, key=lambda f: f.arcname)),
        modules=tuple(m.name for m in closure.modules),
        data_files=tuple(f.arcname for f in data),
        distributions=distributions,
    )


def _data_files(context: ServiceContext, modules: tuple[SourceModule, ...]) -> list[SourceFile]:
    """The package data the reached packages ship (sorted by name), checked.

    It depends on the packages only, and every function of a service reaches mostly the same
    ones: worked out (and checked) once per set of packages and run.
    """
    packages = frozenset(m.name for m in modules if m.is_package)
    known = context._data.get(packages)
    if known is not None:
        return known
    data = [_source_file(context, p) for p in package_data(context.index, modules)]
    _check_names(data)
    check_credentials(
        [(f.path, f.arcname) for f in data if f.path is not None],
        context.service.settings.allow_files,
        context.folders,
        context.service.name,
        context.service.path / PYPROJECT,
    )
    found = context._data[packages] = sorted(data, key=lambda f: f.arcname)
    return found


def _shipped(
    context: ServiceContext, lock: Lock, direct: tuple[str, ...]
) -> tuple[InstalledDistribution, ...]:
    """The installed distributions that ship with the ones a function imports (`direct`)."""
    known = context._needed.get(direct)
    if known is not None:
        return known
    # With the extras the service turns on: psycopg ships with the psycopg-binary that
    # `psycopg[binary]` asked for, in every function that ships psycopg.
    needed = lock.requirements_of(direct, context.target, context.provided, extras=context.extras)
    found = context._needed[direct] = tuple(
        context.installed[canonicalize_name(name)]
        for name in sorted(needed, key=canonicalize_name)
        if canonicalize_name(name) in context.installed
        and canonicalize_name(name) not in context.provided
    )
    return found


def _source_file(context: ServiceContext, path: Path) -> SourceFile:
    """A first-party file as it ships (the same object for every function shipping it)."""
    known = context._files.get(path)
    if known is None:
        known = context._files[path] = SourceFile(arcname=_arcname(context.index, path), path=path)
    return known


def _check_names(files: list[SourceFile]) -> None:
    """A zip stores names in UTF-8: a file whose name is not text cannot be shipped as is."""
    for file in files:
        try:
            file.arcname.encode("utf-8")
        except UnicodeEncodeError:
            raise BundleError(
                "the file's name is not valid UTF-8, so it cannot be stored in a zip",
                path=file.path,
                hint="rename it (UTF-8 names only), or remove it from the package",
            ) from None


def _check_include(context: ServiceContext, include: tuple[str, ...]) -> None:
    """`include` names modules by hand: a first-party name that is no module is a typo."""
    pyproject = context.service.path / PYPROJECT
    for name in include:
        if not context.index.owns(name):
            continue
        line = find_key_line(pyproject, [*TABLE.split("."), "include"])
        context.index.check_not_a_test(name, pyproject, line)
        if context.index.resolve(name) is None:
            top = name.split(".")[0]
            raise BundleError(
                f"`{TABLE}.include` names {name!r}, which is not a module of "
                f"{context.index.roots[top] / top}",
                path=pyproject,
                line=line,
                hint=f"fix the module name in `include` (a dotted path such as "
                f"{top}.plugins), or create the module",
            )


def service_entry(service: str, functions: tuple[HandlerModule, ...]) -> SourceFile:
    """The generated entry module of a service-wide artifact, routing to its handlers."""
    return SourceFile(arcname=f"{ENTRY_MODULE}.py", text=entry_source(service, functions))


def inputs_hash(
    handler: str,
    context: ServiceContext,
    contents: Contents,
    compile_bytecode: bool,
    tool_fingerprint: str,
) -> str:
    """A digest of everything that can change the zip's bytes, and nothing else.

    Paths are relative, so the same inputs give the same hash in any checkout folder. What the
    service's functions share (the tool, the target, the settings) and each file's part are
    encoded once per run; a function adds its handler, its files and its distributions.
    """
    digest = hashlib.sha256(_shared_inputs(context, compile_bytecode, tool_fingerprint))
    digest.update(json.dumps(handler).encode())
    for file in contents.first_party:
        digest.update(_file_input(context, file))
    # With whether each keeps its docstrings: `docstrings = "checked"` decides it per
    # distribution from a list that a new lambdapress may change.
    shipped = [[d.name, d.version, d.docstrings] for d in contents.distributions]
    digest.update(json.dumps(shipped).encode())
    return digest.hexdigest()


def _shared_inputs(context: ServiceContext, compile_bytecode: bool, tool: str) -> bytes:
    """The inputs every function of the service shares, as canonical JSON."""
    key = (compile_bytecode, tool)
    known = context._shared.get(key)
    if known is None:
        settings = context.service.settings
        document = {
            "format": FORMAT_VERSION,
            "tool": tool,
            "target": context.target.key,
            "bytecode": compile_bytecode,
            "settings": {
                "aws_sdk": settings.aws_sdk,
                "bundle": settings.bundle,
                "include": sorted(settings.include),
                "sources": [settings.sources, sorted(settings.keep_sources), settings.docstrings],
            },
        }
        known = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
        context._shared[key] = known
    return known


def _file_input(context: ServiceContext, file: SourceFile) -> bytes:
    """One file's part of the inputs: its name in the zip and its content's digest."""
    if file.path is None or file.text is not None:  # generated: hashed as it is
        return json.dumps([file.arcname, _digest(file, context.facts)]).encode()
    known = context._inputs.get(file.path)
    if known is None or known[0] != file.arcname:
        part = json.dumps([file.arcname, _digest(file, context.facts)]).encode()
        known = context._inputs[file.path] = (file.arcname, part)
    return known[1]


def tool_fingerprint(version: str) -> str:
    """The tool's version and the bundler's own source: a changed bundler rebuilds."""
    digest = hashlib.sha256(version.encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return f"{version}+{digest.hexdigest()[:16]}"


def _distributions_for(context: ServiceContext, refs: Iterable[ImportRef]) -> set[str]:
    wanted: set[str] = set()
    for ref in refs:
        top = ref.top_level
        if is_stdlib(top) or top == ENTRY_MODULE:
            continue
        if top in context.import_map:
            wanted.update(context.import_map[top])
            continue
        if ref.optional:
            continue
        raise _unknown_import(context, ref)
    return wanted


def _unknown_import(context: ServiceContext, ref: ImportRef) -> BundleError:
    service = context.service
    pyproject = service.path / PYPROJECT
    top = ref.top_level
    if top in context.foreign:
        member = context.foreign[top]
        return BundleError(
            f"imports {ref.name!r} from the workspace member {member.name}, which service "
            f"{service.name!r} does not declare: on Lambda this import fails",
            path=ref.path,
            line=ref.line or None,
            hint=f"add it to [project] dependencies of {pyproject} (with its path source), "
            "then `uv lock`",
        )
    return BundleError(
        f"imports {ref.name!r}, which is not first-party, not in the standard library and not "
        f"provided by any dependency of service {service.name!r}: on Lambda this import fails",
        path=ref.path,
        line=ref.line or None,
        hint=f"add the distribution that provides {top!r} to [project] dependencies of "
        f"{pyproject} and run `uv lock`, or remove the import",
    )


def _index_credentials(root: Path, name: str) -> dict[str, str]:
    """uv's variables for the named index's credentials (environment, keyring or AWS)."""
    indexes = load_indexes(root)
    configured = next((i for i in indexes if i.name == name), None)
    if configured is None:
        return {}
    return resolve_index(configured).uv_variables(INDEX_NAME)


def _src(folder: Path) -> Path:
    return folder / "src" if (folder / "src").is_dir() else folder


def _arcname(index: ModuleIndex, path: Path) -> str:
    known = index.arcnames.get(path)
    if known is not None:  # every file the index found: named as it was found
        return known
    for top, src in index.roots.items():
        if path.is_relative_to(src / top) or path == src / f"{top}.py":
            return path.relative_to(src).as_posix()
    raise BundleError(f"{path} is outside every first-party source folder")


def _digest(file: SourceFile, facts: FileFacts | None) -> str:
    if file.text is not None or file.path is None:
        return hashlib.sha256((file.text or "").encode()).hexdigest()
    try:
        if facts is not None:
            return facts.digest(file.path)
        data = file.path.read_bytes()
    except OSError as exc:
        raise unreadable(file.path, exc, "file") from None
    return hashlib.sha256(data).hexdigest()
