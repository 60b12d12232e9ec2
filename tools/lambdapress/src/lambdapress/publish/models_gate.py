"""The consumer side of the compatibility gate: a breaking model release never ships silently.

The publisher refuses to release a breaking change without a major version; a service that
builds on the library must then *decide* to take it. Each service records, in
`[tool.lambdapress] accept_models`, the version of each published model library it was last
checked against. At package time the version that would ship (uv.lock, or a pin) is compared
with it:

- equal: nothing to do, nothing resolved (the cheap, common case);
- different: the two versions' exported models are compared with the publisher's own rules
  (`schemas` + `compat`), and a major version crossed or any breaking change refuses the
  build with the per-model report, until the service records the new version (by
  `lambdapress models upgrade --accept`, or by hand: a reviewable line in a pull request).

The verdict of a comparison is cached by (package, from, to, index URL): schemas are installed
once per pair, not once per build.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import Version
from pydantic import BaseModel, ConfigDict

from lambdapress.bundle.lock import read_lock
from lambdapress.errors import ModelsError
from lambdapress.files import write_text
from lambdapress.indexes.config import ResolvedIndex
from lambdapress.indexes.sources import ModelLibrary, read_models
from lambdapress.names import import_name
from lambdapress.publish.compat import CompatReport, assess
from lambdapress.workspace import Workspace, cache_folder

CHECK_FORMAT = 1


class VersionCheck(BaseModel):
    """What moving a service from one published version of a model library to another means."""

    model_config = ConfigDict(frozen=True)

    package: str
    old: str
    new: str
    report: CompatReport

    @property
    def major_crossed(self) -> bool:
        return Version(self.new).major != Version(self.old).major

    @property
    def breaking(self) -> bool:
        """A major version crossed, or any exported model changed in a breaking way."""
        return self.major_crossed or any(model.breaking for model in self.report.models)

    def lines(self) -> list[str]:
        """The verdict, then the publisher's per-model report (model and field named)."""
        head = f"{self.package} {self.old} -> {self.new}: "
        if self.breaking:
            reasons = []
            if self.major_crossed:
                reasons.append("a new major version")
            if any(model.breaking for model in self.report.models):
                reasons.append("breaking model changes")
            head += "breaking (" + ", ".join(reasons) + ")"
        else:
            head += "compatible"
        return [head, *(f"  {line}" for line in self.report.lines())]


SchemaLoader = Callable[[ResolvedIndex, str, str, str, Path], dict[str, Any]]


def check_versions(
    index: ResolvedIndex,
    package: str,
    old: str,
    new: str,
    cache: Path,
    load: SchemaLoader | None = None,
) -> VersionCheck:
    """Compare the exported models of two published versions (cached per pair)."""
    key = f"{canonicalize_name(package)}-{old}-{new}-{_slug(index.index_url)}.json"
    stored = cache / "models-checks" / f"v{CHECK_FORMAT}" / key
    if stored.is_file():
        return VersionCheck.model_validate_json(stored.read_text(encoding="utf-8"))
    if load is None:
        from lambdapress.publish.schemas import published_schemas

        load = published_schemas
    module = import_name(package)
    with tempfile.TemporaryDirectory(prefix="lambdapress-models-") as scratch:
        workdir = Path(scratch)
        before = load(index, package, module, old, workdir)
        after = load(index, package, module, new, workdir)
    report = assess(package, old, new, before, after)
    check = VersionCheck(package=package, old=old, new=new, report=report)
    write_text(stored, json.dumps(check.model_dump(mode="json"), sort_keys=True))
    return check


class Refusal(BaseModel):
    """One service's model library that must not ship as locked."""

    model_config = ConfigDict(frozen=True)

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
        lock = read_lock(workspace.root) if (workspace.root / "uv.lock").is_file() else None
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
        where = workspace.relative(workspace.root / "services" / library.service / "pyproject.toml")
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
        from lambdapress.indexes.config import choose_index, load_indexes
        from lambdapress.indexes.credentials import resolve_index

        pyproject = workspace.root / "pyproject.toml"
        return resolve_index(choose_index(load_indexes(workspace.root), name, pyproject))

    return resolve


def _slug(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:12]
