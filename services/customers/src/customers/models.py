"""What the customers API accepts and returns.

The stored `Customer` builds on the shared `Entity` of
`acme_models`, so every service agrees on ids and timestamps. The request
bodies forbid unknown fields so a typo in a client is a 422, not silently ignored data.
"""

from pydantic import BaseModel, ConfigDict, Field

from acme_models import Entity


class CustomerIn(BaseModel):
    """The body of `POST /customers`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)


class CustomerPatch(BaseModel):
    """The body of `PATCH /customers/{customer_id}`.

    Only the fields to change.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)


class Customer(Entity):
    """A stored customer, as the API returns it."""

    name: str
    description: str | None = None
