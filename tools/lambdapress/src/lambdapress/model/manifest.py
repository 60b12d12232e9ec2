"""`dist/manifest.json`: the contract between the bundler and everything after it.

The local emulator, the deployer and the benchmarks read this file and never re-derive what it
says, so a function runs and deploys exactly as it was built.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lambdapress.config.lambda_platform import (
    EPHEMERAL_STORAGE_MAX_MB,
    EPHEMERAL_STORAGE_MIN_MB,
    RUNTIMES,
    Architecture,
    Runtime,
)
from lambdapress.config.validation import Source, config_error
from lambdapress.errors import ConfigError, LambdapressError
from lambdapress.support import files

MANIFEST_VERSION = 1
HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"]


class Route(BaseModel):
    """One HTTP route in API Gateway syntax (`/orders/{order_id}`), whatever the handler wrote."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: HttpMethod
    path: str = Field(pattern=r"^/")

    @property
    def route_key(self) -> str:
        """API Gateway's name for the route: `GET /orders/{order_id}`."""
        return f"{self.method} {self.path}"


class FunctionEntry(BaseModel):
    """One deployable Lambda function and the artifact built for it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="`<service>.<handler module>`, unique in the repository")
    service: str
    handler: str = Field(description="`module.path.function`, as Lambda's Handler setting")
    routes: tuple[Route, ...] = ()
    artifact: str = Field(description="zip path relative to the repository root")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    code_sha256: str = Field(description="base64 of the raw SHA-256, as Lambda's CodeSha256")
    size: int = Field(ge=0)
    inputs_hash: str
    runtime: Runtime
    architecture: Architecture
    memory: int = Field(ge=128, le=10240)
    timeout: int = Field(ge=1, le=900)
    ephemeral_storage: int = Field(
        default=EPHEMERAL_STORAGE_MIN_MB,
        ge=EPHEMERAL_STORAGE_MIN_MB,
        le=EPHEMERAL_STORAGE_MAX_MB,
        description="MB of /tmp (Lambda's EphemeralStorage); 512 in manifests written before "
        "it was recorded",
    )
    environment: dict[str, str] = Field(
        default_factory=dict,
        description="the service's variables, plus the implementation pins of what ships "
        "(PSYCOPG_IMPL=binary when psycopg-binary ships)",
    )
    layer_libraries: tuple[str, ...] = Field(
        default=(),
        description="shared libraries a layer provides to the function, beyond the runtime's "
        "(`[tool.lambdapress] layer_libraries`), by file name (`libpq.so.5`) or library name "
        "(`libpq`: any version): the emulator lets the function load these from the host",
    )
    distributions: dict[str, str] = Field(default_factory=dict)
    modules: tuple[str, ...] = ()
    data_files: tuple[str, ...] = Field(
        default=(),
        description="paths in the zip of the package data shipped (JSON schemas, templates...); "
        "empty in manifests written before it was recorded",
    )

    @field_validator("artifact")
    @classmethod
    def _inside_the_repository(cls, value: str) -> str:
        """The emulator runs and deploy uploads this file: never one outside the repository."""
        parts = value.replace("\\", "/").split("/")
        if not value or value.startswith(("/", "\\")) or ":" in parts[0] or ".." in parts:
            raise ValueError("must be a path inside the repository (dist/<service>/<name>.zip)")
        return value

    @property
    def python_version(self) -> str:
        """`3.12` for `python3.12`."""
        return RUNTIMES[self.runtime].python


class Manifest(BaseModel):
    """All functions of one build, sorted by name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    functions: tuple[FunctionEntry, ...] = ()

    def function(self, name: str) -> FunctionEntry:
        """The function called `name`, or a ConfigError listing the ones that exist."""
        return find_function(
            self.functions,
            name,
            ConfigError,
            hint="run `nox -s package` after adding it, or check the name",
            where=" in the manifest",
        )


class _Named(Protocol):
    @property
    def name(self) -> str: ...


_Function = TypeVar("_Function", bound=_Named)


def find_function(
    functions: Iterable[_Function],
    name: str,
    error: type[LambdapressError],
    *,
    hint: str,
    where: str = "",
    key: str | None = None,
    aliases: Callable[[_Function], Iterable[str]] = lambda f: (f.name,),
) -> _Function:
    """The function called `name` (or one of its `aliases`), or an `error` listing the others.

    The bundler, the emulator and the manifest say it alike. `key` is what is compared when
    `name` says more (an ARN's function part).
    """
    candidates = tuple(functions)
    wanted = name if key is None else key
    for function in candidates:
        if wanted in aliases(function):
            return function
    known = ", ".join(f.name for f in candidates) or "none"
    raise error(f"no function named {name!r}{where} (known: {known})", hint=hint)


def manifest_path(root: Path) -> Path:
    """Where `lambdapress package` writes the manifest under the repository root."""
    return root / "dist" / "manifest.json"


def read_manifest(path: Path) -> Manifest:
    """Load a manifest, or a ConfigError that says how to make one."""
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            "no manifest: nothing has been packaged yet",
            path=path,
            hint="run `nox -s package` (or `lambdapress package`) first",
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read the manifest: {exc.strerror or exc}",
            path=path,
            hint="rebuild it with `nox -s package`",
        ) from None
    try:
        return Manifest.model_validate_json(text)
    except ValidationError as exc:
        source = Source(
            path,
            (),
            {},
            default_fix="rebuild it with `nox -s package`",
            quote_values=False,
            toml=False,
        )
        raise config_error(exc, source, "not a lambdapress manifest", always_heading=True) from None


def write_manifest(manifest: Manifest, path: Path) -> None:
    """Write atomically: readers see the old manifest or the new one, never half of one."""
    payload = json.dumps(manifest.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"
    files.write_text(path, payload)
