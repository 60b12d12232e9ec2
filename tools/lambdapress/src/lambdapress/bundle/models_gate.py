"""The package-time gate: a breaking model release never ships silently.

The publisher refuses to release a breaking change without a major version; a service that
builds on the library must then *decide* to take it. Each service records, in
`[tool.lambdapress] accept_models`, the version of each published model library it was last
checked against. At package time the version that would ship (uv.lock, or a pin) is compared
with it:

- equal: nothing to do, nothing resolved, nothing of the publisher loaded (the common case);
- different: the two versions' exported models are compared with the publisher's own rules
  (`lambdapress.publish.models_gate.check_versions`, imported only then), and a major version
  crossed or any breaking change refuses the build with the per-model report, until the
  service records the new version (by `lambdapress models upgrade --accept`, or by hand: a
  reviewable line in a pull request).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lambdapress.bundle.lock import read_lock
from lambdapress.config.pyproject import LOCK_FILE, PYPROJECT
from lambdapress.config.workspace import Workspace
from lambdapress.errors import ModelsError
from lambdapress.indexes.config import ResolvedIndex
from lambdapress.indexes.credentials import resolve_configured
from lambdapress.indexes.sources import ModelLibrary, read_models
from lambdapress.support.files import cache_folder

if TYPE_CHECKING:
    from lambdapress.publish.models_gate import SchemaLoader, VersionCheck


@dataclass(frozen=True)
class Refusal:
    """One service's model library that must not ship as locked."""

    library: ModelLibrary
    check: VersionCheck | None
    """None when no version was ever recorded as accepted."""


IndexResolver = Callable[[str], ResolvedIndex]


def gate_refusals(
    workspace: Workspace,
    resolve: IndexResolver,
    services: Sequence[str] = (),
    load: SchemaLoader | None = None,
) -> tuple[Refusal, ...]:
    """The libraries whose shipped version differs from the accepted one and breaks it.

    `resolve(index name)` is only called when a comparison must actually run.
    """
    libraries = read_models(workspace, None)
    if any(library.origin == "index" for library in libraries):  # only they need the lock
        lock = read_lock(workspace.root) if (workspace.root / LOCK_FILE).is_file() else None
        libraries = read_models(workspace, lock)
    cache = cache_folder(workspace.root)
    refusals = []
    for library in libraries:
        if services and library.service not in services:
            continue
        if library.origin == "workspace" or library.version is None:
            continue
        if library.accepted == library.version:
            continue
        if library.accepted is None:
            refusals.append(Refusal(library=library, check=None))
            continue
        assert library.index is not None
        from lambdapress.publish.models_gate import check_versions  # only when one must run

        check = check_versions(
            resolve(library.index), library.package, library.accepted, library.version, cache, load
        )
        if check.breaking:
            refusals.append(Refusal(library=library, check=check))
    return tuple(refusals)


def refusal_error(workspace: Workspace, refusals: Sequence[Refusal]) -> ModelsError:
    """One error for every refused library: the report, and the line that accepts each."""
    lines = ["a model library would ship in a version the service has not accepted:"]
    fixes = []
    for refusal in refusals:
        library = refusal.library
        where = workspace.relative(workspace.root / "services" / library.service / PYPROJECT)
        if refusal.check is None:
            lines.append(
                f"- {library.service}: {library.package} {library.version} from index "
                f"{library.index!r}: no accepted version recorded in {where}"
            )
        else:
            lines.append(f"- {library.service} ({where}):")
            lines.extend(f"    {line}" for line in refusal.check.lines())
        fixes.append(
            f"lambdapress models upgrade {library.service} {library.package} --accept "
            f'(or add accept_models = {{ {library.package} = "{library.version}" }} to '
            f"[tool.lambdapress] of {where})"
        )
    return ModelsError(
        "\n".join(lines),
        hint="update the service's code for the changes above, then record that it accepts the "
        "version: " + "; ".join(fixes),
    )


def check_gate(
    workspace: Workspace,
    services: Sequence[str] = (),
    resolve: IndexResolver | None = None,
) -> None:
    """Raise the refusal for `services` (all when empty); return when every library may ship."""
    if resolve is None:
        resolve = _resolver(workspace)
    refusals = gate_refusals(workspace, resolve, services)
    if refusals:
        raise refusal_error(workspace, refusals)


def _resolver(workspace: Workspace) -> IndexResolver:
    def resolve(name: str) -> ResolvedIndex:
        return resolve_configured(workspace.root, name)

    return resolve
