"""Pinning a service to a published version of a shared package, and back to the source.

Inside the monorepo a service builds on a package from source: `[project] dependencies` names
it, `[tool.uv.sources]` says `{ workspace = true }` and `[tool.poetry.dependencies]` gives the
development path. A team rolling a model change out service by service can instead pin one
service to a published version, and the bundler then ships that wheel instead of the source.

uv refuses any source but `{ workspace = true }` for a workspace member ("references a
registry in tool.uv.sources"), so the uv form `{ index = "..." }` would break `uv lock` for the
whole repository. The pin therefore lives where the path already is, in Poetry's standard
form for "this version from that named index", which uv ignores:

```toml
[tool.poetry.dependencies]
acme-models = { version = "==1.2.0", source = "local" }  # was { path = ..., develop = true }

[[tool.poetry.source]]
name = "local"                              # an index of [tool.lambdapress.indexes]
url = "http://127.0.0.1:8080/simple/"
priority = "explicit"
```

`lambdapress.indexes.pins` is how other steps (the bundler) read pins; `plan_pin`/`plan_unpin`
compute the new text without writing (`lambdapress models add`, see `models_plan`, builds its
plans on them), `apply_edit` writes it atomically if the file did not change meanwhile.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tomlkit
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict
from tomlkit.items import AoT, InlineTable, Table

from lambdapress.config.pyproject import PYPROJECT
from lambdapress.config.workspace import Package, Service, Workspace
from lambdapress.errors import PinError
from lambdapress.indexes.pins import Pin
from lambdapress.publish.models import (
    drop_unused_poetry_sources,
    inline,
    parse,
    quoted,
    read_pyproject,
)
from lambdapress.support.files import write_text

COMMENT = "pinned by lambdapress: services ship this published version"


class PinEdit(BaseModel):
    """A planned change of one service's pyproject."""

    model_config = ConfigDict(frozen=True)

    service: str
    package: str
    pyproject: Path
    before: str
    after: str
    pin: Pin | None
    """The pin after the edit; None for an unpin."""

    @property
    def changed(self) -> bool:
        """Whether applying the edit changes the file."""
        return self.before != self.after


def plan_pin(
    workspace: Workspace,
    service_name: str,
    package_name: str,
    version: str,
    index: str,
    index_url: str,
    published: tuple[Version, ...],
) -> PinEdit:
    """The service's pyproject pinned to `package==version` from `index` (not yet written).

    `published` are the versions the index has: pinning to anything else is refused.
    """
    service, package = _members(workspace, service_name, package_name)
    pyproject = service.path / PYPROJECT
    try:
        wanted = Version(version)
    except InvalidVersion:
        raise PinError(
            f"{version!r} is not a version", hint="write it like 1.2.0: pin acme-models==1.2.0"
        ) from None
    if wanted not in published:
        have = ", ".join(str(v) for v in published) or "none"
        raise PinError(
            f"{package.name} {wanted} is not on index {index!r} (published: {have})",
            path=pyproject,
            hint=f"publish it first (lambdapress publish {package.name} --index {index}) or "
            "pick a published version",
        )
    pin = Pin(package=package.name, version=str(wanted), index=index, index_url=index_url)
    return _planned(service, package, pin, lambda text: pin_text(text, pin, pyproject))


def plan_unpin(workspace: Workspace, service_name: str, package_name: str) -> PinEdit:
    """The service's pyproject back on the package's source (not yet written)."""
    service, package = _members(workspace, service_name, package_name)
    pyproject = service.path / PYPROJECT
    path = Path(os.path.relpath(package.path, service.path)).as_posix()
    return _planned(
        service, package, None, lambda text: unpin_text(text, package.name, path, pyproject)
    )


def _planned(
    service: Service, package: Package, pin: Pin | None, change: Callable[[str], str]
) -> PinEdit:
    """The edit `change` makes of the service's pyproject as it is now."""
    pyproject = service.path / PYPROJECT
    before = read_pyproject(pyproject)
    return PinEdit(
        service=service.name,
        package=package.name,
        pyproject=pyproject,
        before=before,
        after=change(before),
        pin=pin,
    )


def pin_text(text: str, pin: Pin, pyproject: Path) -> str:
    """`text` with the path dependency on `pin.package` replaced by the pin."""
    document, poetry, dependencies, key = _poetry_dependency(text, pin.package, pyproject)
    dependencies[key] = inline(f'{{ version = "=={pin.version}", source = "{pin.index}" }}')
    dependencies[key].trivia.comment_ws = "  "
    dependencies[key].trivia.comment = f"# {COMMENT}"
    sources = poetry.get("source")
    if not isinstance(sources, AoT):
        sources = tomlkit.aot()
        poetry.append("source", sources)
    existing = next((s for s in sources if s.get("name") == pin.index), None)
    if existing is None:
        source = tomlkit.table()
        source.update({"name": pin.index, "url": pin.index_url, "priority": "explicit"})
        source.add(tomlkit.nl())
        sources.append(source)
    else:
        existing["url"] = pin.index_url
        existing["priority"] = "explicit"
    return tomlkit.dumps(document)


def unpin_text(text: str, package: str, path: str, pyproject: Path) -> str:
    """`text` with `package` back on its development path; unused sources are removed."""
    document, poetry, dependencies, key = _poetry_dependency(text, package, pyproject)
    dependencies[key] = inline(f"{{ path = {quoted(path)}, develop = true }}")
    dependencies[key].trivia.comment_ws = ""
    dependencies[key].trivia.comment = ""  # replacing keeps the old comment: drop the pin's
    drop_unused_poetry_sources(poetry)
    return tomlkit.dumps(document)


def apply_edit(edit: PinEdit) -> bool:
    """Write the edit atomically; refuses when the file changed since it was planned."""
    if not edit.changed:
        return False
    current = read_pyproject(edit.pyproject)
    if current != edit.before:
        raise PinError(
            "the file changed since the pin was planned",
            path=edit.pyproject,
            hint="run the command again",
        )
    write_text(edit.pyproject, edit.after)
    return True


def _members(workspace: Workspace, service_name: str, package_name: str) -> tuple[Service, Package]:
    service = workspace.service(service_name)
    if service is None:
        known = ", ".join(s.name for s in workspace.services) or "none"
        raise PinError(
            f"no service named {service_name!r} (services: {known})",
            path=workspace.root / "services",
            hint="name a folder of services/",
        )
    package = next(
        (
            p
            for p in workspace.packages
            if canonicalize_name(p.name) == canonicalize_name(package_name)
        ),
        None,
    )
    if package is None:
        known = ", ".join(p.name for p in workspace.packages) or "none"
        raise PinError(
            f"no package named {package_name!r} (packages: {known})",
            path=workspace.root / "packages",
            hint="name a folder of packages/",
        )
    return service, package


def _poetry_dependency(text: str, package: str, pyproject: Path) -> tuple[Any, Any, Any, str]:
    """(the document, its `[tool.poetry]`, its dependencies, the package's key in them).

    The service must already name the package in `[project] dependencies`.
    """
    document = parse(text, pyproject, PinError)
    _require_dependency(document, package, pyproject)
    poetry = _table(_table(document, "tool"), "poetry")
    dependencies = _table(poetry, "dependencies")
    return document, poetry, dependencies, _key(dependencies, package)


def _require_dependency(document: Any, package: str, pyproject: Path) -> None:
    """The service must already name the package in `[project] dependencies`."""
    wanted = canonicalize_name(package)
    for raw in document.get("project", {}).get("dependencies", []):
        try:
            if canonicalize_name(Requirement(str(raw)).name) == wanted:
                return
        except InvalidRequirement:
            continue
    raise PinError(
        f"the service does not depend on {package} in [project] dependencies",
        path=pyproject,
        hint=f'add "{package}" to [project] dependencies (and its workspace source) first',
    )


def _table(parent: Any, key: str) -> Any:
    """`parent[key]`, created as a table when missing."""
    if key not in parent:
        parent[key] = tomlkit.table()
    value = parent[key]
    if not isinstance(value, Table | InlineTable | dict):
        raise PinError(f"`{key}` must be a table", hint=f"write it as a [{key}] section")
    return value


def _key(table: Any, package: str) -> str:
    """The spelling of `package` already used in `table`, else the package's own name."""
    wanted = canonicalize_name(package)
    return next((k for k in table if canonicalize_name(k) == wanted), package)
