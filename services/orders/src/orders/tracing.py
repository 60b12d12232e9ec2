"""X-Ray tracing of the orders handlers (Powertools' Tracer) on a traced stage.

Each handler is wrapped in `tracer.capture_lambda_handler`: on a stage that traces
(`[tool.lambdapress.deploy.stages.<stage>.observability] tracing = "xray"`, the default on
production stages) the stack sets `LAMBDAPRESS_TRACING=xray`, Lambda samples requests and the
handler's subsegment shows up under them in X-Ray, with its errors. Elsewhere (other stages,
`lambdapress serve`, tests) the wrapper changes nothing and the Tracer is never imported: it
imports the X-Ray SDK, about 135 ms of every cold start, for traces nobody records.

Responses are not recorded (`capture_response=False` on each handler): they carry the
service's data, which does not belong in traces.
Only botocore is patched, so each AWS call is a subsegment of its own; patching every library
Powertools knows would import them all (requests, httpx...) at every cold start.
"""

import os
from typing import Protocol, TypeVar

_Handler = TypeVar("_Handler")


class HandlerDecorator(Protocol):
    """A decorator that keeps the handler's type."""

    def __call__(self, handler: _Handler, /) -> _Handler: ...


class HandlerTracer(Protocol):
    """What the handlers use of Powertools' Tracer."""

    def capture_lambda_handler(
        self, lambda_handler: None = None, capture_response: bool | None = None
    ) -> HandlerDecorator: ...


class _Untraced:
    """The stage does not trace: handlers stay as they are."""

    def capture_lambda_handler(
        self, lambda_handler: None = None, capture_response: bool | None = None
    ) -> HandlerDecorator:
        return _unchanged


def _unchanged(handler: _Handler, /) -> _Handler:
    return handler


def _tracer() -> HandlerTracer:
    if os.environ.get("LAMBDAPRESS_TRACING") != "xray":
        return _Untraced()
    from aws_lambda_powertools import Tracer

    return Tracer(patch_modules=["botocore"])


tracer = _tracer()
