"""Storage backends: where a service keeps its data, one module each, registered here.

A service names its backend in its pyproject, `[tool.lambdapress.storage] kind = "<name>"`. A
backend is one object (`StorageBackend`) with six facets, each asked by the one part of the
tool that needs it, so that nothing outside the backend's module knows what PostgreSQL or
DynamoDB is:

- settings: its keys of `[tool.lambdapress.storage]` (`settings_model`, a pydantic model the
  registry validates, reporting a wrong key with the file, the line and the fix), and `check`:
  the names the stack will make of them fit AWS's rules for every stage (`package`);
- resources: the model's resources it makes for a service (`bundle.wiring`);
- permissions: what a function that uses them may do, for its access (`read`: a function
  whose triggers only read, GET routes; `write`: the others) (`bundle.wiring`);
- environment: the variables that find a resource, deployed (`deployed_environment`: the
  template), at their longest (`environment_budget`: Lambda's 4 KB, checked by `package`) and
  locally (`local_environment`: `serve` and `invoke`);
- render: the stack's resources for it (`render`) and the ARN its permissions name (`arn`);
- local: what `lambdapress db` starts and prepares for it (`local.start`), and what that
  server records in the state file for `local_environment` (`local.state_model`).

The built-in backends are listed once, as module paths, and imported on the first lookup: this
layer never imports the one they live in (`backends/`, above deploy, emulator and storage), so
the layer map holds. A project or a test adds its own with `register_storage_backend`.

The resource classes of the built-in backends (`DynamoDBTable`, `PostgresDatabase`) stay in
`model.resources`, not in the backends' modules: the manifest is the contract every target
reads, so it must parse, and its committed JSON Schema must be generated, from the model alone,
without loading the code that serves or renders the resources. A backend names its classes in
`resource_kinds`; registering it registers them in `model.kinds.RESOURCES` (a class already
there, like the built-in ones, stays), which is also how a resource read from a manifest finds
its backend (`backend_of`).

The facets' argument types are defined here (a validated declaration, a stage's names, the
stack being built, the host `lambdapress db` gives a server, a server running) so that a
backend depends on the model alone, and the layers that ask the facets hand it their own
implementations.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from lambdapress.config.pyproject import PYPROJECT, find_key_line
from lambdapress.config.storage_settings import DEFAULT_KIND
from lambdapress.config.validation import Source, config_error
from lambdapress.config.workspace import Service
from lambdapress.errors import ConfigError
from lambdapress.model.kinds import RESOURCES
from lambdapress.model.permissions import Access, Permission
from lambdapress.model.resources import Resource

BUILT_IN_BACKENDS = (
    "lambdapress.backends.postgres",
    "lambdapress.backends.dynamodb",
    "lambdapress.backends.memory",
)
"""The modules of the built-in backends; each has a `BACKEND`. Their order is `db`'s."""
STORAGE_TABLE = ("tool", "lambdapress", "storage")
LOCAL_STAGE = "local"
"""The stage local resources are named for: a table is `<project>-local-<service>-<table>`."""

SettingsT = TypeVar("SettingsT", bound=BaseModel)


@dataclass(frozen=True)
class StorageDeclaration(Generic[SettingsT]):
    """A service's `[tool.lambdapress.storage]`, its keys validated by its backend."""

    backend: StorageBackend[SettingsT]
    """The backend `kind` names."""
    service: str
    folder: Path
    """The service's folder."""
    root: Path
    """The repository's root."""
    settings: SettingsT

    @property
    def pyproject(self) -> Path:
        """The file the declaration is in, for errors."""
        return self.folder / PYPROJECT

    def line_of(self, *keys: str) -> int | None:
        """The line of a key under `[tool.lambdapress.storage]` (or the nearest table's)."""
        return find_key_line(self.pyproject, [*STORAGE_TABLE, *keys])


@dataclass(frozen=True)
class StageNames:
    """A project and a stage: what every physical name in an account is made from."""

    project: str
    stage: str


class Stack(Protocol):
    """The stack being rendered, as a backend names things in it."""

    @property
    def project(self) -> str:
        """The project's name."""
        ...

    @property
    def stage(self) -> str:
        """The stage's name."""
        ...

    def logical_id(self, name: str, kind: str) -> str:
        """The logical id of a resource named by the user (`customers_audit`, `Table`)."""
        ...


@dataclass(frozen=True)
class DataProtection:
    """How a stage protects the data its stack holds (its `hardening` settings, resolved).

    A backend renders its stateful resources with it: kept when the stack is deleted or the
    resource replaced (`retain`), with continuous backups (`point_in_time_recovery`).
    """

    retain: bool = False
    point_in_time_recovery: bool = False


class StackBuilder(Stack, Protocol):
    """The stack being rendered, as a backend adds its resources to it."""

    @property
    def protection(self) -> DataProtection:
        """How the stage protects its data (production stages: kept, backed up)."""
        ...

    def add(self, logical_id: str, resource: dict[str, Any], owner: str) -> str:
        """Add `resource` under `logical_id`; `owner` says whose it is, for a clash's error."""
        ...

    def tags(self, service: str | None = None) -> list[dict[str, str]]:
        """The tags saying which project, stage (and service) a resource belongs to."""
        ...


@dataclass(frozen=True)
class EnvironmentBudget:
    """The variables the stack gives a function for one resource, at their longest."""

    variables: Mapping[str, str]
    note: str = ""
    """How the values were sized, for the error that says the 4 KB are exceeded."""


@dataclass(frozen=True)
class Unavailable:
    """A resource nothing local serves: what it is and the variable that would find it."""

    what: str
    """`PostgreSQL`."""
    variable: str
    """`DATABASE_URL`: the caller's own, used when no `lambdapress db` runs."""


@dataclass(frozen=True)
class LocalLookup:
    """What a backend finds its resources' local variables with."""

    names: StageNames
    """The project, and the local stage."""
    state: BaseModel | None
    """The backend's part of the running `lambdapress db`'s state (`local_state_model`)."""
    environ: Mapping[str, str] = field(default_factory=dict)
    """The caller's variables: servers of its own when no `lambdapress db` runs."""


@dataclass(frozen=True)
class LocalHost:
    """What `lambdapress db` gives a backend to start its local server on."""

    root: Path
    folder: Path
    """`.cache/lambdapress/db`: where servers keep their data and logs."""
    names: StageNames
    port: int
    """A free port on 127.0.0.1, or the one asked for on the command line."""
    settings: Mapping[str, str] = field(default_factory=dict)
    """Server parameters asked for on the command line (PostgreSQL's max_connections)."""
    say: Callable[[str], None] = lambda _line: None
    """Progress, one line at a time."""


class LocalServer(Protocol):
    """A backend's local server, started and prepared for its services by `lambdapress db`."""

    @property
    def state(self) -> BaseModel:
        """What `serve` and `invoke` find its resources with (the backend's part of the state)."""
        ...

    @property
    def address(self) -> str:
        """Where it listens (`127.0.0.1:5432`), for the message refusing a second `db`."""
        ...

    def report(self) -> tuple[str, ...]:
        """What `lambdapress db` prints about it once it serves."""
        ...

    def close(self) -> None:
        """Stop it."""
        ...


class Stoppable(Protocol):
    """A server process of ours (`storage.postgres`'s PostgreSQL, `storage.dynamodb`'s moto)."""

    def stop(self) -> None:
        """End it and wait for it."""
        ...


@dataclass
class StartedServer:
    """The part of a `LocalServer` every backend that runs a process of its own shares.

    A subclass narrows `server` to its own server's class.
    """

    server: Stoppable

    def close(self) -> None:
        """Stop the server."""
        self.server.stop()


class LocalStorage(Protocol[SettingsT]):
    """A backend's local counterpart: the server `lambdapress db` runs for its services."""

    @property
    def state_model(self) -> type[BaseModel]:
        """What its server records in the state file (`LocalServer.state`'s class)."""
        ...

    def start(
        self, declarations: Sequence[StorageDeclaration[SettingsT]], host: LocalHost
    ) -> LocalServer:
        """Start the server and prepare the declaring services' resources in it."""
        ...


class StorageBackend(Protocol[SettingsT]):
    """One kind of storage: how it is declared, made, granted, found, rendered and run."""

    @property
    def name(self) -> str:
        """The `kind` of `[tool.lambdapress.storage]` that selects it."""
        ...

    @property
    def label(self) -> str:
        """What people call it in messages (`PostgreSQL`)."""
        ...

    @property
    def resource_kinds(self) -> tuple[type[Resource], ...]:
        """The classes of the resources it makes (registered in `RESOURCES` with it)."""
        ...

    # settings
    @property
    def settings_model(self) -> type[SettingsT]:
        """Its keys of `[tool.lambdapress.storage]` besides `kind`; must forbid extra keys.

        Validated with the service's name as pydantic's context (`info.context["service"]`).
        """
        ...

    @property
    def settings_fixes(self) -> Mapping[str, str]:
        """Key -> how to fix a wrong value of it (the `fix:` line of the error)."""
        ...

    def check(self, declaration: StorageDeclaration[SettingsT], longest: StageNames) -> None:
        """At package time: what the stack makes of it fits AWS's rules for every stage."""
        ...

    # resources
    def resources(self, declaration: StorageDeclaration[SettingsT]) -> tuple[Resource, ...]:
        """The resources of the model it makes for the declaring service."""
        ...

    # permissions
    def permissions(
        self, service: str, resources: Sequence[Resource], access: Access = "write"
    ) -> tuple[Permission, ...]:
        """What a function of `service` that uses `resources` (all its) may do with them.

        `read`: only what reading takes, so a handler that serves GET routes cannot change or
        delete data even when its code has a bug or an injection.
        """
        ...

    # environment
    def deployed_environment(self, resource: Resource, stack: Stack) -> Mapping[str, object]:
        """The variables finding `resource` in the stack (values are template expressions)."""
        ...

    def environment_budget(self, resource: Resource, longest: StageNames) -> EnvironmentBudget:
        """`deployed_environment`'s variables with their longest values, for the 4 KB."""
        ...

    def local_environment(
        self, resources: Sequence[Resource], lookup: LocalLookup
    ) -> Mapping[str, str] | Unavailable:
        """The variables finding one service's `resources` locally, or why there are none."""
        ...

    # render
    def render(self, resource: Resource, stack: StackBuilder) -> None:
        """Add the stack's resources for `resource` (none when it lives outside the stack)."""
        ...

    def arn(self, resource: Resource, stack: Stack) -> object | None:
        """The ARN a permission naming `resource` grants (None: it has none in the stack)."""
        ...

    # local
    @property
    def local(self) -> LocalStorage[SettingsT] | None:
        """What `lambdapress db` starts for it; None: nothing (the memory backend)."""
        ...


class NoResourcesBackend(Generic[SettingsT]):
    """A backend that makes no resources: every facet past the settings answers "nothing".

    A subclass gives `name`, `label` and `settings_model` (the memory backend needs no more).
    """

    name: str
    label: str
    settings_model: type[SettingsT]
    resource_kinds: tuple[type[Resource], ...] = ()
    settings_fixes: Mapping[str, str] = {}
    local: LocalStorage[SettingsT] | None = None
    """`lambdapress db` starts nothing for it."""

    def check(self, declaration: StorageDeclaration[SettingsT], longest: StageNames) -> None:
        """Nothing is named after it."""

    def resources(self, declaration: StorageDeclaration[SettingsT]) -> tuple[Resource, ...]:
        """None."""
        return ()

    def permissions(
        self, service: str, resources: Sequence[Resource], access: Access = "write"
    ) -> tuple[Permission, ...]:
        """None."""
        return ()

    def deployed_environment(self, resource: Resource, stack: Stack) -> Mapping[str, object]:
        """No resource, no variable."""
        return {}

    def environment_budget(self, resource: Resource, longest: StageNames) -> EnvironmentBudget:
        """No resource, no variable."""
        return EnvironmentBudget({})

    def local_environment(
        self, resources: Sequence[Resource], lookup: LocalLookup
    ) -> Mapping[str, str] | Unavailable:
        """No resource, no variable."""
        return {}

    def render(self, resource: Resource, stack: StackBuilder) -> None:
        """No resource, nothing in the stack."""

    def arn(self, resource: Resource, stack: Stack) -> object | None:
        """No resource, no ARN."""
        return None


AnyBackend = StorageBackend[Any]


class _Registry:
    """The registered backends, by name, in registration order (built-in ones first)."""

    def __init__(self) -> None:
        self.backends: dict[str, AnyBackend] = {}
        self.added_kinds: dict[str, tuple[str, ...]] = {}
        self.loaded = False
        self.lock = threading.RLock()

    def load_built_ins(self) -> None:
        with self.lock:
            if self.loaded:
                return
            self.loaded = True
            for module_path in BUILT_IN_BACKENDS:
                backend: AnyBackend = importlib.import_module(module_path).BACKEND
                self.add(backend)

    def add(self, backend: AnyBackend) -> None:
        known = self.backends.get(backend.name)
        if known is not None and known is not backend:
            raise TypeError(f"storage backend {backend.name!r} is registered twice")
        if backend.settings_model.model_config.get("extra") != "forbid":
            raise TypeError(
                f"the settings model of storage backend {backend.name!r} must forbid extra "
                "keys (model_config = ConfigDict(extra='forbid')): a misspelt key must fail"
            )
        added = []
        for cls in backend.resource_kinds:
            kind = cls.model_fields["kind"].default
            if kind not in RESOURCES.kinds():
                added.append(kind)
            RESOURCES.register(cls)
        self.backends[backend.name] = backend
        self.added_kinds[backend.name] = tuple(added)


_REGISTRY = _Registry()


def register_storage_backend(backend: AnyBackend) -> None:
    """Make `backend` the one `[tool.lambdapress.storage] kind = "<its name>"` selects.

    Its resource classes are registered too, so a manifest naming them can be read. A second
    backend of the same name is a TypeError (a programming mistake, not the user's).
    """
    _REGISTRY.load_built_ins()
    with _REGISTRY.lock:
        _REGISTRY.add(backend)


def unregister_storage_backend(name: str) -> None:
    """Forget a backend and the resource kinds its registration added (tests clean up so)."""
    _REGISTRY.load_built_ins()
    with _REGISTRY.lock:
        _REGISTRY.backends.pop(name, None)
        for kind in _REGISTRY.added_kinds.pop(name, ()):
            RESOURCES.unregister(kind)


def storage_backends() -> tuple[AnyBackend, ...]:
    """Every registered backend, the built-in ones first."""
    _REGISTRY.load_built_ins()
    with _REGISTRY.lock:
        return tuple(_REGISTRY.backends.values())


def storage_backend(name: str) -> AnyBackend:
    """The backend called `name`, or a ConfigError listing the registered ones."""
    for backend in storage_backends():
        if backend.name == name:
            return backend
    raise ConfigError(
        f"no storage backend {name!r} (known: {_names()})",
        hint="use one of the known kinds, or register the backend before running lambdapress",
    )


def backend_of(resource: Resource) -> AnyBackend:
    """The backend that made `resource` (by its class), or a ConfigError saying so."""
    for backend in storage_backends():
        if any(isinstance(resource, cls) for cls in backend.resource_kinds):
            return backend
    raise ConfigError(
        f"no storage backend makes resources of kind {resource.kind!r} ({resource.id})",
        hint="register the backend that makes them, or package again: the manifest is not one "
        "this lambdapress wrote",
    )


def stored_resources(resources: Sequence[Resource]) -> tuple[Resource, ...]:
    """The resources a storage backend made (tables, a database), in their order.

    A service's resources also hold its queues, topics, buses and buckets, which no backend
    makes (the events server has them, `storage.events`): `by_backend` refuses those, so
    whoever groups a service's resources by backend takes these first.
    """
    kinds = tuple(kind for backend in storage_backends() for kind in backend.resource_kinds)
    return tuple(resource for resource in resources if isinstance(resource, kinds))


def by_backend(resources: Sequence[Resource]) -> list[tuple[AnyBackend, tuple[Resource, ...]]]:
    """`resources` grouped by their backend, each group in its order, backends by first use."""
    groups: dict[str, tuple[AnyBackend, list[Resource]]] = {}
    for resource in resources:
        backend = backend_of(resource)
        groups.setdefault(backend.name, (backend, []))[1].append(resource)
    return [(backend, tuple(members)) for backend, members in groups.values()]


def storage_declaration(service: Service, root: Path) -> StorageDeclaration[Any]:
    """The service's `[tool.lambdapress.storage]`, validated by the backend its `kind` names.

    Every mistake is a ConfigError naming the file, the key's line and the fix: an unknown
    kind (with the known ones), a key of another backend (with its kind), a misspelt key, a
    wrong value.
    """
    storage = service.settings.storage
    options = storage.options
    pyproject = service.path / PYPROJECT
    names = {b.name: b for b in storage_backends()}
    backend = names.get(storage.kind)
    if backend is None:
        raise ConfigError(
            f"`{'.'.join(STORAGE_TABLE)}.kind`: no storage backend {storage.kind!r} "
            f"(known: {_names()})",
            path=pyproject,
            line=find_key_line(pyproject, [*STORAGE_TABLE, "kind"]),
            hint=f"set kind to one of {_names()} (a service without the table is on "
            f'"{DEFAULT_KIND}"), or register the backend before running lambdapress',
        )
    fields = backend.settings_model.model_fields
    for key in options:
        owners = [b.name for b in names.values() if key in b.settings_model.model_fields]
        if key not in fields and owners:
            raise ConfigError(
                f"`{'.'.join(STORAGE_TABLE)}.{key}` is a key of storage kind "
                f"{' or '.join(repr(o) for o in owners)}, but kind is {storage.kind!r}",
                path=pyproject,
                line=find_key_line(pyproject, [*STORAGE_TABLE, key]),
                hint=f'set kind = "{owners[0]}", or remove {key}',
            )
    try:
        settings = backend.settings_model.model_validate(options, context={"service": service.name})
    except ValidationError as exc:
        source = Source(
            pyproject,
            STORAGE_TABLE,
            {"kind": storage.kind, **options},
            fixes=backend.settings_fixes,
            known=["kind", *fields],
            default_fix=f'see the keys of storage kind "{backend.name}" in the README',
            misspelt_first=True,
        )
        raise config_error(
            exc, source, f'invalid [tool.lambdapress.storage] of kind "{backend.name}"'
        ) from None
    return StorageDeclaration(backend, service.name, service.path, root, settings)


def _names() -> str:
    return ", ".join(repr(b.name) for b in storage_backends()) or "none"
