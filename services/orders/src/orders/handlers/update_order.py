"""PATCH /orders/{order_id}: change some of its fields.

404 when there is no such item.
"""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from orders.dependencies import container, repository
from orders.models import Order, OrderPatch
from orders.tracing import tracer

logger = Logger()
app = APIGatewayHttpResolver(enable_validation=True)


@app.patch("/orders/<order_id>")
def update_order(
    order_id: str,
    patch: OrderPatch,
) -> Order:
    item = repository.get().update(order_id, patch)
    if item is None:
        raise NotFoundError(
            f"no such order: {order_id}",
        )
    return item


# Outermost: a warm-up ping is answered before logging, settings or storage; then one
# invocation scope (the repository's transaction) around the request.
# Inside the scope: the handler's X-Ray subsegment when the stage traces (tracing.py).
@container.handler
@tracer.capture_lambda_handler(capture_response=False)
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
