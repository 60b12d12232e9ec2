"""`Lifetimes`: the state a container shares with its providers, scopes and overrides.

A provider needs more of its container than its factory: the clock, the override a test put in
its place, the invocation running now (its scope, its deadline), which per-container provider
this thread is creating (a per-invocation value must not be captured by it), and the SnapStart
generation. That state lives here, below everything that reads it, so the modules form layers
instead of a loop: `Provider` and `InvocationScope` are built on `Lifetimes` and never import
each other (each sees the other through the protocols below), `Invocation` and `Override` sit
on top of them, and `Container` on top of all, owning one `Lifetimes`. A contract in the root
pyproject (`[tool.importlinter]`) keeps it so.
"""

from __future__ import annotations

# `threading.local` is this C type; `threading` itself (its module body, `_weakrefset`, ...) is
# not needed to use it.
from _thread import _local
from contextvars import ContextVar

from lambdapress_runtime._errors import RuntimeSetupError
from lambdapress_runtime._log import log

# `typing` and `collections.abc` are for type checkers only: importing them costs a cold start
# milliseconds (see README, "Import time"), so they are read under TYPE_CHECKING, set False here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Protocol

    from lambdapress_runtime._resource import Resource

    class Registered(Protocol):
        """What lifetimes and scopes use of a provider (`Provider` is one)."""

        name: str
        factory: Callable[[], object]

        @property
        def retry_on(self) -> tuple[type[BaseException], ...]:
            """The errors that mean the per-container value is broken (none per invocation)."""
            ...

        def discard(self) -> None: ...
        def mark_used(self, now: float) -> None: ...

    class Scope(Protocol):
        """What providers use of an invocation's scope (`InvocationScope` is one)."""

        deadline: float | None
        shared_used: set[Registered]

        def get(self, provider: Registered) -> object: ...


class Lifetimes:
    """A container's clock, overrides, running invocations and creations in progress.

    Args:
        clock: seconds from an arbitrary origin, for idle checks and retries.
        sleep: waits between attempts to create a resource.
    """

    def __init__(self, clock: Callable[[], float], sleep: Callable[[float], object]) -> None:
        self.clock = clock
        self.sleep = sleep
        # A test's replacement factory for a provider (`container.override`).
        self.overrides: dict[Registered, Callable[[], object]] = {}
        # The invocation this context runs in, and every invocation open now.
        self.current_scope: ContextVar[Scope | None] = ContextVar(
            "lambdapress_runtime_scope", default=None
        )
        self.active_scopes: list[Scope] = []
        # Per thread, the per-container providers being created (innermost last).
        self._local = _local()
        # Bumped after a SnapStart restore: a resource from an older generation is recreated.
        self.generation = 0

    def factory_for(self, provider: Registered) -> Callable[[], object]:
        """The factory that builds `provider` now: a test's override, else its own."""
        return self.overrides.get(provider, provider.factory)

    # The running invocation -------------------------------------------------------------------

    def scope_for(self, provider: Registered) -> Scope:
        """The current invocation's scope: this context's, else the only one running (a thread
        the handler started does not inherit context variables)."""
        scope = self.current_scope.get()
        if scope is None and len(self.active_scopes) == 1:
            scope = self.active_scopes[0]
        if scope is None:
            raise RuntimeSetupError(
                f"per-invocation provider {provider.name} used outside an invocation: wrap "
                "the handler with @container.handler, add container.middleware to the "
                "resolver, or use `with container.invocation():`"
            )
        return scope

    def deadline(self) -> float | None:
        """The current invocation's deadline, when its handler was given a Lambda context."""
        scope = self.current_scope.get()
        return scope.deadline if scope is not None else None

    def note_shared_use(self, provider: Registered) -> None:
        """Record that the current invocation used a per-container provider (its end may
        discard the resource, or marks it used)."""
        scope = self.current_scope.get()
        if scope is not None:
            scope.shared_used.add(provider)

    # Per-container creations in progress, per thread ------------------------------------------

    def enter_shared_creation(self, provider: Registered) -> None:
        stack: list[str] = self._local.__dict__.setdefault("building", [])
        stack.append(provider.name)

    def leave_shared_creation(self) -> None:
        self._local.building.pop()

    def shared_creation_in_progress(self) -> str | None:
        """The per-container provider this thread is creating, innermost, if any."""
        stack: list[str] | None = self._local.__dict__.get("building")
        return stack[-1] if stack else None

    # Teardown and logs ------------------------------------------------------------------------

    def close_quietly(self, resource: Resource) -> None:
        """Close a discarded per-container resource; it is usually broken already, so a
        failing teardown is logged, not raised into the invocation that replaces it."""
        try:
            resource.close()
        except Exception as failure:  # logged: the resource is gone either way
            log("WARNING", "close_failed", provider=resource.name, error=repr(failure))

    def log_event(self, event: str, provider: str) -> None:
        log("WARNING", event, provider=provider)
