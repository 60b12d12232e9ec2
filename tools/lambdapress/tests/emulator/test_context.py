"""Names, ARNs and the in-process context object."""

from __future__ import annotations

import re
import time

from model_functions import model_function

from lambdapress.emulator import LambdaContext, function_arn, lambda_name
from lambdapress.emulator.context import log_group, log_stream, new_trace_id


def test_manifest_names_become_valid_lambda_names() -> None:
    assert lambda_name("orders.get_order") == "orders-get_order"
    assert function_arn("orders.get_order", "eu-west-1", "$LATEST") == (
        "arn:aws:lambda:eu-west-1:123456789012:function:orders-get_order:$LATEST"
    )
    assert log_group("orders.get_order") == "/aws/lambda/orders-get_order"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", log_stream())
    assert re.fullmatch(
        r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0", new_trace_id()
    )


def test_context_for_a_manifest_entry() -> None:
    function = model_function(
        "orders.get_order", handler="h.handler", artifact="a.zip", memory=512, timeout=10
    )
    context = LambdaContext.for_function(function)

    assert context.function_name == "orders-get_order"
    assert context.memory_limit_in_mb == "512"
    assert context.invoked_function_arn.endswith(":function:orders-get_order")
    assert context.log_group_name == "/aws/lambda/orders-get_order"
    assert 9000 < context.get_remaining_time_in_millis() <= 10000
    assert context.identity.cognito_identity_id is None


def test_remaining_time_never_goes_negative() -> None:
    context = LambdaContext(deadline_epoch_ms=int(time.time() * 1000) - 5000)
    assert context.get_remaining_time_in_millis() == 0
