"""Trigger kinds: what makes a function run (an HTTP route, a schedule...), one module each.

A kind is a `TriggerKind` (below) with six facets, and the rest of the tool reaches a trigger
only through them:

- `discover`: its triggers in a handler module, read from the module's AST (user code is never
  imported at package time); a bad declaration is a BundleError with the file and the line;
  `uses`, likewise, what the module's code sends to or reads of the kind's resources (a queue
  it sends to: `Used`, with the permissions that takes), which the model records as the
  function's `uses`;
- `check`: rules across functions, once every module is read (two functions on one route), and
  against what the application declares besides its code (`CheckContext`: every service's
  resources, its pyproject and timeout), so a trigger naming a queue nobody declares fails;
- `permissions`: what a trigger lets its function do in AWS (its role's statements), if any;
- `render`: the trigger's resources in the stage's stack (`StackBuilder`);
- `local_source`: what `serve` starts to deliver the kind's triggers locally (`LocalSource`);
- `sample_event`: a realistic event of one trigger, for `invoke --sample` and `bench`.

Each facet receives small typed objects defined here, never a class of a layer above the model
(the bundler, the emulator, deploy), so the registry sits in the model and the kinds above
every layer they use: the built-in kinds are modules of `lambdapress.triggers`, listed once in
`BUILT_IN` by module path and imported on first lookup (each module's `KIND`). A project's or
a test's own kind is registered with `register_trigger_kind`, which also registers its trigger
class in `model.kinds.TRIGGERS` so manifests with it read back; `unregister_trigger_kind`
forgets it.

A kind's trigger class (a pydantic subclass of `Trigger`) is the model's vocabulary, so the
built-in ones stay in `model.triggers` (`HttpRoute`): a manifest parses with the model alone,
without importing any kind's behaviour (the emulator reading a manifest loads no AST walker,
`template` no front end). A kind defined elsewhere keeps its class next to it and registers
both at once.
"""

from __future__ import annotations

import ast
import importlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from lambdapress.errors import ConfigError
from lambdapress.model.application import Application, Function
from lambdapress.model.kinds import TRIGGERS
from lambdapress.model.permissions import Permission
from lambdapress.model.resources import Resource
from lambdapress.model.triggers import Trigger

BUILT_IN = (
    "lambdapress.triggers.http",
    "lambdapress.triggers.http_authorizer",
    "lambdapress.triggers.sqs",
    "lambdapress.triggers.sns",
    "lambdapress.triggers.schedule",
    "lambdapress.triggers.eventbridge",
    "lambdapress.triggers.s3",
    "lambdapress.triggers.dynamodb_stream",
)
"""The built-in kinds, by module path: each module's `KIND` is registered on first lookup."""
HANDLER_FUNCTION = "handler"
"""The function of a handler module Lambda runs (`module.handler`): triggers decorate it."""

_T = TypeVar("_T", bound=Trigger)
_Outcome_co = TypeVar("_Outcome_co", covariant=True)


# -- what the facets receive ---------------------------------------------------------------------


@dataclass(frozen=True)
class Declared(Generic[_T]):
    """One trigger as a handler module declares it, and where (for errors across functions)."""

    trigger: _T
    path: Path
    line: int
    function: str
    """The handler module's function (`orders.get_order`)."""
    deployed_as: str
    """The model's function that carries the trigger: `function`, or `<service>.api` when the
    service is bundled whole (`bundle = "service"`)."""


@dataclass(frozen=True)
class HandlerSource:
    """A handler module as discovery reads it: parsed, never imported."""

    path: Path
    tree: ast.Module
    module: str
    """Its import name (`orders.handlers.get_order`)."""
    function: str
    """Its function (`orders.get_order`)."""
    deployed_as: str
    """See `Declared.deployed_as`."""

    @property
    def service(self) -> str:
        """The service the module belongs to (`orders`): how its code names its own resources."""
        return self.function.split(".", 1)[0]

    @property
    def handler(self) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        """The module-level `def handler` Lambda runs, if the module has one."""
        return next(
            (
                node
                for node in self.tree.body
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and node.name == HANDLER_FUNCTION
            ),
            None,
        )

    def declare(self, trigger: _T, line: int) -> Declared[_T]:
        """`trigger`, declared at `line` of this module."""
        return Declared(trigger, self.path, line, self.function, self.deployed_as)

    def use(self, kind: str, resource: str, line: int, permissions: tuple[Permission, ...]) -> Used:
        """The module's code uses `resource` (declared at `line`), as the kind `kind` found."""
        return Used(kind, resource, permissions, self.path, line, self.function, self.deployed_as)


@dataclass(frozen=True)
class Used:
    """A resource a handler module's code uses (sends to, reads), as a kind found it declared.

    The function records the resource's id in its `uses` (targets give it the resource's
    address) and gets `permissions` (what using it takes: `sqs:SendMessage` on the queue).
    """

    kind: str
    """The trigger kind that found it (`sqs` for a `Queue`): its `check` checks it."""
    resource: str
    """The resource's id (`orders/sns-topic/order-events`)."""
    permissions: tuple[Permission, ...]
    path: Path
    line: int
    function: str
    """See `Declared.function`."""
    deployed_as: str
    """See `Declared.deployed_as`."""


@dataclass(frozen=True)
class ServiceFacts:
    """What `check` knows of a service besides its code."""

    name: str
    pyproject: Path
    """Where its resources are declared (`[tool.lambdapress.queues.NAME]`), for fixes."""
    timeout: int
    """Its functions' timeout, in seconds."""
    storage: str
    """Its storage backend's name (`dynamodb`): a stream needs one of its DynamoDB tables."""


@dataclass(frozen=True)
class CheckContext:
    """The application around the declarations `check` is given: what every service declares."""

    resources: Mapping[str, Resource] = field(default_factory=dict)
    """Every resource of every service, by id."""
    services: Mapping[str, ServiceFacts] = field(default_factory=dict)
    """Every service, by name."""
    uses: tuple[Used, ...] = ()
    """What every function's code uses (each kind checks those it found)."""


class StackBuilder(Protocol):
    """The stage's stack as `render` sees it (deploy's `template_triggers.TriggerStack`)."""

    @property
    def name(self) -> str:
        """The stack's name (`acme-dev`)."""
        ...

    @property
    def project(self) -> str:
        """The project (`acme`)."""
        ...

    @property
    def stage(self) -> str:
        """The stage (`dev`)."""
        ...

    @property
    def log_retention_days(self) -> int:
        """How long the stack's log groups keep what they hold."""
        ...

    def setting(self, key: str) -> object:
        """A validated key of the project's `[tool.lambdapress.deploy]` (`cors`), or None."""
        ...

    def function_id(self, function: str, suffix: str) -> str:
        """The logical id of a resource of `function` (`OrdersGetOrder` + `suffix`)."""
        ...

    def invoke_target(self, function: str) -> dict[str, Any]:
        """What an event source invokes for `function`: its `live` alias (an ARN)."""
        ...

    def add(self, logical_id: str, resource: dict[str, Any], owner: str) -> str:
        """Add a resource; `owner` names it in the error if its id is already taken."""
        ...

    def add_output(self, name: str, output: dict[str, Any]) -> None:
        """Add one of the stack's outputs (`ApiUrl`)."""
        ...


class LocalHost(Protocol[_Outcome_co]):
    """What a local source invokes functions through: the emulator `serve` runs."""

    @property
    def manifest(self) -> Application:
        """The application being served: the latest build, which changes as `serve` rebuilds."""
        ...

    def invoke(self, name: str, *, payload: bytes) -> _Outcome_co:
        """Invoke the function `name` with a JSON event and wait for its result."""
        ...


@dataclass(frozen=True)
class LocalOptions:
    """How `serve` asks a kind's local source to run."""

    port: int = 0
    """The port asked for this kind (`serve --port` for HTTP); 0: any free one."""
    client_timeout: float = 30.0
    """Seconds a client of a listening source may stay silent while it sends a request."""
    on_delivery: Callable[[Any], None] | None = None
    """Told about each delivery, with the source's own record of it (HTTP: an `AccessRecord`)."""
    root: Path | None = None
    """The workspace served, for what a source keeps there (the HTTP API's local JWT keys)."""


class LocalSource(Protocol):
    """Something `serve` starts to deliver one kind's triggers: a front end, a scheduler..."""

    @property
    def name(self) -> str:
        """What `serve` calls it on the console (`HTTP API`)."""
        ...

    @property
    def url(self) -> str | None:
        """Where it listens, if it does."""
        ...

    def start(self) -> object:
        """Start delivering (in threads of its own); return at once."""
        ...

    def close(self) -> None:
        """Stop delivering and wait for what it started."""
        ...


# -- the kind ------------------------------------------------------------------------------------


class TriggerKind(ABC, Generic[_T]):
    """One kind of trigger: how it is declared, checked, permitted, rendered and delivered.

    `model` is its trigger class; the kind's name is that class's literal `kind`. `check` and
    `permissions` default to nothing; the other facets say what the kind does.
    """

    model: ClassVar[type[Trigger]]

    @property
    def name(self) -> str:
        """The kind (`http`), as triggers of it say in the manifest."""
        return kind_name(self.model)

    @abstractmethod
    def discover(self, source: HandlerSource) -> tuple[Declared[_T], ...]:
        """The module's triggers of this kind; a bad declaration is a BundleError at its line."""

    def uses(self, source: HandlerSource) -> tuple[Used, ...]:
        """What the module's code uses of the kind's resources (none unless the kind says)."""
        return ()

    def check(self, declared: Sequence[Declared[_T]], context: CheckContext) -> None:
        """Refuse (BundleError, file and line) what is wrong across the application.

        `declared` are the application's triggers of this kind; `context` what its services
        declare, and what every function's code uses (`context.uses`, those of this kind).
        """
        return None

    def permissions(self, function: str, trigger: _T) -> tuple[Permission, ...]:
        """What `trigger` lets `function` do in AWS (its role), beyond what it uses."""
        return ()

    @abstractmethod
    def render(self, stack: StackBuilder, application: Application) -> None:
        """Add the resources of every trigger of this kind in `application` to `stack`.

        Called once per stack, after every function is in it, when some function has a
        trigger of this kind.
        """

    @abstractmethod
    def local_source(self, host: LocalHost[Any], options: LocalOptions) -> LocalSource:
        """What delivers this kind's triggers locally, not started yet.

        Asked once `host.manifest` has triggers of this kind; it reads `host.manifest` again as
        `serve` rebuilds.
        """

    @abstractmethod
    def sample_event(self, function: Function, trigger: _T) -> Any:
        """A realistic event `trigger` sends `function` (JSON-serialisable)."""


def kind_name(model: type[Trigger]) -> str:
    """The literal `kind` of a trigger class (`http` for `HttpRoute`)."""
    kind = model.model_fields["kind"].default
    if not isinstance(kind, str) or not kind:
        raise TypeError(f"{model.__name__} needs a literal `kind` default")
    return kind


# -- the registry --------------------------------------------------------------------------------


@dataclass
class _Registry:
    kinds: dict[str, TriggerKind[Any]] = field(default_factory=dict)
    loaded: bool = False
    lock: threading.RLock = field(default_factory=threading.RLock)


_REGISTRY = _Registry()


def register_trigger_kind(kind: TriggerKind[Any]) -> TriggerKind[Any]:
    """Register `kind` (and its trigger class in `TRIGGERS`); returns it.

    A second kind of the same name is refused: unregister the first one.
    """
    with _REGISTRY.lock:
        known = _REGISTRY.kinds.get(kind.name)
        if known is not None and known is not kind:
            raise TypeError(
                f"trigger kind {kind.name!r} is registered twice ({type(known).__name__} "
                f"and {type(kind).__name__})"
            )
        TRIGGERS.register(kind.model)
        _REGISTRY.kinds[kind.name] = kind
    return kind


def unregister_trigger_kind(name: str) -> None:
    """Forget the kind `name` and its trigger class (tests and plugins clean up with this)."""
    with _REGISTRY.lock:
        _REGISTRY.kinds.pop(name, None)
        TRIGGERS.unregister(name)


def trigger_kinds() -> tuple[TriggerKind[Any], ...]:
    """Every registered kind, the built-in ones loaded first, sorted by name."""
    with _REGISTRY.lock:
        if not _REGISTRY.loaded:
            for module in BUILT_IN:
                register_trigger_kind(importlib.import_module(module).KIND)
            _REGISTRY.loaded = True
        return tuple(_REGISTRY.kinds[name] for name in sorted(_REGISTRY.kinds))


def trigger_kind(name: str) -> TriggerKind[Any]:
    """The kind called `name`, or a ConfigError listing the known ones."""
    for kind in trigger_kinds():
        if kind.name == name:
            return kind
    known = ", ".join(k.name for k in trigger_kinds()) or "none"
    raise ConfigError(
        f"no trigger kind {name!r} is registered (known: {known})",
        hint="register it with lambdapress.model.trigger_kinds.register_trigger_kind, or use "
        "the lambdapress version that wrote the manifest",
    )


def kind_of(trigger: Trigger) -> TriggerKind[Any]:
    """The kind `trigger` belongs to."""
    return trigger_kind(trigger.kind)


# -- every kind at once: what the bundler, deploy, the emulator and bench call -------------------


def discover_triggers(source: HandlerSource) -> tuple[Declared[Any], ...]:
    """Every trigger the module declares, kind by kind (in the kinds' order)."""
    return tuple(found for kind in trigger_kinds() for found in kind.discover(source))


def discover_uses(source: HandlerSource) -> tuple[Used, ...]:
    """Every resource the module's code uses, kind by kind (in the kinds' order)."""
    return tuple(found for kind in trigger_kinds() for found in kind.uses(source))


def check_triggers(declared: Iterable[Declared[Any]], context: CheckContext | None = None) -> None:
    """Each kind's rules across the application, over the declarations of its kind.

    Without `context`, as if no service declared anything (tests of one kind's rules).
    """
    everything = tuple(declared)
    around = context if context is not None else CheckContext()
    for kind in trigger_kinds():
        kind.check([d for d in everything if d.trigger.kind == kind.name], around)


def trigger_permissions(function: str, triggers: Iterable[Trigger]) -> tuple[Permission, ...]:
    """What `function`'s triggers let it do, each statement once, in the triggers' order."""
    found = (p for trigger in triggers for p in kind_of(trigger).permissions(function, trigger))
    return tuple(dict.fromkeys(found))


def render_triggers(stack: StackBuilder, application: Application) -> None:
    """Every kind's resources for the application's triggers (a kind without any adds none)."""
    for kind in kinds_in(application):
        kind.render(stack, application)


def kinds_in(application: Application) -> tuple[TriggerKind[Any], ...]:
    """The kinds some function of `application` has triggers of, sorted by name."""
    used = {trigger.kind for function in application.functions for trigger in function.triggers}
    return tuple(kind for kind in trigger_kinds() if kind.name in used)


def sample_event(function: Function) -> Any:
    """A realistic event for `function`: its first trigger's (`{}` when nothing triggers it)."""
    if not function.triggers:
        return {}
    trigger = function.triggers[0]
    return kind_of(trigger).sample_event(function, trigger)
