"""Extras are part of the closure: what `dist[extra]` requires ships wherever `dist` ships.

A small workspace locked by uv against the real index: a service that declares
`python-dotenv[cli]` itself, and one that gets it from a workspace package that declares it.
Either way, a function that imports dotenv ships click (what the `cli` extra requires), and the
manifest lists it; a function that imports neither ships neither.
"""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest

from lambdapress.bundle import package

SERVICE = """\
[project]
name = "{name}"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = [{dependencies}]

[tool.poetry]
packages = [{{ include = "{name}", from = "src" }}]
{sources}
[tool.lambdapress]
runtime = "python3.11"
architecture = "x86_64"

[build-system]
requires = ["poetry-core>=2.0"]
build-backend = "poetry.core.masonry.api"
"""

FILES = {
    "pyproject.toml": '[tool.uv.workspace]\nmembers = ["packages/*", "services/*"]\n',
    "packages/shared-config/pyproject.toml": """\
[project]
name = "shared-config"
version = "1.0.0"
requires-python = ">=3.11"
dependencies = ["python-dotenv[cli]>=1.0"]

[tool.poetry]
packages = [{ include = "shared_config", from = "src" }]

[build-system]
requires = ["poetry-core>=2.0"]
build-backend = "poetry.core.masonry.api"
""",
    "packages/shared-config/src/shared_config/__init__.py": (
        "from dotenv import dotenv_values\n\nVALUES = dotenv_values\n"
    ),
    "services/web/pyproject.toml": SERVICE.format(
        name="web", dependencies='"python-dotenv[cli]>=1.0"', sources=""
    ),
    "services/web/src/web/__init__.py": "",
    "services/web/src/web/handlers/__init__.py": "",
    "services/web/src/web/handlers/load.py": (
        "import dotenv\n\n\ndef handler(event, context):\n    return dotenv.__name__\n"
    ),
    "services/web/src/web/handlers/plain.py": "def handler(event, context):\n    return 1\n",
    "services/jobs/pyproject.toml": SERVICE.format(
        name="jobs",
        dependencies='"shared-config"',
        sources="\n[tool.uv.sources]\nshared-config = { workspace = true }\n",
    ),
    "services/jobs/src/jobs/__init__.py": "",
    "services/jobs/src/jobs/handlers/__init__.py": "",
    "services/jobs/src/jobs/handlers/run.py": (
        "from shared_config import VALUES\n\n\ndef handler(event, context):\n"
        "    return VALUES.__name__\n"
    ),
}


@pytest.fixture(scope="module")
def extras_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("extras") / "workspace"
    for relative, text in FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    locked = subprocess.run(
        ["uv", "lock", "--quiet"], cwd=root, capture_output=True, text=True, check=False
    )
    assert locked.returncode == 0, locked.stderr
    return root


def top_levels(zip_path: Path) -> set[str]:
    with zipfile.ZipFile(zip_path) as archive:
        return {name.split("/")[0] for name in archive.namelist()}


def test_what_an_extra_requires_ships_with_its_distribution(
    extras_workspace: Path, wheel_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(wheel_cache))

    manifest = package(extras_workspace, jobs=2).manifest

    for name in ("web.load", "jobs.run"):  # declared by the service / by its workspace package
        entry = manifest.function(name)
        assert {"python-dotenv", "click"} <= set(entry.contents.distributions), (name, entry)
        assert {"dotenv", "click"} <= top_levels(extras_workspace / entry.artifact.path), name
    plain = manifest.function("web.plain")
    assert not {"python-dotenv", "click"} & set(plain.contents.distributions)
    assert not {"dotenv", "click"} & top_levels(extras_workspace / plain.artifact.path)
    # click's own requirement is Windows-only (colorama): evaluated for Lambda, it stays out.
    assert "colorama" not in manifest.function("web.load").contents.distributions
