"""Customers in DynamoDB (boto3).

The table `customers` of `[tool.lambdapress.storage]`.

Items are the model's JSON form (timestamps as ISO strings). A scan pages in the table's own
order, not by creation time: DynamoDB has no global order without an index.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

from acme_models import Page
from customers.models import Customer, CustomerIn, CustomerPatch


class DynamoCustomerRepository:
    """`CustomerRepository` over a boto3 `Table`."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def page(self, *, limit: int, cursor: str | None = None) -> Page[Customer]:
        options: dict[str, Any] = {"Limit": limit}
        if cursor:
            options["ExclusiveStartKey"] = {"id": cursor}
        answer = self._table.scan(**options)
        found = answer.get("Items", [])
        last = answer.get("LastEvaluatedKey")
        return Page[Customer](
            items=[Customer.model_validate(item) for item in found],
            next_cursor=str(last["id"]) if last else None,
        )

    def get(self, customer_id: str) -> Customer | None:
        item = self._table.get_item(Key={"id": customer_id}).get("Item")
        return Customer.model_validate(item) if item else None

    def add(self, data: CustomerIn) -> Customer:
        now = datetime.now(UTC)
        item = Customer(
            id=uuid.uuid4().hex,
            created_at=now,
            updated_at=now,
            **data.model_dump(),
        )
        self._table.put_item(Item=item.model_dump(mode="json", exclude_none=True))
        return item

    def update(
        self,
        customer_id: str,
        patch: CustomerPatch,
    ) -> Customer | None:
        current = self.get(customer_id)
        if current is None:
            return None
        changes = patch.model_dump(exclude_unset=True)
        updated = current.model_copy(update={**changes, "updated_at": datetime.now(UTC)})
        self._table.put_item(Item=updated.model_dump(mode="json", exclude_none=True))
        return updated

    def remove(self, customer_id: str) -> bool:
        key = {"id": customer_id}
        answer = self._table.delete_item(Key=key, ReturnValues="ALL_OLD")
        return "Attributes" in answer
