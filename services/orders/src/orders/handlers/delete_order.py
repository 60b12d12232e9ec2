"""DELETE /orders/{order_id}: remove one item.

204 when it is removed, 404 when there is no such item.
"""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from orders.dependencies import container, repository
from orders.tracing import tracer

logger = Logger()
app = APIGatewayHttpResolver(enable_validation=True)


@app.delete("/orders/<order_id>")
def delete_order(
    order_id: str,
) -> Response[None]:
    if not repository.get().remove(order_id):
        raise NotFoundError(
            f"no such order: {order_id}",
        )
    return Response(status_code=204)


# Outermost: a warm-up ping is answered before logging, settings or storage; then one
# invocation scope (the repository's transaction) around the request.
# Inside the scope: the handler's X-Ray subsegment when the stage traces (tracing.py).
@container.handler
@tracer.capture_lambda_handler(capture_response=False)
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
