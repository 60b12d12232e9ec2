"""`lambdapress package`: a pipeline of small steps, planned first, then executed.

plan:    workspace -> functions (their triggers and uses, checked by each trigger kind against
         every service's resources) -> per service:
         lock closure (with the extras it turns on), wheels for its target -> per function:
         import closure, distributions, implementation pins in its environment
         (`bundle.implementations`), permissions (what it uses and what its triggers imply),
         inputs hash, status -> the native libraries the selected functions need
         (`bundle.native`)
execute: compile never-compiled first-party bytecode (one interpreter run per target)
         -> build what changed into the artifact cache (in parallel, from the entry store:
         each file compressed once) -> check Lambda's size limits
         -> link (or copy) into dist/ -> write dist/manifest.json (`bundle.publishing`)

Every check that can fail on bad input runs before anything in dist/ is touched. Planning
reads and parses only files whose stat changed since a run last saw them (`bundle.facts`).

Every cache object is checked against the digest recorded when it was written before it is
used: a cached zip when it is chosen (and again as it is copied into dist/), a wheel folder when
it goes into a zip being built. What fails is reported in the plan's warnings, thrown away and
rebuilt. dist/ changes zip by zip, each in one rename, and the manifest is written last, naming
only zips already in place; a run killed in between leaves zips the manifest does not describe,
which the next run (comparing each zip with the manifest) replaces. Temporaries of killed runs
are swept from the cache and dist/ by the next run (`files.claim`).
"""

from __future__ import annotations

import stat
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from packaging.utils import canonicalize_name

from lambdapress.bundle import _analysis, _artifacts, _native, _shared_cache, wheels
from lambdapress.bundle import _entries as entries
from lambdapress.bundle._aws_names import check_function_environment
from lambdapress.bundle._build import build_artifact
from lambdapress.bundle._checked import checked_declarations
from lambdapress.bundle._compiled import precompile
from lambdapress.bundle._entries import EntryStore
from lambdapress.bundle._entry import ENTRY_MODULE, check_dispatchable
from lambdapress.bundle._facts import FileFacts
from lambdapress.bundle._implementations import pin_implementations
from lambdapress.bundle._parallel import DEFAULT_JOBS, in_parallel
from lambdapress.bundle._publishing import (
    FunctionResult,
    Shipped,
    manifest_of,
    publish,
    remember_published,
    remove_stale,
    shipped_artifacts,
    sweep_dist,
    unchanged_archive,
    write_manifest_once,
)
from lambdapress.bundle._remote_config import load_remote_cache
from lambdapress.bundle._trim_facts import Trimmer
from lambdapress.bundle._wiring import check_function_settings, function_wiring
from lambdapress.bundle.bytecode import find_compiler, remember_compilers
from lambdapress.bundle.discovery import (
    SERVICE_FUNCTION,
    HandlerModule,
)
from lambdapress.bundle.lock import LockedPackage, read_lock
from lambdapress.bundle.models_gate import check_gate
from lambdapress.bundle.plan import BundlePlan, FunctionPlan, SourceFile, Status
from lambdapress.config.lambda_platform import Architecture
from lambdapress.config.pyproject import PYPROJECT
from lambdapress.config.workspace import Service, Workspace, load_workspace
from lambdapress.errors import BundleError
from lambdapress.model.application import Application, find_function
from lambdapress.model.resources import Resource
from lambdapress.model.trigger_kinds import Used, trigger_permissions
from lambdapress.model.triggers import Trigger
from lambdapress.support import files
from lambdapress.support.files import cache_folder
from lambdapress.version import __version__

FUNCTION_NAMES = "functions are named <service>.<handler module>, e.g. orders.get_order"


@dataclass(frozen=True)
class Progress:
    """One step of the run, for a progress display: `kind` of `name`, `done` of `total`."""

    kind: Literal["install", "build", "cached", "remote", "unchanged"]
    name: str
    done: int
    total: int


ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True)
class PackageOptions:
    """What a `package` run is asked for besides the repository: which functions, and how."""

    services: tuple[str, ...] = ()
    """Only these services (all of them when empty)."""
    function: str | None = None
    """Only this function (`orders.get_order`)."""
    jobs: int = DEFAULT_JOBS
    progress: ProgressCallback | None = None
    cache: Path | None = None
    """Installed wheels and built zips; default: `cache_folder(root)`."""
    architecture: Architecture | None = None
    """Overrides every service's (a local build for this machine: `bundle.local`)."""
    remote_cache: bool = True
    """Fetch zips the cache lacks from the shared cache, when one is configured."""


@dataclass(frozen=True)
class PackageResult:
    """What `package` did: the manifest written, each function's result, the warnings."""

    manifest: Application
    functions: tuple[FunctionResult, ...]
    warnings: tuple[str, ...]


def plan_package(root: Path, options: PackageOptions = PackageOptions()) -> BundlePlan:
    """Work out every selected function's contents and whether it must be rebuilt.

    A wheel folder that a build is about to zip is checked against its record first; a
    damaged one is reported, thrown away and installed again, and the plan made again (its
    modules decide what ships). With `options.remote_cache` (and a shared cache configured),
    zips the cache lacks are fetched from the shared one first (see `shared_cache`).
    """
    workspace = load_workspace(root)
    remote = load_remote_cache(workspace.root) if options.remote_cache else None
    cache = options.cache if options.cache is not None else cache_folder(workspace.root)
    carried: list[str] = []
    with cache_in_use(cache):
        facts = FileFacts.load(cache)
        carried += facts.warnings
        save_compilers = remember_compilers(facts.folder)
        for _attempt in range(2):
            plan = _plan(workspace, options, cache, facts)
            facts.save()
            save_compilers()
            plan = _shared_cache.fetch_for_plan(plan, remote)
            warnings = tuple(dict.fromkeys((*carried, *plan.warnings)))  # once each
            plan = plan.model_copy(update={"warnings": warnings})
            damaged = _damaged_wheels(plan)
            if not damaged:
                return plan
            carried = list(plan.warnings)
            for folder, problem in damaged:
                carried.append(
                    f"the cached wheel folder {folder} does not match its record ({problem}): "
                    "thrown away and installed again"
                )
                wheels.discard(folder)
    raise BundleError(
        "the wheel cache was damaged again right after it was reinstalled",
        path=cache,
        hint="something else is writing into the cache folder; stop it, or point "
        "LAMBDAPRESS_CACHE at a folder of its own",
    )


def _plan(
    workspace: Workspace, options: PackageOptions, cache: Path, facts: FileFacts
) -> BundlePlan:
    services, function, progress = options.services, options.function, options.progress
    architecture = options.architecture
    lock = read_lock(workspace.root, facts)
    if function is not None and not services:
        # `orders.get_order` lives in `orders`: analysing (and installing wheels for) the other
        # services would only slow down `--function` and the emulator's local builds.
        owner = function.split(".", 1)[0]
        services = tuple(s.name for s in workspace.services if s.name == owner)
    selected = _select(workspace.services, services)
    # A published model library never ships in a version its service has not accepted.
    check_gate(workspace, tuple(s.name for s in selected))
    checked = checked_declarations(workspace, facts)
    all_functions = checked.functions
    in_dist = shipped_artifacts(workspace.root, facts)
    fingerprint = _analysis.tool_fingerprint(__version__)
    run = _analysis.AnalysisRun(workspace, lock, cache, options.jobs, architecture, facts)
    installs = 0

    def announcer(service: Service) -> Callable[[LockedPackage], None]:
        # The same wheel is installed once per target: say which.
        where = f"{service.settings.runtime}, {architecture or service.settings.architecture}"

        def on_install(package: LockedPackage) -> None:
            nonlocal installs
            installs += 1
            if progress is not None:
                name = f"{package.name} {package.version} ({where})"
                progress(Progress("install", name, installs, 0))

        return on_install

    plans: list[FunctionPlan] = []
    resources: list[Resource] = []
    warnings: list[str] = []
    checker = _native.NativeCheck(workspace.root, facts)
    trimmer = Trimmer(facts)
    findings: dict[str, list[_native.Finding]] = {}
    # What any function may use, by id: another service's topic counts towards its 4 KB too.
    usable = {r.id: r for owned in checked.resources.values() for r in owned}
    for service in selected:
        functions = tuple(f for f in all_functions if f.service == service.name)
        units = _units(service, functions)
        check_function_settings(service, [unit.name for unit in units])
        owned = checked.resources[service.name]
        resources += owned
        context = _analysis.service_context(run, service, announcer(service))
        warnings.extend(context.warnings)
        warnings += _reinstalled(context)
        compile_bytecode = find_compiler(context.target.python) is not None
        if not compile_bytecode:
            warnings.append(
                f"no Python {context.target.python} interpreter here: {service.name} ships "
                f"sources only (each cold start compiles them); install python"
                f"{context.target.python} to ship bytecode"
            )
        for unit in units:
            wiring = function_wiring(service, unit.name, owned, unit.used, unit.triggers)
            contents = _analysis.function_contents(context, lock, unit.entries, unit.extra)
            left_out = trimmer.omissions(context, contents)
            digest = _analysis.inputs_hash(
                unit.handler, context, contents, compile_bytecode, fingerprint
            )
            digest = left_out.keyed(digest)  # what the rules of `bundle.trim` leave out
            artifact = f"dist/{service.name}/{unit.name.split('.', 1)[1]}.zip"
            pyproject = service.path / PYPROJECT
            shipped = {canonicalize_name(d.name) for d in contents.distributions}
            environment, pinned = pin_implementations(
                shipped, service.settings.environment, function=unit.name, pyproject=pyproject
            )
            used = [usable[u] for u in wiring.uses if u in usable]
            check_function_environment(service, workspace.root, unit.name, environment, used)
            findings[unit.name] = checker.check(
                unit.name,
                service.settings.runtime,
                contents,
                pyproject=pyproject,
                layer_libraries=service.settings.layer_libraries,
                pinned=pinned,
                left_out=left_out,
            )
            plans.append(
                FunctionPlan(
                    name=unit.name,
                    service=service.name,
                    handler=unit.handler,
                    triggers=unit.triggers,
                    uses=wiring.uses,
                    permissions=(
                        *wiring.permissions,
                        *trigger_permissions(unit.name, unit.triggers),
                    ),
                    capacity=wiring.capacity,
                    runtime=service.settings.runtime,
                    architecture=context.target.architecture,
                    memory=service.settings.memory,
                    timeout=service.settings.timeout,
                    ephemeral_storage=service.settings.ephemeral_storage,
                    environment=environment,
                    layer_libraries=tuple(service.settings.layer_libraries),
                    target=context.target,
                    compile=compile_bytecode,
                    first_party=contents.first_party,
                    modules=contents.modules,
                    data_files=contents.data_files,
                    distributions={d.name: d.version for d in contents.distributions},
                    distribution_folders=tuple(d.folder for d in contents.distributions),
                    left_out=left_out,
                    inputs_hash=digest,
                    artifact=artifact,
                    status=_status(
                        workspace.root, cache, in_dist, artifact, digest, warnings, facts
                    ),
                )
            )
    chosen = plans
    if function is not None:
        chosen = [find_function(plans, function, BundleError, hint=FUNCTION_NAMES)]
    # Every library problem of the chosen functions at once, before anything is built.
    warnings += _native.report(f for plan in chosen for f in findings[plan.name])
    return BundlePlan(
        root=workspace.root,
        cache=cache,
        functions=tuple(sorted(chosen, key=lambda p: p.name)),
        resources=tuple(sorted(resources, key=lambda r: r.id)),
        warnings=tuple(warnings),
        complete=not services and function is None,
    )


def execute_plan(
    plan: BundlePlan, jobs: int = DEFAULT_JOBS, progress: ProgressCallback | None = None
) -> PackageResult:
    """Build what changed into the cache, then publish zips and, last, the manifest into dist/."""
    total = len(plan.functions)
    done = 0
    warnings = list(plan.warnings)
    store = EntryStore(plan.cache, on_warning=warnings.append)
    facts = FileFacts.load(plan.cache)

    finished: dict[int, FunctionResult] = {}
    reporting = threading.Lock()

    def reported(index: int, result: FunctionResult) -> None:
        # Builds finish in any order; progress is told in the plan's (sorted) order, counted
        # up one by one, so the lines read the same in every run.
        nonlocal done
        with reporting:
            finished[index] = result
            while done in finished:
                shown = finished.pop(done)
                done += 1
                if progress is not None:
                    progress(Progress(shown.status, shown.name, done, total))

    def run(indexed: tuple[int, FunctionPlan]) -> FunctionResult:
        index, function = indexed
        archive = None
        if function.status == "unchanged":
            archive = unchanged_archive(plan, function, facts)
        elif function.status in ("cached", "remote"):
            record = _artifacts.read_record(plan.cache, function.inputs_hash)
            archive = record.archive() if record is not None else None
        status: Status = function.status if archive is not None else "build"
        if archive is None:
            archive = build_artifact(function, plan.cache, store)
        result = FunctionResult(function.name, function.artifact, status, archive)
        reported(index, result)
        return result

    dist = plan.root / "dist"
    with cache_in_use(plan.cache), files.claim(dist, lambda age: sweep_dist(dist, age)):
        precompile((f for f in plan.functions if f.status == "build"), store)
        # An unchanged zip is only described (from facts remembered by its digest): done here,
        # not queued on the threads, whose hand-offs would cost more than the work.
        indexed = list(enumerate(plan.functions))
        done_here = {i: run((i, f)) for i, f in indexed if f.status == "unchanged"}
        queued = [(i, f) for i, f in indexed if i not in done_here]
        done_here.update(zip((i for i, _ in queued), in_parallel(run, queued, jobs), strict=True))
        built = [done_here[i] for i, _ in indexed]
        results = [
            result
            if result.status == "unchanged"
            else publish(plan, function, result, warnings, store)
            for function, result in zip(plan.functions, built, strict=True)
        ]
        for result in results:  # checked as they were published: the next no-op reads none
            if result.status != "unchanged":
                remember_published(facts, plan.root / result.artifact, result.archive)
        manifest = manifest_of(plan, results)
        write_manifest_once(manifest, plan.root, facts)
        facts.save()
        if plan.complete:
            remove_stale(plan.root, manifest)
        rebuilt = {r.name for r in results if r.status == "build"}
        warnings += _shared_cache.upload_for_plan(plan, rebuilt)
    return PackageResult(manifest=manifest, functions=tuple(results), warnings=tuple(warnings))


def package(
    root: Path,
    services: tuple[str, ...] = (),
    function: str | None = None,
    jobs: int = DEFAULT_JOBS,
    progress: ProgressCallback | None = None,
    cache: Path | None = None,
    remote_cache: bool = True,
) -> PackageResult:
    """Plan, then execute: the whole of `lambdapress package` (the arguments: `PackageOptions`)."""
    options = PackageOptions(services, function, jobs, progress, cache, remote_cache=remote_cache)
    return execute_plan(plan_package(root, options), jobs, progress)


def rebuilder(root: Path) -> Callable[[Sequence[Path]], Application]:
    """For `lambdapress serve`: rebuild after sources change (only what changed is rebuilt)."""

    def rebuild(_changed: Sequence[Path]) -> Application:
        return package(root).manifest

    return rebuild


@dataclass(frozen=True)
class _Unit:
    name: str
    handler: str
    triggers: tuple[Trigger, ...]
    entries: tuple[str, ...]
    extra: tuple[SourceFile, ...]
    used: tuple[Used, ...] = ()


def _units(service: Service, functions: tuple[HandlerModule, ...]) -> list[_Unit]:
    """One unit per handler module, or one for the whole service (`bundle = "service"`)."""
    if service.settings.bundle == "service":
        if not functions:
            return []
        check_dispatchable(service.name, functions)
        triggers = tuple(t for f in functions for t in f.triggers)
        return [
            _Unit(
                name=f"{service.name}.{SERVICE_FUNCTION}",
                handler=f"{ENTRY_MODULE}.handler",
                triggers=triggers,
                entries=tuple(f.module for f in functions),
                extra=(_analysis.service_entry(service.name, functions),),
                used=tuple(u for f in functions for u in f.used),
            )
        ]
    return [_Unit(f.name, f.handler, f.triggers, (f.module,), (), f.used) for f in functions]


def _select(services: tuple[Service, ...], names: tuple[str, ...]) -> tuple[Service, ...]:
    if not names:
        return services
    known = {s.name: s for s in services}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise BundleError(
            f"unknown service(s): {', '.join(unknown)} (known: {', '.join(known) or 'none'})",
            hint="name services by their folder in services/",
        )
    return tuple(known[n] for n in names)


def _status(
    root: Path,
    cache: Path,
    in_dist: dict[str, Shipped],
    artifact: str,
    digest: str,
    warnings: list[str],
    facts: FileFacts,
) -> Status:
    """Why a function is (not) rebuilt: unchanged, cached or build.

    unchanged: dist/ holds this zip as the manifest (`in_dist`: its artifacts by path)
    describes it; cached: the artifact cache holds a zip that matches its record (a damaged one
    is reported and thrown away); build: neither.
    """
    entry = in_dist.get(artifact)
    if entry is not None and entry.inputs_hash == digest:
        target = root / artifact
        try:
            found_in_dist = target.stat()
        except OSError:
            found_in_dist = None
        if (
            found_in_dist is not None
            and stat.S_ISREG(found_in_dist.st_mode)
            and entry.size == found_in_dist.st_size
            and entry.sha256 == facts.digest(target)
        ):
            return "unchanged"
    found = _artifacts.lookup(cache, digest)
    if found.problem is not None:
        warnings.append(f"{found.problem}: thrown away and rebuilt")
        _artifacts.discard(cache, digest)
    return "cached" if found.archive is not None else "build"


def _reinstalled(context: _analysis.ServiceContext) -> list[str]:
    return [
        f"the cached wheel folder {d.folder} was damaged ({d.repaired}): installed again"
        for d in context.installed.values()
        if d.repaired is not None
    ]


def _damaged_wheels(plan: BundlePlan) -> list[tuple[Path, str]]:
    """Wheel folders that a build is about to zip and that differ from their record.

    Only folders going into a build are hashed (each once): a run that builds nothing reads no
    wheel, and the build checks each file again as it zips it.
    """
    needed = {f for p in plan.functions if p.status == "build" for f in p.distribution_folders}
    problems = ((folder, wheels.damage(folder)) for folder in sorted(needed))
    return [(folder, problem) for folder, problem in problems if problem is not None]


@contextmanager
def cache_in_use(cache: Path) -> Iterator[None]:
    """Hold the cache while planning or building (anything that writes into it).

    What killed runs left there is swept first; a run that holds the cache alone also prunes
    the entry store (`entries.prune`).
    """

    def sweep(older_than: float) -> None:
        _artifacts.sweep(cache, older_than)
        wheels.sweep(cache, older_than)
        entries.sweep(cache, older_than)
        if older_than == 0:  # this run holds the cache alone
            entries.prune(cache)

    with files.claim(cache, sweep):
        yield
