"""GET /customers: a page of items, oldest first, and a cursor to the next page."""

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from acme_models import Page
from customers.dependencies import container, repository
from customers.models import Customer
from customers.tracing import tracer

logger = Logger()
app = APIGatewayHttpResolver(enable_validation=True)


@app.get("/customers")
def list_customers(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query()] = None,
) -> Page[Customer]:
    return repository.get().page(limit=limit, cursor=cursor)


# Outermost: a warm-up ping is answered before logging, settings or storage; then one
# invocation scope (the repository's transaction) around the request.
# Inside the scope: the handler's X-Ray subsegment when the stage traces (tracing.py).
@container.handler
@tracer.capture_lambda_handler(capture_response=False)
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
