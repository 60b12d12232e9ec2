"""Template v0.3.0: a project takes lambdapress as a pinned dependency, not as copied source.

Up to v0.2.0 the project kind rendered the whole tool into `tools/lambdapress` (its tests
included), so every team ran and merged a build tool it never meant to own. From v0.3.0 the
root pyproject pins `lambdapress` as a development dependency at the template version, and
`copier update` renders that pin. This migration removes what the update leaves of the copied
tool: files the team touched, caches, the folder itself. Other folders of `tools/` are the
team's own tools and stay, as does a `tools/lambdapress` that is not the copied tool.

It runs at the project's root (copier's working directory for migrations), after the update,
and uses only the standard library.
"""

from __future__ import annotations

import shutil
import sys
import tomllib
from pathlib import Path

COPIED_TOOL = Path("tools") / "lambdapress"


def is_copied_tool(folder: Path) -> bool:
    """What v0.2.0 rendered: a project named `lambdapress`, or, once the update has removed
    the template's files (its pyproject.toml among them), what is left of it: caches, files
    the team added. A folder with a pyproject of another name is a tool of the team's own."""
    pyproject = folder / "pyproject.toml"
    if not pyproject.is_file():
        return True
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return False
    return data.get("project", {}).get("name") == "lambdapress"


def migrate(root: Path) -> Path | None:
    """Remove the copied tool under `root`; returns the folder removed, if any."""
    folder = root / COPIED_TOOL
    if not folder.is_dir() or folder.is_symlink() or not is_copied_tool(folder):
        return None
    shutil.rmtree(folder)
    return folder


def main() -> int:
    removed = migrate(Path.cwd())
    if removed is not None:
        print(
            f"lambdapress v0.3.0 migration: removed the copied tool {COPIED_TOOL}/; "
            "lambdapress is now a pinned development dependency (root pyproject.toml)",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
