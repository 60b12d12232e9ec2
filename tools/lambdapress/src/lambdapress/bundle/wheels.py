"""Locked distributions installed for a Lambda target, once, into a shared cache.

Each (distribution, version, target) is installed by uv from its locked wheel, checked against
the lock's hash, into its own folder of the project's cache: whatever the host platform, never
compiled from source. Functions then take the folders they need, so two functions sharing
pydantic share one install. A folder of a wheel the lock names by hash is prepared once per
machine, in the user-level cache (`bundle.wheel_cache`), and made of hard links to it: a
project's clean build installs and compiles nothing another project prepared for the target.

Each folder is staged under a unique temporary name and renamed into place whole (the first of
two concurrent runs wins), with a record of every file's sha256 as its completion mark. A folder
without a readable record is reinstalled on sight; the contents are checked against the record
by `damage` when the folder goes into a zip being built, and by the build itself as it reads
each file, so a no-op run never re-hashes megabytes of wheels.

Under `sources = "first-party"` a function ships a distribution as bytecode only: a second
folder per (distribution, version, target), derived once from the compiled one
(`bundle._sourceless`) under `<target>+bytecode-v2`, with a record of its own. Its bytecode is
compiled for a module without a source (`bundle.bytecode.compile_bytecode_only`: no column
positions; without docstrings either, under `<target>+bytecode-v2+nodocstrings`, when the
`docstrings` setting drops them for that distribution), and it has no `py.typed`. Its
dist-info is as installed (less the installer's bookkeeping) but for each METADATA's
description, the README a package index shows on the project's page: the headers stay, so
`importlib.metadata` gives versions, requirements and entry points as it does locally.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from pydantic import BaseModel, ConfigDict

from lambdapress.bundle import sourced
from lambdapress.bundle._parallel import DEFAULT_JOBS, in_parallel
from lambdapress.bundle._sourceless import BYTECODE_ONLY_LAYOUT, fill_bytecode_only
from lambdapress.bundle.bytecode import compile_tree, find_compiler
from lambdapress.bundle.lock import LockedPackage
from lambdapress.bundle.targets import Target
from lambdapress.bundle.wheel_cache import (
    PreparedKey,
    Variant,
    prepared_key,
    selected_wheel,
    usable_cache,
    user_cache_folder,
)
from lambdapress.config.docstrings import CheckedDocstrings, checked_docstrings
from lambdapress.config.pyproject import find_key_line
from lambdapress.config.settings import ServiceSettings
from lambdapress.errors import BundleError
from lambdapress.support import files
from lambdapress.support.integrity import (
    COMPLETE_MARK,
    folder_problem,
    is_mark,
    read_mark,
    staged_install,
)
from lambdapress.support.toolchain import find_uv

# The folder's record (`WheelRecord` as JSON), written last: a folder without it is not whole.
# Bumped whenever what an installed folder holds changes (what `_strip` removes, the record's
# format), so a cache written by an older lambdapress is never mixed into new zips.
LAYOUT_VERSION = 4
# Next to a target's folder (`<target key>+bytecode-v2`): its distributions without sources,
# as `bundle._sourceless` derives them (the layout of that derivation in the name).
BYTECODE_ONLY = f"+bytecode-v{BYTECODE_ONLY_LAYOUT}"
WITHOUT_DOCSTRINGS = "+nodocstrings"
# The name uv knows the index by (its credentials' variables follow from it:
# `ResolvedIndex.uv_variables(INDEX_NAME)`).
INDEX_NAME = "lambdapress-wheels"
# Installer bookkeeping that differs between machines and is never read at run time.
_DIST_INFO_NOISE = ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json")


class WheelRecord(BaseModel):
    """What an installed folder held when it was written: each file's sha256."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    compiled: bool
    files: dict[str, str]  # relative POSIX path -> sha256


@dataclass(frozen=True)
class InstalledDistribution:
    """A locked distribution installed for one target in the wheel cache."""

    name: str
    version: str
    folder: Path
    import_names: tuple[str, ...]
    compiled: bool
    repaired: str | None = None
    """Why the cached folder was thrown away and installed again, for a warning."""
    installed: Path | None = None
    """The folder as installed, sources included, when `folder` is its bytecode-only copy
    (the native-library check reads the modules' sources there)."""
    docstrings: bool = True
    """Whether its modules keep their docstrings (False: bytecode compiled without them)."""

    @property
    def with_sources(self) -> Path:
        """The folder that holds the distribution's `.py` files (and the same native files)."""
        return self.installed if self.installed is not None else self.folder

    def files(self) -> list[Path]:
        """Every file the distribution ships, without the cache's record."""
        return sorted(p for p in self.folder.rglob("*") if p.is_file() and p.name != COMPLETE_MARK)


def read_record(folder: Path) -> WheelRecord | None:
    """The folder's record, or None when it has none or it cannot be read."""
    return read_mark(folder, WheelRecord)


def damage(folder: Path) -> str | None:
    """What differs between an installed folder and its record; None when nothing does.

    Every file is hashed.
    """
    record = read_record(folder)
    if record is None:
        return f"{COMPLETE_MARK} is missing or unreadable"
    return folder_problem(folder, record.files, is_mark)


def discard(folder: Path) -> None:
    """Throw an installed folder away (the next `ensure_installed` installs it again)."""
    files.discard(folder)


def sweep(cache: Path, older_than: float) -> None:
    """Remove the staging folders of killed installs (see `files.claim`)."""
    if (cache / "wheels").is_symlink():  # borrowed from another cache (the benchmarks'
        return  # scratch cache): that cache sweeps it, under its own claim
    for target in (cache / "wheels" / f"v{LAYOUT_VERSION}").glob("*"):
        files.sweep_temporaries(target, older_than)


def uv_binary() -> str:
    """uv, which installs the wheels; an error with the fix when it is missing."""
    found = find_uv()
    if found is None:
        raise BundleError(
            "uv is not installed; lambdapress installs Lambda wheels with it",
            hint="pip install uv",
        )
    return found


@dataclass(frozen=True)
class Installer:
    """Where and how the missing distributions are installed.

    `credentials(index_url)` gives the variables that carry an index's credentials to uv
    (never a command line). It is asked only when something must be downloaded: a warm cache
    never needs a token. `on_install(package)` hears of each install before it starts (a wheel
    taken from the user-level cache is not installed). `user_cache` is the user-level cache of
    prepared wheels (`bundle.wheel_cache`; default: `user_cache_folder()`); None installs into
    `cache` alone.
    """

    cache: Path
    jobs: int = DEFAULT_JOBS
    on_install: Callable[[LockedPackage], None] | None = None
    credentials: Callable[[str], dict[str, str]] | None = None
    user_cache: Path | None = field(default_factory=user_cache_folder)


@dataclass(frozen=True)
class SourcePolicy:
    """What of the third-party code ships, as a service's settings say.

    `sources`, `keep_sources` and `docstrings` are the settings of the same names; the default
    ships everything as installed. `checked` is the list `docstrings = "checked"` goes by
    (`config.docstrings`: the one lambdapress ships).
    """

    sources: Literal["first-party", "all"] = "all"
    keep_sources: frozenset[str] = frozenset()
    docstrings: Literal["checked", "first-party", "all"] = "all"
    checked: CheckedDocstrings = field(default_factory=checked_docstrings, hash=False)

    @classmethod
    def of(cls, settings: ServiceSettings) -> SourcePolicy:
        """The policy a service's settings ask for."""
        return cls(settings.sources, frozenset(settings.keep_sources), settings.docstrings)

    def keeps_docstrings(self, package: LockedPackage) -> bool:
        """Whether `package`'s bytecode keeps its docstrings when it ships without sources.

        Under "checked", a source lambdapress builds (git, a path) keeps them: the list was
        checked on published releases, and a fork may carry the same version.
        """
        if self.docstrings == "checked":
            return package.is_built or not self.checked.covers(package.name, package.version)
        return self.docstrings == "all"


def ensure_installed(
    packages: list[LockedPackage],
    target: Target,
    installer: Installer,
    policy: SourcePolicy = SourcePolicy(),
) -> dict[str, InstalledDistribution]:
    """Install what is missing for `target` (in parallel) and describe every folder.

    A folder the project's cache lacks is taken from the user-level cache of prepared wheels
    when it holds it (`bundle.wheel_cache`: hard links, nothing installed or compiled), else
    prepared there first, then taken. Under `policy.sources == "first-party"`, each
    distribution not named in `policy.keep_sources` is described by its bytecode-only folder
    (when there is bytecode: without an interpreter for the target, sources ship as before);
    its bytecode has no docstrings when `policy.keeps_docstrings` says so for it, in a folder
    of its own (`+nodocstrings`): the choice is per distribution.
    """
    on_install, credentials = installer.on_install, installer.credentials
    for package in packages:
        check_has_wheel(package, target)
    compiler = find_compiler(target.python)
    base = installer.cache / "wheels" / f"v{LAYOUT_VERSION}" / target.key
    repaired: dict[str, str] = {}
    missing: list[LockedPackage] = []
    for package in packages:
        folder = _folder(base, package)
        record = read_record(folder)
        if record is not None and (record.compiled or compiler is None):
            continue
        if record is None and folder.exists():  # renamed in whole, so never half-written
            repaired[package.name] = f"{COMPLETE_MARK} is missing or unreadable"
        # Without a record, or installed before an interpreter for the target was available
        # (no bytecode): install again rather than change a folder other runs may be reading.
        discard(folder)
        missing.append(package)
    announced: set[str] = set()
    announcing = threading.Lock()

    def announce(package: LockedPackage) -> None:
        with announcing:
            if package.name in announced:
                return
            announced.add(package.name)
        if on_install is not None:
            on_install(package)

    def install(package: LockedPackage) -> None:
        def fill(site: Path) -> None:
            secrets = credentials(package.index_url) if credentials and package.index_url else {}
            _install_into(site, package, target, compiler, secrets)

        key = prepared_key(package, target, "installed", compiler, LAYOUT_VERSION)
        folder = _folder(base, package)
        mark = _marker(compiled=compiler is not None)
        problem = _prepare(installer, key, folder, fill, mark, lambda: announce(package))
        if problem is not None:
            repaired[package.name] = problem

    if missing:
        # Said in the lock's order before the parallel installs start: the lines come out the
        # same way in every run, not in whichever order the threads happen to start. A wheel
        # the user-level cache holds is not installed, so not announced.
        shared = usable_cache(installer.user_cache)
        for package in missing:
            key = prepared_key(package, target, "installed", compiler, LAYOUT_VERSION)
            if shared is None or key is None or not shared.has(key):
                announce(package)
        in_parallel(install, missing, installer.jobs)
    described = {p.name: _describe(p, _folder(base, p), repaired.get(p.name)) for p in packages}
    if policy.sources == "all" or compiler is None:
        return described
    kept = {canonicalize_name(name) for name in policy.keep_sources}
    # A pinned package is a workspace library shipped as its published wheel: the project's
    # own code, so it keeps its sources like the rest of the first-party code.
    stripped = [p for p in packages if canonicalize_name(p.name) not in kept and not p.is_pinned]
    keeps = {p.name: policy.keeps_docstrings(p) for p in stripped}

    def bytecode_folder(package: LockedPackage) -> Path:
        suffix = BYTECODE_ONLY + ("" if keeps[package.name] else WITHOUT_DOCSTRINGS)
        return _folder(base.with_name(base.name + suffix), package)

    for package in stripped:
        folder = bytecode_folder(package)
        if read_record(folder) is None and folder.exists():
            repaired[package.name] = f"{COMPLETE_MARK} is missing or unreadable"
            discard(folder)

    def derive(package: LockedPackage) -> None:
        folder = bytecode_folder(package)
        if read_record(folder) is not None:
            return
        keep_docstrings = keeps[package.name]
        variant: Variant = "bytecode" if keep_docstrings else "bytecode-nodocstrings"
        compiled = _folder(base, package)

        def fill(staging: Path) -> None:
            # Both folders may share files (hard links): check the one it is derived from.
            problem = damage(compiled)
            if problem is not None:
                repaired[package.name] = f"{compiled.name}: {problem}"
                discard(compiled)
                install(package)
            record = read_record(compiled)
            if record is None:
                raise BundleError(
                    f"the cached wheel folder {compiled} lost its record while it was read",
                    hint="run again: the folder is then installed afresh",
                )
            assert compiler is not None  # for mypy: no bytecode-only folders without one
            fill_bytecode_only(
                compiled, record.files, staging, target.python, compiler, keep_docstrings
            )

        key = prepared_key(
            package, target, variant, compiler, LAYOUT_VERSION, derived=BYTECODE_ONLY_LAYOUT
        )
        problem = _prepare(installer, key, folder, fill, _marker(compiled=True), None)
        if problem is not None:
            repaired[package.name] = problem

    in_parallel(derive, stripped, installer.jobs)
    for package in stripped:
        described[package.name] = replace(
            described[package.name],
            folder=bytecode_folder(package),
            repaired=repaired.get(package.name),
            installed=_folder(base, package),
            docstrings=keeps[package.name],
        )
    return described


def _prepare(
    installer: Installer,
    key: PreparedKey | None,
    folder: Path,
    fill: Callable[[Path], None],
    mark: Callable[[dict[str, str]], WheelRecord],
    announce: Callable[[], None] | None,
) -> str | None:
    """Write the project's `folder` from the user-level cache, or in place.

    From the user-level cache (filled first when it lacks it) when `key` says it is kept
    there; else installed in place. Returns why a damaged cache entry was prepared again, for
    a warning.
    """
    shared = usable_cache(installer.user_cache) if key is not None else None
    if shared is None or key is None:
        if announce is not None:
            announce()
        with staged_install(folder, mark) as staging:
            fill(staging)
        return None
    return shared.provide(key, folder, fill=fill, mark=mark, on_fill=announce)


def _marker(*, compiled: bool) -> Callable[[dict[str, str]], WheelRecord]:
    def mark(digests: dict[str, str]) -> WheelRecord:
        return WheelRecord(compiled=compiled, files=digests)

    return mark


def check_has_wheel(
    package: LockedPackage,
    target: Target,
    *,
    service: str | None = None,
    pyproject: Path | None = None,
) -> None:
    """Refuse, before downloading anything, a distribution with no wheel for the target.

    `service` and `pyproject` name who needs it, so the error points at the file to change.
    """
    if package.is_pinned:  # published wheels are not in the lock: uv checks them (binary only)
        return
    if package.is_built:  # no wheel in the lock: built, then checked pure (`bundle.sourced`)
        return
    accepted = target.wheel_tags()
    for wheel in package.wheels:
        try:
            tags = parse_wheel_filename(wheel.filename)[3]
        except InvalidWheelFilename:
            continue
        if tags & accepted:
            return
    found = ", ".join(w.filename for w in package.wheels[:4]) or "only a source distribution"
    needed_by = (
        f"; service {service!r} needs it (directly or through a dependency)" if service else ""
    )
    declared = f" in [project] dependencies of {pyproject}" if pyproject is not None else ""
    raise BundleError(
        f"{package.name} {package.version} has no wheel for {target.runtime} on "
        f"{target.architecture} ({target.uv_platform}){needed_by}; the lock has: {found}. "
        "lambdapress never builds from source for Lambda",
        path=pyproject,
        line=_dependencies_line(pyproject),
        hint=f"lock a version of {package.name} that publishes a manylinux wheel for this "
        f"target{declared} (then `uv lock`), or change the service's architecture/runtime",
    )


def _dependencies_line(pyproject: Path | None) -> int | None:
    if pyproject is None:
        return None
    return find_key_line(pyproject, ["project", "dependencies"])


def _folder(base: Path, package: LockedPackage) -> Path:
    # A built source's version does not change with each commit: its revision names the folder.
    revision = f"+{package.revision[:16]}" if package.revision else ""
    return base / f"{package.name}-{package.version}{revision}"


def _install_into(
    site: Path,
    package: LockedPackage,
    target: Target,
    compiler: str | None,
    credentials: dict[str, str],
) -> None:
    """Install the package for `target` into the empty folder `site`, stripped and compiled."""
    with files.temporary_folder(site) as scratch:
        requirement = scratch / "requirement.txt"
        selected = selected_wheel(package, target)
        wheels = [selected] if selected is not None else package.wheels
        hashes = " ".join(f"--hash={w.hash}" for w in wheels)
        if package.is_built:  # from git or a path: uv builds it (`bundle.sourced`)
            requirement.write_text(sourced.requirement(package) + "\n")
        else:
            requirement.write_text(f"{package.name}=={package.version} {hashes}\n")
        command = [
            uv_binary(),
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(site),
            "--python-platform",
            target.uv_platform,
            "--python-version",
            target.python,
            "--no-compile",
            # Copies, not hard links into uv's cache: a file edited here must not change uv's
            # cache (and every virtualenv linked to it), or a reinstall would bring it back.
            "--link-mode",
            "copy",
            "-r",
            str(requirement),
        ]
        if not package.is_built:  # a locked wheel, never a build
            command += ["--only-binary", ":all:"]
        if package.wheels:
            command.append("--require-hashes")
        if package.index_url:
            command += ["--default-index", f"{INDEX_NAME}={package.index_url}"]
        environment = {**os.environ, **credentials}
        result = subprocess.run(
            command, capture_output=True, text=True, check=False, timeout=900, env=environment
        )
        if result.returncode != 0:
            raise _wheel_error(package, target, result.stderr)
        if package.is_built:
            sourced.check_pure(site, package)
        _strip(site)
        if compiler is not None:
            compile_tree(site, compiler)


def _strip(site: Path) -> None:
    """Drop what uv adds for humans or installers: scripts and per-machine bookkeeping."""
    shutil.rmtree(site / "bin", ignore_errors=True)
    for hidden in site.glob(".*"):  # uv's .lock and the like
        if hidden.is_file():
            hidden.unlink()
    for info in site.glob("*.dist-info"):
        for name in _DIST_INFO_NOISE:
            (info / name).unlink(missing_ok=True)
    for cache in site.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    for stub in site.rglob("*.pyi"):  # type stubs: read by type checkers, never at run time
        stub.unlink()


def _describe(package: LockedPackage, folder: Path, repaired: str | None) -> InstalledDistribution:
    names: set[str] = set()
    for entry in folder.iterdir():
        if entry.name.endswith((".dist-info", ".data")) or entry.name.startswith("."):
            continue
        if entry.is_dir():
            names.add(entry.name)
        elif entry.suffix in (".py", ".so", ".pyd"):
            names.add(entry.name.split(".")[0])
    record = read_record(folder)
    compiled = record is not None and record.compiled
    version = package.version
    if package.revision:  # a built source: the commit (or content) it was built from, as a
        # local version label, so that the manifest says it and a new commit rebuilds the zips
        version += ("." if "+" in version else "+") + package.revision[:12]
    return InstalledDistribution(
        package.name, version, folder, tuple(sorted(names)), compiled, repaired
    )


def _wheel_error(package: LockedPackage, target: Target, stderr: str) -> BundleError:
    detail = " ".join(line.strip() for line in stderr.strip().splitlines()[-4:])
    no_wheel = "wheel" in stderr.lower() and (
        "platform" in stderr.lower() or "no matching" in stderr.lower() or "only-binary" in stderr
    )
    if no_wheel or "no source distribution" in stderr.lower() or "has no wheels" in stderr:
        return BundleError(
            f"{package.name} {package.version} has no wheel for {target.runtime} on "
            f"{target.architecture} ({target.uv_platform}); lambdapress never builds from "
            f"source for Lambda. uv said: {detail}",
            hint=f"lock a version of {package.name} that publishes a manylinux wheel for this "
            "target, or change the service's architecture/runtime",
        )
    return BundleError(
        f"installing {package.name} {package.version} for {target.runtime}/"
        f"{target.architecture} failed: {detail}",
        hint="check the network and the lock (`uv lock`), then run again",
    )
