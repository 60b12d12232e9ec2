r"""A pure-Python Lambda runtime loop, for machines where awslambdaric has no wheel.

This file runs *inside* a worker, copied alone into a folder as `lambdapress_runtime`: it may
import only the standard library. It follows awslambdaric's behaviour where a handler can see
it: the handler is `sys.argv[1]`, import failures are posted to `/init/error` with the same
error types (`Runtime.ImportModuleError`...) before exiting 1, handler exceptions become
Lambda's error document, the root logger writes `[LEVEL]\ttime\trequest id\tmessage`, and
the context object has the same attributes.
"""

from __future__ import annotations

import http.client
import importlib
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

API = "/2018-06-01/runtime"
_request_id = ""


class Fault(Exception):
    """An error to report to the Runtime API: its type, message and stack trace."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type, self.message, self.trace = error_type, message, trace or []


class Identity:
    """The context's `identity`, from the Cognito identity header."""

    def __init__(self, data: dict[str, Any] | None) -> None:
        data = data or {}
        self.cognito_identity_id = data.get("cognitoIdentityId")
        self.cognito_identity_pool_id = data.get("cognitoIdentityPoolId")


class ClientContext:
    """awslambdaric's shape: attributes `custom`, `env` and `client` (None when absent)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.custom = data.get("custom")
        self.env = data.get("env")
        self.client = data.get("client")


class Context:
    """The attributes of awslambdaric's LambdaContext."""

    def __init__(self, headers: http.client.HTTPMessage) -> None:
        env = os.environ
        self.aws_request_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.tenant_id = headers.get("Lambda-Runtime-Aws-Tenant-Id")
        context = headers.get("Lambda-Runtime-Client-Context")
        self.client_context = ClientContext(json.loads(context)) if context else None
        identity = headers.get("Lambda-Runtime-Cognito-Identity")
        self.identity = Identity(json.loads(identity) if identity else None)
        self._deadline = int(headers.get("Lambda-Runtime-Deadline-Ms", "0"))

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the invocation's deadline."""
        return max(0, self._deadline - int(time.time() * 1000))


def call(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Any:
    """One request to the Runtime API: its status, headers and body."""
    connection = http.client.HTTPConnection(os.environ["AWS_LAMBDA_RUNTIME_API"])
    try:
        connection.request(method, API + path, body=body or None, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def load_handler(name: str) -> Callable[[Any, Context], Any]:
    """Import the handler function named `module.function`, or a Fault Lambda would report."""
    try:
        module_name, function_name = name.rsplit(".", 1)
    except ValueError as exc:
        raise Fault("Runtime.MalformedHandlerName", f"Bad handler '{name}': {exc}") from None
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise Fault(
            "Runtime.BuiltInModuleConflict",
            f"Cannot use built-in module {module_name} as a handler module",
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise Fault(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        ) from None
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise Fault(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {exc}",
            trace,
        ) from None
    try:
        handler: Callable[[Any, Context], Any] = getattr(module, function_name)
    except AttributeError:
        raise Fault(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        ) from None
    return handler


def error_document(error_type: str, message: str, trace: list[str]) -> dict[str, Any]:
    """An error as the Runtime API takes it (and Lambda returns it)."""
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": _request_id,
        "stackTrace": trace,
    }


def log_error(document: dict[str, Any]) -> None:
    """Log an error and its traceback to stdout, as the Python runtime does."""
    lines = [f"[ERROR] {document['errorType']}: {document['errorMessage']}"]
    lines.append("Traceback (most recent call last):")
    for element in document["stackTrace"]:
        lines.extend(line.replace(" ", "\u00a0", len(line) - len(line.lstrip(" "))) for line in
                     element.splitlines())  # fmt: skip
    sys.stdout.write("\r".join(lines) + "\n")
    sys.stdout.flush()


def exception_document() -> dict[str, Any]:
    """The exception being handled as an error document, without this loop's frame."""
    kind, value, tb = sys.exc_info()
    frames = traceback.extract_tb(tb)[1:]  # drop this loop's own frame
    name = kind.__name__ if kind is not None else "Exception"
    return error_document(name, str(value), traceback.format_list(frames))


class Unbuffered:
    """Flush after every write, as awslambdaric does, so logs leave the process at once."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)

    def write(self, text: str) -> int:
        """Write and flush at once, as Lambda's unbuffered streams do."""
        written: int = self.stream.write(text)
        self.stream.flush()
        return written

    def writelines(self, lines: list[str]) -> None:
        """Write the lines and flush at once."""
        self.stream.writelines(lines)
        self.stream.flush()


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _request_id
        return True


def setup_logging() -> None:
    """Log records to stdout in the Python runtime's format (UTC times, request id)."""
    logging.Formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    handler.addFilter(_RequestIdFilter())
    logging.getLogger().addHandler(handler)


def main() -> None:
    """Initialise the handler, then serve invocations from the Runtime API until killed."""
    global _request_id
    sys.stdout = Unbuffered(sys.stdout)
    sys.stderr = Unbuffered(sys.stderr)
    setup_logging()
    try:
        handler = load_handler(sys.argv[1])
    except Fault as fault:
        document = error_document(fault.error_type, fault.message, fault.trace)
        log_error(document)
        call("POST", "/init/error", json.dumps(document).encode(),
             {"Lambda-Runtime-Function-Error-Type": fault.error_type})  # fmt: skip
        sys.exit(1)
    except Exception:
        document = exception_document()
        log_error(document)
        call("POST", "/init/error", json.dumps(document).encode())
        sys.exit(1)
    while True:
        status, headers, body = call("GET", "/invocation/next")
        if status != 200:
            sys.exit(0)
        context = Context(headers)
        _request_id = context.aws_request_id
        if trace_id := headers.get("Lambda-Runtime-Trace-Id"):
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        try:
            result = handler(json.loads(body), context)
            payload = result if isinstance(result, bytes) else json.dumps(result).encode()
        except Exception:
            document = exception_document()
            log_error(document)
            call("POST", f"/invocation/{_request_id}/error", json.dumps(document).encode())
            continue
        status, _, _ = call("POST", f"/invocation/{_request_id}/response", payload)
        if status >= 500:
            sys.exit(1)


if __name__ == "__main__":
    main()
