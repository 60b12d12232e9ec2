"""The monorepo as lambdapress sees it: shared packages, Lambda services, and their settings.

uv already defines the workspace (`[tool.uv.workspace] members`), so lambdapress reads the
same globs instead of inventing its own list: a folder is part of the build exactly when uv
resolves it. On top of that it checks the conventions the bundler relies on (a service's
folder, distribution and import name are one name; no two members ship the same top-level
module) here, once, so later steps can trust the model without re-checking the disk.
"""

from __future__ import annotations

import keyword
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from lambdapress.config.answers import ANSWERS_FILE, CopierAnswers, read_answers
from lambdapress.config.names import import_name
from lambdapress.config.pyproject import PYPROJECT, find_key_line, get_table, load_toml
from lambdapress.config.settings import ServiceSettings, parse_service_settings
from lambdapress.errors import ConfigError, WorkspaceError

SERVICES_DIR = "services"
PACKAGES_DIR = "packages"
TEMPLATE_CONFIGS = ("copier.yml", "copier.yaml")


class Package(BaseModel):
    """A shared library (typically pydantic models) that services depend on."""

    model_config = ConfigDict(frozen=True)

    name: str
    """Distribution name, what `[project] name` says (e.g. acme-models)."""
    import_name: str
    """Top-level module (e.g. acme_models)."""
    version: str | None
    """`[project] version`; None when the version is dynamic."""
    path: Path
    """Absolute folder of the package."""


class Service(BaseModel):
    """A deployable unit: one Python package whose handler modules become Lambda functions."""

    model_config = ConfigDict(frozen=True)

    name: str
    import_name: str
    path: Path
    """Absolute folder of the service."""
    settings: ServiceSettings
    answers: CopierAnswers | None
    """The service's own `.copier-answers.yml`, when it was generated from the template."""


class Workspace(BaseModel):
    """Everything lambdapress needs to know about the repository, read once."""

    model_config = ConfigDict(frozen=True)

    root: Path
    packages: tuple[Package, ...]
    services: tuple[Service, ...]
    libraries: tuple[Package, ...] = ()
    """Other members (`tools/*`, e.g. lambdapress-runtime): first-party code a service may
    depend on and ship, but not a model library that `publish` or `models` manage."""
    template_root: bool
    """True when the root is the template repository itself (it has copier.yml)."""
    answers: CopierAnswers | None
    """The root `.copier-answers.yml`, when the repository was generated from the template."""

    def package(self, name: str) -> Package | None:
        """The package with this distribution name, if any."""
        return next((p for p in self.packages if p.name == name), None)

    def service(self, name: str) -> Service | None:
        """The service with this name, if any."""
        return next((s for s in self.services if s.name == name), None)

    def relative(self, path: Path) -> Path:
        """`path` relative to the root, for display; unchanged when it lies outside."""
        try:
            return path.relative_to(self.root)
        except ValueError:
            return path


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` whose pyproject.toml has `[tool.uv.workspace]`.

    Walking up lets every command work from anywhere inside the repository, like git does.
    """
    begin = start.resolve()
    if not begin.exists():
        raise WorkspaceError(
            "no such file or folder",
            path=start,
            hint="pass an existing folder of the repository",
        )
    if begin.is_file():
        begin = begin.parent
    for folder in (begin, *begin.parents):
        candidate = folder / PYPROJECT
        if candidate.is_file() and _workspace_table(load_toml(candidate), candidate) is not None:
            return folder
    raise WorkspaceError(
        f"no uv workspace found in {begin} or any folder above it",
        path=start,
        hint="run lambdapress inside the repository (or pass --root DIR); its root "
        "pyproject.toml needs a [tool.uv.workspace] table with `members`",
    )


def load_workspace(root: Path) -> Workspace:
    """Read every member of the workspace rooted at `root` into one frozen model."""
    root = root.resolve()
    pyproject = root / PYPROJECT
    data = load_toml(pyproject)
    table = _workspace_table(data, pyproject)
    if table is None:
        raise WorkspaceError(
            "not a workspace root: there is no [tool.uv.workspace] table",
            path=pyproject,
            hint='add `[tool.uv.workspace]` with `members = ["packages/*", "services/*"]`, '
            "or pass the repository root",
        )
    members = _expand(root, pyproject, table)
    packages: list[Package] = []
    services: list[Service] = []
    libraries: list[Package] = []
    for member in members:
        group = member.relative_to(root).parts[0]
        member_pyproject = member / PYPROJECT
        if not member_pyproject.is_file():
            if _is_placeholder(member):
                continue
            raise WorkspaceError(
                "workspace member has files but no pyproject.toml",
                path=member,
                hint="add a pyproject.toml, or delete the folder (ignored leftovers such as "
                "__pycache__ keep a folder alive after `git rm`)",
            )
        member_data = load_toml(member_pyproject)
        if group == SERVICES_DIR:
            services.append(_service(member, member_pyproject, member_data))
        elif group == PACKAGES_DIR:
            packages.append(_package(member, member_pyproject, member_data))
        else:
            libraries.append(_package(member, member_pyproject, member_data))
    _check_unique([*packages, *libraries], services)
    return Workspace(
        root=root,
        packages=tuple(packages),
        services=tuple(services),
        libraries=tuple(libraries),
        template_root=any((root / name).is_file() for name in TEMPLATE_CONFIGS),
        answers=_answers_in(root),
    )


def _workspace_table(data: dict[str, Any], path: Path) -> dict[str, Any] | None:
    return get_table(data, "tool.uv.workspace", path)


def _string_list(table: dict[str, Any], key: str, path: Path) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(
            f"`tool.uv.workspace.{key}` must be a list of glob strings",
            path=path,
            line=find_key_line(path, ["tool", "uv", "workspace", key]),
            hint=f'write it like `{key} = ["packages/*", "services/*"]`',
        )
    return list(value)


def _expand(root: Path, pyproject: Path, table: dict[str, Any]) -> list[Path]:
    """Member folders, sorted and without duplicates, minus uv's `exclude` globs."""
    found: set[Path] = set()
    excluded: set[Path] = set()
    for key, target in (("members", found), ("exclude", excluded)):
        for pattern in _string_list(table, key, pyproject):
            if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
                raise ConfigError(
                    f"workspace glob {pattern!r} must stay inside the repository",
                    path=pyproject,
                    line=find_key_line(pyproject, ["tool", "uv", "workspace", key]),
                    hint='use a relative glob such as "services/*"',
                )
            target.update(match for match in root.glob(pattern) if match.is_dir())
    return sorted(found - excluded, key=lambda p: p.relative_to(root).as_posix())


def _is_placeholder(folder: Path) -> bool:
    """An empty folder, or one holding only dotfiles such as .gitkeep, is not a member yet."""
    return all(child.name.startswith(".") for child in folder.iterdir())


def _project(data: dict[str, Any], path: Path) -> tuple[str, str | None]:
    project = get_table(data, "project", path)
    name = project.get("name") if project else None
    if not isinstance(name, str) or not name:
        raise ConfigError(
            "missing `[project] name`",
            path=path,
            line=find_key_line(path, ["project", "name"]),
            hint='add a [project] table with `name = "..."` (PEP 621)',
        )
    version = project.get("version") if project else None
    return name, version if isinstance(version, str) else None


def _import_name(data: dict[str, Any], path: Path, name: str) -> str:
    """The module a member ships: `[tool.poetry] packages` include, else the normalised name."""
    poetry = get_table(data, "tool.poetry", path) or {}
    entries = poetry.get("packages")
    if entries is None:
        return import_name(name)
    include = None
    if isinstance(entries, list) and entries and isinstance(entries[0], dict):
        include = entries[0].get("include")
    if not isinstance(include, str) or not include.isidentifier() or keyword.iskeyword(include):
        raise ConfigError(
            '`[tool.poetry] packages` must start with `{ include = "<module>", from = "src" }`',
            path=path,
            line=find_key_line(path, ["tool", "poetry", "packages"]),
            hint=f'write `packages = [{{ include = "{import_name(name)}", from = "src" }}]`',
        )
    return include


def _package(folder: Path, pyproject: Path, data: dict[str, Any]) -> Package:
    name, version = _project(data, pyproject)
    return Package(
        name=name,
        import_name=_import_name(data, pyproject, name),
        version=version,
        path=folder,
    )


def _service(folder: Path, pyproject: Path, data: dict[str, Any]) -> Service:
    """A service's folder, project name and import name must all be the same word.

    The bundler derives handler paths (`<name>.handlers.<module>`) and function names from it,
    so a mismatch would produce artifacts that import the wrong thing.
    """
    name, _ = _project(data, pyproject)
    if name != folder.name:
        raise WorkspaceError(
            f"the service's project name {name!r} differs from its folder {folder.name!r}",
            path=pyproject,
            line=find_key_line(pyproject, ["project", "name"]),
            hint=f'set `name = "{folder.name}"`, or rename the folder to {name}',
        )
    import_name = _import_name(data, pyproject, name)
    if import_name != name:
        raise WorkspaceError(
            f"service {name!r} ships the module {import_name!r}; they must be the same name",
            path=pyproject,
            line=find_key_line(pyproject, ["tool", "poetry", "packages"]),
            hint=f'keep the code in src/{name}/ and write `packages = [{{ include = "{name}", '
            'from = "src" }]`',
        )
    return Service(
        name=name,
        import_name=import_name,
        path=folder,
        settings=parse_service_settings(data, pyproject),
        answers=_answers_in(folder),
    )


def _answers_in(folder: Path) -> CopierAnswers | None:
    path = folder / ANSWERS_FILE
    return read_answers(path) if path.is_file() else None


def _check_unique(packages: list[Package], services: list[Service]) -> None:
    """Two members shipping one module (or one distribution name) would shadow each other."""
    members: list[Package | Service] = [*packages, *services]
    for attribute, what in (("import_name", "import name"), ("name", "project name")):
        seen: dict[str, Path] = {}
        for member in members:
            value: str = getattr(member, attribute)
            if value in seen:
                raise WorkspaceError(
                    f"the {what} {value!r} is used by both {seen[value]} and {member.path}",
                    path=member.path / PYPROJECT,
                    hint="rename one of them: in one environment or one Lambda bundle the "
                    "second would overwrite the first",
                )
            seen[value] = member.path
