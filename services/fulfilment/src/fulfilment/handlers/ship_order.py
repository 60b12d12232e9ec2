"""Drains `order-placed`: one pending shipment per OrderPlaced event, in batches of ten.

Each message is handled on its own by Powertools' batch processor: a malformed one fails
alone (reported in `batchItemFailures`), the others are deleted. The failed one comes back
after the queue's visibility timeout and, after three receives, waits in `order-placed-dlq`.
A message delivered twice stores one shipment (the repository's conditional put).
"""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from fulfilment.dependencies import container, repository
from fulfilment.models import OrderPlaced, Shipment
from lambdapress_runtime import triggers

logger = Logger()
processor = BatchProcessor(event_type=EventType.SQS)


def ship(record: SQSRecord) -> None:
    """One message: a validation error fails this message only."""
    placed = OrderPlaced.model_validate_json(record.body)
    shipment = Shipment(order_id=placed.order_id, name=placed.name, placed_at=placed.created_at)
    if repository.get().add(shipment):
        logger.info("shipment pending", extra={"order_id": placed.order_id})
    else:
        logger.info("already pending", extra={"order_id": placed.order_id})


@triggers.sqs("order-placed", batch_size=10, batch_window=1)
@container.handler
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=ship, processor=processor, context=context
    )
