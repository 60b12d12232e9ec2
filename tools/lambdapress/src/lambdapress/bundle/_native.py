"""Shared libraries a function loads that Lambda's Python runtime does not have.

A native extension that needs `libpq.so.5` (its ELF `DT_NEEDED`), or a module that loads
`libmagic.so.1` through ctypes, imports fine on a developer's machine that has the library
and fails on Lambda, whose image carries only the libraries that
`lambda_platform.runtime_libraries(runtime)` lists. `package` reports each such library for
every function that ships it, with the file, the library and the fix, before anything is
written to dist/.

A library counts as present when the runtime's list has it, when the zip ships it (a file of
that name or soname anywhere in the zip: `psycopg_binary.libs/`, `*.libs/`, next to the
extension), or when the service lists it in `[tool.lambdapress] layer_libraries` (a layer the
functions are deployed with provides it). What is missing is:
- an error for a shipped ELF object's `DT_NEEDED`: the loader refuses to load the extension;
- an error for a literal ctypes lookup in first-party code (a warning when it sits in a `try`
  that catches the failure), and in the modules of an implementation that
  `bundle.implementations` pins (psycopg's pure-Python one looks libpq up);
- a warning for one in third-party code, whose lookups often serve optional features or
  other platforms: the build goes on, and the warning says what would fail;
- nothing for the modules of an implementation that is not pinned: they never run.

The facts of each file are remembered by content digest with the planning facts
(`bundle.facts`): an installed distribution by the digest of its record, a first-party file
by its own. A no-op run reads no ELF file and parses no module for this check.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from lambdapress.bundle import wheels
from lambdapress.bundle._analysis import Contents
from lambdapress.bundle._elf import ElfError, read_dynamic
from lambdapress.bundle._facts import FileFacts
from lambdapress.bundle._implementations import Pinned
from lambdapress.bundle._library_lookups import (
    Lookup,
    find_lookups,
    library_stem,
    platform_specific,
)
from lambdapress.bundle.plan import SourceFile
from lambdapress.bundle.trim import Omissions
from lambdapress.bundle.wheels import InstalledDistribution
from lambdapress.config.lambda_platform import Runtime, runtime_libraries
from lambdapress.config.settings import TABLE
from lambdapress.errors import BundleError
from lambdapress.support.integrity import COMPLETE_MARK

SHARED_OBJECT = re.compile(r"\.so(\.\d+)*$")
"""A file the dynamic loader may load: `x.cpython-312-x86_64-linux-gnu.so`, `libpq.so.5.18`."""
LAYER_KEY = "layer_libraries"


@dataclass(frozen=True)
class FileNative:
    """What one shipped file asks of the loader: an ELF object's needs, a module's lookups."""

    needed: tuple[str, ...] = ()
    soname: str | None = None
    lookups: tuple[Lookup, ...] = ()
    problem: str | None = None
    """Why an ELF object could not be read (reported as a warning)."""

    @property
    def is_empty(self) -> bool:
        """Nothing to check: the file needs no library (most files)."""
        return not (self.needed or self.lookups or self.problem)

    def to_json(self) -> dict[str, Any]:
        """JSON for the planning facts."""
        return {
            "needed": list(self.needed),
            "soname": self.soname,
            "lookups": [lookup.as_list() for lookup in self.lookups],
            "problem": self.problem,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> FileNative:
        """Back from the planning facts."""
        return cls(
            needed=tuple(value["needed"]),
            soname=value["soname"],
            lookups=tuple(Lookup.from_list(item) for item in value["lookups"]),
            problem=value["problem"],
        )


@dataclass(frozen=True)
class Finding:
    """A library a shipped file needs and nothing provides on Lambda."""

    function: str
    library: str | None
    """None when the file itself could not be read (`how` says why)."""
    how: str
    """`needed by the ELF object (DT_NEEDED)`, or the ctypes call as written."""
    file: str
    """The file as shown: a path relative to the workspace, or `arcname in dist version`."""
    path: Path
    """Where to look: the first-party file, or the service's pyproject for a dependency."""
    line: int | None
    fix: str
    error: bool


@dataclass
class NativeCheck:
    """The check for one `package` run: distributions' facts are worked out once per run."""

    root: Path
    facts: FileFacts | None = None
    _distributions: dict[Path, dict[str, FileNative]] = field(default_factory=dict)
    # Asked again by every function that ships them: worked out once per run.
    _files: dict[Path, FileNative] = field(default_factory=dict)
    _shipped: dict[Path, tuple[frozenset[str], tuple[tuple[str, FileNative], ...]]] = field(
        default_factory=dict
    )
    _kept_by: dict[
        tuple[Path, str | None, bool, tuple[tuple[str, str], ...]],
        tuple[frozenset[str], tuple[tuple[str, FileNative], ...]],
    ] = field(default_factory=dict)

    def check(
        self,
        function: str,
        runtime: Runtime,
        contents: Contents,
        *,
        pyproject: Path,
        layer_libraries: Iterable[str] = (),
        pinned: Sequence[Pinned] = (),
        left_out: Omissions | None = None,
    ) -> list[Finding]:
        """The libraries `function`'s zip needs that neither it, the runtime nor a layer has.

        `contents` are what the import analysis ships; files that `left_out` (`bundle.trim`)
        keeps out of the zip are neither checked nor counted as present.
        """
        own = [(f, self._first_party(f)) for f in contents.first_party if f.path is not None]
        third = [(d, self._shipped_by(d)) for d in contents.distributions]
        if left_out is not None:
            third = [(d, self._kept(d, shipped, left_out)) for d, shipped in third]
        bundled: set[str] = set()
        for source, found in own:
            bundled.update(_names(source.arcname, found))
        for _dist, (names, _files) in third:
            bundled.update(names)
        available = _Available(runtime, frozenset(bundled), frozenset(layer_libraries))
        inactive = frozenset(f for p in pinned for f in p.inactive_files())
        pinned_files = {f: p for p in pinned for f in p.implementation.files}
        findings: list[Finding] = []
        for source, found in own:
            assert source.path is not None
            if found.is_empty:
                continue
            shown = _relative(source.path, self.root)
            findings += _missing(
                function, found, available, shown, source.path, first_party=True, pinned=None
            )
        for dist, (_names_of_dist, files) in third:
            for arcname, found in files:
                if arcname in inactive or (found.lookups and platform_specific(arcname)):
                    found = FileNative(found.needed, found.soname, (), found.problem)
                if found.is_empty:
                    continue
                shown = f"{arcname} in {dist.name} {dist.version}"
                findings += _missing(
                    function,
                    found,
                    available,
                    shown,
                    pyproject,
                    first_party=False,
                    pinned=pinned_files.get(arcname),
                )
        return findings

    def _first_party(self, source: SourceFile) -> FileNative:
        assert source.path is not None
        path = source.path
        known = self._files.get(path)
        if known is not None:
            return known
        kind = _kind(source.arcname)
        if kind is None:
            found = FileNative()
        elif self.facts is None:
            found = _analyse(path, kind)
        else:
            key = f"{kind}:{self.facts.digest(path)}"
            raw = self.facts.native(key, lambda: _analyse(path, kind).to_json())
            found = FileNative.from_json(raw)
        self._files[path] = found
        return found

    def _shipped_by(
        self, dist: InstalledDistribution
    ) -> tuple[frozenset[str], tuple[tuple[str, FileNative], ...]]:
        """The names a distribution's libraries answer to, and its files with native facts."""
        known = self._shipped.get(dist.with_sources)
        if known is None:
            by_name = self._distribution(dist)
            names = frozenset(n for arcname, f in by_name.items() for n in _names(arcname, f))
            files = tuple((a, f) for a, f in sorted(by_name.items()) if not f.is_empty)
            known = self._shipped[dist.with_sources] = (names, files)
        return known

    def _kept(
        self,
        dist: InstalledDistribution,
        shipped: tuple[frozenset[str], tuple[tuple[str, FileNative], ...]],
        left_out: Omissions,
    ) -> tuple[frozenset[str], tuple[tuple[str, FileNative], ...]]:
        """`_shipped_by` without the files `left_out` keeps out of this function's zip.

        What is left out of a distribution depends on the target's Python and the paths named
        for that distribution alone, the same for most functions: worked out once per run.
        """
        folder = dist.folder.name
        own_paths = tuple(p for p in left_out.paths if p[0] == folder)
        key = (dist.with_sources, left_out.python, left_out.optimize, own_paths)
        known = self._kept_by.get(key)
        if known is not None:
            return known
        by_name = self._distribution(dist)
        kept = {n: f for n, f in by_name.items() if left_out.rule_for(folder, n) is None}
        if len(kept) == len(by_name):
            result = shipped
        else:
            names = frozenset(n for arcname, f in kept.items() for n in _names(arcname, f))
            result = names, tuple((a, f) for a, f in sorted(kept.items()) if not f.is_empty)
        self._kept_by[key] = result
        return result

    def _distribution(self, dist: InstalledDistribution) -> dict[str, FileNative]:
        folder = dist.with_sources
        known = self._distributions.get(folder)
        if known is not None:
            return known
        try:
            digest = hashlib.sha256((folder / COMPLETE_MARK).read_bytes()).hexdigest()
        except OSError:
            digest = None

        def analyse() -> dict[str, Any]:
            record = wheels.read_record(folder)
            if record is None:
                raise BundleError(
                    f"the cached wheel folder {folder} lost its record while it was checked",
                    hint="run again: the folder is then installed afresh",
                )
            result: dict[str, Any] = {}
            for name in sorted(record.files):
                kind = _kind(name)
                if kind is not None:
                    found = _analyse(folder / name, kind)
                    if kind == "elf" or not found.is_empty:  # every library: it may be needed
                        result[name] = found.to_json()
            return result

        if digest is None or self.facts is None:
            raw = analyse()
        else:
            raw = self.facts.native(f"dist:{digest}", analyse)
        known = {name: FileNative.from_json(value) for name, value in raw.items()}
        self._distributions[folder] = known
        return known


def report(findings: Iterable[Finding]) -> list[str]:
    """Warnings for what may fail on Lambda; a BundleError listing what will.

    Each (file, line, library) is said once, naming every function that ships it.
    """
    grouped: dict[tuple[str, int | None, str | None, str, bool], list[Finding]] = {}
    for finding in findings:
        key = (finding.file, finding.line, finding.library, finding.how, finding.error)
        grouped.setdefault(key, []).append(finding)
    errors = [group for key, group in grouped.items() if key[-1]]
    warnings = [
        f"{_sentence(group)}; fix: {group[0].fix}" for key, group in grouped.items() if not key[-1]
    ]
    if errors:
        first = errors[0][0]
        message = _sentence(errors[0])
        for group in errors[1:]:
            message += f"\n  also: {_sentence(group)}"
        raise BundleError(message, path=first.path, line=first.line, hint=first.fix)
    return warnings


def _sentence(group: list[Finding]) -> str:
    first = group[0]
    functions = ", ".join(sorted({f.function for f in group}))
    where = f"{first.file}:{first.line}" if first.line is not None else first.file
    if first.library is None:
        return f"{functions}: {where} is {first.how}"
    outcome = (
        "on Lambda it fails to load"
        if first.error
        else "if that code runs on Lambda, loading it fails there"
    )
    return (
        f"{functions}: {where} needs the shared library {first.library} ({first.how}), which "
        f"is neither in the zip nor in the Lambda runtime's image: {outcome}"
    )


@dataclass(frozen=True)
class _Available:
    runtime: Runtime
    bundled: frozenset[str]
    layers: frozenset[str]

    def has(self, soname: str) -> bool:
        """A `DT_NEEDED` entry: that exact file name, or a layer entry naming the library."""
        return (
            runtime_libraries(self.runtime).provides(soname)
            or soname in self.bundled
            or soname in self.layers
            or library_stem(soname) in self.layers
        )

    def answers(self, lookup: Lookup) -> bool:
        """A ctypes lookup: what the loader (or find_library) would take for it."""
        libraries = runtime_libraries(self.runtime)
        if any(libraries.provides(n) for n in (lookup.name, lookup.library)):
            return True
        if lookup.library in self.layers or library_stem(lookup.name) in self.layers:
            return True
        names = (*libraries.sonames, *self.bundled, *self.layers)
        return any(lookup.satisfied_by(name) for name in names)


def _missing(
    function: str,
    found: FileNative,
    available: _Available,
    shown: str,
    path: Path,
    *,
    first_party: bool,
    pinned: Pinned | None,
) -> list[Finding]:
    """The findings of one shipped file.

    A first-party file is `path` (its line goes with it); a third-party one is reported
    against the service's pyproject (`path`), its line written in the message.
    """
    findings: list[Finding] = []
    if found.problem is not None:
        findings.append(
            Finding(function, None, found.problem, shown, path, None, _UNREADABLE, error=False)
        )
    for library in found.needed:
        if not available.has(library):
            fix = _fix(library, first_party, pinned, elf=True)
            how = "needed by this ELF object (DT_NEEDED)"
            findings.append(Finding(function, library, how, shown, path, None, fix, error=True))
    for lookup in found.lookups:
        if available.answers(lookup):
            continue
        fix = _fix(lookup.library, first_party, pinned, elf=False)
        how = f"{lookup.call}({lookup.name!r})"
        line: int | None = lookup.line
        if not first_party:
            how, line = f"{how} on line {lookup.line}", None
        error = pinned is not None or (first_party and not lookup.guarded)
        if lookup.guarded:
            how += ", inside a try that handles its absence"
        findings.append(Finding(function, lookup.library, how, shown, path, line, fix, error))
    return findings


_UNREADABLE = "check the file: a native library that the loader cannot read fails on Lambda too"


def _fix(library: str, first_party: bool, pinned: Pinned | None, *, elf: bool) -> str:
    layer = (
        f"or attach a Lambda layer that provides it and list it in [{TABLE}] "
        f'{LAYER_KEY} = ["{library}"]'
    )
    if pinned is not None:
        choice = pinned.choice
        return (
            f"depend on {choice.distribution}[{choice.extra}] (its wheel bundles {library}; "
            f"lambdapress then pins {choice.variable}={choice.implementations[0].value}) and "
            f"run `uv lock`, {layer}"
        )
    if first_party:
        how = "ship the library in the package next to the module and load it by path"
        if elf:
            how = "ship the library in the zip (next to the extension, with an $ORIGIN rpath)"
        return f"depend on a binary wheel that bundles {library}, {how}, {layer}"
    return (
        f"use a version of the dependency whose manylinux wheel bundles {library} (auditwheel "
        f"puts it in <name>.libs/), {layer}"
    )


def _names(arcname: str, found: FileNative) -> set[str]:
    """The names a shipped file answers to when the loader looks for a library."""
    if SHARED_OBJECT.search(arcname) is None:
        return set()
    names = {PurePosixPath(arcname).name}
    if found.soname:
        names.add(found.soname)
    return names


def _kind(arcname: str) -> str | None:
    if arcname.endswith(".py"):
        return "py"
    if SHARED_OBJECT.search(arcname) is not None:
        return "elf"
    return None


def _analyse(path: Path, kind: str) -> FileNative:
    try:
        if kind == "py":
            return FileNative(lookups=tuple(find_lookups(path.read_bytes(), str(path))))
        dynamic = read_dynamic(path)
    except ElfError as error:
        return FileNative(problem=f"not a readable ELF object ({error})")
    except OSError as error:
        return FileNative(problem=f"cannot be read ({error.strerror or error})")
    if dynamic is None:
        return FileNative()
    return FileNative(needed=dynamic.needed, soname=dynamic.soname)


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
