"""Whether `dist/manifest.json` still describes the sources, before a template is made from it.

The template names each zip by its content digest and copies every setting from the manifest,
so a template written from a stale manifest deploys old code or old settings without a word.
The bundler's own plan is the reference: it works out, without building anything, what each
function's zip and settings would be now (the same inputs hash `lambdapress package` uses to
skip unchanged functions), and any difference from the manifest makes it stale.
"""

from __future__ import annotations

from pathlib import Path

from lambdapress.bundle.pipeline import plan_package
from lambdapress.bundle.plan import BundlePlan, FunctionPlan
from lambdapress.errors import ConfigError
from lambdapress.model.manifest import FunctionEntry, Manifest, manifest_path, read_manifest

_LISTED = 5
# The manifest's fields that the template copies, compared with what the sources say now.
_COMPARED = ("handler", "runtime", "architecture", "memory", "timeout", "environment", "routes")


def current_manifest(root: Path) -> Manifest:
    """The manifest, when it is what `lambdapress package` would write now; else a ConfigError."""
    path = manifest_path(root)
    manifest = read_manifest(path)
    differences = stale_functions(manifest, plan_package(root, remote_cache=False))
    if differences:
        shown = differences[:_LISTED]
        if len(differences) > _LISTED:
            shown.append(f"... and {len(differences) - _LISTED} more")
        raise ConfigError(
            "the manifest is stale:\n" + "\n".join(f"  - {line}" for line in shown),
            path=path,
            hint="run `nox -s package` (or `lambdapress package`), then make the template again",
        )
    return manifest


def stale_functions(manifest: Manifest, plan: BundlePlan) -> list[str]:
    """How the manifest differs from the plan, one line per function (empty: current)."""
    packaged = {entry.name: entry for entry in manifest.functions}
    planned = {function.name: function for function in plan.functions}
    lines = [f"{name}: not packaged yet" for name in sorted(set(planned) - set(packaged))]
    lines += [f"{name}: no longer in the sources" for name in sorted(set(packaged) - set(planned))]
    for name in sorted(set(packaged) & set(planned)):
        changed = _changes(packaged[name], planned[name])
        if changed:
            lines.append(f"{name}: {', '.join(changed)} changed since it was packaged")
    return lines


def _changes(entry: FunctionEntry, function: FunctionPlan) -> list[str]:
    changed = [field for field in _COMPARED if getattr(entry, field) != getattr(function, field)]
    if entry.inputs_hash != function.inputs_hash:
        changed.append("its code or dependencies")
    return changed
