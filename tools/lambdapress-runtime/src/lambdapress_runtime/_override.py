"""`container.override(provider, factory)`: tests swap a provider without patching modules."""

from __future__ import annotations

# `typing` and `collections.abc` are for type checkers only: importing them costs a cold start
# milliseconds (see README, "Import time"), so they are read under TYPE_CHECKING, set False here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from lambdapress_runtime._lifetimes import Lifetimes
    from lambdapress_runtime._provider import Provider

_MISSING = object()


class Override:
    """Context manager: while open, `provider` is built by `factory`; nests and restores.

    Every per-container resource is closed on entry and exit: one built from the real provider
    (or from the fake) may be captured by another per-container resource, and must not leak
    across the boundary: `close_all` is the container's `close`.
    """

    def __init__(
        self,
        lifetimes: Lifetimes,
        provider: Provider[Any],
        factory: Callable[[], object],
        close_all: Callable[[], None],
    ) -> None:
        self._lifetimes = lifetimes
        self._provider = provider
        self._factory = factory
        self._close_all = close_all
        self._previous: object = _MISSING

    def __enter__(self) -> None:
        overrides = self._lifetimes.overrides
        self._previous = overrides.get(self._provider, _MISSING)
        overrides[self._provider] = self._factory
        self._close_all()

    def __exit__(self, *_exc: object) -> None:
        overrides = self._lifetimes.overrides
        if self._previous is _MISSING:
            overrides.pop(self._provider, None)
        else:
            overrides[self._provider] = self._previous  # type: ignore[assignment]
        self._close_all()
