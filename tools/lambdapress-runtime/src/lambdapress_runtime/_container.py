"""`Container`: where a service registers its providers, and what wraps its handlers.

One container per service (a `dependencies.py` module): providers are registered once, at
import, with a lifetime; handlers and other providers call `provider.get()`; tests replace a
provider with `container.override` instead of patching the modules that use it.

The container is the top of the runtime's layers: what its providers, scopes and overrides
share is its `Lifetimes` (`_lifetimes.py`), handed to each of them, so none of them imports
this module.
"""

from __future__ import annotations

import os
import time

from lambdapress_runtime import _snapstart
from lambdapress_runtime._invocation import Invocation
from lambdapress_runtime._lifetimes import Lifetimes
from lambdapress_runtime._log import log
from lambdapress_runtime._provider import PerContainerOptions, Provider
from lambdapress_runtime._settings import read_settings
from lambdapress_runtime._warmup import answer_warmup, is_warmup

# `typing` and `collections.abc` are for type checkers only: importing them costs a cold start
# milliseconds (see README, "Import time"), so they are read under TYPE_CHECKING, set False here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any, TypeVar, Unpack, overload

    from lambdapress_runtime._override import Override
    from lambdapress_runtime._provider import PerContainerKeywords
    from lambdapress_runtime._types import ProviderDecorator

    T = TypeVar("T")
    M = TypeVar("M")
    R = TypeVar("R")
    E = TypeVar("E")
    C = TypeVar("C")


class Container:
    """A service's providers and the lifetimes of what they create.

    Args:
        clock: seconds from an arbitrary origin, for idle checks and retries (`time.monotonic`;
            tests pass their own to step time instead of sleeping).
        sleep: waits between attempts to create a resource (`time.sleep`; tests pass their
            clock's own step).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self._lifetimes = Lifetimes(clock, sleep)
        self._providers: list[Provider[Any]] = []
        self._settings: list[Provider[Any]] = []
        self._settings_loaded = False
        self.snapstart = _snapstart.register(self._before_snapshot, self._after_restore)

    @property
    def clock(self) -> Callable[[], float]:
        """The clock idle checks, retries and deadlines read (`time.monotonic` by default)."""
        return self._lifetimes.clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        self._lifetimes.clock = clock

    @property
    def sleep(self) -> Callable[[float], object]:
        """How the container waits between attempts to create a resource (`time.sleep`)."""
        return self._lifetimes.sleep

    @sleep.setter
    def sleep(self, sleep: Callable[[float], object]) -> None:
        self._lifetimes.sleep = sleep

    # Registration -----------------------------------------------------------------------------

    if TYPE_CHECKING:

        @overload
        def per_container(self, factory: Callable[[], Iterator[T]], /) -> Provider[T]: ...
        @overload
        def per_container(self, factory: Callable[[], T], /) -> Provider[T]: ...
        @overload
        def per_container(
            self, *, name: str | None = None, **keep: Unpack[PerContainerKeywords]
        ) -> ProviderDecorator: ...

    def per_container(
        self,
        factory: Callable[[], object] | None = None,
        *,
        name: str | None = None,
        **keep: Unpack[PerContainerKeywords],
    ) -> Any:
        """Register a provider whose value lives as long as the execution environment.

        Created on first `.get()` and reused by warm invocations. When it has a `check`
        (`check(value)` returning False or raising means "broken") and sat unused longer than
        `check_after` seconds, it is checked before reuse and recreated if the check fails.
        Creation that raises a `retry_on` error is tried again at once, then after growing
        pauses (50 ms doubling to 1 s) for up to `retry_for` seconds, never closer than 0.5 s
        to the invocation's deadline (`retry_for=0`: one immediate retry only), unless
        `retry_if(error)` says waiting cannot help (a wrong password: fail at once); and a
        `retry_on` error leaving an invocation that used it discards it, so the next
        invocation reconnects.
        A generator factory's code after `yield` closes it (on discard, snapshot, `close()`).
        The keywords besides `name` are `PerContainerOptions`'.
        """
        options = PerContainerOptions(**keep)

        def register(function: Callable[[], object]) -> Provider[Any]:
            provider: Provider[Any] = Provider(
                self._lifetimes, function, per_invocation=False, name=name, options=options
            )
            self._providers.append(provider)
            return provider

        return register if factory is None else register(factory)

    if TYPE_CHECKING:

        @overload
        def per_invocation(self, factory: Callable[[], Iterator[T]], /) -> Provider[T]: ...
        @overload
        def per_invocation(self, factory: Callable[[], T], /) -> Provider[T]: ...
        @overload
        def per_invocation(self, *, name: str | None = None) -> ProviderDecorator: ...

    def per_invocation(
        self, factory: Callable[[], object] | None = None, *, name: str | None = None
    ) -> Any:
        """Register a provider whose value is created on first use within an invocation and
        closed at its end (success or exception), newest first."""

        def register(function: Callable[[], object]) -> Provider[Any]:
            provider: Provider[Any] = Provider(
                self._lifetimes, function, per_invocation=True, name=name
            )
            self._providers.append(provider)
            return provider

        return register if factory is None else register(factory)

    def settings(self, model: type[M]) -> Provider[M]:
        """Register a pydantic model read from the environment once per container.

        Each field comes from the variable named by its alias, or its name upper-cased.
        The handler wrapper reads every settings model at the first invocation, so a missing
        variable fails the cold start with one `SettingsError` listing all of them, even when
        the code path that needs it is not taken.
        """
        name = f"settings {getattr(model, '__qualname__', model)}"
        provider: Provider[M] = Provider(
            self._lifetimes,
            lambda: read_settings(model, os.environ),
            per_invocation=False,
            name=name,
        )
        self._providers.append(provider)
        self._settings.append(provider)
        return provider

    # Scopes, handlers and tests ---------------------------------------------------------------

    def invocation(self) -> Invocation:
        """The scope of one invocation: `with container.invocation(): ...` (joins an
        enclosing one)."""
        return Invocation(self._lifetimes)

    def handler(self, function: Callable[[E, C], R]) -> Callable[[E, C], R | dict[str, bool]]:
        """Wrap a Lambda handler: answer warm-up pings first, then run one invocation scope.

        A warm-up event (`WARMUP_EVENT`) returns `{"warmed": True}` before any provider,
        setting or handler code runs.
        """

        def wrapper(event: E, context: C) -> R | dict[str, bool]:
            if is_warmup(event):
                return answer_warmup(context)
            with Invocation(self._lifetimes) as scope:
                if scope.deadline is None:
                    scope.deadline = self._deadline_of(context)
                if not self._settings_loaded:
                    self._load_settings()
                return function(event, context)

        # functools.wraps, without importing functools (a cold-start cost on a bare runtime).
        for attribute in ("__module__", "__name__", "__qualname__", "__doc__"):
            if hasattr(function, attribute):
                setattr(wrapper, attribute, getattr(function, attribute))
        wrapper.__wrapped__ = function  # type: ignore[attr-defined]
        return wrapper

    def middleware(self, app: Any, next_middleware: Callable[[Any], R]) -> R:
        """aws-lambda-powertools middleware: `app.use(middlewares=[container.middleware])`
        runs each route inside an invocation scope (joining the handler wrapper's, if any)."""
        with Invocation(self._lifetimes):
            return next_middleware(app)

    def override(self, provider: Provider[T], factory: Callable[[], T | Iterator[T]]) -> Override:
        """`with container.override(repository, lambda: fake):` swaps a provider's factory.

        Per-container resources are closed on entering and leaving, so nothing built from the
        real provider (or the fake) outlives the block.
        """
        # Imported here: overrides are for tests, and a cold start need not load them.
        from lambdapress_runtime._override import Override

        return Override(self._lifetimes, provider, factory, self.close)

    def close(self) -> None:
        """Close every per-container resource (teardown runs); the next use recreates it."""
        for provider in self._providers:
            if not provider.per_invocation:
                provider.discard()
        self._settings_loaded = False

    # SnapStart --------------------------------------------------------------------------------

    def _before_snapshot(self) -> None:
        log("INFO", "before_snapshot")
        self.close()

    def _after_restore(self) -> None:
        self._lifetimes.generation += 1
        refreshed = _snapstart.refresh_process_state()
        log("INFO", "after_restore", refreshed=",".join(refreshed) or "nothing")

    # Used by the handler wrapper ---------------------------------------------------------------

    def _load_settings(self) -> None:
        for provider in self._settings:
            provider.get()
        self._settings_loaded = True

    def _deadline_of(self, context: object) -> float | None:
        """When the invocation times out, on `clock`: from the Lambda context, if it says."""
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if not callable(remaining):
            return None
        try:
            return self.clock() + float(remaining()) / 1000.0
        except Exception:  # a stand-in context of a test or script: no deadline known
            return None
