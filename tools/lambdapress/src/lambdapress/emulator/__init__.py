"""Run built Lambda artifacts locally, as Lambda does, without Docker.

    from lambdapress.emulator import Emulator, http_api_event

    with Emulator.from_root(root) as emulator:
        result = emulator.invoke("orders.get_order", http_api_event("GET", "/orders/42",
                                                                    route="/orders/{order_id}"))
        result.response["statusCode"], result.report.line()

Each function runs in warm, reusable worker processes under the official runtime client
(awslambdaric) against a local Runtime API, seeing only its unzipped artifact. `serve()` puts
an API Gateway HTTP API (payload 2.0) and Lambda's Invoke API (for boto3) in front of it.

Names are imported on first use: the pytest plugin (loaded by every pytest run) lives in this
package and must not pay for the emulator when no test uses it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambdapress.support.lazy import lazy_getattr

if TYPE_CHECKING:
    from lambdapress.emulator.context import LambdaContext, function_arn, lambda_name
    from lambdapress.emulator.core import Emulator, EmulatorWarning, Listeners, WorkerOptions
    from lambdapress.emulator.events import (
        ApiContext,
        HttpRequestParts,
        RequestParts,
        http_api_event,
        rest_api_event,
    )
    from lambdapress.emulator.gateway_response import proxy_response
    from lambdapress.emulator.http_api import AccessRecord, HttpApi
    from lambdapress.emulator.inprocess import invoke_in_process
    from lambdapress.emulator.invoke_api import InvokeApi
    from lambdapress.emulator.pool import PoolStats
    from lambdapress.emulator.reports import FunctionError, InvocationResult, Report
    from lambdapress.emulator.serving import (
        Rebuild,
        ReloadRecord,
        ServeOptions,
        Serving,
        Watcher,
        serve,
    )

_EXPORTS = {
    "AccessRecord": "http_api",
    "ApiContext": "events",
    "Emulator": "core",
    "EmulatorWarning": "core",
    "FunctionError": "reports",
    "HttpApi": "http_api",
    "HttpRequestParts": "events",
    "InvocationResult": "reports",
    "InvokeApi": "invoke_api",
    "LambdaContext": "context",
    "Listeners": "core",
    "PoolStats": "pool",
    "Rebuild": "serving",
    "ReloadRecord": "serving",
    "Report": "reports",
    "RequestParts": "events",
    "ServeOptions": "serving",
    "Serving": "serving",
    "Watcher": "serving",
    "WorkerOptions": "core",
    "function_arn": "context",
    "http_api_event": "events",
    "invoke_in_process": "inprocess",
    "lambda_name": "context",
    "proxy_response": "gateway_response",
    "rest_api_event": "events",
    "serve": "serving",
}

__all__ = [
    "AccessRecord",
    "ApiContext",
    "Emulator",
    "EmulatorWarning",
    "FunctionError",
    "HttpApi",
    "HttpRequestParts",
    "InvocationResult",
    "InvokeApi",
    "LambdaContext",
    "Listeners",
    "PoolStats",
    "Rebuild",
    "ReloadRecord",
    "Report",
    "RequestParts",
    "ServeOptions",
    "Serving",
    "Watcher",
    "WorkerOptions",
    "function_arn",
    "http_api_event",
    "invoke_in_process",
    "lambda_name",
    "proxy_response",
    "rest_api_event",
    "serve",
]


__getattr__ = lazy_getattr(__name__, _EXPORTS)
