"""Lambda's Invoke API on 127.0.0.1, so plain boto3 (`endpoint_url=api.url`) invokes locally.

    client = boto3.client("lambda", endpoint_url=api.url, region_name="us-east-1")
    response = client.invoke(FunctionName="orders-get_order", Payload=b"{}", LogType="Tail")

`POST /2015-03-31/functions/{name}/invocations` with the headers boto3 sends and reads:
`X-Amz-Invocation-Type` (RequestResponse, Event, DryRun), `X-Amz-Log-Type: Tail` (answered
with the base64 `X-Amz-Log-Result`), `X-Amz-Client-Context`; answers carry
`X-Amz-Executed-Version` and, on failure, `X-Amz-Function-Error: Unhandled`. Client errors use
Lambda's error codes (`X-Amzn-ErrorType`), so boto3 raises the same exceptions it would in AWS.
"""

from __future__ import annotations

import base64
import binascii
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from lambdapress.config.lambda_platform import EVENT_MAX_BYTES
from lambdapress.emulator.context import FUNCTION_VERSION, MAX_REQUEST_PAYLOAD, new_request_id
from lambdapress.emulator.core import Emulator
from lambdapress.emulator.servers import (
    CLIENT_TIMEOUT,
    BadRequest,
    Handler,
    LoopbackEndpoint,
    LoopbackServer,
    PayloadTooLarge,
)
from lambdapress.errors import EmulatorError, LambdapressError

PREFIX = "/2015-03-31/functions/"
MAX_EVENT_PAYLOAD = EVENT_MAX_BYTES  # asynchronous (Event) invocations


class _ClientError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class _InvokeHandler(Handler["InvokeApi"]):
    body_limit = MAX_REQUEST_PAYLOAD

    def do_POST(self) -> None:
        request_id = new_request_id()
        try:
            self._invoke(request_id)
        except _ClientError as error:
            self.send_json(
                error.status,
                {"Type": "User", "message": error.message},
                {"X-Amzn-ErrorType": error.code, "x-amzn-RequestId": request_id},
            )

    def do_GET(self) -> None:
        self.send_json(
            404,
            {"Type": "User", "message": f"this emulator serves only Invoke, not {self.path}"},
            {"X-Amzn-ErrorType": "UnknownOperationException"},
        )

    def _invoke(self, request_id: str) -> None:
        url = urlsplit(self.path)
        name = unquote(url.path.removeprefix(PREFIX).removesuffix("/invocations"))
        if not url.path.startswith(PREFIX) or not url.path.endswith("/invocations"):
            raise _ClientError(404, "UnknownOperationException", f"unknown path {url.path}")
        qualifier = parse_qs(url.query).get("Qualifier", [None])[0]
        kind = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        try:
            payload = self.read_body() or b"{}"
        except PayloadTooLarge as exc:
            raise _ClientError(
                413,
                "RequestTooLargeException",
                f"Request must be smaller than {MAX_REQUEST_PAYLOAD} bytes for the "
                f"InvokeFunction operation (this one is {exc.size} bytes)",
            ) from None
        except BadRequest as exc:
            raise _ClientError(400, "InvalidRequestContentException", str(exc)) from None
        emulator = self.owner.emulator
        try:
            entry = emulator.resolve(name)
        except EmulatorError:
            raise _ClientError(
                404, "ResourceNotFoundException", f"Function not found: {name}"
            ) from None
        if qualifier not in (None, FUNCTION_VERSION) and not name.endswith(f":{FUNCTION_VERSION}"):
            raise _ClientError(
                404,
                "ResourceNotFoundException",
                f"Function not found: {emulator.function_arn(entry.name)}:{qualifier} "
                "(the emulator runs $LATEST only)",
            )
        try:
            json.loads(payload)
        except ValueError as exc:
            raise _ClientError(
                400,
                "InvalidRequestContentException",
                f"Could not parse request body into json: {exc}",
            ) from None
        client_context = _client_context(self.headers.get("X-Amz-Client-Context"))
        common = {"x-amzn-RequestId": request_id, "X-Amz-Executed-Version": FUNCTION_VERSION}
        if kind == "DryRun":
            self.send(204, b"", common)
            return
        if kind == "Event":
            if len(payload) > MAX_EVENT_PAYLOAD:
                raise _ClientError(
                    413,
                    "RequestTooLargeException",
                    f"{len(payload)} byte payload is too large for the Event invocation type "
                    f"(limit {MAX_EVENT_PAYLOAD} bytes)",
                )
            self.owner.submit(entry.name, payload, client_context, request_id)
            self.send(202, b"", {"x-amzn-RequestId": request_id})
            return
        if kind != "RequestResponse":
            raise _ClientError(400, "InvalidParameterValueException", f"bad invocation type {kind}")
        try:
            result = emulator.invoke(
                entry.name, payload=payload, client_context=client_context, request_id=request_id
            )
        except LambdapressError as exc:
            raise _ClientError(500, "ServiceException", str(exc)) from None
        headers = dict(common)
        if result.function_error is not None:
            headers["X-Amz-Function-Error"] = result.function_error
        if self.headers.get("X-Amz-Log-Type") == "Tail":
            headers["X-Amz-Log-Result"] = result.log_tail()
        self.send(200, result.payload, headers)


def _client_context(header: str | None) -> dict[str, Any] | None:
    if not header:
        return None
    try:
        data = json.loads(base64.b64decode(header, validate=True))
    except (binascii.Error, ValueError):
        raise _ClientError(
            400, "InvalidRequestContentException", "X-Amz-Client-Context is not base64 JSON"
        ) from None
    if not isinstance(data, dict):
        raise _ClientError(400, "InvalidRequestContentException", "client context is not an object")
    return data


class InvokeApi(LoopbackEndpoint):
    """The Invoke API server; asynchronous invocations run on its own threads until `close()`."""

    def __init__(
        self,
        emulator: Emulator,
        *,
        port: int = 0,
        event_workers: int = 4,
        client_timeout: float = CLIENT_TIMEOUT,
    ) -> None:
        self.emulator = emulator
        self._events = ThreadPoolExecutor(event_workers, thread_name_prefix="lambda-event")
        self._server = LoopbackServer(
            _InvokeHandler,
            self,
            port=port,
            name="invoke-api",
            what="Invoke API",
            client_timeout=client_timeout,
        )

    def submit(
        self, name: str, payload: bytes, client_context: dict[str, Any] | None, request_id: str
    ) -> None:
        """Run an Event invocation in the background (its result goes to `on_invocation`)."""

        def run() -> None:
            try:
                self.emulator.invoke(
                    name, payload=payload, client_context=client_context, request_id=request_id
                )
            except LambdapressError as exc:  # the emulator was closed meanwhile
                self.emulator.warn(f"asynchronous invocation of {name} was dropped: {exc}")

        self._events.submit(run)

    def close(self) -> None:
        """Stop answering, free the port and wait for running Event invocations."""
        super().close()
        self._events.shutdown(wait=True)
