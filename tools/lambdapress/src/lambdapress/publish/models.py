"""Where each service's model libraries come from, and the pyproject edits that change it.

A service builds on a model library in one of three ways, all visible in its pyproject:

- **workspace**: `packages/<name>` of this repository, from source (`{ workspace = true }` in
  `[tool.uv.sources]`, the development path in `[tool.poetry.dependencies]`);
- **pinned**: a workspace package whose *published* version the service ships (a Poetry
  `source` entry, see `pins`; development and tests keep the source);
- **index**: a package that is not in this repository, published by another project to a
  private index: `[tool.uv.sources] name = { index = "NAME" }`, with the index declared once
  in the root pyproject as an `explicit` `[[tool.uv.index]]`, so that uv takes only this
  package from it and every other locked package keeps its default index.

`[tool.lambdapress] accept_models` records the version of each published model library the
service was last checked against (written by `models add`/`upgrade`, or by hand to accept a
breaking release); the package-time gate compares the locked version with it.

Everything here is pure: text in, text out (tomlkit keeps comments and layout), so the plan
and its tests need no network and no uv.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomlkit
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from tomlkit.items import AoT, Array, InlineTable, Table

from lambdapress.config.pyproject import read_config_text
from lambdapress.errors import LambdapressError, ModelsError
from lambdapress.indexes.sources import ACCEPT_KEY

# ------------------------------------------------------------------ edits of a service


def with_index_dependency(text: str, package: str, specifier: str, index: str, path: Path) -> str:
    """The service's pyproject taking `package<specifier>` from the named index.

    Replaces any earlier form of the dependency (a workspace path, a Poetry pin) so nothing
    contradicts the new source.
    """
    document = parse(text, path)
    _set_requirement(document, f"{package}{specifier}", path)
    tool = _table(document, "tool", path)
    poetry = tool.get("poetry")
    if isinstance(poetry, Table | dict):
        dependencies = poetry.get("dependencies")
        if isinstance(dependencies, Table | dict):
            for key in [k for k in dependencies if _same(k, package)]:
                del dependencies[key]
            if not dependencies:
                del poetry["dependencies"]
        drop_unused_poetry_sources(poetry)
    sources = _table(_table(tool, "uv", path), "sources", path)
    key = next((k for k in sources if _same(k, package)), package)
    sources[key] = inline(f"{{ index = {quoted(index)} }}")
    return spaced(tomlkit.dumps(document))


def with_accepted(text: str, package: str, version: str | None, path: Path) -> str:
    """`[tool.lambdapress] accept_models` recording `version` for `package` (None: unchanged)."""
    if version is None:
        return text
    document = parse(text, path)
    lambdapress = _table(_table(document, "tool", path), "lambdapress", path)
    existing = lambdapress.get(ACCEPT_KEY)
    entries = {
        str(k): str(v)
        for k, v in (existing.items() if isinstance(existing, InlineTable | Table) else ())
        if not _same(str(k), package)
    }
    entries[package] = version
    pairs = ", ".join(f"{k} = {quoted(v)}" for k, v in sorted(entries.items()))
    lambdapress[ACCEPT_KEY] = inline(f"{{ {pairs} }}")
    return spaced(tomlkit.dumps(document))


def without_accepted(text: str, package: str, path: Path) -> str:
    """`text` without an `accept_models` entry for `package` (the key goes too when left empty).

    A library back on its source has no published version to accept.
    """
    document = parse(text, path)
    lambdapress = document.get("tool", {}).get("lambdapress")
    accepted = lambdapress.get(ACCEPT_KEY) if isinstance(lambdapress, Table | dict) else None
    if not isinstance(accepted, InlineTable | Table):
        return text
    keys = [k for k in accepted if _same(str(k), package)]
    if not keys:
        return text
    remaining = {str(k): str(v) for k, v in accepted.items() if str(k) not in keys}
    if remaining:
        pairs = ", ".join(f"{k} = {quoted(v)}" for k, v in sorted(remaining.items()))
        lambdapress[ACCEPT_KEY] = inline(f"{{ {pairs} }}")
    else:
        del lambdapress[ACCEPT_KEY]
        if not lambdapress:  # the table was made for the entry: no empty section left behind
            del document["tool"]["lambdapress"]
    return tomlkit.dumps(document).rstrip("\n") + "\n"


def accepted_in(text: str, package: str, path: Path) -> str | None:
    """The version `accept_models` records for `package`, if any."""
    table = parse(text, path).get("tool", {}).get("lambdapress", {}).get(ACCEPT_KEY, {})
    return next((str(v) for k, v in table.items() if _same(k, package)), None)


def requirement_in(text: str, package: str, path: Path) -> Requirement | None:
    """The service's requirement on `package` in `[project] dependencies`, if any."""
    for raw in parse(text, path).get("project", {}).get("dependencies", []):
        try:
            requirement = Requirement(str(raw))
        except InvalidRequirement:
            continue
        if _same(requirement.name, package):
            return requirement
    return None


# ------------------------------------------------------------------ edits of the root


def with_uv_index(text: str, name: str, url: str, path: Path) -> str:
    """The root pyproject declaring `[[tool.uv.index]] name = url` as `explicit`.

    Explicit means uv takes from it only the packages whose source names it: every other
    package keeps its default index (PyPI), so a private index never shadows a public name.
    """
    document = parse(text, path)
    uv = _table(_table(document, "tool", path), "uv", path)
    indexes = uv.get("index")
    if indexes is None:
        new_entry = tomlkit.table()
        new_entry.update({"name": name, "url": url, "explicit": True})
        indexes = tomlkit.aot()
        indexes.append(new_entry)
        uv["index"] = indexes  # `[tool.uv]` may be split in the file: no positional append
        return spaced(tomlkit.dumps(document))
    if not isinstance(indexes, AoT | list):
        raise ModelsError(
            "`tool.uv.index` must be an array of tables",
            path=path,
            hint="write each index as [[tool.uv.index]] with name and url",
        )
    entry = next((i for i in indexes if i.get("name") == name), None)
    if entry is None:
        entry = tomlkit.table()
        entry.update({"name": name, "url": url, "explicit": True})
        indexes.append(entry)
    else:
        entry["url"] = url
        entry["explicit"] = True
    return spaced(tomlkit.dumps(document))


def with_first_party(text: str, module: str, path: Path) -> str:
    """ruff's isort treating `module` as first-party, wherever the library is installed from.

    Inside the workspace a model library is first-party by ruff's `src` globs; from an index it
    would be third-party, and the same template-rendered imports would be sorted differently.
    Listing it keeps lint independent of where the library comes from.
    """
    document = parse(text, path)
    tool = _table(document, "tool", path)
    isort = _table(_table(_table(tool, "ruff", path), "lint", path), "isort", path)
    known = isort.get("known-first-party")
    names = [str(n) for n in known] if isinstance(known, Array | list) else []
    if module in names:
        return text
    array = tomlkit.array()
    array.extend(sorted({*names, module}))
    isort["known-first-party"] = array
    return spaced(tomlkit.dumps(document))


# ------------------------------------------------------------------ helpers


def parse(text: str, path: Path, error: type[LambdapressError] = ModelsError) -> Any:
    """Parse a pyproject with tomlkit (keeping its layout), or an `error` naming the line."""
    try:
        return tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise error(
            f"invalid TOML: {exc}", path=path, line=exc.line, hint="fix the syntax first"
        ) from None


def spaced(text: str) -> str:
    """`text` with a blank line before every table header, as people write pyprojects.

    tomlkit keeps the layout it parsed, but not around the tables it adds or the keys it
    replaces.
    """
    lines = text.split("\n")
    out: list[str] = []
    for line in lines:
        if line.startswith("[") and out and out[-1].strip() and not out[-1].startswith("#"):
            out.append("")
        out.append(line)
    return "\n".join(out)


def read_pyproject(path: Path) -> str:
    """The text of the pyproject an edit starts from; a missing file is an error naming it."""
    return read_config_text(path, missing="file not found", missing_hint="")


def _set_requirement(document: Any, requirement: str, path: Path) -> None:
    project = document.get("project")
    if not isinstance(project, Table | dict):
        raise ModelsError(
            "the service has no [project] table", path=path, hint="add [project] dependencies"
        )
    dependencies = project.get("dependencies")
    if dependencies is None:
        dependencies = tomlkit.array()
        project["dependencies"] = dependencies
    name = Requirement(requirement).name
    for position, raw in enumerate(list(dependencies)):
        try:
            if _same(Requirement(str(raw)).name, name):
                dependencies[position] = requirement
                return
        except InvalidRequirement:
            continue
    dependencies.insert(0, requirement)


def drop_unused_poetry_sources(poetry: Any) -> None:
    """Remove the `[[tool.poetry.source]]` entries no dependency names any more.

    After an unpin, or a move to a uv index.
    """
    sources = poetry.get("source")
    if not isinstance(sources, AoT | list):
        return
    dependencies = poetry.get("dependencies", {})
    used = {spec.get("source") for spec in dependencies.values() if isinstance(spec, dict)}
    kept = [source for source in sources if source.get("name") in used]
    if not kept:
        del poetry["source"]
    elif len(kept) != len(sources):
        poetry["source"] = tomlkit.aot()
        for source in kept:
            poetry["source"].append(source)


def _table(parent: Any, key: str, path: Path) -> Any:
    if key not in parent:
        parent[key] = tomlkit.table(is_super_table=key in ("tool", "uv", "ruff", "lint"))
    value = parent[key]
    if not isinstance(value, Table | InlineTable | dict):
        raise ModelsError(f"`{key}` must be a table", path=path, hint=f"write it as [{key}]")
    return value


def _same(a: str, b: str) -> bool:
    return canonicalize_name(a) == canonicalize_name(b)


def inline(text: str) -> Any:
    """An inline table spelt the way people write them (`{ a = 1 }`, spaces inside)."""
    return tomlkit.parse(f"x = {text}")["x"]


def quoted(value: str) -> str:
    """`value` as a TOML string, quoted and escaped."""
    return tomlkit.string(value).as_string()
