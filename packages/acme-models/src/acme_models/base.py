"""The building blocks every service's models share, so ids, timestamps and pages look alike."""

from datetime import datetime
from typing import Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Entity(BaseModel):
    """Something stored and addressed by id; services subclass it for their resources."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, max_length=64, description="Opaque identifier")
    created_at: AwareDatetime = Field(description="When it was created (UTC)")
    updated_at: AwareDatetime = Field(description="When it last changed (UTC)")

    def age_at(self, moment: datetime) -> float:
        """Seconds between creation and `moment`."""
        return (moment - self.created_at).total_seconds()


ItemT = TypeVar("ItemT", bound=BaseModel)


class Page(BaseModel, Generic[ItemT]):
    """One page of a listing; `next_cursor` is None on the last page."""

    items: list[ItemT]
    next_cursor: str | None = None
