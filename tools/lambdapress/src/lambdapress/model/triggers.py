"""What makes a function run: its triggers, one registered kind each.

HTTP routes are the first kind; a queue, a topic, a schedule, an event rule, a bucket or a
stream is another subclass of `Trigger` with a `kind` of its own, registered in `TRIGGERS`
(`model.kinds`), and the rest of the model takes it unchanged.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from lambdapress.model.kinds import TRIGGERS, Kinded, registered

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"]


class Trigger(Kinded):
    """Something that invokes a function: a route, a queue, a schedule..."""

    @property
    def label(self) -> str:
        """How people name it in messages and tables (`GET /orders/{order_id}`)."""
        return self.kind


@registered(TRIGGERS)
class HttpRoute(Trigger):
    """One HTTP API route in API Gateway syntax (`/orders/{order_id}`).

    Whatever the handler wrote: Powertools' `/orders/<order_id>` is written this way.
    """

    kind: Literal["http"] = "http"
    method: HttpMethod
    path: str = Field(pattern=r"^/")

    @property
    def route_key(self) -> str:
        """API Gateway's name for the route: `GET /orders/{order_id}`."""
        return f"{self.method} {self.path}"

    @property
    def label(self) -> str:
        """The route key."""
        return self.route_key
