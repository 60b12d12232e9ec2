"""The JSON Schemas of a package's exported models, taken from an installed copy of it.

The gate must compare what users get, not what the source tree looks like: each version is
installed with uv into its own throwaway virtualenv (the published one from the index, the
local one from the wheel about to be uploaded), and a small script run by that environment's
Python, isolated (`-I`) and outside the repository, imports the package and dumps
`model_json_schema()` of every pydantic model its `__all__` exports.

Index credentials reach uv through its own variables (`UV_INDEX_<NAME>_USERNAME/PASSWORD`),
never on a command line, and any output quoted in an error is scrubbed of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lambdapress.errors import CompatCheckError
from lambdapress.indexes.config import ResolvedIndex
from lambdapress.indexes.credentials import redact
from lambdapress.support.toolchain import find_uv

# The name uv is given for the private index (its credentials' variables follow from it).
UV_INDEX_NAME = "lambdapress-private"

DUMP_SCRIPT = """
import importlib, json, sys
try:
    from pydantic import BaseModel
except ImportError:
    BaseModel = None
module = importlib.import_module(sys.argv[1])
names = getattr(module, "__all__", None)
if names is None:
    names = [name for name in vars(module) if not name.startswith("_")]
schemas, errors = {}, {}
for name in sorted(set(names)):
    obj = getattr(module, name, None)
    if BaseModel is None or not isinstance(obj, type) or obj is BaseModel:
        continue
    if issubclass(obj, BaseModel):
        try:
            schemas[name] = obj.model_json_schema(mode="validation")
        except Exception as exc:
            errors[name] = f"{type(exc).__name__}: {exc}"
json.dump({"schemas": schemas, "errors": errors}, sys.stdout, sort_keys=True)
"""


def uv_executable() -> str:
    """uv, which makes the throwaway environments; an error with the fix when it is missing."""
    found = find_uv()
    if found is None:
        raise CompatCheckError(
            "the compatibility gate needs uv to create throwaway environments",
            hint="install uv (pip install uv) next to lambdapress",
        )
    return found


def published_schemas(
    index: ResolvedIndex, name: str, import_name: str, version: str, workdir: Path
) -> dict[str, Any]:
    """Schemas of `name==version` as installed from `index`."""
    python = create_venv(workdir / f"published-{version}")
    install(python, [f"{name}=={version}"], refresh=name, index=index, cwd=workdir)
    return dump_schemas(python, import_name, workdir)


def local_schemas(
    wheel: Path,
    name: str,
    import_name: str,
    workdir: Path,
    *,
    index: ResolvedIndex | None = None,
    find_links: Sequence[Path] = (),
) -> dict[str, Any]:
    """Schemas of a built wheel; its first-party dependencies come from `find_links`/`index`."""
    python = create_venv(workdir / f"local-{wheel.stem}")
    install(python, [str(wheel)], refresh=name, index=index, find_links=find_links, cwd=workdir)
    return dump_schemas(python, import_name, workdir)


def create_venv(path: Path) -> Path:
    """A new virtualenv at `path` for the Python running lambdapress; returns its python."""
    _run([uv_executable(), "venv", "--quiet", "--python", sys.executable, str(path)], {}, path)
    bindir = "Scripts" if os.name == "nt" else "bin"
    return path / bindir / ("python.exe" if os.name == "nt" else "python")


def install(
    python: Path,
    requirements: Sequence[str],
    *,
    refresh: str,
    index: ResolvedIndex | None,
    cwd: Path,
    find_links: Sequence[Path] = (),
) -> None:
    """`uv pip install` into the environment of `python`, the private index first."""
    command = [uv_executable(), "pip", "install", "--quiet", "--python", str(python)]
    command += ["--refresh-package", refresh]
    extra_env: dict[str, str] = {}
    if index is not None:
        command += ["--index", f"{UV_INDEX_NAME}={index.index_url}"]
        extra_env = index.uv_variables(UV_INDEX_NAME)
    for folder in find_links:
        command += ["--find-links", str(folder)]
    secrets = index.secrets() if index is not None else ()
    _run([*command, *requirements], extra_env, cwd, secrets=secrets)


def dump_schemas(python: Path, import_name: str, cwd: Path) -> dict[str, Any]:
    """Run the dump script in the environment of `python`; `{model: schema}`."""
    output = _run([str(python), "-I", "-c", DUMP_SCRIPT, import_name], {}, cwd)
    data = json.loads(output)
    if data["errors"]:
        problems = "; ".join(f"{name}: {error}" for name, error in data["errors"].items())
        raise CompatCheckError(
            f"cannot produce the JSON Schema of exported models of {import_name}: {problems}",
            hint="every exported pydantic model needs a JSON Schema "
            "(e.g. WithJsonSchema for arbitrary types), or leave it out of __all__",
        )
    schemas: dict[str, Any] = data["schemas"]
    return schemas


def _run(
    command: Sequence[str],
    extra_env: Mapping[str, str],
    cwd: Path,
    *,
    secrets: Sequence[str] = (),
) -> str:
    cwd.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    try:
        result = subprocess.run(
            command,
            cwd=cwd,
            env={**env, **extra_env},
            capture_output=True,
            text=True,
            check=True,
        )
    except subprocess.CalledProcessError as exc:
        shown = " ".join(command)
        if "-c" in command:  # the dump script is long and says nothing about the failure
            shown = " ".join([*command[: command.index("-c")], "-c", "<script>"])
        output = redact((exc.stderr or exc.stdout or "").strip(), secrets)
        raise CompatCheckError(
            f"`{shown}` failed (exit {exc.returncode}): {output[-2000:]}",
            hint="the compatibility gate installs the published and the local version into "
            "throwaway environments; check the index and the package's dependencies",
        ) from None
    return result.stdout
