"""A function built for this machine's architecture, for running it here.

An arm64 function's zip holds aarch64 extension modules, which an x86_64 machine cannot load
(and the other way round). To run it locally, the emulator asks for the same function, same
code and same locked versions, with wheels for the machine's own architecture; the zip goes to
the artifact cache only, never to dist/ or the manifest that deploys read.
"""

from __future__ import annotations

from pathlib import Path

from lambdapress.bundle import _artifacts
from lambdapress.bundle._build import build_artifact
from lambdapress.bundle.pipeline import PackageOptions, cache_in_use, plan_package
from lambdapress.config.lambda_platform import Architecture
from lambdapress.model.application import Function


def host_variant(
    root: Path, entry: Function, architecture: Architecture, cache: Path | None = None
) -> Function:
    """`entry` rebuilt for `architecture`; its artifact is an absolute path in the cache."""
    options = PackageOptions(function=entry.name, cache=cache, architecture=architecture)
    plan = plan_package(root, options)
    (function,) = plan.functions
    artifact = _artifacts.zip_path(plan.cache, function.inputs_hash)
    with cache_in_use(plan.cache):
        archive = _artifacts.lookup(plan.cache, function.inputs_hash).archive
        if archive is None:  # absent, or damaged: built again (checked against its record)
            archive = build_artifact(function, plan.cache)
    # An absolute path in the cache: in memory only, never written to a manifest (which
    # refuses paths outside the repository).
    built = entry.artifact.model_copy(
        update={
            "path": str(artifact),
            "sha256": archive.sha256,
            "code_sha256": archive.code_sha256,
            "size": archive.size,
            "inputs_hash": function.inputs_hash,
        }
    )
    contents = entry.contents.model_copy(update={"distributions": function.distributions})
    return entry.model_copy(
        update={"architecture": architecture, "artifact": built, "contents": contents}
    )
