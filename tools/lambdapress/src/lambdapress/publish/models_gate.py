"""The consumer side of the compatibility gate, its expensive half: comparing two versions.

`lambdapress.bundle.models_gate` decides at package time whether a comparison must run at all
(the cheap, common case is "no"); this module runs it, and imports the publisher's schema
comparison only then.

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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import Version
from pydantic import BaseModel, ConfigDict

from lambdapress.config.names import import_name
from lambdapress.indexes.config import ResolvedIndex
from lambdapress.publish._compat import CompatReport, assess
from lambdapress.support.files import write_text

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
        """Whether the new version has another major version than the old."""
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
        from lambdapress.publish._schemas import published_schemas

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


def _slug(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:12]
