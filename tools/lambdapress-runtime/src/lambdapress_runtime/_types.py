"""Typing-only helpers: the decorator `per_container(...)` returns (imported for type checks)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Protocol, TypeVar, overload

if TYPE_CHECKING:
    from lambdapress_runtime._provider import Provider

T = TypeVar("T")


class ProviderDecorator(Protocol):
    """`@container.per_container(check=...)`: turns a factory into a `Provider` of its value."""

    @overload
    def __call__(self, factory: Callable[[], Iterator[T]], /) -> Provider[T]: ...
    @overload
    def __call__(self, factory: Callable[[], T], /) -> Provider[T]: ...
