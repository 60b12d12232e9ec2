"""Orders in PostgreSQL (psycopg 3).

The table `orders` of migrations/.

The repository runs inside the invocation's transaction (see `dependencies.py`) and never
commits or closes anything itself: the invocation's end does.
"""

import uuid
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from acme_models import Page
from orders.models import Order, OrderIn, OrderPatch

# The table of migrations/ and the columns of its rows, in the order the model takes them.
TABLE = sql.Identifier("orders")
COLUMNS = sql.SQL("id, name, description, created_at, updated_at")


class PostgresOrderRepository:
    """`OrderRepository` over one connection.

    Pages follow insertion order.
    """

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self._connection = connection

    def _one(
        self,
        query: sql.Composed,
        params: tuple[Any, ...],
    ) -> Order | None:
        with self._connection.cursor(row_factory=dict_row) as cursor:
            row = cursor.execute(query, params).fetchone()
        return Order.model_validate(row) if row is not None else None

    def page(self, *, limit: int, cursor: str | None = None) -> Page[Order]:
        with self._connection.cursor(row_factory=dict_row) as rows:
            found = rows.execute(
                sql.SQL(
                    "SELECT {columns} FROM {table} "
                    "WHERE seq > COALESCE((SELECT seq FROM {table} WHERE id = %s), 0) "
                    "ORDER BY seq LIMIT %s"
                ).format(columns=COLUMNS, table=TABLE),
                (cursor, limit + 1),
            ).fetchall()
        items = [Order.model_validate(row) for row in found[:limit]]
        next_cursor = items[-1].id if len(found) > limit else None
        return Page[Order](items=items, next_cursor=next_cursor)

    def get(self, order_id: str) -> Order | None:
        return self._one(
            sql.SQL("SELECT {} FROM {} WHERE id = %s").format(COLUMNS, TABLE),
            (order_id,),
        )

    def add(self, data: OrderIn) -> Order:
        added = self._one(
            sql.SQL(
                "INSERT INTO {} (id, name, description, created_at, updated_at) "
                "VALUES (%s, %s, %s, now(), now()) RETURNING {}"
            ).format(TABLE, COLUMNS),
            (uuid.uuid4().hex, data.name, data.description),
        )
        assert added is not None  # INSERT ... RETURNING always returns the row
        return added

    def update(
        self,
        order_id: str,
        patch: OrderPatch,
    ) -> Order | None:
        changes = patch.model_dump(exclude_unset=True)
        assignments: list[sql.Composable] = [
            sql.SQL("{} = %s").format(sql.Identifier(name)) for name in changes
        ]
        assignments.append(sql.SQL("updated_at = now()"))
        query = sql.SQL("UPDATE {} SET {} WHERE id = %s RETURNING {}").format(
            TABLE, sql.SQL(", ").join(assignments), COLUMNS
        )
        return self._one(query, (*changes.values(), order_id))

    def remove(self, order_id: str) -> bool:
        deleted = self._connection.execute(
            sql.SQL("DELETE FROM {} WHERE id = %s").format(TABLE),
            (order_id,),
        )
        return deleted.rowcount == 1
