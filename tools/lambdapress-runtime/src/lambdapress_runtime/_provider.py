"""`Provider`: a registered factory and, for the per-container lifetime, the resource it keeps.

A per-container resource (a database connection, an SDK client) lives as long as the Lambda
execution environment: it is created on first use, reused by warm invocations, validated
before reuse when the container sat idle (it may have been frozen while the server closed the
connection), and created again when creating it fails with a connection error: at once, then
with growing pauses for up to `retry_for` seconds, never past the invocation's deadline. A
server that restarts refuses connections (or says it is shutting down) for a second or so;
without the pauses every request that reached the container in that second failed, several
per container (measured: 41 of 100 requests, up to 7 on one container, during a 0.7 s restart
of PostgreSQL). A per-invocation provider keeps nothing here: its resources belong to the
invocation's scope (`_scope.py`).
"""

from __future__ import annotations

from _thread import RLock
from types import GenericAlias

from lambdapress_runtime._errors import RuntimeSetupError
from lambdapress_runtime._resource import Resource, create

# Pauses between attempts to create a resource after the immediate retry: doubling, capped.
FIRST_PAUSE = 0.05
LONGEST_PAUSE = 1.0
# Retrying stops this long before the invocation's deadline, leaving the handler time to
# report the failure itself instead of being killed by the timeout.
DEADLINE_MARGIN = 0.5
# A bound on attempts, whatever the clock says (a test's clock that never moves).
MAX_ATTEMPTS = 50
# `per_container`'s defaults: seconds unused before a value with a `check` is checked, and
# seconds a `retry_on` error is retried for.
CHECK_AFTER = 30.0
RETRY_FOR = 5.0

# `typing` and `collections.abc` are for type checkers only: importing them costs a cold start
# milliseconds (see README, "Import time"), so they are read under TYPE_CHECKING, set False here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypedDict, TypeVar, Unpack
    from typing import Generic as _Subscriptable

    from lambdapress_runtime._lifetimes import Lifetimes

    T = TypeVar("T")

    class PerContainerKeywords(TypedDict, total=False):
        """`Container.per_container`'s keywords besides `name` (see `PerContainerOptions`)."""

        check: Callable[[Any], object] | None
        check_after: float
        retry_on: tuple[type[BaseException], ...]
        retry_for: float
        retry_if: Callable[[BaseException], bool] | None
else:

    class _Subscriptable:
        """What `typing.Generic` gives at run time, without importing `typing`: `Provider[Order]`
        in an annotation that is evaluated (pydantic, `get_type_hints`) still works."""

        def __class_getitem__(cls, item):
            return GenericAlias(cls, item)

    T = "T"


class PerContainerOptions:
    """How a per-container value is kept: `Container.per_container`'s keywords, as one value.

    `check(value)` returning False or raising means "broken"; a value unused for longer than
    `check_after` seconds is checked before reuse. Creation that raises a `retry_on` error is
    retried for up to `retry_for` seconds, unless `retry_if(error)` says waiting cannot help.
    Set once, in `__init__` (a plain class: `dataclasses` would cost the cold start its import).
    """

    __slots__ = ("check", "check_after", "retry_for", "retry_if", "retry_on")

    def __init__(self, **keep: Unpack[PerContainerKeywords]) -> None:
        unknown = keep.keys() - set(self.__slots__)
        if unknown:
            names = ", ".join(sorted(unknown))
            raise TypeError(f"per_container() got unexpected keyword arguments: {names}")
        self.check = keep.get("check")
        self.check_after = keep.get("check_after", CHECK_AFTER)
        self.retry_on = keep.get("retry_on", ())
        self.retry_for = keep.get("retry_for", RETRY_FOR)
        self.retry_if = keep.get("retry_if")

    def __setattr__(self, name: str, value: object) -> None:
        if hasattr(self, name):
            raise AttributeError(f"PerContainerOptions are immutable: cannot set {name}")
        object.__setattr__(self, name, value)


PER_INVOCATION = PerContainerOptions()
"""What a per-invocation provider is given: nothing is kept, so nothing is checked or retried."""


class Provider(_Subscriptable[T]):
    """A factory registered on a `Container`, with a lifetime; `.get()` gives its value.

    Providers are created by the container's decorators (`per_container`, `per_invocation`,
    `settings`), not directly: each is given its container's `Lifetimes`. Handlers and other
    providers call `.get()`, so tests can swap a provider with `container.override` instead of
    patching modules.
    """

    def __init__(
        self,
        lifetimes: Lifetimes,
        factory: Callable[[], object],
        *,
        per_invocation: bool,
        name: str | None = None,
        options: PerContainerOptions = PER_INVOCATION,
    ) -> None:
        self._lifetimes = lifetimes
        self.factory = factory
        self.per_invocation = per_invocation
        self.name = name or _name_of(factory)
        self.options = options
        # Per-container state. The lock makes two threads resolving at once create one
        # resource; it is re-entrant so one provider can call another's .get() while creating.
        self._lock = RLock()
        self._resource: Resource | None = None
        self._generation = 0
        self._creating = False

    @property
    def retry_on(self) -> tuple[type[BaseException], ...]:
        """The errors that are retried at creation, and discard the value when they end an
        invocation that used it."""
        return self.options.retry_on

    def __repr__(self) -> str:
        lifetime = "per_invocation" if self.per_invocation else "per_container"
        return f"<Provider {self.name} ({lifetime})>"

    def get(self) -> T:
        """The value for the current scope: this container's, or this invocation's.

        Raises:
            RuntimeSetupError: a per-invocation provider used outside an invocation, or a
                provider that (through others) needs itself.
        """
        if self.per_invocation:
            return self._lifetimes.scope_for(self).get(self)  # type: ignore[return-value]
        return self._get_shared()  # type: ignore[return-value]

    def discard(self) -> None:
        """Close the per-container resource now, so the next `.get()` creates a fresh one.

        For code that catches a connection error itself (an exception handler that turns it
        into a 500): the runtime discards automatically only when the error leaves the handler.
        """
        with self._lock:
            resource, self._resource = self._resource, None
        if resource is not None:
            self._lifetimes.close_quietly(resource)

    def mark_used(self, now: float) -> None:
        """Note that the per-container resource, if any, was used at `now` (the end of an
        invocation that used it: its idle time counts from there)."""
        resource = self._resource
        if resource is not None:
            resource.last_used = now

    def _get_shared(self) -> object:
        lifetimes = self._lifetimes
        resource = self._resource
        now = lifetimes.clock()
        if resource is not None and self._is_fresh(resource, now):
            resource.last_used = now
            lifetimes.note_shared_use(self)
            return resource.value
        with self._lock:
            if self._creating:
                raise RuntimeSetupError(f"provider {self.name} depends on itself")
            resource = self._resource
            if (
                resource is not None
                and not self._is_fresh(resource, now)
                and not self._still_valid(resource)
            ):
                self._resource = None
                lifetimes.close_quietly(resource)
                resource = None
            if resource is None:
                resource = self._create()
                self._resource = resource
                self._generation = lifetimes.generation
            resource.last_used = now
        lifetimes.note_shared_use(self)
        return resource.value

    def _is_fresh(self, resource: Resource, now: float) -> bool:
        """Reusable without a check: not from before a snapshot restore, and either without a
        check or used recently enough that the server cannot have dropped it yet."""
        if self._generation != self._lifetimes.generation:
            return False
        check_after = self.options.check_after
        return self.options.check is None or now - resource.last_used <= check_after

    def _still_valid(self, resource: Resource) -> bool:
        check = self.options.check
        if self._generation != self._lifetimes.generation or check is None:
            return False
        try:
            valid = check(resource.value) is not False
        except Exception:  # any failure of the check means "reconnect"
            valid = False
        if not valid:
            self._lifetimes.log_event("check_failed", self.name)
        return valid

    def _create(self) -> Resource:
        """Create the resource; a `retry_on` error (a server that is restarting, a connection
        refused while a proxy fails over) is retried at once, then after pauses of 50 ms
        doubling up to 1 s, while `retry_for` seconds and the invocation's deadline allow."""
        lifetimes, options = self._lifetimes, self.options
        factory = lifetimes.factory_for(self)
        self._creating = True
        lifetimes.enter_shared_creation(self)
        try:
            until = lifetimes.clock() + options.retry_for
            deadline = lifetimes.deadline()
            if deadline is not None:
                until = min(until, deadline - DEADLINE_MARGIN)
            pause = FIRST_PAUSE
            attempts = 0
            while True:
                attempts += 1
                try:
                    return create(self.name, factory, lifetimes.clock())
                except options.retry_on as error:
                    if options.retry_if is not None and not options.retry_if(error):
                        raise  # a refusal that waiting will not change (a wrong password)
                    if attempts == 1:
                        lifetimes.log_event("retry", self.name)
                        continue  # once at once: a stale socket, a connection reset
                    if attempts >= MAX_ATTEMPTS or lifetimes.clock() + pause > until:
                        raise
                lifetimes.sleep(pause)
                pause = min(pause * 2, LONGEST_PAUSE)
        finally:
            self._creating = False
            lifetimes.leave_shared_creation()


def _name_of(factory: Callable[[], object]) -> str:
    module = getattr(factory, "__module__", None) or "?"
    qualname = getattr(factory, "__qualname__", None) or repr(factory)
    return f"{module}.{qualname}"
