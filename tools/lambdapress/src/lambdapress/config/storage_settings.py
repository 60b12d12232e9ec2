"""The `[tool.lambdapress.storage]` table of a service, as written: a backend's name and its keys.

Where a service keeps its data is a storage backend's business (`model.storage_backends`, the
built-in ones in `lambdapress.backends`): each one declares its own keys and validates them, so
adding a backend never edits this file. Configuration sits below the registry in the layer map,
so here the table is only read: `kind` names the backend (`memory` when the table is absent)
and every other key is kept as written, for the backend to validate at package time (and when
`lambdapress db` reads the workspace), with the file, the line and the fix.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_KIND = "memory"
"""The backend of a service without `[tool.lambdapress.storage]`: one container's dict."""

# The event a scheduled warm-up ping sends; the runtime answers it before any provider or
# business logic runs. The deploy template schedules exactly this payload.
WARMUP_EVENT: dict[str, str] = {"lambdapress": "warmup"}


class StorageSettings(BaseModel):
    """`kind` (a storage backend's name) and that backend's keys, not yet validated."""

    model_config = ConfigDict(extra="allow", frozen=True)

    kind: str = Field(default=DEFAULT_KIND, pattern=r"^[a-z][a-z0-9_-]*$")

    @property
    def options(self) -> dict[str, object]:
        """The keys besides `kind`, as written (the backend validates them)."""
        return dict(self.model_extra or {})
