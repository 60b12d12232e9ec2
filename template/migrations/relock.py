"""Every `copier update` of a project: `uv lock`, so the lock follows the moved lambdapress pin.

The update renders the new pin (`tag = "vX.Y.Z"`) into the root pyproject; without a new
lock, CI's `uv sync --locked` would refuse and developers would keep the old tool. This runs
after the update (and after that version's migrations), at the project's root, with only the
standard library. It never fails the update: when uv is missing or the lock cannot be made
(no network, a private index without credentials), it says so and what to run, and
`lambdapress` itself warns at every command until the lock pins the new version.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path


def index_credentials(pyproject: Path) -> dict[str, str]:
    """uv's credentials for each [[tool.uv.index]] from lambdapress's variables, as the
    noxfile's `sync_workspace` does: `LAMBDAPRESS_INDEX_<NAME>_*` -> `UV_INDEX_<NAME>_*`."""
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    credentials = {}
    for index in data.get("tool", {}).get("uv", {}).get("index", []):
        key = re.sub(r"[^A-Za-z0-9]", "_", str(index.get("name", ""))).upper()
        for what in ("USERNAME", "PASSWORD"):
            value = os.environ.get(f"LAMBDAPRESS_INDEX_{key}_{what}")
            if key and value and f"UV_INDEX_{key}_{what}" not in os.environ:
                credentials[f"UV_INDEX_{key}_{what}"] = value
    return credentials


def main() -> int:
    root = Path.cwd()
    if not (root / "uv.lock").is_file():
        return 0  # never locked yet: the first `nox` run makes the lock from the new pin
    uv = shutil.which("uv")
    if uv is None:
        print(
            "lambdapress: uv not found; run `uv lock` to move the lock to the new pin",
            file=sys.stderr,
        )
        return 0
    env = {**os.environ, **index_credentials(root / "pyproject.toml")}
    env.pop("VIRTUAL_ENV", None)
    result = subprocess.run([uv, "lock"], cwd=root, env=env, check=False)
    if result.returncode != 0:
        print(
            "lambdapress: `uv lock` failed (above); run it again once it can, and commit uv.lock",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
