"""`with container.invocation():` — the scope of one invocation, entered by the handler
wrapper and the Powertools middleware (and by tests and scripts that call providers directly).

Scopes do not nest: inside an invocation, another `invocation()` joins the current one, so a
handler wrapped by `container.handler` whose resolver also uses `container.middleware` still
gets one scope and one teardown.
"""

from __future__ import annotations

from lambdapress_runtime import _strict
from lambdapress_runtime._errors import StrictModeError
from lambdapress_runtime._log import log
from lambdapress_runtime._scope import InvocationScope

# `typing` and `collections.abc` are for type checkers only: importing them costs a cold start
# milliseconds (see README, "Import time"), so they are read under TYPE_CHECKING, set False here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from contextvars import Token
    from types import TracebackType

    from lambdapress_runtime._lifetimes import Lifetimes, Scope


class Invocation:
    """Context manager for one invocation scope (see the module docstring)."""

    def __init__(self, lifetimes: Lifetimes) -> None:
        self._lifetimes = lifetimes
        self._scope: InvocationScope | None = None
        self._token: Token[Scope | None] | None = None

    def __enter__(self) -> Scope:
        lifetimes = self._lifetimes
        current = lifetimes.current_scope.get()
        if current is not None:
            return current
        scope = InvocationScope(lifetimes, strict=_strict.enabled())
        self._scope = scope
        self._token = lifetimes.current_scope.set(scope)
        lifetimes.active_scopes.append(scope)
        return scope

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        scope, token = self._scope, self._token
        if scope is None or token is None:
            return  # joined an enclosing invocation, which closes the scope
        self._scope = self._token = None
        lifetimes = self._lifetimes
        lifetimes.current_scope.reset(token)
        lifetimes.active_scopes.remove(scope)
        failures = scope.close(error)
        threads, tasks, resources = scope.leftovers()
        if threads or tasks or resources:
            failures.append(StrictModeError(threads, resources, tasks))
        if not failures:
            return
        for failure in failures:
            log("ERROR", "teardown_failed", error=f"{type(failure).__name__}: {failure}")
        if error is not None:
            # The handler's exception is what the caller must see; the teardown failures
            # travel with it as notes (and are in the log above).
            for failure in failures:
                error.add_note(f"also, at the end of the invocation: {failure!r}")
            return
        if len(failures) == 1:
            raise failures[0]
        raise ExceptionGroup("several teardowns failed at the end of the invocation", failures)
