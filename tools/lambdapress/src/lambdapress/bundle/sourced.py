"""Dependencies locked from git or from a path outside the workspace, shipped as wheels.

A generated project gets lambdapress-runtime the way it gets the tool: from the template's
repository (a git tag or revision) or a checkout of it (a path), through `[tool.uv.sources]`.
uv.lock records no wheel for such a source, so the bundler has uv build and install it once per
locked commit (or per content of the path) into the wheel cache, like any locked wheel. Only
pure-Python wheels (`py3-none-any`) are accepted: a wheel built on this machine with compiled
code would be for this machine, not for Lambda.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from lambdapress.bundle.lock import LockedPackage
from lambdapress.config.pyproject import LOCK_FILE, PYPROJECT
from lambdapress.errors import BundleError

PURE_TAG = "py3-none-any"
# Not part of a source tree's content: caches and build outputs that change on every run.
_NOT_SOURCE = frozenset(
    {".git", ".venv", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", "dist", "build"}
)


def from_path(package: LockedPackage, root: Path) -> LockedPackage:
    """A path source outside the workspace, to build: absolute folder, content digest."""
    folder = (root / package.source).resolve()
    if not (folder / PYPROJECT).is_file():
        raise BundleError(
            f"{package.name} is locked from the path {folder}, which has no pyproject.toml",
            path=root / LOCK_FILE,
            hint=f"point [tool.uv.sources] {package.name} at the package's folder, then `uv lock`",
        )
    update = {"source_kind": "path-build", "source": str(folder), "revision": tree_digest(folder)}
    return package.model_copy(update=update)


def from_git(package: LockedPackage) -> LockedPackage:
    """A git source, to build at the commit uv locked (the URL's fragment)."""
    commit = urlsplit(package.source).fragment
    if not commit:
        raise BundleError(
            f"{package.name} is locked from git without a commit: {package.source}",
            hint="run `uv lock` again so the lock records the commit",
        )
    return package.model_copy(update={"revision": commit})


def prepare(package: LockedPackage) -> LockedPackage:
    """A git package made ready to build (its commit read); any other package unchanged."""
    return from_git(package) if package.source_kind == "git" else package


def requirement(package: LockedPackage) -> str:
    """The PEP 508 direct reference uv installs a built source from."""
    if package.source_kind == "path-build":
        return f"{package.name} @ {Path(package.source).as_uri()}"
    parts = urlsplit(package.source)
    subdirectory = parse_qs(parts.query).get("subdirectory", [None])[0]
    url = f"git+{parts.scheme}://{parts.netloc}{parts.path}@{package.revision}"
    return f"{package.name} @ {url}" + (f"#subdirectory={subdirectory}" if subdirectory else "")


def check_pure(site: Path, package: LockedPackage) -> None:
    """Refuse a built wheel that is not pure Python (its WHEEL file's tags)."""
    tags: set[str] = set()
    for wheel in site.glob("*.dist-info/WHEEL"):
        for line in wheel.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "Tag":
                tags.add(value.strip())
    if PURE_TAG not in tags:
        found = ", ".join(sorted(tags)) or "no tag"
        raise BundleError(
            f"{package.name} from {package.source} builds a {found} wheel; lambdapress builds "
            f"only pure-Python ({PURE_TAG}) wheels from git or path sources",
            hint=f"publish {package.name} with manylinux wheels to an index and depend on it "
            "from there, or keep compiled code out of it",
        )


def tree_digest(folder: Path) -> str:
    """sha256 over the relative paths and contents of the folder's source files."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or _NOT_SOURCE & set(relative.parts):
            continue
        digest.update(relative.as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
