"""One created resource: its value and, for generator providers, the teardown still pending.

A provider written as a generator keeps its setup and teardown in one function (like
`contextlib.contextmanager`): the code before `yield` creates the resource, the code after it
releases it. Keeping the suspended generator is what lets the runtime run that teardown at the
right moment: the end of an invocation, a snapshot, or a discarded connection.
"""

from __future__ import annotations

from collections.abc import Callable
from types import GeneratorType
from typing import Any

from lambdapress_runtime._errors import RuntimeSetupError


class Resource:
    """A value a provider created, with the generator whose teardown has not run yet."""

    __slots__ = ("_generator", "created_at", "last_used", "name", "value")

    def __init__(
        self, name: str, value: object, generator: GeneratorType[Any, None, None] | None, now: float
    ) -> None:
        self.name = name
        self.value = value
        self._generator = generator
        self.created_at = now
        self.last_used = now

    @property
    def open(self) -> bool:
        """Whether the resource still needs closing: its teardown has not finished, or the
        value (a connection or client without a teardown in its provider) says it is open."""
        if self._generator is not None and self._generator.gi_frame is not None:
            return True
        for attribute in ("closed", "is_closed"):
            state = getattr(self.value, attribute, None)
            if isinstance(state, bool):
                return not state
        return False

    def close(self, error: BaseException | None = None) -> None:
        """Run the teardown after `yield`; `error` is thrown in at the `yield` (so a provider
        can roll back a transaction when the handler failed), as `contextlib` does.

        Raises what the teardown raised, except the very error thrown in: that one belongs to
        the handler, and re-raising it here would report it twice.
        """
        generator, self._generator = self._generator, None
        if generator is None:
            return
        if error is None:
            try:
                next(generator)
            except StopIteration:
                return
        else:
            try:
                generator.throw(error)
            except StopIteration:
                return
            except BaseException as raised:
                if raised is error:
                    return
                raise
        generator.close()
        raise RuntimeSetupError(f"provider {self.name} yielded more than once; yield exactly once")


def create(name: str, factory: Callable[[], object], now: float) -> Resource:
    """Call a factory; a generator factory runs up to its `yield`, which gives the value.

    The generator is recognised by what the call returned, not by inspecting the function: that
    keeps `inspect` (several milliseconds to import) out of a cold start.
    """
    produced = factory()
    if not isinstance(produced, GeneratorType):
        return Resource(name, produced, None, now)
    try:
        value = next(produced)
    except StopIteration:
        raise RuntimeSetupError(f"provider {name} returned without yielding a value") from None
    return Resource(name, value, produced, now)
