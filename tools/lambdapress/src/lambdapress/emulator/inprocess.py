"""Call a handler in the test process: the fast path, next to the emulator's faithful one.

It imports the handler from the developer's environment (so it cannot catch a module missing
from the artifact; the emulator does), gives it a `LambdaContext`, and passes the event and the
response through JSON as Lambda does, so a response Lambda could not serialise fails here too.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

from lambdapress.emulator.context import LambdaContext
from lambdapress.errors import EmulatorError

HandlerFunction = Callable[[Any, Any], Any]


def load_handler(handler: str) -> HandlerFunction:
    """`orders.handlers.get_order.handler` -> the function, with Lambda's error wording."""
    module_name, _, attribute = handler.rpartition(".")
    if not module_name:
        raise EmulatorError(f"bad handler {handler!r}", hint="write it as module.path.function")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise EmulatorError(
            f"Unable to import module '{module_name}': {exc}",
            hint="install the service into the test environment (uv sync --all-packages)",
        ) from exc
    function = getattr(module, attribute, None)
    if not callable(function):
        raise EmulatorError(f"Handler '{attribute}' missing on module '{module_name}'")
    found: HandlerFunction = function
    return found


def invoke_in_process(
    handler: str | HandlerFunction,
    event: Any = None,
    context: Any = None,
    *,
    marshal: bool = True,
) -> Any:
    """Run `handler(event, context)` here and return its response.

    With `marshal`, the event and the response go through JSON like on Lambda (a response
    that is not JSON-serialisable raises TypeError, Lambda's `Runtime.MarshalError`).
    Exceptions from the handler propagate unchanged, so pytest shows them as they are.
    """
    function = load_handler(handler) if isinstance(handler, str) else handler
    if context is None:
        context = LambdaContext.for_function()
    if marshal:
        event = json.loads(json.dumps({} if event is None else event))
    response = function(event, context)
    if marshal and not isinstance(response, bytes):
        response = json.loads(json.dumps(response))
    return response
