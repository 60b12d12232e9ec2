"""After every `copier update` (a project's root, a service or a package): `uv lock`.

An update changes what uv resolves: at the root it renders the new lambdapress pin (`tag =
"vX.Y.Z"`), in a service new dependencies (`lambdapress-runtime` came that way). Without a new
lock, CI's `uv sync --locked` refuses and developers keep the old tool, so this runs after the
update (and after that version's migrations) at the workspace root: the nearest folder, from
the updated one up, that holds `uv.lock` (a workspace that was never locked is left alone; its
first `nox` run makes the lock).

copier's merge can leave conflict markers (`<<<<<<< before updating` ... `>>>>>>> after
updating`) in a file the team also changed. uv would stop on them with a TOML parse error that
names neither the cause nor the fix, so nothing runs on a conflicted file: the files uv reads
(the root and every member's `pyproject.toml`, `uv.lock`) are checked first, with every file
git lists as unmerged, and the update stops (exit status 1) naming each one and what to do.
When uv is missing or the lock cannot be made (no network, an index without credentials), it
stops too, and says what to run. Standard library only: copier runs it with its own Python.
The index-credential rule is the tool's own, read from the template's clone this script runs
from (`CREDENTIAL_RULE`), where the tool's source sits next to the template.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

MARKERS = ("<<<<<<< ", ">>>>>>> ")
RESOLVE = "look for `<<<<<<< before updating` ... `>>>>>>> after updating`"
# `LAMBDAPRESS_INDEX_<NAME>_*` -> `UV_INDEX_<NAME>_*`: lambdapress's module for it, in the
# template's clone (this file is template/migrations/relock.py in the same clone).
CREDENTIAL_RULE = (
    Path(__file__).resolve().parents[2]
    / "tools"
    / "lambdapress"
    / "src"
    / "lambdapress"
    / "indexes"
    / "uv_credentials.py"
)


class RuleMissing(Exception):
    """The template's clone lacks the tool's credential rule (a damaged or partial clone)."""


def workspace_root(start: Path) -> Path | None:
    """The nearest folder from `start` up that holds `uv.lock`, inside start's repository."""
    for folder in (start, *start.parents):
        if (folder / "uv.lock").is_file():
            return folder
        if (folder / ".git").exists():
            return None
    return None


def files_uv_reads(root: Path) -> list[Path]:
    """The root pyproject, each workspace member's pyproject (by the root's member globs, read
    without parsing TOML: the root itself may be the conflicted file) and the lock."""
    found = [root / "pyproject.toml", root / "uv.lock"]
    text = _read(root / "pyproject.toml")
    members = re.search(r"(?ms)^\[tool\.uv\.workspace\].*?^members\s*=\s*\[(.*?)\]", text)
    for pattern in re.findall(r"[\"']([^\"']+)[\"']", members.group(1) if members else ""):
        found += sorted(p for p in root.glob(f"{pattern}/pyproject.toml") if p.is_file())
    return [path for path in found if path.is_file()]


def conflicts(root: Path) -> dict[Path, int | None]:
    """Each file with conflicts from the update, and the line of its first marker if known."""
    found: dict[Path, int | None] = {}
    for path in files_uv_reads(root):
        for number, line in enumerate(_read(path).splitlines(), start=1):
            if line.startswith(MARKERS) or line == "=======":
                found[path] = number
                break
        if path.with_name(path.name + ".rej").is_file():
            found.setdefault(path.with_name(path.name + ".rej"), None)
    for name in _unmerged(root):
        path = root / name
        if path not in found:
            found[path] = _first_marker(path)
    return found


def _unmerged(root: Path) -> list[str]:
    """Paths (relative to `root`) git records as unmerged: copier marks its conflicts so."""
    git = shutil.which("git")
    if git is None:
        return []
    result = subprocess.run(
        [git, "ls-files", "--unmerged", "-z"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return []
    names = {entry.split("\t", 1)[1] for entry in result.stdout.split("\0") if "\t" in entry}
    return sorted(names)


def _first_marker(path: Path) -> int | None:
    for number, line in enumerate(_read(path).splitlines(), start=1):
        if line.startswith(MARKERS):
            return number
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def index_credentials(pyproject: Path) -> dict[str, str]:
    """uv's credentials for each [[tool.uv.index]] from lambdapress's variables, as the
    noxfile's `sync_workspace` does: `LAMBDAPRESS_INDEX_<NAME>_*` -> `UV_INDEX_<NAME>_*`.

    Raises:
        RuleMissing: there are indexes, and the tool's rule is not in the template's clone.
    """
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    indexes = [str(i.get("name", "")) for i in data.get("tool", {}).get("uv", {}).get("index", [])]
    if not indexes:
        return {}
    credentials: dict[str, str] = credential_rule().uv_credentials(indexes, os.environ)
    return credentials


def credential_rule() -> ModuleType:
    """lambdapress's `indexes/uv_credentials.py`, loaded from its file (standard library only)."""
    if not CREDENTIAL_RULE.is_file():
        raise RuleMissing(str(CREDENTIAL_RULE))
    spec = importlib.util.spec_from_file_location("lambdapress_uv_credentials", CREDENTIAL_RULE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def relock(updated: Path) -> tuple[int, str]:
    """Lock the workspace `updated` belongs to; the exit status and what to tell the user."""
    root = workspace_root(updated.resolve())
    if root is None:
        return 0, ""  # never locked yet: the first `nox` run makes the lock
    conflicted = conflicts(root)
    if conflicted:
        shown = "\n".join(
            f"  {path.relative_to(root)}" + (f" (line {line})" if line else "")
            for path, line in sorted(conflicted.items())
        )
        return 1, (
            f"lambdapress: the update left conflicts in:\n{shown}\n"
            f"Resolve them ({RESOLVE}; a .rej file holds what could not be applied), then run "
            f"`uv lock` in {root} and commit. uv.lock was not changed."
        )
    uv = shutil.which("uv")
    if uv is None:
        return 1, f"lambdapress: uv not found; install it, then run `uv lock` in {root} and commit"
    try:
        credentials = index_credentials(root / "pyproject.toml")
    except RuleMissing:
        return 1, (
            f"lambdapress: the template's clone has no {CREDENTIAL_RULE.name} (expected at "
            f"{CREDENTIAL_RULE}), which says which variables carry the indexes' credentials; "
            f"run `uv lock` in {root} yourself (with UV_INDEX_<NAME>_USERNAME/PASSWORD set for "
            "a private index) and commit uv.lock"
        )
    env = {**os.environ, **credentials}
    env.pop("VIRTUAL_ENV", None)  # copier's own environment, not the project's
    result = subprocess.run([uv, "lock"], cwd=root, env=env, check=False)
    if result.returncode != 0:
        return 1, (
            f"lambdapress: `uv lock` failed (above); run it again in {root} once it can "
            "(an update of a service needs the project's root updated first), and commit uv.lock"
        )
    return 0, ""


def main() -> int:
    status, message = relock(Path.cwd())
    if message:
        print(message, file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
