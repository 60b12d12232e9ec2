"""Who a function is, locally: its Lambda name, ARN, log names, and the context object.

Everything here is fake but shaped exactly like Lambda's, so code that reads
`context.invoked_function_arn` or `AWS_LAMBDA_LOG_GROUP_NAME` sees realistic values. The same
values feed the workers' environment, the Runtime API headers and the in-process `LambdaContext`,
so a handler cannot tell the fast path from the faithful one by looking at its context.
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from lambdapress.config.lambda_platform import REQUEST_MAX_BYTES, RESPONSE_MAX_BYTES
from lambdapress.model.application import Function
from lambdapress.support.loopback import LOCAL_REGION

ACCOUNT_ID = "123456789012"
DEFAULT_REGION = LOCAL_REGION
FUNCTION_VERSION = "$LATEST"
# Lambda's limits for a synchronous invocation (bytes), under the emulator's names.
MAX_REQUEST_PAYLOAD = REQUEST_MAX_BYTES
MAX_RESPONSE_PAYLOAD = RESPONSE_MAX_BYTES
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "ASIALAMBDAPRESSLOCAL",
    "AWS_SECRET_ACCESS_KEY": "lambdapress-local-secret-key",
    "AWS_SESSION_TOKEN": "lambdapress-local-session-token",
}

_INVALID_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]")


def lambda_name(name: str) -> str:
    """The Lambda function name for a manifest name: `orders.get_order` -> `orders-get_order`.

    Lambda names allow letters, digits, `-` and `_` only, so the dot becomes a dash.
    """
    return _INVALID_NAME_CHARS.sub("-", name)[:64]


def function_arn(name: str, region: str = DEFAULT_REGION, qualifier: str | None = None) -> str:
    """The fake but well-formed ARN of a function, optionally with a qualifier."""
    arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{lambda_name(name)}"
    return f"{arn}:{qualifier}" if qualifier else arn


def log_group(name: str) -> str:
    """The function's CloudWatch log group name, as Lambda names it."""
    return f"/aws/lambda/{lambda_name(name)}"


def log_stream() -> str:
    """A fresh stream name, as each new Lambda container gets one."""
    day = time.strftime("%Y/%m/%d", time.gmtime())
    return f"{day}/[{FUNCTION_VERSION}]{secrets.token_hex(16)}"


def new_request_id() -> str:
    """A fresh request id, a UUID as Lambda's are."""
    return str(uuid.uuid4())


def new_trace_id() -> str:
    """An X-Ray trace header like the one Lambda passes in `Lambda-Runtime-Trace-Id`."""
    root = f"1-{int(time.time()):08x}-{secrets.token_hex(12)}"
    return f"Root={root};Parent={secrets.token_hex(8)};Sampled=0"


@dataclass
class CognitoIdentity:
    """The Cognito identity of a mobile-SDK caller (empty for API calls)."""

    cognito_identity_id: str | None = None
    cognito_identity_pool_id: str | None = None


@dataclass
class LambdaContext:
    """The context object awslambdaric hands to a handler, for in-process calls in tests.

    Attribute names and types match awslambdaric's (memory_limit_in_mb is a string there too,
    because it comes from an environment variable).
    """

    function_name: str = "local-function"
    function_version: str = FUNCTION_VERSION
    invoked_function_arn: str = field(default_factory=lambda: function_arn("local-function"))
    memory_limit_in_mb: str = "128"
    aws_request_id: str = field(default_factory=new_request_id)
    log_group_name: str = "/aws/lambda/local-function"
    log_stream_name: str = field(default_factory=log_stream)
    identity: CognitoIdentity = field(default_factory=CognitoIdentity)
    client_context: Any = None
    tenant_id: str | None = None
    deadline_epoch_ms: int = field(default_factory=lambda: int(time.time() * 1000) + 3000)

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the invocation's deadline, as Lambda's context reports."""
        return max(0, self.deadline_epoch_ms - int(time.time() * 1000))

    @classmethod
    def for_function(
        cls,
        entry: Function | None = None,
        *,
        name: str | None = None,
        memory: int = 128,
        timeout: float = 3.0,
        region: str = DEFAULT_REGION,
        request_id: str | None = None,
    ) -> LambdaContext:
        """A context for `entry` (or a bare `name`), with the deadline `timeout` seconds away."""
        if entry is not None:
            name, memory, timeout = entry.name, entry.memory, float(entry.timeout)
        resolved = name or "local-function"
        return cls(
            function_name=lambda_name(resolved),
            invoked_function_arn=function_arn(resolved, region),
            memory_limit_in_mb=str(memory),
            aws_request_id=request_id or new_request_id(),
            log_group_name=log_group(resolved),
            deadline_epoch_ms=int((time.time() + timeout) * 1000),
        )
