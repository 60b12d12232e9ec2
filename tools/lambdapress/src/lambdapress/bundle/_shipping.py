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
from collections.abc import Callable, Iterable, Mapping, Sequence
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


@dataclass(frozen=True)
class Found:
    """One file under a package folder: where it was found, and what is really read."""

    path: Path
    """As reached from the package folder, through any symlinked folder: its name in the zip
    follows from this path."""
    links: tuple[Path, ...] = ()
    """The symlinks on the way from the package folder, outermost first (a symlinked folder,
    then the file itself when it is a link); empty for a plain file."""
    resolved: Path | None = None
    """`path` with every symlink resolved, when there is one on the way."""

    @property
    def target(self) -> Path:
        """The file whose bytes ship."""
        return self.resolved if self.resolved is not None else self.path


def package_files(
    folder: Path, project: Path, follow: Callable[[Path], bool] = lambda _link: True
) -> list[Found]:
    """Every file under `folder`, sorted, without the caches and VCS folders `is_skipped` names.

    Symlinks to files are listed with their targets, to be checked (`check_link`) when they
    would ship. A symlinked folder is entered when `follow(link)` says so (git tracks the link;
    a folder inside a followed one is entered too) after three checks that stop the build: it
    stays inside `project`, it does not lead back to a folder it is in (a loop), and it does
    not lead into `.git` or a cache. Python follows such a folder when it imports, so what it
    holds ships as if it were there.
    """
    found: list[Found] = []
    real = Path(os.path.realpath(folder))
    _walk(folder, real, (real,), (), Path(os.path.realpath(project)), follow, found)
    return found  # sorted: each folder is listed in name order, depth first


def _walk(
    current: Path,
    real: Path,
    chain: tuple[Path, ...],
    links: tuple[Path, ...],
    project: Path,
    follow: Callable[[Path], bool],
    found: list[Found],
) -> None:
    """List `current` (really `real`; `chain` the real folders from the package down)."""
    try:
        with os.scandir(current) as scan:
            entries = sorted(scan, key=lambda e: e.name)
    except OSError:
        return  # a folder that cannot be listed holds nothing anyone could import either
    for entry in entries:
        path = Path(entry.path)
        if entry.name in SKIPPED_FOLDERS:
            continue
        if not entry.is_symlink():
            if entry.is_dir(follow_symlinks=False):
                inner = real / entry.name
                _walk(path, inner, (*chain, inner), links, project, follow, found)
            elif links:  # a plain file in a symlinked folder
                found.append(Found(path, links, real / entry.name))
            else:  # a plain file (broken symlinks and loops come as links, below)
                found.append(Found(path))
            continue
        target = Path(os.path.realpath(path))
        if _is_folder(entry):  # follows the link: a symlinked folder
            if links or follow(path):
                # Errors name the link where it is (inside a symlinked folder: where it lives).
                _check_folder_link(real / entry.name if links else path, target, chain, project)
                _walk(path, target, (*chain, target), (*links, path), project, follow, found)
            continue
        # A symlink to a file, to nothing, or a loop: listed, reported if it would ship.
        found.append(Found(path, (*links, path), target))


def _is_folder(entry: os.DirEntry[str]) -> bool:
    """Whether a symlink leads to a folder (a loop or a link to nothing does not)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _check_folder_link(link: Path, target: Path, chain: tuple[Path, ...], project: Path) -> None:
    if not target.is_relative_to(project):
        raise _outside(link, target, project)
    if any(folder == target or folder.is_relative_to(target) for folder in chain):
        raise BundleError(
            f"{link.name} is a symlink to {_written(link)}, a folder it is itself in: following "
            "it would never end (a symlink loop)",
            path=link,
            hint="point the symlink at a folder outside the one it is in, or remove it",
        )
    refused = SKIPPED_FOLDERS.intersection(target.relative_to(project).parts)
    if refused:
        raise BundleError(
            f"{link.name} is a symlink to {_written(link)}, inside {sorted(refused)[0]}, "
            "which never ships",
            path=link,
            hint="remove the symlink",
        )


def check_link(found: Found, project: Path, module: bool) -> None:
    """Stop the build when a file that would ship is, or is reached through, a bad symlink.

    What a link points at decides what ships, so the rules for what ships apply to the target
    as well as to the link's name: a target outside `project` (a key in the home folder, a
    `.env` above the repository), or inside `.git` or a cache, or a test file, stops the build,
    naming the link and its target. A module whose target looks like a credential stops it too
    (a data file's credential-like target is refused by `check_credentials`, which knows
    `allow_files`). A target that does not exist (or a loop) is reported when it is read.
    """
    project = Path(os.path.realpath(project))
    for link in found.links:
        target = Path(os.path.realpath(link))
        if not target.is_relative_to(project):
            raise _outside(_where(link, found), target, project)
    relative = found.target.relative_to(project)
    refused = SKIPPED_FOLDERS.intersection(relative.parts)
    link = _where(found.links[-1], found)
    if refused:
        reason = f"inside {sorted(refused)[0]}, which never ships"
    elif is_test_path(relative):
        reason = "a test file, and tests never ship"
    elif module and looks_like_credential(found.target):
        reason = "a file whose name says it holds a credential"
    else:
        return
    raise BundleError(
        f"{found.path.name} would ship the content of {relative.as_posix()}, {reason}: "
        f"{link.name} is a symlink to {_written(link)}",
        path=link,
        hint="point the symlink at the file that should ship, or remove it",
    )


def untracked_target(found: Found, project: Path) -> BundleError:
    """The error for a tracked symlink whose target git does not track."""
    link = _where(found.links[-1], found)
    shown = _relative_to(found.target, project)
    return BundleError(
        f"{link.name} is a symlink to {_written(link)} ({shown}), which git does not track: "
        "a checkout would not have the file it ships",
        path=link,
        hint=f"`git add` {shown} if it should ship, or remove the symlink",
    )


def tracked_targets(found: Iterable[Found], folder: Path) -> frozenset[Path]:
    """Of the files reached through symlinks, the real ones git tracks (one `git ls-files`).

    git lists a symlink as itself, never what it points at, so the targets are asked for by
    their own paths (each link's resolved path: a file, or a folder's whole content), in the
    repository of `folder` (the package folder the links are in).
    """
    base = Path(os.path.realpath(folder))
    targets = {Path(os.path.realpath(link)) for item in found for link in item.links}
    targets |= {item.target for item in found}
    specs = [f":(literal){os.path.relpath(target, base)}" for target in sorted(targets)]
    if not specs:
        return frozenset()
    listing = _ls_files(base, ["--cached", "--", *specs]) or []
    return frozenset(Path(os.path.realpath(base / name)) for name in listing)


def _where(link: Path, found: Found) -> Path:
    """Where a symlink lives: as found, or, inside a symlinked folder, in the real folder."""
    if link == found.links[0]:
        return link
    return Path(os.path.realpath(link.parent)) / link.name


def _outside(link: Path, target: Path, project: Path) -> BundleError:
    return BundleError(
        f"{link.name} is a symlink to {_written(link)}, outside the project ({target} is not "
        f"in {project}): its content would ship in the zip",
        path=link,
        hint="copy what the code needs into the package (and commit it), or remove the "
        "symlink: symlinks that leave the project never ship",
    )


def _written(link: Path) -> str:
    """What the symlink says, as written (`../../.env`), quoted."""
    try:
        return repr(str(link.readlink()))
    except OSError:
        return repr(str(link))


def _relative_to(path: Path, project: Path) -> str:
    return path.relative_to(project).as_posix() if path.is_relative_to(project) else str(path)


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
    records = _ls_files(folder, ["-t", "--cached", "--others", "--exclude-standard"])
    if records is None:
        return None
    tracked: set[Path] = set()
    untracked: set[Path] = set()
    for record in records:
        tag, _, name = record.partition(" ")  # `-t`: "H path" tracked, "? path" untracked
        if name:
            (untracked if tag == "?" else tracked).add(folder / name)
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
        # A symlink ships what it points at: the target's name counts as much as the link's.
        target = Path(os.path.realpath(path))
        if looks_like_credential(PurePath(arcname)):
            linked = False
        elif target.name != PurePath(arcname).name and looks_like_credential(target):
            linked = True
        else:
            continue
        candidates = {arcname} | {
            path.relative_to(base).as_posix() for base in bases if path.is_relative_to(base)
        }
        if any(fnmatch.fnmatchcase(c, p) for c in candidates for p in allowed):
            continue
        shown = min(candidates, key=len)
        what = f"{shown} is a symlink to {target}, which" if linked else shown
        raise BundleError(
            f"{what} looks like a credential (a key, certificate, token or password file) "
            f"and would ship in the zips of service {service!r}",
            path=path,
            hint="move it out of the package folder (and out of git); if it must ship, list it "
            f'in {pyproject}: [tool.lambdapress] allow_files = ["{arcname}"]',
        )


def _ls_files(folder: Path, arguments: list[str]) -> list[str] | None:
    """`git ls-files -z ARGUMENTS` in `folder`: what it prints (names relative to `folder`).

    None when `folder` is not in a git work tree after all. Inside one, git is required:
    guessing would ship ignored files.
    """
    git = shutil.which("git")
    if git is None:
        raise BundleError(
            "this folder is inside a git repository, but git is not installed: lambdapress "
            "ships the package data that git tracks and cannot tell which files those are",
            path=folder,
            hint="install git (and make sure it is on PATH), then run again",
        )
    try:
        result = subprocess.run(
            [git, "-C", str(folder), "ls-files", "-z", *arguments],
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
    return [os.fsdecode(name) for name in result.stdout.split(b"\0") if name]


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
