"""POST /customers: store a new customer.

201 with the stored item and its Location.
"""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from customers.dependencies import container, repository
from customers.models import Customer, CustomerIn
from customers.tracing import tracer

logger = Logger()
app = APIGatewayHttpResolver(enable_validation=True)


@app.post("/customers")
def create_customer(
    data: CustomerIn,
) -> Response[Customer]:
    item = repository.get().add(data)
    logger.info("created", extra={"customer_id": item.id})
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=item,
        headers={"Location": f"/customers/{item.id}"},
    )


# Outermost: a warm-up ping is answered before logging, settings or storage; then one
# invocation scope (the repository's transaction) around the request.
# Inside the scope: the handler's X-Ray subsegment when the stage traces (tracing.py).
@container.handler
@tracer.capture_lambda_handler(capture_response=False)
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
