"""POST /orders: store a new order.

201 with the stored item and its Location, once the item is published as `OrderPlaced`
(`events.py`) to the topic `order-events`. Declaring the topic here (`ORDER_EVENTS`) gives this
function, and only this one, the right to publish to it, and its ARN in ORDER_EVENTS_TOPIC_ARN.
"""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdapress_runtime import triggers
from orders.dependencies import container, repository, sns
from orders.events import publish_created
from orders.models import Order, OrderIn
from orders.tracing import tracer

ORDER_EVENTS = triggers.Topic("order-events")

logger = Logger()
app = APIGatewayHttpResolver(enable_validation=True)


@app.post("/orders")
def create_order(
    data: OrderIn,
) -> Response[Order]:
    item = repository.get().add(data)
    publish_created(sns.get(), ORDER_EVENTS.arn, item)
    logger.info("created", extra={"order_id": item.id})
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=item,
        headers={"Location": f"/orders/{item.id}"},
    )


# Outermost: a warm-up ping is answered before logging, settings or storage; then one
# invocation scope (the repository's transaction) around the request.
# Inside the scope: the handler's X-Ray subsegment when the stage traces (tracing.py).
@container.handler
@tracer.capture_lambda_handler(capture_response=False)
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
