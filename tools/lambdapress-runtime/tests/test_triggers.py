"""`lambdapress_runtime.triggers` at run time: decorators cost nothing, handles read the stack's
variables and say which one is missing (the tool reads the declarations statically)."""

from __future__ import annotations

from typing import Any

import pytest

from lambdapress_runtime import RuntimeSetupError, triggers


def handler(event: Any, context: Any) -> dict[str, bool]:
    return {"ok": True}


@pytest.mark.parametrize(
    "decorator",
    [
        triggers.sqs("order-placed", batch_size=10, batch_window=5, max_concurrency=2),
        triggers.sns("orders/order-events", filter_policy={"type": ["OrderPlaced"]}),
        triggers.schedule("rate(5 minutes)", input={"job": "sweep"}, enabled=False),
        triggers.rule({"source": ["orders"]}, bus="orders/orders"),
        triggers.s3("uploads", events=["s3:ObjectCreated:*"], prefix="in/", suffix=".csv"),
        triggers.dynamodb_stream("stock", batch_size=100, starting_position="TRIM_HORIZON"),
    ],
)
def test_a_decorator_returns_the_handler_itself(decorator: Any) -> None:
    assert decorator(handler) is handler


@pytest.mark.parametrize(
    ("handle", "attribute", "variable"),
    [
        (triggers.Queue("order-placed"), "url", "ORDER_PLACED_QUEUE_URL"),
        (triggers.Topic("orders/order-events"), "arn", "ORDERS_ORDER_EVENTS_TOPIC_ARN"),
        (triggers.Bus("orders"), "bus_name", "ORDERS_BUS_NAME"),
        (triggers.Bucket("imports/uploads"), "bucket_name", "IMPORTS_UPLOADS_BUCKET_NAME"),
    ],
)
def test_a_handle_reads_its_variable_and_names_it_when_it_is_unset(
    monkeypatch: pytest.MonkeyPatch, handle: Any, attribute: str, variable: str
) -> None:
    monkeypatch.delenv(variable, raising=False)
    with pytest.raises(RuntimeSetupError) as caught:
        getattr(handle, attribute)
    message = str(caught.value)
    assert variable in message
    assert f"{type(handle).__name__}({handle.name!r})" in message
    assert "nox -s package" in message

    monkeypatch.setenv(variable, "")  # set but empty: as good as unset
    with pytest.raises(RuntimeSetupError, match=variable):
        getattr(handle, attribute)

    monkeypatch.setenv(variable, "the-address")
    assert getattr(handle, attribute) == "the-address"
    assert repr(handle) == f"{type(handle).__name__}({handle.name!r})"
