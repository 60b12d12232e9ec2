"""Which files of a first-party package ship: the one rule, and the names that stop a build.

The rule (the README's "How a zip is cut"): modules ship only through the import closure;
every other file under an imported package, at any depth, ships as package data when git
tracks it (outside a git repository: every file), minus tests, caches, VCS folders and type
stubs. Git decides because it is the developer's own statement of what belongs to the code:
a `.env`, a key pair or a scratch file that is untracked or ignored never reaches a zip.

On top of that, a file whose name says it holds a credential stops the build, even when git
tracks it: a leaked key in every zip of a service is worse than a failed build, and the fix
(move it out, or allow it explicitly in `[tool.lambdapress] allow_files`) takes one line.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath

from lambdapress.errors import BundleError

# Never shipped, never indexed: build and tool caches and version-control folders.
SKIPPED_FOLDERS = frozenset(
    {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis", ".git", ".hg"}
)
# Folders of tests: nothing under them ships (a module there is a test module).
TEST_FOLDERS = frozenset({"tests", "test"})
# Files that exist for type checkers, editors or pytest and are never read on Lambda.
SKIPPED_NAMES = frozenset({"py.typed", "conftest.py", ".DS_Store", ".gitignore", ".gitkeep"})
SKIPPED_SUFFIXES = (".pyc", ".pyo", ".pyi")

CREDENTIAL_NAMES: tuple[str, ...] = (
    r"\.npmrc",
    r"\.pypirc",
    r"[._]netrc",
    r"\.git-credentials",
    r"\.pgpass",
    r"\.htpasswd",
    r"\.dockercfg",
    r"\.env(\..*)?",
    r".*\.env",
    r".*\.(pem|key|p12|pfx|jks|keystore|kdbx|ppk)",
    r"id_[^.]+",
    r"secrets?(\..*)?",
    r"credentials.*",
    r"service[-_]account.*\.json",
)
"""Regular expressions (matched against a whole file name, ignoring case) of files that hold
keys, certificates, tokens or passwords: `.npmrc`/`.pypirc`/`.netrc` carry index and host
passwords, `.env` files hold a developer's secrets, `*.pem`/`*.key`/`*.p12`/`*.pfx`/`*.jks`
are keys and keystores, `id_rsa` and friends are SSH private keys (`id_*` with no extension;
`id_rsa.pub` is public), `secrets.*` and `credentials*` say so themselves, `*.kdbx` is a
password database. A Lambda zip is readable by everyone who can read the function, so such a
file is refused unless `allow_files` lists it. Python modules are code and never match (a
module called `credentials.py` ships when imported)."""

_CREDENTIAL = re.compile("|".join(f"(?:{p})" for p in CREDENTIAL_NAMES), re.IGNORECASE)


def is_test_path(relative: PurePath) -> bool:
    """Tests never ship: `test_*` and `*_test.py` files, `conftest.py`, anything in tests/."""
    name = relative.name
    return (
        bool(TEST_FOLDERS.intersection(relative.parts[:-1]))
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
    )


def is_skipped(relative: PurePath) -> bool:
    """Caches, VCS folders, type stubs and marker files: never shipped, never reported."""
    return (
        bool(SKIPPED_FOLDERS.intersection(relative.parts))
        or relative.name in SKIPPED_NAMES
        or relative.suffix in SKIPPED_SUFFIXES
    )


def looks_like_credential(path: PurePath) -> bool:
    """Whether a file's name looks like a key, certificate or credentials file."""
    return path.suffix != ".py" and _CREDENTIAL.fullmatch(path.name) is not None


def package_files(folder: Path) -> list[Path]:
    """Every file under `folder`, sorted, without the caches and VCS folders `is_skipped` names.

    Symlinks to files are included; symlinked folders are not followed.
    """
    found: list[Path] = []
    for current, folders, files in os.walk(folder, followlinks=False):
        folders[:] = sorted(f for f in folders if f not in SKIPPED_FOLDERS)
        base = Path(current)
        # Broken symlinks and symlink loops are listed with the files, to be reported when
        # they would ship; a symlink to a folder is listed with the folders and not entered.
        found.extend(base / name for name in files)
    return sorted(found)


@dataclass(frozen=True)
class GitFiles:
    """What git says about the files under a folder: tracked, and untracked but not ignored."""

    tracked: frozenset[Path]
    untracked: frozenset[Path]


def git_files(folder: Path) -> GitFiles | None:
    """The files under `folder` that git does not ignore; None outside a git work tree.

    One `git ls-files` per call (a workspace member's package folder). Inside a repository,
    git is required: guessing would ship ignored files.
    """
    if _git_dir_above(folder) is None:
        return None
    git = shutil.which("git")
    if git is None:
        raise BundleError(
            "this folder is inside a git repository, but git is not installed: lambdapress "
            "ships the package data that git tracks and cannot tell which files those are",
            path=folder,
            hint="install git (and make sure it is on PATH), then run again",
        )
    command = [git, "-C", str(folder), "ls-files", "-z", "-t", "--cached", "--others"]
    try:
        result = subprocess.run(
            [*command, "--exclude-standard"],
            capture_output=True,
            check=False,
            env={**_without_git_overrides(os.environ), "LC_ALL": "C"},
        )
    except OSError as exc:
        raise BundleError(
            f"cannot run git to list the tracked files: {exc}",
            path=folder,
            hint="check that git works here (`git ls-files`), then run again",
        ) from None
    if result.returncode != 0:
        detail = result.stderr.decode(errors="replace").strip()
        if "not a git repository" in detail:
            return None
        raise BundleError(
            f"git could not list the tracked files: {detail}",
            path=folder,
            hint="check that `git ls-files` works in this folder (ownership, safe.directory)",
        )
    tracked: set[Path] = set()
    untracked: set[Path] = set()
    for record in result.stdout.split(b"\0"):
        tag, _, name = record.partition(b" ")  # `-t`: "H path" tracked, "? path" untracked
        if name:
            (untracked if tag == b"?" else tracked).add(folder / os.fsdecode(name))
    return GitFiles(frozenset(tracked), frozenset(untracked))


def check_credentials(
    files: Iterable[tuple[Path, str]],
    allowed: Sequence[str],
    bases: Sequence[Path],
    service: str,
    pyproject: Path,
) -> None:
    """Stop the build on the first credential-like file that `allowed` does not list.

    `files` are (path on disk, path in the zip). A pattern of `allowed` (`fnmatch` style)
    matches a file's path relative to any folder of `bases` (the service's folder, the
    packages' folders and their source folders) or its path in the zip.
    """
    for path, arcname in files:
        if not looks_like_credential(PurePath(arcname)):
            continue
        candidates = {arcname} | {
            path.relative_to(base).as_posix() for base in bases if path.is_relative_to(base)
        }
        if any(fnmatch.fnmatchcase(c, p) for c in candidates for p in allowed):
            continue
        shown = min(candidates, key=len)
        raise BundleError(
            f"{shown} looks like a credential (a key, certificate, token or password file) "
            f"and would ship in the zips of service {service!r}",
            path=path,
            hint="move it out of the package folder (and out of git); if it must ship, list it "
            f'in {pyproject}: [tool.lambdapress] allow_files = ["{arcname}"]',
        )


def unreadable(path: Path, exc: OSError, what: str) -> BundleError:
    """The error for a first-party file that cannot be read: says why, in the user's terms."""
    if exc.errno == errno.ELOOP:
        reason, hint = "it is a symlink loop", "point the symlink at a real file, or remove it"
    elif path.is_symlink() and not path.exists():
        reason = f"it is a symlink to {str(path.readlink())!r}, which does not exist"
        hint = "point the symlink at an existing file, or remove it"
    else:
        reason = exc.strerror or str(exc)
        hint = "make it a readable file (check its permissions), or remove it"
    return BundleError(f"cannot read the {what}: {reason}", path=path, hint=hint)


def _without_git_overrides(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment minus the variables that point git at another repository or index."""
    return {k: v for k, v in environ.items() if k not in _GIT_OVERRIDES}


_GIT_OVERRIDES = frozenset(
    {"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_CEILING_DIRECTORIES"}
)


def _git_dir_above(folder: Path) -> Path | None:
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None
