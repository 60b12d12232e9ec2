"""Event sources, declared next to the handler they run: queues, topics, schedules, rules...

```python
from lambdapress_runtime import triggers

ORDER_EVENTS = triggers.Topic("order-events")        # this function publishes to it

@triggers.sqs("order-placed", batch_size=10)          # this function drains the queue
@triggers.schedule("rate(5 minutes)", input={"job": "sweep"})
def handler(event, context): ...
```

`lambdapress package` reads these from the module's source, never importing it: every argument
must be a literal (a string, a number, a bool, None, or a dict/list of those), and a decorator
must decorate the module's handler function. A wrong one stops `package` with the file, the line
and the fix. At run time the decorators return the handler unchanged (they cost nothing on a
cold start), and a handle (`Topic`, `Queue`, `Bus`, `Bucket`) reads the name or ARN that the
stack, or `lambdapress serve` locally, puts in the function's environment.

Resources are named as the service's `[tool.lambdapress]` declares them: `name` for one of this
service's, `service/name` for another service's (`orders/order-events`).

This module is public (`lambdapress_runtime.triggers`): the names handler code writes.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # `typing` costs a cold start milliseconds: read by type checkers only
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Literal, TypeVar

    _F = TypeVar("_F", bound=Callable[..., Any])

__all__ = [
    "Bucket",
    "Bus",
    "Queue",
    "Topic",
    "authorized",
    "authorizer",
    "dynamodb_stream",
    "environment_name",
    "rule",
    "s3",
    "schedule",
    "sns",
    "sqs",
]


def _unchanged(function: _F) -> _F:
    return function


# -- triggers: decorators of the handler function ------------------------------------------------


def sqs(
    queue: str, *, batch_size: int = 10, batch_window: int = 0, max_concurrency: int | None = None
) -> Callable[[_F], _F]:
    """Drain `queue` in batches of up to `batch_size` (gathered for up to `batch_window` s).

    Report failed items with Powertools' `BatchProcessor` (`process_partial_response`): only
    they come back, after the queue's visibility timeout, and a message received the queue's
    `max_receives` times goes to its dead-letter queue.
    """
    return _unchanged


def sns(
    topic: str,
    *,
    filter_policy: dict[str, Any] | None = None,
    filter_policy_scope: Literal["MessageAttributes", "MessageBody"] = "MessageAttributes",
) -> Callable[[_F], _F]:
    """Run on each message published to `topic` that `filter_policy` matches."""
    return _unchanged


def schedule(
    expression: str, *, input: dict[str, Any] | None = None, enabled: bool = True
) -> Callable[[_F], _F]:
    """Run on EventBridge's schedule: `rate(5 minutes)` or `cron(0 12 * * ? *)` (six fields).

    `input` is the event sent each time; without it, EventBridge's scheduled event.
    """
    return _unchanged


def rule(pattern: dict[str, Any], *, bus: str = "default") -> Callable[[_F], _F]:
    """Run on each event on `bus` ("default", or a declared bus) that `pattern` matches."""
    return _unchanged


def s3(
    bucket: str,
    *,
    events: list[str] | tuple[str, ...] = ("s3:ObjectCreated:*",),
    prefix: str = "",
    suffix: str = "",
) -> Callable[[_F], _F]:
    """Run on `bucket`'s object events under `prefix` ending in `suffix`."""
    return _unchanged


def dynamodb_stream(
    table: str,
    *,
    batch_size: int = 100,
    batch_window: int = 0,
    starting_position: Literal["LATEST", "TRIM_HORIZON"] = "LATEST",
    bisect_on_error: bool = False,
    max_retries: int | None = None,
) -> Callable[[_F], _F]:
    """Drain the stream of `table` (a table of the service's storage with `stream` set)."""
    return _unchanged


def authorized(
    authorizer: str,
    *,
    scopes: list[str] | tuple[str, ...] = (),
    routes: list[str] | tuple[str, ...] | None = None,
) -> Callable[[_F], _F]:
    """Protect this module's HTTP routes (or the `routes` keys listed) with `authorizer`.

    `authorizer` is a JWT authorizer of `[tool.lambdapress.deploy.authorizers.NAME]` or a
    Lambda authorizer of the project (`@triggers.authorizer(NAME)`); `scopes`, for a JWT
    authorizer, are the OAuth scopes of which the token must carry at least one. `routes` are
    route keys as `package` lists them (`POST /orders`, `GET /orders/{order_id}`). The claims
    reach the handler through Powertools' resolver:
    `app.current_event.request_context.authorizer.jwt_claim` (JWT) or `.get_lambda` (Lambda).
    """
    return _unchanged


def authorizer(
    name: str,
    *,
    ttl: int = 300,
    identity_source: list[str] | tuple[str, ...] = ("$request.header.Authorization",),
) -> Callable[[_F], _F]:
    """This function is the Lambda authorizer `name` of the HTTP API.

    It receives API Gateway's payload 2.0 REQUEST event and answers a simple response,
    `{"isAuthorized": True, "context": {...}}` (the context reaches the protected handler). The
    answer is cached `ttl` seconds per value of `identity_source`; a request without one of
    the identity sources is answered 401 without invoking it.
    """
    return _unchanged


# -- handles: what a function sends to -----------------------------------------------------------


def environment_name(reference: str, suffix: str) -> str:
    """The variable holding a resource's name or ARN (`ORDERS_ORDER_EVENTS_TOPIC_ARN`).

    The tool names the variables it sets the same way (a test of the tool holds the two equal).
    """
    return f"{reference.replace('/', '_').replace('-', '_').upper()}_{suffix}"


class _Handle:
    """A declared resource this function uses; its address comes from the environment."""

    _suffixes: tuple[str, ...] = ()

    def __init__(self, name: str) -> None:
        self.name = name

    def _read(self, suffix: str) -> str:
        variable = environment_name(self.name, suffix)
        value = os.environ.get(variable)
        if not value:
            from lambdapress_runtime._errors import RuntimeSetupError

            kind = type(self).__name__
            raise RuntimeSetupError(
                f"{kind}({self.name!r}) has no {variable} in the environment: declare it at the "
                f"top level of the handler module (`X = triggers.{kind}({self.name!r})`) and "
                "build again with `nox -s package`, so the stack and `lambdapress serve` set it"
            )
        return value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class Queue(_Handle):
    """An SQS queue this function sends to (`sqs:SendMessage`)."""

    @property
    def url(self) -> str:
        """The queue's URL, for `send_message(QueueUrl=...)`."""
        return self._read("QUEUE_URL")


class Topic(_Handle):
    """An SNS topic this function publishes to (`sns:Publish`)."""

    @property
    def arn(self) -> str:
        """The topic's ARN, for `publish(TopicArn=...)`."""
        return self._read("TOPIC_ARN")


class Bus(_Handle):
    """An EventBridge bus this function puts events on (`events:PutEvents`)."""

    @property
    def bus_name(self) -> str:
        """The bus's name in the account, for `put_events(Entries=[{"EventBusName": ...}])`."""
        return self._read("BUS_NAME")


class Bucket(_Handle):
    """An S3 bucket this function reads and writes objects in."""

    @property
    def bucket_name(self) -> str:
        """The bucket's name in the account, for `put_object(Bucket=...)`."""
        return self._read("BUCKET_NAME")
