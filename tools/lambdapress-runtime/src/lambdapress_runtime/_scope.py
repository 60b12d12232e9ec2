"""One invocation's scope: its per-invocation resources and their teardown.

Resources created during an invocation are closed at its end whether the handler returned or
raised, newest first (a repository is closed before the connection it uses), and the
handler's own exception is never replaced by a teardown failure: the teardown failure is
logged and attached to it as a note instead.
"""

from __future__ import annotations

from _thread import RLock

from lambdapress_runtime import _strict
from lambdapress_runtime._errors import RuntimeSetupError
from lambdapress_runtime._resource import Resource, create

# `typing` and `collections.abc` are for type checkers only: importing them costs a cold start
# milliseconds (see README, "Import time"), so they are read under TYPE_CHECKING, set False here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from lambdapress_runtime._lifetimes import Lifetimes, Registered


class InvocationScope:
    """What one invocation created, in creation order, and what it must check at its end."""

    def __init__(self, lifetimes: Lifetimes, *, strict: bool) -> None:
        self._lifetimes = lifetimes
        self._lock = RLock()
        self._resources: dict[Registered, Resource] = {}
        self._order: list[Resource] = []
        self._creating: set[Registered] = set()
        self.shared_used: set[Registered] = set()
        # When the invocation times out (on the container's clock), if the handler's Lambda
        # context says: retries stop before it.
        self.deadline: float | None = None
        self.threads = _strict.snapshot_threads() if strict else None

    def get(self, provider: Registered) -> object:
        """This invocation's value of a per-invocation provider, created on first use."""
        lifetimes = self._lifetimes
        building = lifetimes.shared_creation_in_progress()
        if building is not None:
            raise RuntimeSetupError(
                f"per-container provider {building} cannot use per-invocation provider "
                f"{provider.name}: it would outlive the invocation; make it per-invocation too"
            )
        with self._lock:
            resource = self._resources.get(provider)
            if resource is not None:
                return resource.value
            if provider in self._creating:
                raise RuntimeSetupError(f"provider {provider.name} depends on itself")
            self._creating.add(provider)
            try:
                resource = create(provider.name, lifetimes.factory_for(provider), lifetimes.clock())
            finally:
                self._creating.discard(provider)
            self._resources[provider] = resource
            self._order.append(resource)
            return resource.value

    def close(self, error: BaseException | None) -> list[Exception]:
        """Tear down in reverse creation order; return the teardown failures (never raise).

        A per-container resource used during an invocation that failed with one of its
        provider's `retry_on` errors is discarded: the connection is probably broken, and the
        next invocation should not be the one to find out.
        """
        failures: list[Exception] = []
        for resource in reversed(self._order):
            try:
                resource.close(error)
            except Exception as failure:  # collected, reported by the caller
                failures.append(failure)
        now = self._lifetimes.clock()
        for provider in self.shared_used:
            if error is not None and provider.retry_on and _caused_by(error, provider.retry_on):
                self._lifetimes.log_event("discard", provider.name)
                provider.discard()
            else:
                provider.mark_used(now)
        return failures

    def leftovers(self) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        """Strict mode's findings after `close`: threads still running, threads still running
        a task the invocation gave a thread pool, resources still open."""
        found = _strict.leftovers(self.threads) if self.threads is not None else None
        resources = tuple(resource.name for resource in self._order if resource.open)
        if found is None:
            return (), (), resources
        return found.threads, found.tasks, resources


def _caused_by(error: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    """Whether `error` or an exception it was raised from (a repository wrapping a driver
    error) is one of `kinds`."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, kinds):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
