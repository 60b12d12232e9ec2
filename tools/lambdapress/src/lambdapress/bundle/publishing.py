"""The dist/ side of `lambdapress package`: zips linked in, the manifest, what is stale.

Everything here happens after every function has built and passed its checks: each zip is
checked against its cache record as it is linked (or copied) into dist/, the manifest is
written last and names only zips already in place, and zips of functions that no longer exist
are removed. Temporaries that killed runs left in dist/ are swept by the next run.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lambdapress.bundle import artifacts
from lambdapress.bundle.archive import Archive, describe_zip
from lambdapress.bundle.build import build_artifact
from lambdapress.bundle.entries import EntryStore
from lambdapress.bundle.plan import BundlePlan, FunctionPlan, Status
from lambdapress.errors import BundleError, ConfigError
from lambdapress.model.application import Application, Artifact, Contents, Function
from lambdapress.model.manifest import manifest_path, read_manifest
from lambdapress.support import files


@dataclass(frozen=True)
class FunctionResult:
    """One function of a run: its artifact, whether it was rebuilt, and its zip."""

    name: str
    artifact: str
    status: Status
    archive: Archive


def previous_manifest(root: Path) -> Application | None:
    """The manifest the last run wrote, if there is one: what dist/ is said to hold.

    One this version cannot read (an older schema, a damaged file) says nothing: every zip is
    checked again and the manifest written anew.
    """
    path = manifest_path(root)
    if not path.is_file():
        return None
    try:
        return read_manifest(path)
    except ConfigError:
        return None


# Temporaries of lambdapress versions before `files`: `.get_order.zip-k2j4x9ab`,
# `.manifest-k2j4x9ab.json` (mkstemp's names), left in dist/ by runs that were killed.
_LEGACY_TEMPORARY = re.compile(r"^\.(?:[^/]+\.zip-|manifest-)[a-z0-9_]{8}(?:\.json)?$")


def sweep_dist(dist: Path, older_than: float) -> None:
    """Remove the temporaries killed runs left in dist/ (see `files.claim`)."""
    for folder in (dist, *(p for p in dist.iterdir() if p.is_dir())):
        if folder.name.startswith(files.TEMPORARY_PREFIX):
            continue
        files.sweep_temporaries(folder, older_than)
        if older_than == 0:  # no other run is writing here
            for legacy in folder.iterdir():
                if _LEGACY_TEMPORARY.match(legacy.name) and legacy.is_file():
                    legacy.unlink(missing_ok=True)


def publish(
    plan: BundlePlan,
    function: FunctionPlan,
    result: FunctionResult,
    warnings: list[str],
    store: EntryStore,
) -> FunctionResult:
    """Link (or copy) the cached zip into dist/, checked against its record first."""
    destination = plan.root / function.artifact
    if artifacts.publish_verified(plan.cache, function.inputs_hash, destination, result.archive):
        return result
    warnings.append(
        f"the cached artifact of {function.name} changed before it was copied into dist/: "
        "thrown away and rebuilt"
    )
    artifacts.discard(plan.cache, function.inputs_hash)
    archive = build_artifact(function, plan.cache, store)
    if not artifacts.publish_verified(plan.cache, function.inputs_hash, destination, archive):
        raise BundleError(
            f"the cached artifact of {function.name} changed again right after it was rebuilt",
            path=artifacts.zip_path(plan.cache, function.inputs_hash),
            hint="something else is writing into the cache folder; stop it, or point "
            "LAMBDAPRESS_CACHE at a folder of its own",
        )
    return FunctionResult(function.name, function.artifact, "build", archive)


def unchanged_archive(
    plan: BundlePlan, function: FunctionPlan, previous: Application | None
) -> Archive | None:
    """The facts of a zip left as it is; None if it cannot be read.

    From its cache record when that describes the same bytes (no need to read the zip again),
    else from the zip.
    """
    record = artifacts.read_record(plan.cache, function.inputs_hash)
    entry = (
        next((f for f in previous.functions if f.name == function.name), None)
        if (previous is not None)
        else None
    )
    if record is not None and entry is not None and entry.artifact.sha256 == record.sha256:
        return record.archive()
    try:
        return describe_zip(plan.root / function.artifact)
    except (OSError, zipfile.BadZipFile):  # changed since it was checked: build it again
        return None


def manifest_of(plan: BundlePlan, results: list[FunctionResult]) -> Application:
    """The application model of this run.

    A partial run keeps the other functions (and the other services' resources) of the
    previous manifest.
    """
    functions = {
        function.name: Function(
            name=function.name,
            service=function.service,
            handler=function.handler,
            runtime=function.runtime,
            architecture=function.architecture,
            memory=function.memory,
            timeout=function.timeout,
            ephemeral_storage=function.ephemeral_storage,
            environment=function.environment,
            artifact=Artifact(
                path=function.artifact,
                sha256=result.archive.sha256,
                code_sha256=result.archive.code_sha256,
                size=result.archive.size,
                inputs_hash=function.inputs_hash,
            ),
            contents=Contents(
                distributions=function.distributions,
                modules=function.modules,
                data_files=function.data_files,
                layer_libraries=function.layer_libraries,
            ),
            triggers=function.triggers,
            uses=function.uses,
            permissions=function.permissions,
            capacity=function.capacity,
        )
        for function, result in zip(plan.functions, results, strict=True)
    }
    resources = {resource.id: resource for resource in plan.resources}
    if not plan.complete:
        previous = previous_manifest(plan.root)
        built = {f.service for f in plan.functions}
        for entry in previous.functions if previous else ():
            if entry.name not in functions and (plan.root / entry.artifact.path).is_file():
                functions[entry.name] = entry
        for resource in previous.resources if previous else ():
            if resource.service not in built and resource.id not in resources:
                resources[resource.id] = resource
    return Application(
        functions=tuple(functions[name] for name in sorted(functions)),
        resources=tuple(resources[key] for key in sorted(resources)),
    )


def remove_stale(root: Path, manifest: Application) -> None:
    """Zips of functions that no longer exist would be deployed by mistake: remove them."""
    keep = {root / f.artifact.path for f in manifest.functions}
    for stale in (root / "dist").glob("*/*.zip"):
        if stale not in keep:
            stale.unlink()
