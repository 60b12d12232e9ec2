"""The example platform's PostgreSQL functions ship the psycopg implementation Lambda can load.

Built from this repository's own services (as `nox -s package` builds them), each zip of a
service on PostgreSQL carries psycopg-binary (the service asks for `psycopg[binary]`), its
manifest entry lists it and pins `PSYCOPG_IMPL=binary`, and psycopg imports from the unzipped
zip alone under `python -I -S`: no site-packages, no developer virtualenv. Without
psycopg_binary the same zip fails at once, locally, with psycopg's own message, instead of
falling back to the host's libpq as it would without the pin (Lambda has no libpq).
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from lambdapress.bench import IGNORED, WORKSPACE_PARTS, _fresh_artifact_cache
from lambdapress.bundle import package
from lambdapress.bundle.bytecode import find_compiler
from lambdapress.config.workspace import load_workspace

IMPORT_PSYCOPG = (
    "import sys; sys.path[:0] = [sys.argv[1]]; import psycopg; from psycopg import pq; "
    "print(pq.__impl__, psycopg.__file__.startswith(sys.argv[1]), pq.version() > 0)"
)


def import_psycopg(
    python: str, task: Path, environment: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """psycopg imported as a worker would: isolated, the task folder first, its variables only."""
    return subprocess.run(
        [python, "-I", "-S", "-c", IMPORT_PSYCOPG, str(task)],
        env=environment,
        cwd=task,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.e2e
def test_every_postgres_function_ships_and_pins_psycopg_binary(tmp_path: Path) -> None:
    repository = Path(__file__).resolve().parents[4]
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    for part in WORKSPACE_PARTS:
        source = repository / part
        if source.is_dir():
            shutil.copytree(source, workspace / part, ignore=IGNORED)
        else:
            shutil.copy2(source, workspace / part)
    postgres = [
        s for s in load_workspace(workspace).services if s.settings.storage.kind == "postgres"
    ]
    assert postgres, "the example platform has a service on PostgreSQL"
    cache = _fresh_artifact_cache(repository, tmp_path / "cache")  # its wheels, no built zips

    manifest = package(
        workspace, tuple(s.name for s in postgres), cache=cache, remote_cache=False
    ).manifest

    functions = [f for f in manifest.functions if f.service in {s.name for s in postgres}]
    assert functions
    for entry in functions:
        assert "psycopg-binary" in entry.contents.distributions, entry.name
        assert entry.environment["PSYCOPG_IMPL"] == "binary", entry.name
        python = find_compiler(entry.python_version)
        assert python is not None, f"no python{entry.python_version} on this machine"
        task = tmp_path / "task" / entry.name
        with zipfile.ZipFile(workspace / entry.artifact.path) as archive:
            archive.extractall(task)
        assert (task / "psycopg_binary").is_dir(), entry.name

        ran = import_psycopg(python, task, {"PSYCOPG_IMPL": entry.environment["PSYCOPG_IMPL"]})

        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.split() == ["binary", "True", "True"], ran.stdout

    # Take psycopg_binary out of one zip: the pin makes the import fail here, as on Lambda.
    task = tmp_path / "task" / functions[0].name
    shutil.rmtree(task / "psycopg_binary")
    python = find_compiler(functions[0].python_version)
    assert python is not None
    ran = import_psycopg(python, task, {"PSYCOPG_IMPL": "binary"})
    assert ran.returncode != 0
    assert "couldn't import requested psycopg 'binary' implementation" in ran.stderr
