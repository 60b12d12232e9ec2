"""One created resource: its value and, for generator providers, the teardown still pending.

A provider written as a generator keeps its setup and teardown in one function (like
`contextlib.contextmanager`): the code before `yield` creates the resource, the code after it
releases it. Keeping the suspended generator is what lets the runtime run that teardown at the
right moment: the end of an invocation, a snapshot, or a discarded connection.
"""

from __future__ import annotations

from types import GeneratorType

from lambdapress_runtime._errors import RuntimeSetupError

# `typing` and `collections.abc` are for type checkers only: importing them costs a cold start
# milliseconds (see README, "Import time"), so they are read under TYPE_CHECKING, set False here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


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
        """Run the code after `yield`. `error`, the handler's exception, is raised at the
        `yield` first, as `contextlib.contextmanager` does: a provider can then roll back
        (`with conn.transaction(): yield repository`) instead of committing a failed request.
        Teardown that must run either way belongs in `finally` (or a `with` block).

        Raises what the teardown raised, except the very error thrown in: that one belongs to
        the handler, and re-raising it here would report it twice.
        """
        generator, self._generator = self._generator, None
        if generator is None:
            return
        try:
            if error is None:
                next(generator)
            else:
                generator.throw(error)
        except StopIteration:
            return
        except BaseException as raised:
            if error is not None and raised is error:
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
