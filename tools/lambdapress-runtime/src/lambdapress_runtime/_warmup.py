"""Warm-up pings: answered before any provider or business logic runs.

A scheduled ping keeps an execution environment warm; it must not open a database
connection, read settings or touch a table (that would turn a cheap keep-alive into load, and
fail when the database is down). The handler wrapper answers it first and logs it, so warm-ups
can be told from traffic in the logs.
"""

from __future__ import annotations

from lambdapress_runtime._log import log

# `typing` and `collections.abc` are for type checkers only: importing them costs a cold start
# milliseconds (see README, "Import time"), so they are read under TYPE_CHECKING, set False here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# The event a scheduled warm-up ping sends. The same constant lives in the tool's
# `lambdapress.config.storage_settings.WARMUP_EVENT` (the tool cannot be imported from a Lambda
# zip); a test of the tool checks that the two are equal.
WARMUP_EVENT: dict[str, str] = {"lambdapress": "warmup"}
WARMUP_ANSWER: dict[str, bool] = {"warmed": True}


def is_warmup(event: object) -> bool:
    """Whether `event` is a warm-up ping (it carries the marker of `WARMUP_EVENT`)."""
    return isinstance(event, dict) and event.get("lambdapress") == WARMUP_EVENT["lambdapress"]


def answer_warmup(context: Any) -> dict[str, bool]:
    """Log the ping and return the warm-up answer (a fresh dict the caller may keep)."""
    log("INFO", "warmup", request_id=getattr(context, "aws_request_id", None))
    return dict(WARMUP_ANSWER)
