"""The application model: every function, what triggers it, what it uses and may do.

`lambdapress package` finds and builds it once. It is stage-independent and complete: the
emulator, the template renderers, deploy, sync, destroy and bench read it (through
`dist/manifest.json`, its serialisation) and the stage's settings, never a service's pyproject,
so what runs and deploys is exactly what was built. Triggers and resources are open families
(`model.kinds`): a new kind is a new class, not a change here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, field_validator

from lambdapress.config.lambda_platform import (
    EPHEMERAL_STORAGE_DEFAULT_MB,
    RUNTIMES,
    Architecture,
    EphemeralStorageMB,
    MemoryMB,
    Runtime,
    TimeoutSeconds,
)
from lambdapress.config.rollout_settings import RolloutStrategy
from lambdapress.errors import ConfigError, LambdapressError
from lambdapress.model import config_resources  # noqa: F401  (registers its kinds)
from lambdapress.model.kinds import RESOURCES, TRIGGERS, parse_all
from lambdapress.model.permissions import Permission
from lambdapress.model.resources import Resource
from lambdapress.model.triggers import HttpRoute, Trigger
from lambdapress.support.integrity import SHA256_HEX

SCHEMA_VERSION = 2
_T = TypeVar("_T", bound=Trigger)


class Artifact(BaseModel):
    """The zip built for a function, and what it was built from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(description="the zip, relative to the repository root")
    sha256: str = Field(pattern=SHA256_HEX)
    code_sha256: str = Field(description="base64 of the raw SHA-256, as Lambda's CodeSha256")
    size: int = Field(ge=0)
    inputs_hash: str = Field(description="what the build read; equal inputs, equal zip")

    @field_validator("path")
    @classmethod
    def _inside_the_repository(cls, value: str) -> str:
        """The emulator runs and deploy uploads this file: never one outside the repository."""
        parts = value.replace("\\", "/").split("/")
        if not value or value.startswith(("/", "\\")) or ":" in parts[0] or ".." in parts:
            raise ValueError("must be a path inside the repository (dist/<service>/<name>.zip)")
        return value


class Contents(BaseModel):
    """What the zip holds, for people and for checks (not needed to run it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    distributions: dict[str, str] = Field(default_factory=dict)
    modules: tuple[str, ...] = ()
    data_files: tuple[str, ...] = Field(
        default=(), description="paths in the zip of the package data shipped"
    )
    layer_libraries: tuple[str, ...] = Field(
        default=(),
        description="shared libraries a layer provides (`[tool.lambdapress] layer_libraries`): "
        "file names (`libpq.so.5`) or library names (`libpq`, any version)",
    )


class Capacity(BaseModel):
    """A function's optional capacity and placement (`[tool.lambdapress.functions.<handler>]`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reserved_concurrency: int | None = Field(default=None, ge=0)
    provisioned_concurrency: int | None = Field(default=None, ge=1)
    warm_every_minutes: int | None = Field(default=None, ge=1)
    snapstart: bool = Field(
        default=False,
        description="Lambda SnapStart on its published versions (the service's `snapstart`, "
        "or the function's own); `package` refused it where Lambda would",
    )
    vpc: bool | None = Field(
        default=None,
        description="in the stage's network or not; None: the functions with PostgreSQL "
        "storage are",
    )
    rollout: RolloutStrategy | None = Field(
        default=None, description="the function's rollout strategy; None: its stage's"
    )


class Function(BaseModel):
    """One deployable Lambda function: its configuration, its artifact and its wiring."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="`<service>.<handler module>`, unique in the repository")
    service: str
    handler: str = Field(description="`module.path.function`, as Lambda's Handler setting")
    runtime: Runtime
    architecture: Architecture
    memory: MemoryMB
    timeout: TimeoutSeconds
    ephemeral_storage: EphemeralStorageMB = Field(
        default=EPHEMERAL_STORAGE_DEFAULT_MB, description="MB of /tmp (Lambda's EphemeralStorage)"
    )
    environment: dict[str, str] = Field(
        default_factory=dict,
        description="the service's variables and the implementation pins; what the stack "
        "provides for its resources is added by each target",
    )
    artifact: Artifact
    contents: Contents = Field(default_factory=Contents)
    triggers: tuple[SerializeAsAny[Trigger], ...] = ()
    uses: tuple[str, ...] = Field(default=(), description="ids of the resources it uses")
    permissions: tuple[Permission, ...] = ()
    capacity: Capacity = Field(default_factory=Capacity)

    @field_validator("triggers", mode="before")
    @classmethod
    def _each_trigger_as_its_kind(cls, value: Any) -> tuple[Any, ...]:
        return parse_all(TRIGGERS, value)

    @property
    def python_version(self) -> str:
        """`3.12` for `python3.12`."""
        return RUNTIMES[self.runtime].python

    def triggers_of(self, kind: type[_T]) -> tuple[_T, ...]:
        """Its triggers of one kind (`function.triggers_of(HttpRoute)`)."""
        return tuple(t for t in self.triggers if isinstance(t, kind))

    @property
    def routes(self) -> tuple[HttpRoute, ...]:
        """Its HTTP routes."""
        return self.triggers_of(HttpRoute)


class Application(BaseModel):
    """Every function and resource of one build, each sorted by name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[2] = 2
    functions: tuple[Function, ...] = ()
    resources: tuple[SerializeAsAny[Resource], ...] = ()

    @field_validator("resources", mode="before")
    @classmethod
    def _each_resource_as_its_kind(cls, value: Any) -> tuple[Any, ...]:
        return parse_all(RESOURCES, value)

    def function(self, name: str) -> Function:
        """The function called `name`, or a ConfigError listing the ones that exist."""
        return find_function(
            self.functions,
            name,
            ConfigError,
            hint="run `nox -s package` after adding it, or check the name",
            where=" in the manifest",
        )

    def resource(self, resource_id: str) -> Resource:
        """The resource with this id (`customers/dynamodb-table/customers`)."""
        for resource in self.resources:
            if resource.id == resource_id:
                return resource
        raise ConfigError(
            f"no resource {resource_id!r} in the manifest",
            hint="run `nox -s package` again: the manifest is not one lambdapress wrote",
        )

    def resources_of(self, service: str) -> tuple[Resource, ...]:
        """The resources of one service."""
        return tuple(r for r in self.resources if r.service == service)

    def used_by(self, function: Function) -> tuple[Resource, ...]:
        """The resources `function` uses, in its order."""
        return tuple(self.resource(resource_id) for resource_id in function.uses)

    @property
    def services(self) -> tuple[str, ...]:
        """The services that have functions, sorted."""
        return tuple(sorted({f.service for f in self.functions}))


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
