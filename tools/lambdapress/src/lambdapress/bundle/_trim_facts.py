"""The reach rules of `bundle.trim`, planned for each function of a `package` run.

Each distribution's facts (its tests and docs folders, its modules that need a package it
does not declare, and which of its code reaches them) are read from its sources once per
installed folder and remembered with the planning facts by the digest of the folder's record,
like the native-library facts: a no-op run reads no third-party module. What a function's own
code imports comes from the import analysis of its modules, remembered by their digests.

Reading a distribution is cheap on purpose: its modules are matched with regular
expressions, and only a module with a top-level import of something the distribution does
not require is parsed (to know whether that import runs whenever the module is imported).
An import or a string that only looks like one (in a docstring) counts as reaching what it
names: that can only keep more.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from lambdapress.bundle import wheels
from lambdapress.bundle._analysis import Contents, ServiceContext
from lambdapress.bundle._entry import ENTRY_MODULE
from lambdapress.bundle._facts import FileFacts
from lambdapress.bundle._imports import SourceModule, is_stdlib, module_imports
from lambdapress.bundle.trim import (
    FOLDERS,
    RUNTIME_IMAGE,
    STANDARD_LIBRARY,
    Candidate,
    DistributionFacts,
    Omissions,
    Reach,
    basename,
    omissions,
    reaches,
)
from lambdapress.bundle.wheels import InstalledDistribution
from lambdapress.errors import BundleError
from lambdapress.support.integrity import COMPLETE_MARK

ANALYSIS_VERSION = 1
"""Part of the key a distribution's facts are remembered by: bumped when they change."""

_TOP_LEVEL_IMPORT = re.compile(rb"^(?:from[ \t]+([A-Za-z_]\w*)|import[ \t]+([^\n#;]+))", re.M)
_SYS_PATH = re.compile(rb"sys\.path\s*(?:\.\s*(?:insert|append|extend)|\[|\+=|=[^=])")
_REQUIRES = re.compile(rb"^Requires-Dist:[ \t]*([A-Za-z0-9][A-Za-z0-9._-]*)[^;\n]*(;[^\n]*)?", re.M)
_NAMING_LINE = re.compile(rb"^[^\n]*(?:\bimport\b|['\"])[^\n]*$", re.M)
_WORD = re.compile(rb"\w+")
_IMPORT = re.compile(r"^[ \t]*import[ \t]+([\w. \t,]+)", re.M)
_FROM_IMPORT = re.compile(
    r"^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*(?:\\\n[^\n]*)*)", re.M
)
_STRING = re.compile(r"(['\"])([^'\"\n]*)\1")


@dataclass
class Trimmer:
    """The omissions of each function of one run; a distribution's facts are read once."""

    facts: FileFacts | None = None
    _known: dict[Path, DistributionFacts] = field(default_factory=dict)

    def omissions(self, context: ServiceContext, contents: Contents) -> Omissions:
        """What the function of `contents` leaves out of its distributions, beyond names."""
        settings = context.service.settings
        shipped = {name for d in contents.distributions for name in d.import_names}
        reach = Reach(
            imported=frozenset(self._imported(context, contents)),
            available=frozenset({*context.index.roots, ENTRY_MODULE} | shipped),
        )
        distributions = {d.folder.name: self.distribution(d) for d in contents.distributions}
        optimize = bool(settings.environment.get("PYTHONOPTIMIZE"))
        return omissions(context.target.python, distributions, reach, optimize)

    def distribution(self, dist: InstalledDistribution) -> DistributionFacts:
        """The facts of one installed distribution, from its sources."""
        folder = dist.with_sources
        known = self._known.get(folder)
        if known is not None:
            return known
        try:
            digest: str | None = hashlib.sha256((folder / COMPLETE_MARK).read_bytes()).hexdigest()
        except OSError:
            digest = None

        def analyse() -> list[object]:
            record = wheels.read_record(folder)
            if record is None:
                raise BundleError(
                    f"the cached wheel folder {folder} lost its record while it was read",
                    hint="run again: the folder is then installed afresh",
                )
            return analyse_distribution(folder, record.files).to_json()

        if digest is None or self.facts is None:
            raw = analyse()
        else:
            raw = self.facts.native(f"trim{ANALYSIS_VERSION}:{digest}", analyse)
        known = DistributionFacts.from_json(raw)
        self._known[folder] = known
        return known

    def _imported(self, context: ServiceContext, contents: Contents) -> set[str]:
        """The third-party names the function's own modules and `include` import."""
        by_arcname = {f.arcname: f for f in contents.first_party if f.path is not None}
        names = {n for n in context.service.settings.include if not context.index.owns(n)}
        for module in contents.modules:
            base = module.replace(".", "/")
            package = by_arcname.get(f"{base}/__init__.py")
            source = package or by_arcname.get(f"{base}.py")
            if source is None or source.path is None:
                continue
            found = SourceModule(module, source.path, package is not None)
            for ref in module_imports(found, self.facts):
                if not context.index.owns(ref.name) and not is_stdlib(ref.top_level):
                    names.add(ref.name)
        return names


def analyse_distribution(folder: Path, names: Iterable[str]) -> DistributionFacts:
    """The folders and modules of a distribution that a reach rule may leave out.

    `folder` holds the distribution's sources (`.py`); `names` are its files (the record's).
    Candidates: the outermost `tests`, `test`, `docs`, `doc`, `examples` and `example`
    folders, every `conftest.py`, and each module (never a package's `__init__`) whose
    top-level imports need a package beyond the standard library, the runtime's, its own and
    the ones it always requires. For each, the candidates (or "" for other code) that reach
    it.
    """
    listed = sorted(names)
    files = [n for n in listed if not _in_metadata(n)]
    own = {PurePosixPath(n).parts[0].split(".")[0] for n in files} | _required(folder, listed)
    folders = _candidate_folders(files)
    sources = {n[:-3]: _read(folder / n) for n in files if n.endswith(".py")}
    # A distribution that changes sys.path as it is imported may import what it vendors
    # under another name: none of its modules is a candidate.
    movable = not any(_changes_sys_path(text) for text in sources.values())
    needs: dict[str, tuple[str, ...]] = {}
    for stem, text in sources.items():
        name = PurePosixPath(stem).name
        if any(stem.startswith(f) for f in folders) or name == "__init__":
            continue
        if not all(part.isidentifier() for part in stem.split("/")):
            continue
        if name == "conftest":
            needs[stem] = ()
        elif movable and (missing := _needs(text, own)):
            needs[stem] = missing
    candidates = [*folders, *sorted(needs)]
    if not candidates:
        return DistributionFacts()
    by_name: dict[bytes, list[str]] = {}
    for candidate in candidates:
        by_name.setdefault(basename(candidate).encode(), []).append(candidate)
    reached: dict[str, set[str]] = {c: set() for c in candidates}
    for stem, text in sources.items():
        mentioned = _mentioned(text, by_name)
        if not mentioned:
            continue
        source = next((f for f in folders if stem.startswith(f)), stem if stem in needs else "")
        for target in _references(text, stem, mentioned):
            if target != source:
                reached[target].add(source)
    return DistributionFacts(
        tuple(Candidate(c, needs.get(c, ()), tuple(sorted(reached[c]))) for c in candidates)
    )


def _in_metadata(name: str) -> bool:
    top = PurePosixPath(name).parts[0]
    return top.endswith((".dist-info", ".data", ".egg-info"))


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def _required(folder: Path, names: list[str]) -> set[str]:
    """The import names the distribution's unconditional requirements usually have.

    Guessed from the distribution names (`typing-extensions`: `typing_extensions`): a wrong
    guess only makes a module a candidate, which then costs a parse and nothing else.
    """
    required: set[str] = set()
    for name in names:
        path = PurePosixPath(name)
        if path.name != "METADATA" or not path.parent.name.endswith(".dist-info"):
            continue
        for match in _REQUIRES.finditer(_read(folder / name)):
            if b"extra" not in (match.group(2) or b""):
                required.add(re.sub(r"[-.]", "_", match.group(1).decode()).lower())
    return required


def _candidate_folders(files: list[str]) -> list[str]:
    """The outermost folders named like tests or docs (`pkg/tests/`, or `tests/` at the root)."""
    found: set[str] = set()
    for name in files:
        parts = name.split("/")[:-1]
        for depth, part in enumerate(parts):
            if part in FOLDERS:
                found.add("/".join(parts[: depth + 1]) + "/")
                break
    return sorted(found)


def _changes_sys_path(text: bytes) -> bool:
    """Whether the module changes `sys.path` when it is imported (outside any function)."""
    if not _SYS_PATH.search(text):
        return False
    tree = _parse(text)
    if tree is None:
        return True
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "path"
            and isinstance(node.value, ast.Name)
            and node.value.id == "sys"
        ):
            return True
        pending.extend(ast.iter_child_nodes(node))
    return False


def _needs(text: bytes, own: set[str]) -> tuple[str, ...]:
    """Top-level packages the module's own top-level imports need beyond the known ones."""
    known = STANDARD_LIBRARY | RUNTIME_IMAGE | own
    written: set[str] = set()
    for match in _TOP_LEVEL_IMPORT.finditer(text):
        if match.group(1):
            written.add(match.group(1).decode())
        else:
            for part in match.group(2).decode(errors="replace").split(","):
                written.add(part.strip().split(" ")[0].split(".")[0])
    if not written - known:  # the common case: nothing to parse
        return ()
    tree = _parse(text)
    if tree is None:
        return ()
    needed: set[str] = set()
    for node in tree.body:  # the module's own statements: they run whenever it is imported
        if isinstance(node, ast.Import):
            needed.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            needed.add(node.module.split(".")[0])
    return tuple(sorted(needed - known))


def _parse(text: bytes) -> ast.Module | None:
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _mentioned(text: bytes, by_name: dict[bytes, list[str]]) -> list[str]:
    """The candidates whose name is a word of a line with an import or a quote in `text`."""
    if not any(name in text for name in by_name):
        return []
    words: set[bytes] = set()
    for line in _NAMING_LINE.finditer(text):
        words.update(_WORD.findall(line.group(0)))
    return [c for name in sorted(words & by_name.keys()) for c in by_name[name]]


def _references(text: bytes, stem: str, candidates: list[str]) -> list[str]:
    """The candidates the module `stem` imports (anywhere in it) or names in a string."""
    source = text.decode("utf-8", errors="replace")
    package = stem.replace("/", ".").rpartition(".")[0]  # `pkg/__init__` and `pkg/mod`: pkg
    names: set[str] = set()
    for match in _IMPORT.finditer(source):
        names.update(part.split()[0] for part in match.group(1).split(",") if part.split())
    for match in _FROM_IMPORT.finditer(source):
        base = _absolute(len(match.group(1)), match.group(2), package)
        if base is None:
            continue
        names.add(base)
        listed = re.sub(r"#[^\n]*|\\\n|[()]", " ", match.group(3))  # comments, continuations
        for part in listed.split(","):
            word = part.split()[0] if part.split() else ""
            if word.isidentifier():
                names.add(f"{base}.{word}" if base else word)
    strings = {m.group(2) for m in _STRING.finditer(source)}
    return [c for c in candidates if reaches(c, names, strings)]


def _absolute(level: int, module: str, package: str) -> str | None:
    """The absolute name of `from <level dots><module> import` in `package`."""
    if level == 0:
        return module
    parts = package.split(".") if package else []
    if level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (level - 1)]
    if module:
        base.append(module)
    return ".".join(base)
