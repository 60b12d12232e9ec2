"""Files of third-party wheels that can never be loaded on Lambda, left out of every zip.

One table (`RULES`) names each rule, what it matches and why nothing at run time can load what
it matches; the README's "How a zip is cut" prints the same table with the bytes each rule
saves on the example (`lambdapress.bench.trimming` computes them, a test keeps them equal).

Two kinds of rule:
- by name alone (`*.pyi`, `py.typed`, bytecode of another Python, installer bookkeeping,
  `*.md`/`*.rst` outside every package): decided for each file as the zip is assembled;
- by what the code reaches (test suites, documentation folders, modules that cannot import):
  decided per function at planning, from facts about each distribution's sources
  (`bundle.trim_facts`, remembered by the digest of its folder's record) and from what the
  function's own code imports (`Omissions` in the plan, part of its inputs hash). A folder or
  module that an import statement of the distribution's other code, an import of the
  function's own code or `include`, or a string naming it (`importlib.import_module`,
  `os.path.join(here, "tests")`) reaches always ships.

Licence files (`LICENSE*`, `LICENCE*`, `COPYING*`, `NOTICE*`, `AUTHORS*`, `COPYRIGHT*`, anything
in `*.dist-info/licenses/`) and SBOMs (`*.dist-info/sboms/`) always ship, whatever folder they
are in. `METADATA` (`importlib.metadata.version`, `requires`), `entry_points.txt` (plugin
discovery, e.g. pydantic's plugins), `top_level.txt` (`packages_distributions`) and `WHEEL` ship
too; `RECORD` does not (it would list files that are left out or replaced by bytecode). A
bytecode-only folder's `METADATA` ships without its description, the README that people read
on a package index's page (`bundle._sourceless`): every header stays.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True)
class Rule:
    """One rule of the table: its name, what it matches, and why nothing can load that."""

    name: str
    matches: str
    why: str


STUBS = Rule(
    "type stubs",
    "`*.pyi`",
    "read by type checkers only: `import` never loads a `.pyi`",
)
MARKERS = Rule(
    "typing markers",
    "`py.typed`",
    "an empty file that tells type checkers the package has inline types (PEP 561)",
)
FOREIGN_BYTECODE = Rule(
    "bytecode of another Python",
    "`__pycache__/*.cpython-3XY.pyc` of another version than the function's; `*.opt-N.pyc`",
    "CPython reads only the pycs of its own version, and `opt-N` ones only under `-O` or "
    "`PYTHONOPTIMIZE` (kept when the function's environment sets it)",
)
BOOKKEEPING = Rule(
    "installer bookkeeping",
    "`RECORD` (and its signatures), `INSTALLER`, `REQUESTED`, `direct_url.json`, uv's "
    "`uv_cache.json` and `uv_build.json` in `*.dist-info/`",
    "written for pip and uv to uninstall, audit or rebuild an install; `RECORD` would list "
    "files the zip no longer has, `uv_cache.json` holds the time of a build",
)
TEST_SUITES = Rule(
    "test suites",
    "`tests/` and `test/` folders and `conftest.py` inside a wheel, unless reached",
    "the package's own tests, run by pytest from a checkout; no import reaches them",
)
DOCUMENTATION = Rule(
    "documentation",
    "`docs/`, `doc/`, `examples/`, `example/` folders inside a wheel, unless reached; "
    "`*.md`, `*.rst` outside every package",
    "read by people: no import reaches them, and no code names them",
)
UNIMPORTABLE = Rule(
    "modules that cannot import",
    "a module nothing reaches whose top-level `import` needs a package that neither ships, "
    "nor is in the standard library or the Lambda runtime (`pydantic.mypy` needs mypy)",
    "importing it always fails with ImportError, as importing a missing module does",
)

RULES: tuple[Rule, ...] = (
    STUBS,
    MARKERS,
    FOREIGN_BYTECODE,
    BOOKKEEPING,
    TEST_SUITES,
    DOCUMENTATION,
    UNIMPORTABLE,
)
"""Every rule, in the order a file is matched against them (the first that matches counts)."""

TEST_FOLDERS = frozenset({"tests", "test"})
DOC_FOLDERS = frozenset({"docs", "doc", "examples", "example"})
FOLDERS = TEST_FOLDERS | DOC_FOLDERS
_BOOKKEEPING = frozenset(
    {
        "RECORD",
        "RECORD.jws",
        "RECORD.p7s",
        "INSTALLER",
        "REQUESTED",
        "direct_url.json",
        "uv_cache.json",  # uv's, for a distribution it built: the time of the build
        "uv_build.json",
    }
)
_DOC_SUFFIXES = frozenset({".md", ".rst"})
_LICENCE = re.compile(r"(licen[cs]e|copying|notice|authors|copyright)([._-].*)?", re.IGNORECASE)
_KEPT_DIST_INFO_FOLDERS = frozenset({"licenses", "license_files", "sboms"})
_OPTIMIZED = re.compile(r"\.opt-\d+\.pyc$")

# Top-level modules a function may import on Lambda that no wheel of its zip provides: the
# AWS SDK and its requirements in /var/runtime (there whatever `aws_sdk` says), the runtime
# client, and what the image's own Python may carry. A module that needs one of them is kept.
RUNTIME_IMAGE = frozenset(
    {
        "boto3",
        "botocore",
        "s3transfer",
        "jmespath",
        "dateutil",
        "six",
        "urllib3",
        "awslambdaric",
        "bootstrap",
        "runtime_client",
        "pip",
        "setuptools",
        "pkg_resources",
        "_distutils_hack",
        "wheel",
    }
)
# The standard library of every Lambda Python, whichever one runs lambdapress: modules that
# 3.12 and 3.13 removed still import on python3.11 (a module needing one is kept).
_REMOVED_FROM_STDLIB = frozenset(
    {
        "aifc",
        "asynchat",
        "asyncore",
        "audioop",
        "cgi",
        "cgitb",
        "chunk",
        "crypt",
        "distutils",
        "imghdr",
        "imp",
        "lib2to3",
        "mailcap",
        "msilib",
        "nis",
        "nntplib",
        "ossaudiodev",
        "pipes",
        "smtpd",
        "sndhdr",
        "spwd",
        "sunau",
        "telnetlib",
        "uu",
        "xdrlib",
    }
)
STANDARD_LIBRARY = frozenset(sys.stdlib_module_names) | _REMOVED_FROM_STDLIB | {"__future__"}


def is_kept(name: str) -> bool:
    """Licences and SBOMs: always shipped, whatever folder they are in."""
    folder, _, file = name.rpartition("/")
    if _LICENCE.fullmatch(file):
        return True
    if ".dist-info/" not in name:
        return False
    parts = folder.split("/")
    return any(
        part.endswith(".dist-info") and parts[index + 1] in _KEPT_DIST_INFO_FOLDERS
        for index, part in enumerate(parts[:-1])
    )


@functools.lru_cache(maxsize=1 << 16)
def by_name(name: str, python: str | None, optimize: bool = False) -> Rule | None:
    """The rule that leaves `name` (a path in a distribution's folder) out by its name alone.

    Every file of every zip is asked about as the zip is built: plain string tests, and the
    answers remembered.
    """
    if is_kept(name):
        return None
    folder, _, file = name.rpartition("/")
    suffix = file[file.rfind(".") :] if "." in file else ""
    if suffix == ".pyi":
        return STUBS
    if file == "py.typed":
        return MARKERS
    if suffix == ".pyc" and (folder == "__pycache__" or folder.endswith("/__pycache__")):
        if _OPTIMIZED.search(file) and not optimize:
            return FOREIGN_BYTECODE
        tag = file.split(".")  # `<module>.<tag>[.opt-N].pyc`
        if python is not None and len(tag) >= 3 and tag[1] != _cache_tag(python):
            return FOREIGN_BYTECODE
    if folder.endswith(".dist-info") and "/" not in folder:
        return BOOKKEEPING if file in _BOOKKEEPING else None
    if not folder and suffix.lower() in _DOC_SUFFIXES:
        return DOCUMENTATION
    return None


def _cache_tag(python: str) -> str:
    return "cpython-" + python.replace(".", "")


class Omissions(BaseModel):
    """What one function leaves out of its distributions beyond the rules by name.

    Part of the plan (and of the inputs hash): each entry is (the distribution folder's name,
    a path in it). A path ending in `/` is a folder; any other is a module without its suffix
    (`pydantic/mypy`: `mypy.py`, `mypy.pyc` and its `__pycache__` bytecode).
    """

    model_config = ConfigDict(frozen=True)

    python: str | None = None
    """The function's Python ("3.12"): bytecode of any other is foreign."""
    optimize: bool = False
    """The function's environment sets PYTHONOPTIMIZE: `opt-N` bytecode may be read."""
    paths: tuple[tuple[str, str], ...] = ()

    def rule_for(self, folder: str, name: str) -> Rule | None:
        """The rule that leaves `name` of the distribution folder `folder` out, if any."""
        rule = by_name(name, self.python, self.optimize)
        if rule is not None or not self.paths:
            return rule
        return _by_path(self.paths, folder, name)

    def keyed(self, inputs_hash: str) -> str:
        """`inputs_hash` with the omissions in it: a zip that leaves out more is rebuilt."""
        document = [inputs_hash, self.python, self.optimize, [list(p) for p in self.paths]]
        return hashlib.sha256(json.dumps(document).encode()).hexdigest()


@functools.lru_cache(maxsize=1 << 16)
def _by_path(paths: tuple[tuple[str, str], ...], folder: str, name: str) -> Rule | None:
    """The rule of the omission `paths` that leaves `name` of `folder` out, if any."""
    if is_kept(name):
        return None
    stem = _module_stem(name)
    for owner, path in paths:
        if owner != folder:
            continue
        if path.endswith("/"):
            if name.startswith(path):
                return TEST_SUITES if basename(path) in TEST_FOLDERS else DOCUMENTATION
        elif stem == path:
            return TEST_SUITES if basename(path) == "conftest" else UNIMPORTABLE
    return None


def _module_stem(name: str) -> str | None:
    """`pkg/mod` for `pkg/mod.py`, `pkg/mod.pyc` and `pkg/__pycache__/mod.cpython-312.pyc`."""
    if name.endswith(".py"):
        return name[:-3]
    if not name.endswith(".pyc"):
        return None
    folder, _, file = name.rpartition("/")
    if folder == "__pycache__" or folder.endswith("/__pycache__"):
        parent = folder[: -len("__pycache__")]  # `pkg/` (or "" at the top)
        return parent + file.split(".", 1)[0]
    return name[:-4]


def basename(path: str) -> str:
    """The last part of a candidate's path (`tests` of `pkg/tests/`)."""
    return PurePosixPath(path.rstrip("/")).name


def _dotted(path: str) -> str:
    return path.rstrip("/").replace("/", ".")


@dataclass(frozen=True)
class Candidate:
    """A folder or module of one distribution that a rule may leave out, and who reaches it."""

    path: str
    """`pkg/tests/` (a folder) or `pkg/mypy` (a module, without suffix)."""
    needs: tuple[str, ...] = ()
    """For a module: the top-level packages its top-level imports need (beyond the standard
    library and its own); it is left out only when one of them is missing."""
    reached_by: tuple[str, ...] = ()
    """The candidates whose code imports or names it; "" for code that is no candidate."""


@dataclass(frozen=True)
class DistributionFacts:
    """What the reach rules need to know of one distribution's sources."""

    candidates: tuple[Candidate, ...] = ()

    def to_json(self) -> list[Any]:
        """JSON for the planning facts."""
        return [[c.path, list(c.needs), list(c.reached_by)] for c in self.candidates]

    @classmethod
    def from_json(cls, raw: list[Any]) -> DistributionFacts:
        """Back from the planning facts."""
        return cls(tuple(Candidate(str(p), tuple(n), tuple(r)) for p, n, r in raw))


def reaches(candidate: str, names: Iterable[str], strings: Iterable[str]) -> bool:
    """Whether an import of `names` or one of `strings` names the candidate.

    A folder (`pkg/tests/`) by its dotted name or as a part of a path (`join(here, "tests")`),
    a module (`pkg/mypy`) by its dotted name, its relative name (`.mypy`) or its file name.
    """
    dotted = _dotted(candidate)
    if any(n == dotted or n.startswith(dotted + ".") for n in names):
        return True
    base = basename(candidate)
    if candidate.endswith("/"):  # a folder: named as a path part (`join(here, "tests")`)
        parent = basename(PurePosixPath(candidate).parent.as_posix())
        return any(_names_folder(re.split(r"[./\\:]", s), base, parent) for s in strings)
    return any(  # a module: by its dotted name, relative name or file name
        s == dotted or s.endswith("." + base) or s.endswith(f"/{base}.py") or s == f"{base}.py"
        for s in strings
    )


def _names_folder(parts: list[str], name: str, parent: str) -> bool:
    """Whether a path's `parts` name the folder `name` (under `parent`, when they say)."""
    return any(
        part == name and (index == 0 or parts[index - 1] in (parent, ""))
        for index, part in enumerate(parts)
    )


@dataclass(frozen=True)
class Reach:
    """What one function's code can import, besides what its distributions reach themselves."""

    imported: frozenset[str]
    """Dotted names its own code (and `include`) imports from third-party packages."""
    available: frozenset[str]
    """Top-level modules it can import on Lambda beyond the standard library: its
    distributions' and first-party packages, and the runtime's (`RUNTIME_IMAGE`)."""


def omissions(
    python: str,
    distributions: Mapping[str, DistributionFacts],
    reach: Reach,
    optimize: bool = False,
) -> Omissions:
    """What the function leaves out: the candidates nothing it can run reaches.

    `distributions` maps each distribution folder's name to its facts. A module candidate
    whose needs are all available is no candidate for this function. The rest are left out
    unless the function imports them, or code that ships (no candidate, or a candidate
    kept) reaches them: kept candidates are followed until nothing changes.
    """
    available = reach.available | STANDARD_LIBRARY | RUNTIME_IMAGE
    left: dict[tuple[str, str], Candidate] = {}
    for folder, facts in distributions.items():
        for candidate in facts.candidates:
            if candidate.needs and set(candidate.needs) <= available:
                continue
            if reaches(candidate.path, reach.imported, ()):
                continue
            left[(folder, candidate.path)] = candidate
    changed = True
    while changed:
        changed = False
        for (folder, path), candidate in list(left.items()):
            if any(s == "" or (folder, s) not in left for s in candidate.reached_by):
                del left[(folder, path)]
                changed = True
    return Omissions(python=python, optimize=optimize, paths=tuple(sorted(left)))
