"""Locked distributions installed for a Lambda target, once, into a shared cache.

Each (distribution, version, target) is installed by uv from its locked wheels, checked against
the lock's hashes, into its own folder: whatever the host platform, never compiled from source.
Functions then take the folders they need, so two functions sharing pydantic share one install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from lambdapress.bundle.bytecode import compile_tree, find_compiler
from lambdapress.bundle.lock import LockedPackage
from lambdapress.bundle.targets import Target
from lambdapress.errors import BundleError
from lambdapress.pyproject import find_key_line
from lambdapress.toolchain import find_uv

COMPLETE_MARK = ".lambdapress-complete"
# Bumped whenever what an installed folder holds changes (what `_strip` removes, say), so a
# cache written by an older lambdapress is never mixed into new zips.
LAYOUT_VERSION = 2
# The name uv knows the index by; credentials go in UV_INDEX_LAMBDAPRESS_WHEELS_USERNAME/PASSWORD.
INDEX_NAME = "lambdapress-wheels"
INDEX_ENV = "UV_INDEX_LAMBDAPRESS_WHEELS"
# Installer bookkeeping that differs between machines and is never read at run time.
_DIST_INFO_NOISE = ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json")


@dataclass(frozen=True)
class InstalledDistribution:
    name: str
    version: str
    folder: Path
    import_names: tuple[str, ...]
    compiled: bool

    def files(self) -> list[Path]:
        return sorted(p for p in self.folder.rglob("*") if p.is_file() and p.name != COMPLETE_MARK)


def uv_binary() -> str:
    """uv, which installs the wheels; an error with the fix when it is missing."""
    found = find_uv()
    if found is None:
        raise BundleError(
            "uv is not installed; lambdapress installs Lambda wheels with it",
            hint="pip install uv",
        )
    return found


def ensure_installed(
    packages: list[LockedPackage],
    target: Target,
    cache: Path,
    jobs: int = 4,
    on_install: Callable[[LockedPackage], None] | None = None,
    credentials: Callable[[str], dict[str, str]] | None = None,
) -> dict[str, InstalledDistribution]:
    """Install what is missing for `target` (in parallel) and describe every folder.

    `credentials(index_url)` gives the variables that carry an index's credentials to uv
    (never a command line). It is asked only when something must be downloaded: a warm cache
    never needs a token.
    """
    for package in packages:
        check_has_wheel(package, target)
    compiler = find_compiler(target.python)
    base = cache / "wheels" / f"v{LAYOUT_VERSION}" / target.key
    missing = [p for p in packages if not (_folder(base, p) / COMPLETE_MARK).is_file()]

    def install(package: LockedPackage) -> None:
        if on_install is not None:
            on_install(package)
        secrets = credentials(package.index_url) if credentials and package.index_url else {}
        _install(package, target, _folder(base, package), compiler, secrets)

    if missing:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            list(pool.map(install, missing))
    if compiler is not None:  # installed before an interpreter for the target was available
        for package in packages:
            folder = _folder(base, package)
            if (folder / COMPLETE_MARK).read_text().strip() != "compiled":
                compile_tree(folder, compiler)
                (folder / COMPLETE_MARK).write_text("compiled\n")
    return {p.name: _describe(p, _folder(base, p)) for p in packages}


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
    return base / f"{package.name}-{package.version}"


def _install(
    package: LockedPackage,
    target: Target,
    folder: Path,
    compiler: str | None,
    credentials: dict[str, str],
) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{package.name}-", dir=folder.parent))
    try:
        requirement = staging / "requirement.txt"
        hashes = " ".join(f"--hash={w.hash}" for w in package.wheels)
        requirement.write_text(f"{package.name}=={package.version} {hashes}\n")
        command = [
            uv_binary(),
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--only-binary",
            ":all:",
            "--target",
            str(staging / "site"),
            "--python-platform",
            target.uv_platform,
            "--python-version",
            target.python,
            "--no-compile",
            "-r",
            str(requirement),
        ]
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
        site = staging / "site"
        _strip(site)
        if compiler is not None:
            compile_tree(site, compiler)
        (site / COMPLETE_MARK).write_text("compiled\n" if compiler else "sources\n")
        if folder.exists():  # another run finished first: keep its copy
            return
        site.replace(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


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


def _describe(package: LockedPackage, folder: Path) -> InstalledDistribution:
    names: set[str] = set()
    for entry in folder.iterdir():
        if entry.name.endswith((".dist-info", ".data")) or entry.name.startswith("."):
            continue
        if entry.is_dir():
            names.add(entry.name)
        elif entry.suffix in (".py", ".so", ".pyd"):
            names.add(entry.name.split(".")[0])
    compiled = (folder / COMPLETE_MARK).read_text().strip() == "compiled"
    return InstalledDistribution(
        package.name, package.version, folder, tuple(sorted(names)), compiled
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
