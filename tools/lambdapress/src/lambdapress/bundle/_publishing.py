"""The dist/ side of `lambdapress package`: zips linked in, the manifest, what is stale.

Everything here happens after every function has built and passed its checks: each zip is
checked against its cache record as it is linked (or copied) into dist/, the manifest is
written last and names only zips already in place, and zips of functions that no longer exist
are removed. Temporaries that killed runs left in dist/ are swept by the next run.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from lambdapress.bundle import _artifacts
from lambdapress.bundle._build import build_artifact
from lambdapress.bundle._entries import EntryStore
from lambdapress.bundle._facts import FileFacts
from lambdapress.bundle.archive import Archive, describe_zip
from lambdapress.bundle.plan import BundlePlan, FunctionPlan, Status
from lambdapress.errors import BundleError, ConfigError
from lambdapress.model.application import Application, Artifact, Contents, Function
from lambdapress.model.manifest import manifest_path, read_manifest, write_manifest
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
    checked again and the manifest written anew. The file is read each time it is asked for,
    but parsed again only when its bytes differ from the last ones parsed (a partial run's
    merge, `serve`'s rebuilds).
    """
    found = _previous(manifest_path(root))
    return found[1] if found is not None else None


class Shipped(NamedTuple):
    """A zip the manifest says dist/ holds, as planning compares it (one per function)."""

    sha256: str
    size: int
    inputs_hash: str


def shipped_artifacts(root: Path, facts: FileFacts) -> dict[str, Shipped]:
    """The artifacts the manifest says dist/ holds, by path: what planning compares with.

    Remembered by the manifest's digest (`facts`, like every file planning reads), so a no-op
    does not parse a manifest of hundreds of functions (a megabyte) to learn them again.
    """
    path = manifest_path(root)
    try:
        remembered = facts.derived(path, _SHIPPED)
    except OSError:  # no manifest yet
        return {}
    known = _shipped(remembered)
    if known is not None:
        return known
    found = _previous(path)
    if found is None:
        return {}
    text, manifest = found
    shipped = {
        f.artifact.path: Shipped(f.artifact.sha256, f.artifact.size, f.artifact.inputs_hash)
        for f in manifest.functions
    }
    with contextlib.suppress(OSError):
        if facts.digest(path) == hashlib.sha256(text).hexdigest():  # what was parsed is filed
            facts.derive(path, _SHIPPED, _shipped_json(manifest))
    return shipped


_SHIPPED = "shipped"


def _shipped_json(manifest: Application) -> dict[str, list[Any]]:
    """Per artifact path what planning compares: sha256, size, inputs hash (compact: N of them)."""
    return {
        f.artifact.path: [f.artifact.sha256, f.artifact.size, f.artifact.inputs_hash]
        for f in manifest.functions
    }


def _shipped(value: object) -> dict[str, Shipped] | None:
    """The artifacts a remembered value lists, or None when it is not such a list."""
    if not isinstance(value, dict):
        return None
    found: dict[str, Shipped] = {}
    for path, fields in value.items():
        if not (isinstance(fields, list) and len(fields) == 3):
            return None
        sha256, size, inputs_hash = fields
        if not all(isinstance(h, str) and _HEX64.fullmatch(h) for h in (sha256, inputs_hash)):
            return None
        if not isinstance(size, int) or isinstance(size, bool):
            return None
        found[path] = Shipped(sha256, size, inputs_hash)
    return found


_HEX64 = re.compile(r"[0-9a-f]{64}")


def _code_sha256(sha256: str) -> str:
    """Lambda's CodeSha256 of a zip: its sha256, in base64."""
    return base64.b64encode(bytes.fromhex(sha256)).decode()


def _previous(path: Path) -> tuple[bytes, Application] | None:
    """The manifest at `path` and the bytes it was parsed from (see `previous_manifest`)."""
    try:
        text = path.read_bytes()
    except OSError:  # none yet (or unreadable: written anew)
        return None
    with _PARSED_LOCK:
        known = _PARSED.get(path)
    if known is not None and known[0] == text:
        return known
    try:
        manifest = read_manifest(path)
    except ConfigError:
        return None
    try:
        if path.read_bytes() != text:  # changed as it was read: what was parsed is unknown
            return None
    except OSError:
        return None
    with _PARSED_LOCK:
        _PARSED[path] = (text, manifest)
    return text, manifest


_PARSED: dict[Path, tuple[bytes, Application]] = {}
_PARSED_LOCK = threading.Lock()


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
    if _artifacts.publish_verified(plan.cache, function.inputs_hash, destination, result.archive):
        return result
    warnings.append(
        f"the cached artifact of {function.name} changed before it was copied into dist/: "
        "thrown away and rebuilt"
    )
    _artifacts.discard(plan.cache, function.inputs_hash)
    archive = build_artifact(function, plan.cache, store)
    if not _artifacts.publish_verified(plan.cache, function.inputs_hash, destination, archive):
        raise BundleError(
            f"the cached artifact of {function.name} changed again right after it was rebuilt",
            path=_artifacts.zip_path(plan.cache, function.inputs_hash),
            hint="something else is writing into the cache folder; stop it, or point "
            "LAMBDAPRESS_CACHE at a folder of its own",
        )
    return FunctionResult(function.name, function.artifact, "build", archive)


def unchanged_archive(plan: BundlePlan, function: FunctionPlan, facts: FileFacts) -> Archive | None:
    """The facts of a zip left as it is; None if it cannot be read.

    Remembered in `facts` by the zip's digest (a no-op reads nothing: planning already stat'ed
    the zip), else from its cache record when that describes the same bytes (no need to read
    the zip again), else from the zip.
    """
    path = plan.root / function.artifact
    try:
        digest = facts.digest(path)
        known = _archive(facts.derived(path, _ARCHIVE), digest)
    except OSError:  # changed since it was checked: build it again
        return None
    if known is not None:
        return known
    record = _artifacts.read_record(plan.cache, function.inputs_hash)
    if record is not None and record.sha256 == digest:
        archive = record.archive()
    else:
        try:
            archive = describe_zip(path)
        except (OSError, zipfile.BadZipFile):  # changed since it was checked: build it again
            return None
    if archive.sha256 == digest:
        facts.derive(path, _ARCHIVE, _archive_json(archive))
    return archive


_ARCHIVE = "archive"


def remember_published(facts: FileFacts, path: Path, archive: Archive) -> None:
    """A zip this run put in dist/ (checked as it was): its digest and what it holds."""
    facts.remember(path, archive.sha256)
    facts.derive(path, _ARCHIVE, _archive_json(archive))


def _archive_json(archive: Archive) -> list[int]:
    """What a zip holds, less its digests (the facts' key, and derived from it)."""
    return [archive.size, archive.unzipped_size, archive.files]


def _archive(value: object, sha256: str) -> Archive | None:
    """The zip with digest `sha256` a remembered value describes, if it is one."""
    if not (isinstance(value, list) and len(value) == 3):
        return None
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in value):
        return None
    size, unzipped, count = value
    return Archive(sha256, _code_sha256(sha256), size, unzipped, count)


def write_manifest_once(manifest: Application, root: Path, facts: FileFacts) -> bool:
    """Write dist/manifest.json when its bytes change; returns whether it was written.

    Its text (sorted keys, indented: tens of milliseconds for hundreds of functions) is a
    function of the model's data, so the digest of the model's compact JSON names it: when
    the file still has the bytes remembered as that model's text (its digest by stat, like
    every file planning reads), nothing is rendered or read.
    """
    path = manifest_path(root)
    model = hashlib.sha256(manifest.model_dump_json().encode()).hexdigest()
    try:
        if facts.derived(path, _RENDERING) == model:
            return False
    except OSError:  # none yet
        pass
    written = write_manifest(manifest, path)
    facts.forget(path)  # its digest was taken before: what is filed now is the new bytes'
    with contextlib.suppress(OSError):  # gone already: the next run renders it again
        facts.derive(path, _RENDERING, model)
        facts.derive(path, _SHIPPED, _shipped_json(manifest))
    return written


_RENDERING = "rendering"  # the digest of the model whose text the manifest file holds


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
