"""Every five minutes: release pending shipments to the carrier, up to 100 a run.

A schedule, not a queue: releasing in batches lets the carrier's pickups be planned. The event
is the fixed input below (`{"limit": 100}`), so a run by hand (`lambdapress trigger
fulfilment.release_shipments`) does what the schedule does.
"""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from fulfilment.dependencies import container, repository
from lambdapress_runtime import triggers

logger = Logger()


@triggers.schedule("rate(5 minutes)", input={"limit": 100})
@container.handler
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    limit = int(event.get("limit", 100))
    now = datetime.now(UTC)
    released = [s.order_id for s in repository.get().pending(limit=limit)]
    for order_id in released:
        repository.get().release(order_id, now)
    logger.info("released", extra={"count": len(released)})
    return {"released": len(released)}
