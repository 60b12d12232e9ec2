"""Shared libraries that Python code loads by name through ctypes, found without running it.

`ctypes.util.find_library("pq")`, `ctypes.CDLL("libmagic.so.1")`, `cdll.LoadLibrary(...)` and
`ctypes.cdll.libfoo` with a literal name are read from the module's AST. What runs only on
another platform is left out: a branch under `if sys.platform == "win32":` (or `os.name`,
`platform.system()`, `sys.platform.startswith(...)`), evaluated as on Lambda (Linux), and
Windows and macOS names (`kernel32`, `*.dll`, `*.dylib`, frameworks). A lookup inside a `try`
whose handler catches OSError (or ImportError, Exception, everything) is marked `guarded`: the
code has a way out when the library is missing. Names built at run time are not seen.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import PurePosixPath

# What Lambda's Python reports: the values platform guards are evaluated with.
_ON_LAMBDA = {"sys.platform": "linux", "os.name": "posix", "platform.system()": "Linux"}
_LOADERS = frozenset({"CDLL", "PyDLL"})  # WinDLL and OleDLL exist on Windows only
_LIBRARY_OBJECTS = frozenset({"cdll", "pydll"})
_CATCHES_LOAD_FAILURE = frozenset(
    {"OSError", "EnvironmentError", "IOError", "ImportError", "Exception", "BaseException"}
)
_FOREIGN_SUFFIXES = (".dll", ".dylib", ".framework")
# Folders of modules written for one other platform (keyring's `backends/macOS/`, filelock's
# `_windows/`): a package imports them only there.
_FOREIGN_FOLDERS = frozenset({"macos", "darwin", "osx", "windows", "_windows", "win32", "_win32"})


@dataclass(frozen=True)
class Lookup:
    """One literal library lookup in a module."""

    line: int
    call: str
    """How it is written: `ctypes.util.find_library`, `ctypes.CDLL`, `cdll.libc`..."""
    name: str
    """The literal name: `pq` for find_library, a file name (`libpq.so.5`) for a load."""
    guarded: bool
    """Inside a `try` that catches the failure to load it."""

    @property
    def searches(self) -> bool:
        """`find_library("x")` asks for any `libx.so*`; a load names a file."""
        return self.call.endswith("find_library")

    @property
    def library(self) -> str:
        """The library as people name it: `libpq` for `find_library("pq")`, else the name."""
        return f"lib{self.name}" if self.searches and not self.name.startswith("lib") else self.name

    def satisfied_by(self, soname: str) -> bool:
        """Whether a library called `soname` (`libpq.so.5`) answers this lookup."""
        if soname == self.name:
            return True
        if not self.searches and not self.name.endswith(".so") and ".so" in self.name:
            return False  # a load of `libpq.so.5` takes that version only
        stems = (self.library, self.name) if self.searches else (library_stem(self.name),)
        return any(soname == f"{stem}.so" or soname.startswith(f"{stem}.so.") for stem in stems)

    def as_list(self) -> list[object]:
        """JSON for the planning facts."""
        return [self.line, self.call, self.name, self.guarded]

    @classmethod
    def from_list(cls, value: list[object]) -> Lookup:
        """Back from the planning facts."""
        line, call, name, guarded = value
        return cls(int(str(line)), str(call), str(name), bool(guarded))


def find_lookups(source: bytes, filename: str = "<module>") -> list[Lookup]:
    """Every literal library lookup in `source` that can run on Lambda, in file order.

    Source that does not parse has none (the import analysis reports first-party syntax
    errors; a third-party module that does not parse is not this check's business).
    """
    if b"ctypes" not in source and b"cdll" not in source:  # the common case: nothing to parse
        return []
    try:
        tree = ast.parse(source, filename=filename)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    found: list[Lookup] = []
    _visit(tree, False, found)
    return sorted(found, key=lambda lookup: (lookup.line, lookup.call, lookup.name))


def _visit(node: ast.AST, guarded: bool, found: list[Lookup]) -> None:
    if isinstance(node, ast.If | ast.IfExp):
        verdict = _on_lambda(node.test)
        _visit(node.test, guarded, found)
        branches: list[list[ast.AST]] = []
        body = _as_list(node.body)
        orelse = _as_list(node.orelse)
        if verdict is not False:
            branches.append(body)
        if verdict is not True:
            branches.append(orelse)
        for branch in branches:
            for child in branch:
                _visit(child, guarded, found)
        return
    if isinstance(node, ast.Try | ast.TryStar):
        catches = any(_catches_load_failure(handler) for handler in node.handlers)
        for child in node.body:
            _visit(child, guarded or catches, found)
        for child in (*node.handlers, *node.orelse, *node.finalbody):
            _visit(child, guarded, found)
        return
    if isinstance(node, ast.Call):
        lookup = _call_lookup(node, guarded)
        if lookup is not None:
            found.append(lookup)
    elif isinstance(node, ast.Attribute):
        lookup = _attribute_lookup(node, guarded)
        if lookup is not None:
            found.append(lookup)
    for child in ast.iter_child_nodes(node):
        _visit(child, guarded, found)


def platform_specific(arcname: str) -> bool:
    """Whether a module's path says it is for macOS or Windows (`backends/macOS/api.py`)."""
    return any(part.lower() in _FOREIGN_FOLDERS for part in PurePosixPath(arcname).parts[:-1])


def _as_list(part: list[ast.stmt] | ast.expr) -> list[ast.AST]:
    return list(part) if isinstance(part, list) else [part]


def _call_lookup(node: ast.Call, guarded: bool) -> Lookup | None:
    called = _dotted(node.func)
    if called is None or not node.args:
        return None
    parts = called.split(".")
    is_search = parts[-1] == "find_library"
    is_load = parts[-1] in _LOADERS or (
        parts[-1] == "LoadLibrary" and len(parts) > 1 and parts[-2] in _LIBRARY_OBJECTS
    )
    if not (is_search or is_load):
        return None
    first = node.args[0]
    if not isinstance(first, ast.Constant) or not isinstance(first.value, str):
        return None
    name = PurePosixPath(first.value).name if "/" in first.value else first.value
    if not name or _is_foreign(name):
        return None
    return Lookup(node.lineno, called, name, guarded)


def _attribute_lookup(node: ast.Attribute, guarded: bool) -> Lookup | None:
    """`ctypes.cdll.libfoo`: attribute access on a library loader loads `libfoo`."""
    owner = _dotted(node.value)
    if owner is None or owner.split(".")[-1] not in _LIBRARY_OBJECTS:
        return None
    if node.attr == "LoadLibrary" or node.attr.startswith("_") or _is_foreign(node.attr):
        return None
    return Lookup(node.lineno, f"{owner}.{node.attr}", node.attr, guarded)


def _is_foreign(name: str) -> bool:
    """A Windows or macOS library name: never loaded on Lambda."""
    lowered = name.lower()
    return lowered.endswith(_FOREIGN_SUFFIXES) or lowered in ("kernel32", "user32", "msvcrt")


def library_stem(name: str) -> str:
    """`libpq.so.5` -> `libpq`: the library whatever its version; a name without `.so` stays."""
    return name.split(".so", 1)[0]


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        owner = _dotted(node.value)
        return f"{owner}.{node.attr}" if owner is not None else None
    return None


def _catches_load_failure(handler: ast.ExceptHandler) -> bool:
    kind = handler.type
    if kind is None:
        return True
    candidates = kind.elts if isinstance(kind, ast.Tuple) else [kind]
    return any((_dotted(c) or "").split(".")[-1] in _CATCHES_LOAD_FAILURE for c in candidates)


def _on_lambda(test: ast.expr) -> bool | None:
    """The test's value on Lambda when it only asks which platform this is; else None."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _on_lambda(test.operand)
        return None if inner is None else not inner
    if isinstance(test, ast.BoolOp):
        values = [_on_lambda(v) for v in test.values]
        if isinstance(test.op, ast.And):
            return False if False in values else (True if all(values) else None)
        return True if True in values else (False if all(v is False for v in values) else None)
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute) and test.args:
        # sys.platform.startswith("win") / ("win", "cygwin")
        subject = _platform_value(test.func.value)
        prefix = _constant_strings(test.args[0])
        if subject is not None and prefix is not None and test.func.attr == "startswith":
            return subject.startswith(prefix)
        return None
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        subject = _platform_value(test.left)
        other = _constant_strings(test.comparators[0])
        if subject is None or other is None:
            return None
        operator = test.ops[0]
        if isinstance(operator, ast.Eq | ast.NotEq) and len(other) == 1:
            return (subject == other[0]) == isinstance(operator, ast.Eq)
        if isinstance(operator, ast.In | ast.NotIn):
            return (subject in other) == isinstance(operator, ast.In)
    return None


def _platform_value(node: ast.expr) -> str | None:
    if isinstance(node, ast.Call) and not node.args:
        called = _dotted(node.func)
        return _ON_LAMBDA.get(f"{called}()") if called is not None else None
    name = _dotted(node)
    return _ON_LAMBDA.get(name) if name is not None else None


def _constant_strings(node: ast.expr) -> tuple[str, ...] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return (node.value,)
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        values = [e.value for e in node.elts if isinstance(e, ast.Constant)]
        if len(values) == len(node.elts) and all(isinstance(v, str) for v in values):
            return tuple(str(v) for v in values)
    return None
