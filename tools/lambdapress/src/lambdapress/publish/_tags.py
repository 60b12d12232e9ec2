"""Release tags of shared packages: `<package>/<version>`, e.g. `acme-models/1.2.0`.

copier treats every version-looking tag of the template repository as a template version
(`v1.2.0`, `1.2.0`), so package releases must never be tagged like that; a slash-separated
name keeps them apart and still sorts and reads well. Tags are created only on request
(`--tag`), after a successful upload, and an existing tag is never moved.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from lambdapress.errors import PublishError


def tag_name(package: str, version: str) -> str:
    """The release tag of one package version."""
    return f"{package}/{version}"


def tag_exists(root: Path, name: str) -> bool:
    """Whether the repository at `root` has the tag `name`."""
    result = _git(root, "rev-parse", "--quiet", "--verify", f"refs/tags/{name}", check=False)
    return result.returncode == 0


def create_tag(root: Path, name: str) -> None:
    """Tag HEAD as `name` (a lightweight tag: no identity needed); refuses to move one."""
    result = _git(root, "tag", name, check=False)
    if result.returncode != 0:
        raise PublishError(
            f"cannot create the tag {name!r}: {result.stderr.strip()}",
            path=root,
            hint="the upload succeeded; create the tag by hand (git tag NAME) or delete a "
            "stale one first",
        )


def _git(root: Path, *args: str, check: bool) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=check
        )
    except FileNotFoundError:
        raise PublishError(
            "git is not installed, so release tags cannot be created",
            hint="install git, or publish without --tag",
        ) from None
