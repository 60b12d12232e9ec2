"""Memory: each Lambda container's own dict, for demos (the default without a storage table).

    [tool.lambdapress.storage]
    kind = "memory"              # no other keys

Nothing to make, grant, find, render or start: the data lives in the function's process. With
one function per endpoint, an order created by `POST /orders` is not seen by
`GET /orders/{id}`, on Lambda as in the emulator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict

from lambdapress.model.permissions import Permission
from lambdapress.model.resources import Resource
from lambdapress.model.storage_backends import (
    EnvironmentBudget,
    LocalLookup,
    Stack,
    StackBuilder,
    StageNames,
    StorageBackend,
    StorageDeclaration,
    Unavailable,
)


class MemorySettings(BaseModel):
    """No keys besides `kind`."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class MemoryBackend:
    """`kind = "memory"`: no resources, hence nothing for the other facets to do."""

    name = "memory"
    label = "memory"
    resource_kinds: tuple[type[Resource], ...] = ()
    settings_model = MemorySettings
    settings_fixes: Mapping[str, str] = {}
    local = None
    """`lambdapress db` starts nothing for it."""

    def check(self, declaration: StorageDeclaration[MemorySettings], longest: StageNames) -> None:
        """Nothing is named after it."""

    def resources(self, declaration: StorageDeclaration[MemorySettings]) -> tuple[Resource, ...]:
        """None."""
        return ()

    def permissions(self, service: str, resources: Sequence[Resource]) -> tuple[Permission, ...]:
        """None."""
        return ()

    def deployed_environment(self, resource: Resource, stack: Stack) -> Mapping[str, object]:
        """No resource, no variable."""
        return {}

    def environment_budget(self, resource: Resource, longest: StageNames) -> EnvironmentBudget:
        """No resource, no variable."""
        return EnvironmentBudget({})

    def local_environment(
        self, resources: Sequence[Resource], lookup: LocalLookup
    ) -> Mapping[str, str] | Unavailable:
        """No resource, no variable."""
        return {}

    def render(self, resource: Resource, stack: StackBuilder) -> None:
        """No resource, nothing in the stack."""

    def arn(self, resource: Resource, stack: Stack) -> object | None:
        """No resource, no ARN."""
        return None


BACKEND: StorageBackend[MemorySettings] = MemoryBackend()
