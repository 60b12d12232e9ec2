"""Memory: each Lambda container's own dict, for demos (the default without a storage table).

    [tool.lambdapress.storage]
    kind = "memory"              # no other keys

Nothing to make, grant, find, render or start: the data lives in the function's process. With
one function per endpoint, an order created by `POST /orders` is not seen by
`GET /orders/{id}`, on Lambda as in the emulator.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from lambdapress.model.storage_backends import NoResourcesBackend, StorageBackend


class MemorySettings(BaseModel):
    """No keys besides `kind`."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class MemoryBackend(NoResourcesBackend[MemorySettings]):
    """`kind = "memory"`: no resources, hence nothing for the other facets to do."""

    name = "memory"
    label = "memory"
    settings_model = MemorySettings


BACKEND: StorageBackend[MemorySettings] = MemoryBackend()
