"""Shipments in a DynamoDB table keyed by `order_id`.

`add` is conditional on the key being new, so a message SQS delivers twice (at-least-once
delivery) stores one shipment. `pending` scans with a filter: the table holds one item per
order and the sweep runs every few minutes, so a scan is cheaper than keeping an index.
"""

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from fulfilment.models import Shipment


class DynamoShipmentRepository:
    """The `shipments` table through boto3's resource API."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def add(self, shipment: Shipment) -> bool:
        try:
            self._table.put_item(
                Item=shipment.model_dump(mode="json", exclude_none=True),
                ConditionExpression="attribute_not_exists(order_id)",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def pending(self, *, limit: int) -> list[Shipment]:
        found: list[Shipment] = []
        arguments: dict[str, Any] = {
            "FilterExpression": "#status = :pending",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":pending": "pending"},
        }
        while len(found) < limit:
            page = self._table.scan(**arguments)
            found += [Shipment.model_validate(item) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                break
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found[:limit]

    def release(self, order_id: str, at: datetime) -> None:
        self._table.update_item(
            Key={"order_id": order_id},
            UpdateExpression="SET #status = :released, released_at = :at",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":released": "released", ":at": at.isoformat()},
        )
