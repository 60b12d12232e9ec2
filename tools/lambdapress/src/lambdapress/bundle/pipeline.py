"""`lambdapress package`: a pipeline of small steps, planned first, then executed.

plan:    workspace -> functions (routes) -> per service: lock closure, wheels for its target
         -> per function: import closure, distributions, inputs hash, status
execute: build what changed into the artifact cache (in parallel) -> check Lambda's size limits
         -> copy into dist/ -> write dist/manifest.json

Every check that can fail on bad input runs before anything in dist/ is touched.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lambdapress import __version__
from lambdapress.bundle import analysis
from lambdapress.bundle.archive import Archive, describe_zip
from lambdapress.bundle.build import build_artifact
from lambdapress.bundle.bytecode import find_compiler
from lambdapress.bundle.discovery import Function, check_unique_routes, discover_service
from lambdapress.bundle.entry import ENTRY_MODULE
from lambdapress.bundle.lock import LockedPackage, read_lock
from lambdapress.bundle.plan import BundlePlan, FunctionPlan, SourceFile, Status
from lambdapress.errors import BundleError
from lambdapress.manifest import (
    FunctionEntry,
    Manifest,
    Route,
    manifest_path,
    read_manifest,
    write_manifest,
)
from lambdapress.settings import Architecture
from lambdapress.workspace import Service, cache_folder, load_workspace

SERVICE_FUNCTION = "api"


@dataclass(frozen=True)
class Progress:
    """One step of the run, for a progress display: `kind` of `name`, `done` of `total`."""

    kind: Literal["install", "build", "cached", "unchanged"]
    name: str
    done: int
    total: int


ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True)
class FunctionResult:
    name: str
    artifact: str
    status: Status
    archive: Archive


@dataclass(frozen=True)
class PackageResult:
    manifest: Manifest
    functions: tuple[FunctionResult, ...]
    warnings: tuple[str, ...]


def plan_package(
    root: Path,
    services: tuple[str, ...] = (),
    function: str | None = None,
    jobs: int = 4,
    progress: ProgressCallback | None = None,
    cache: Path | None = None,
    architecture: Architecture | None = None,
) -> BundlePlan:
    """Work out every selected function's contents and whether it must be rebuilt.

    `cache` holds installed wheels and built zips (default: `cache_folder(root)`);
    `architecture` overrides every service's (see `bundle.local`).
    """
    workspace = load_workspace(root)
    lock = read_lock(workspace.root)
    if function is not None and not services:
        # `orders.get_order` lives in `orders`: analysing (and installing wheels for) the other
        # services would only slow down `--function` and the emulator's local builds.
        owner = function.split(".", 1)[0]
        services = tuple(s.name for s in workspace.services if s.name == owner)
    selected = _select(workspace.services, services)
    all_functions = tuple(f for s in workspace.services for f in discover_service(s))
    check_unique_routes(all_functions)
    previous = _previous_manifest(workspace.root)
    cache = cache if cache is not None else cache_folder(workspace.root)
    fingerprint = analysis.tool_fingerprint(__version__)
    installs = 0

    def on_install(package: LockedPackage) -> None:
        nonlocal installs
        installs += 1
        if progress is not None:
            progress(Progress("install", f"{package.name} {package.version}", installs, 0))

    plans: list[FunctionPlan] = []
    warnings: list[str] = []
    for service in selected:
        functions = tuple(f for f in all_functions if f.service == service.name)
        context = analysis.service_context(
            workspace, lock, service, cache, jobs, on_install, architecture
        )
        warnings.extend(context.warnings)
        compile_bytecode = find_compiler(context.target.python) is not None
        if not compile_bytecode:
            warnings.append(
                f"no Python {context.target.python} interpreter here: {service.name} ships "
                f"sources only (each cold start compiles them); install python"
                f"{context.target.python} to ship bytecode"
            )
        for unit in _units(service, functions):
            contents = analysis.function_contents(context, lock, unit.entries, unit.extra)
            digest = analysis.inputs_hash(
                unit.handler, context, contents, compile_bytecode, fingerprint
            )
            artifact = f"dist/{service.name}/{unit.name.split('.', 1)[1]}.zip"
            plans.append(
                FunctionPlan(
                    name=unit.name,
                    service=service.name,
                    handler=unit.handler,
                    routes=unit.routes,
                    runtime=service.settings.runtime,
                    architecture=context.target.architecture,
                    memory=service.settings.memory,
                    timeout=service.settings.timeout,
                    environment=dict(service.settings.environment),
                    target=context.target,
                    compile=compile_bytecode,
                    first_party=contents.first_party,
                    modules=contents.modules,
                    data_files=contents.data_files,
                    distributions={d.name: d.version for d in contents.distributions},
                    distribution_folders=tuple(d.folder for d in contents.distributions),
                    inputs_hash=digest,
                    artifact=artifact,
                    status=_status(workspace.root, cache, previous, artifact, digest),
                )
            )
    chosen = [p for p in plans if function is None or p.name == function]
    if function is not None and not chosen:
        known = ", ".join(p.name for p in plans) or "none"
        raise BundleError(
            f"no function named {function!r} (known: {known})",
            hint="functions are named <service>.<handler module>, e.g. orders.get_order",
        )
    return BundlePlan(
        root=workspace.root,
        cache=cache,
        functions=tuple(sorted(chosen, key=lambda p: p.name)),
        warnings=tuple(warnings),
        complete=not services and function is None,
    )


def execute_plan(
    plan: BundlePlan, jobs: int = 4, progress: ProgressCallback | None = None
) -> PackageResult:
    """Build what changed into the cache, then publish zips and manifest into dist/."""
    cache = plan.cache
    total = len(plan.functions)
    done = 0

    def run(function: FunctionPlan) -> FunctionResult:
        nonlocal done
        cached_zip = cache / "artifacts" / f"{function.inputs_hash}.zip"
        if function.status == "build":
            archive = build_artifact(function, cached_zip)
        else:
            archive = describe_zip(
                plan.root / function.artifact if function.status == "unchanged" else cached_zip
            )
        done += 1
        if progress is not None:
            progress(Progress(function.status, function.name, done, total))
        return FunctionResult(function.name, function.artifact, function.status, archive)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(run, plan.functions))
    for function, result in zip(plan.functions, results, strict=True):
        if function.status != "unchanged":
            _publish(
                cache / "artifacts" / f"{function.inputs_hash}.zip", plan.root / result.artifact
            )
    manifest = _manifest(plan, results)
    write_manifest(manifest, manifest_path(plan.root))
    if plan.complete:
        _remove_stale(plan.root, manifest)
    return PackageResult(manifest=manifest, functions=tuple(results), warnings=plan.warnings)


def package(
    root: Path,
    services: tuple[str, ...] = (),
    function: str | None = None,
    jobs: int = 4,
    progress: ProgressCallback | None = None,
    cache: Path | None = None,
) -> PackageResult:
    """Plan, then execute: the whole of `lambdapress package`."""
    plan = plan_package(root, services, function, jobs, progress, cache)
    return execute_plan(plan, jobs, progress)


def rebuilder(root: Path) -> Callable[[Sequence[Path]], Manifest]:
    """For `lambdapress serve`: rebuild after sources change (only what changed is rebuilt)."""

    def rebuild(_changed: Sequence[Path]) -> Manifest:
        return package(root).manifest

    return rebuild


@dataclass(frozen=True)
class _Unit:
    name: str
    handler: str
    routes: tuple[Route, ...]
    entries: tuple[str, ...]
    extra: tuple[SourceFile, ...]


def _units(service: Service, functions: tuple[Function, ...]) -> list[_Unit]:
    """One unit per handler module, or one for the whole service (`bundle = "service"`)."""
    if service.settings.bundle == "service":
        if not functions:
            return []
        routes = tuple(r for f in functions for r in f.routes)
        return [
            _Unit(
                name=f"{service.name}.{SERVICE_FUNCTION}",
                handler=f"{ENTRY_MODULE}.handler",
                routes=routes,
                entries=tuple(f.module for f in functions),
                extra=(analysis.service_entry(service.name, functions),),
            )
        ]
    return [_Unit(f.name, f.handler, f.routes, (f.module,), ()) for f in functions]


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


def _previous_manifest(root: Path) -> Manifest | None:
    path = manifest_path(root)
    return read_manifest(path) if path.is_file() else None


def _status(
    root: Path, cache: Path, previous: Manifest | None, artifact: str, digest: str
) -> Status:
    if previous is not None:
        entry = next((f for f in previous.functions if f.artifact == artifact), None)
        target = root / artifact
        if (
            entry is not None
            and entry.inputs_hash == digest
            and target.is_file()
            and entry.size == target.stat().st_size
            and entry.sha256 == hashlib.sha256(target.read_bytes()).hexdigest()
        ):
            return "unchanged"
    if (cache / "artifacts" / f"{digest}.zip").is_file():
        return "cached"
    return "build"


def _publish(source: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{destination.name}-", dir=destination.parent)
    os.close(fd)
    try:
        shutil.copyfile(source, temporary)
        Path(temporary).replace(destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _manifest(plan: BundlePlan, results: list[FunctionResult]) -> Manifest:
    entries = {
        function.name: FunctionEntry(
            name=function.name,
            service=function.service,
            handler=function.handler,
            routes=function.routes,
            artifact=function.artifact,
            sha256=result.archive.sha256,
            code_sha256=result.archive.code_sha256,
            size=result.archive.size,
            inputs_hash=function.inputs_hash,
            runtime=function.runtime,
            architecture=function.architecture,
            memory=function.memory,
            timeout=function.timeout,
            environment=function.environment,
            distributions=function.distributions,
            modules=function.modules,
            data_files=function.data_files,
        )
        for function, result in zip(plan.functions, results, strict=True)
    }
    if not plan.complete:
        previous = _previous_manifest(plan.root)
        for entry in previous.functions if previous else ():
            if entry.name not in entries and (plan.root / entry.artifact).is_file():
                entries[entry.name] = entry
    return Manifest(functions=tuple(entries[name] for name in sorted(entries)))


def _remove_stale(root: Path, manifest: Manifest) -> None:
    """Zips of functions that no longer exist would be deployed by mistake: remove them."""
    keep = {root / f.artifact for f in manifest.functions}
    for stale in (root / "dist").glob("*/*.zip"):
        if stale not in keep:
            stale.unlink()
