"""`uv lock` for a planned change, run on a scratch copy so that the real files stay untouched.

A `models add`/`upgrade` changes up to three files: the service's pyproject, the root
pyproject and `uv.lock`. The new lock can only come from uv, and uv can fail (index down,
credentials refused, no such version). Running it on a mirror of the workspace's pyproject
files gives the new `uv.lock` text as part of the plan: printed, checked, and written together
with the two pyprojects only when everything worked; on any failure nothing has changed.

Credentials reach uv through its own variables, `UV_INDEX_<NAME>_USERNAME/PASSWORD`
(`lambdapress.indexes.uv_credentials`), filled from lambdapress's resolution of the index
(environment, keyring or CodeArtifact): never a file, never a command line, and scrubbed from
any output quoted in an error.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from lambdapress.config.pyproject import LOCK_FILE, PYPROJECT
from lambdapress.config.workspace import Workspace
from lambdapress.errors import ModelsError
from lambdapress.indexes.config import ResolvedIndex
from lambdapress.indexes.credentials import redact
from lambdapress.support.toolchain import find_uv

# What uv reads to lock a workspace whose members have static metadata.
_MEMBER_FILES = (PYPROJECT, "README.md")


def lock_with(
    workspace: Workspace,
    texts: Mapping[Path, str],
    index: ResolvedIndex,
    upgrade: Sequence[str] = (),
) -> str:
    """The `uv.lock` text uv writes for the workspace with `texts` (path -> new content).

    Only the workspace's pyproject files (and READMEs they may name) are mirrored; the real
    `uv.lock` is the starting point so that nothing else moves (`--upgrade-package` only for
    the packages named).
    """
    uv = find_uv()
    if uv is None:
        raise ModelsError("uv is not installed; lambdapress locks with it", hint="pip install uv")
    with tempfile.TemporaryDirectory(prefix="lambdapress-lock-") as scratch:
        mirror = Path(scratch)
        _mirror(workspace, mirror)
        for path, text in texts.items():
            target = mirror / path.relative_to(workspace.root)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        command = [uv, "lock", "--no-progress"]
        for package in upgrade:
            command += ["--upgrade-package", package]
        environment = {
            k: v
            for k, v in os.environ.items()
            if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH")
        }
        environment.update(index.uv_variables())
        result = subprocess.run(
            command,
            cwd=mirror,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )
        if result.returncode != 0:
            raise _lock_error(result.stderr, index)
        return (mirror / LOCK_FILE).read_text(encoding="utf-8")


def _mirror(workspace: Workspace, mirror: Path) -> None:
    root = workspace.root
    for name in (PYPROJECT, LOCK_FILE, ".python-version"):
        if (root / name).is_file():
            shutil.copy2(root / name, mirror / name)
    for pyproject in sorted(root.glob("*/*/pyproject.toml")):
        member = pyproject.parent
        if any(part.startswith(".") for part in member.relative_to(root).parts):
            continue
        target = mirror / member.relative_to(root)
        target.mkdir(parents=True, exist_ok=True)
        for name in _MEMBER_FILES:
            if (member / name).is_file():
                shutil.copy2(member / name, target / name)
        if (member / "src").is_dir():  # some backends insist the package folder exists
            for package in (member / "src").iterdir():
                if package.is_dir():
                    (target / "src" / package.name).mkdir(parents=True, exist_ok=True)
                    (target / "src" / package.name / "__init__.py").touch()


def _lock_error(stderr: str, index: ResolvedIndex) -> ModelsError:
    shown = redact(stderr.strip(), index.secrets())
    detail = " ".join(line.strip() for line in shown.splitlines()[-6:])
    lowered = shown.lower()
    if "401" in shown or "403" in shown or "unauthorized" in lowered or "forbidden" in lowered:
        return ModelsError(
            f"index {index.name!r} refused uv's credentials while locking: {detail}",
            hint=index.fix_credentials or "check the index's credentials",
        )
    if "connect" in lowered or "dns" in lowered or "timed out" in lowered:
        return ModelsError(
            f"uv cannot reach index {index.name!r} at {index.index_url}: {detail}",
            hint="start the index (for a local one: nox -s index) or fix its index-url in "
            "[tool.lambdapress.indexes] of the root pyproject.toml",
        )
    return ModelsError(
        f"`uv lock` failed with index {index.name!r} ({index.index_url}): {detail}",
        hint="check the version asked for against what the index has "
        "(lambdapress models lists the services' libraries); nothing was written",
    )
