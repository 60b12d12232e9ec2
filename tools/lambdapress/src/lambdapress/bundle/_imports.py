"""The static import graph of first-party code: what a handler really needs to ship.

Starting from a handler module, every `import` and `from ... import` is followed through the
service and the shared packages; a module nothing reaches is not shipped. Imports that leave
first-party code are collected for the third-party closure, and the ones nobody provides are
the "works locally, 500 in the cloud" bug, reported here at package time.
"""

from __future__ import annotations

import ast
import sys
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from lambdapress.bundle._facts import FileFacts
from lambdapress.bundle._shipping import (
    TEST_FOLDERS,
    Found,
    check_link,
    git_files,
    is_skipped,
    is_test_path,
    looks_like_credential,
    package_files,
    tracked_targets,
    unreadable,
    untracked_target,
)
from lambdapress.config.workspace import find_root
from lambdapress.errors import BundleError, LambdapressError


@dataclass(frozen=True)
class ImportRef:
    """One imported name, as written and where (for error messages)."""

    name: str
    path: Path
    line: int
    optional: bool  # inside `try: ... except ImportError`

    @property
    def top_level(self) -> str:
        """The first part of the imported name, the one that decides who provides it."""
        return self.name.split(".")[0]


@dataclass(frozen=True)
class SourceModule:
    """A module of the workspace's sources: its name, file, and whether it is a package."""

    name: str
    path: Path
    is_package: bool


@dataclass
class ModuleIndex:
    """Every first-party module by dotted name, and the package data that may ship."""

    modules: dict[str, SourceModule] = field(default_factory=dict)
    roots: dict[str, Path] = field(default_factory=dict)  # top-level name -> its folder's parent
    test_modules: dict[str, Path] = field(default_factory=dict)  # never shipped, named in errors
    data: dict[str, tuple[Path, ...]] = field(default_factory=dict)  # top-level -> data files
    untracked: list[Path] = field(default_factory=list)  # data files git does not know: warned
    facts: FileFacts | None = None  # remembered analyses: an unchanged module is not parsed
    project: Path | None = None  # symlinks that would ship stay inside it (the workspace root)
    arcnames: dict[Path, str] = field(default_factory=dict)  # each indexed file's name in a zip
    # What every function of a service asks again, worked out once per run (a service of N
    # functions would otherwise redo N times what does not depend on the function):
    _steps: dict[str, tuple[FileFacts | None, list[str], list[ImportRef]]] = field(
        default_factory=dict, repr=False
    )
    _data_under: dict[Path, tuple[Path, ...]] = field(default_factory=dict, repr=False)

    def add_root(self, src: Path, top_level: str) -> None:
        """Index the package (or module) `top_level` that lives directly under `src`.

        Runs `git ls-files` once for the package folder: only tracked files are package data
        inside a git repository (see `bundle.shipping`), and once more when symlinks would
        ship, for their targets. A symlink that would ship is checked against the project
        (`shipping.check_link`): leaving it, or pointing at what never ships, stops the build.
        """
        self.roots[top_level] = src
        package = src / top_level
        if not package.is_dir():
            if (src / f"{top_level}.py").is_file():
                self.modules[top_level] = SourceModule(top_level, src / f"{top_level}.py", False)
                self.arcnames[src / f"{top_level}.py"] = f"{top_level}.py"
            return
        project = self._project_of(src)
        git = git_files(package)
        found = package_files(package, project, lambda link: git is None or link in git.tracked)
        data: list[Path] = []
        linked: list[Found] = []
        for item in found:
            path = item.path
            relative = path.relative_to(src)
            if is_skipped(relative) or (is_test_path(relative) and path.suffix != ".py"):
                continue
            is_module = path.suffix == ".py"
            declared = git is None or (item.links[0] if item.links else path) in git.tracked
            # A link that would ship: a module an import can name (tests never ship), or data
            # git tracks.
            importable = all(part.isidentifier() for part in relative.with_suffix("").parts)
            would_ship = importable if is_module else declared
            if item.links and would_ship and not is_test_path(relative):
                check_link(item, project, module=is_module)
                if not is_module and git is not None:
                    linked.append(item)
            if is_module:
                self._add_module(path, relative)
            elif declared:
                data.append(path)
                self.arcnames[path] = relative.as_posix()
            elif (
                git is not None
                and (item.links[0] if item.links else path) in git.untracked
                and not looks_like_credential(relative)
            ):
                self.untracked.append(path)
        if linked:  # tracked symlinks: what they point at must be tracked too
            tracked = tracked_targets(linked, package)
            for item in linked:
                if item.target in tracked:
                    continue
                if item.links[-1] == item.path:  # the file itself is the link
                    raise untracked_target(item, project)
                data.remove(item.path)  # a file in a symlinked folder: like any untracked one
                if not looks_like_credential(item.path):
                    self.untracked.append(item.path)
        self.data[top_level] = tuple(data)

    def _project_of(self, src: Path) -> Path:
        """The folder symlinks may not leave: `project`, else the workspace root above `src`."""
        if self.project is None:
            try:
                self.project = find_root(src)
            except LambdapressError:
                return src  # a package outside any workspace (tests): its own folder
        return self.project

    def _add_module(self, path: Path, relative: PurePath) -> None:
        parts = list(relative.with_suffix("").parts)
        if not all(part.isidentifier() for part in parts):
            return  # `my-script.py`, `a.b.py`: no import statement can name it; never ships
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        name = ".".join(parts)
        if is_test_path(relative):
            self.test_modules[name] = path
        else:
            self.modules[name] = SourceModule(name, path, is_package)
            self.arcnames[path] = relative.as_posix()

    def owns(self, name: str) -> bool:
        """Whether the module `name` belongs to the indexed sources (by its top level)."""
        return name.split(".")[0] in self.roots

    def resolve(self, name: str) -> SourceModule | None:
        """The source module called `name`, or None."""
        return self.modules.get(name)

    def check_not_a_test(self, name: str, path: Path, line: int | None) -> None:
        """A test module imported by shipped code: on Lambda that import fails. Say why."""
        if name not in self.test_modules:
            return
        path_of_test = self.test_modules[name]
        if TEST_FOLDERS.intersection(name.split(".")):
            why = "a test module: it is in a tests/ folder"
        else:
            why = "a test module by its name"
        raise BundleError(
            f"{name} is {why}; test modules never ship, so this import would fail on Lambda",
            path=path,
            line=line,
            hint=f"rename it ({path_of_test}): shipped modules are not named test_*.py, "
            "*_test.py or conftest.py and are not under tests/",
        )


@dataclass(frozen=True)
class Closure:
    """What one entry point reaches: first-party modules and imports that leave them."""

    modules: tuple[SourceModule, ...]
    external: tuple[ImportRef, ...]


def first_party_closure(index: ModuleIndex, entries: Iterable[str]) -> Closure:
    """Follow imports from `entries` through first-party code (breadth first, deterministic)."""
    reached: dict[str, SourceModule] = {}
    external: list[ImportRef] = []
    queue: deque[str] = deque()

    def visit(name: str) -> None:
        # Importing a.b.c runs a/__init__.py and a/b/__init__.py first: they ship too.
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            prefix = ".".join(parts[:depth])
            module = index.resolve(prefix)
            if module is not None and prefix not in reached:
                reached[prefix] = module
                queue.append(prefix)

    for entry in entries:
        visit(entry)
    while queue:
        inside, leaving = _step(index, reached[queue.popleft()])
        for name in inside:
            visit(name)
        external += leaving
    ordered = tuple(reached[name] for name in sorted(reached))
    return Closure(modules=ordered, external=tuple(external))


def _step(index: ModuleIndex, module: SourceModule) -> tuple[list[str], list[ImportRef]]:
    """What `module` imports, split: first-party modules to follow, and imports that leave.

    Worked out once per module and run (every function of a service reaches the shared ones);
    a bad import is an error each time it is reached, never remembered.
    """
    known = index._steps.get(module.name)
    if known is not None and known[0] is index.facts:  # this run's: the same facts
        return known[1], known[2]
    inside: list[str] = []
    leaving: list[ImportRef] = []
    for ref in module_imports(module, index.facts):
        if index.owns(ref.name):
            index.check_not_a_test(ref.name, ref.path, ref.line)
            if index.resolve(ref.name) is None:
                # `from a import b` also yields a.b, which is fine when b is just a name.
                if not ref.optional:
                    raise BundleError(
                        f"imports {ref.name!r}, which is not a module of "
                        f"{index.roots[ref.top_level] / ref.top_level}",
                        path=ref.path,
                        line=ref.line,
                        hint="fix the import, or create the module",
                    )
                continue
            inside.append(ref.name)
        else:
            leaving.append(ref)
    index._steps[module.name] = (index.facts, inside, leaving)
    return inside, leaving


def module_imports(module: SourceModule, facts: FileFacts | None = None) -> list[ImportRef]:
    """The absolute names a module imports at run time (TYPE_CHECKING blocks excluded).

    With `facts`, a module whose bytes were analysed before (same digest, same name) is not
    parsed again: the names depend only on its bytes, its name and whether it is a package.
    """

    def analyse() -> list[tuple[str, int, bool]]:
        tree = parse_module(module.path)
        package = module.name if module.is_package else _parent(module.name)
        refs: list[ImportRef] = []
        _collect(tree.body, module, package, refs, optional=False)
        return [(r.name, r.line, r.optional) for r in refs]

    key = f"{module.name}:{'package' if module.is_package else 'module'}"
    try:
        found = facts.imports(module.path, key, analyse) if facts is not None else analyse()
    except OSError as exc:  # hashing it: a broken symlink, a loop, a folder named `x.py`
        raise unreadable(module.path, exc, "module") from None
    return [ImportRef(name, module.path, line, optional) for name, line, optional in found]


def parse_module(path: Path) -> ast.Module:
    """The AST of a module, or a BundleError naming the file (and line) and the fix.

    Covers what a checkout can hold: syntax errors, null bytes, bad encodings, and files that
    cannot be read (a symlink to nothing, a symlink loop, a folder named `x.py`).
    """
    try:
        source = path.read_bytes()
    except OSError as exc:
        raise unreadable(path, exc, "module") from None
    try:
        return ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        line = exc.lineno or None
        if line is None and b"\0" in source:  # Python does not say where the null byte is
            line = source.count(b"\n", 0, source.index(b"\0")) + 1
        raise BundleError(
            f"syntax error: {exc.msg}",
            path=path,
            line=line,
            hint="fix the Python syntax (and save the file as UTF-8); lambdapress reads "
            "modules without importing them",
        ) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise BundleError(
            f"cannot parse the module: {exc}",
            path=path,
            hint="fix the file: it must be Python source in UTF-8",
        ) from None


def is_stdlib(top_level: str) -> bool:
    """Whether a top-level module is part of the standard library."""
    return top_level in sys.stdlib_module_names or top_level == "__future__"


def package_data(index: ModuleIndex, modules: Iterable[SourceModule]) -> list[Path]:
    """The data files under the reached packages' folders, at any depth, each once.

    A data file in a subpackage ships with its parent package (which is always reached first),
    while the subpackage's modules ship only when something imports them.
    """
    data: set[Path] = set()
    for module in modules:
        if module.is_package:
            data.update(_data_under(index, module.path.parent))
    return sorted(data)


def _data_under(index: ModuleIndex, folder: Path) -> tuple[Path, ...]:
    """The indexed data files at any depth under `folder` (each folder worked out once)."""
    found = index._data_under.get(folder)
    if found is None:
        files: list[Path] = []
        for top, data in index.data.items():
            root = index.roots[top] / top
            if folder == root or folder.is_relative_to(root):
                files += (f for f in data if f.is_relative_to(folder))
        found = index._data_under[folder] = tuple(files)
    return found


def _parent(name: str) -> str:
    return name.rpartition(".")[0]


def _collect(
    body: list[ast.stmt], module: SourceModule, package: str, refs: list[ImportRef], optional: bool
) -> None:
    for node in body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                refs.append(ImportRef(alias.name, module.path, node.lineno, optional))
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package, module)
            if base:
                refs.append(ImportRef(base, module.path, node.lineno, optional))
            for alias in node.names:
                if alias.name != "*":
                    name = f"{base}.{alias.name}" if base else alias.name
                    # `from a import b`: b may be a submodule; resolved only if it exists.
                    refs.append(ImportRef(name, module.path, node.lineno, True))
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            _collect(node.orelse, module, package, refs, optional)
        elif isinstance(node, ast.Try):
            catches_import_error = any(_catches_import_error(h) for h in node.handlers)
            _collect(node.body, module, package, refs, optional or catches_import_error)
            for handler in node.handlers:
                _collect(handler.body, module, package, refs, optional)
            _collect(node.orelse + node.finalbody, module, package, refs, optional)
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    _collect([child], module, package, refs, optional)
                elif hasattr(child, "body") and isinstance(getattr(child, "body", None), list):
                    _collect(child.body, module, package, refs, optional)


def _absolute(node: ast.ImportFrom, package: str, module: SourceModule) -> str:
    if node.level == 0:
        return node.module or ""
    parts = package.split(".") if package else []
    if node.level - 1 > len(parts):
        raise BundleError(
            "relative import goes above the top-level package",
            path=module.path,
            line=node.lineno,
            hint="use an absolute import",
        )
    base = parts[: len(parts) - (node.level - 1)]
    if node.module:
        base.append(node.module)
    return ".".join(base)


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    names = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
    kind = handler.type
    if kind is None:
        return True
    candidates = kind.elts if isinstance(kind, ast.Tuple) else [kind]
    return any(isinstance(c, ast.Name) and c.id in names for c in candidates)
