"""Repositories over a SQLAlchemy session: orders and stored idempotent results."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..domain.orders import Order
from ..service.ports import OrderQuery, StoredResult
from .database import begin_writing
from .orm import idempotency_records, orders


class SqlAlchemyOrderRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        #: Orders handed out in this unit of work, whose recorded events are saved on commit.
        self.seen: list[Order] = []

    def _track(self, order: Order | None) -> Order | None:
        if order is not None and all(order is not other for other in self.seen):
            self.seen.append(order)
        return order

    def get(self, order_number: str, *, for_update: bool = False) -> Order | None:
        stmt = select(Order).where(orders.c.order_number == order_number)
        if for_update:
            begin_writing(self.session)
            stmt = stmt.with_for_update(of=orders)
        return self._track(self.session.scalars(stmt).one_or_none())

    def get_many(self, order_numbers: Iterable[str], *, for_update: bool = False) -> dict[str, Order]:
        numbers = list(order_numbers)
        if not numbers:
            return {}
        stmt = select(Order).where(orders.c.order_number.in_(numbers))
        if for_update:
            begin_writing(self.session)
            stmt = stmt.with_for_update(of=orders)
        found = {order.order_number: order for order in self.session.scalars(stmt)}
        for order in found.values():
            self._track(order)
        return found

    def find_by_email(self, query: OrderQuery) -> tuple[list[Order], int]:
        conditions: list[Any] = [func.lower(orders.c.customer_email) == func.lower(query.email)]
        if query.status is not None:
            conditions.append(orders.c.status == query.status)
        if query.placed_from is not None:
            conditions.append(orders.c.created_at >= _start_of(query.placed_from))
        if query.placed_to is not None:
            conditions.append(orders.c.created_at < _start_of(query.placed_to + timedelta(days=1)))
        total = self.session.scalar(select(func.count()).select_from(orders).where(*conditions)) or 0
        if total <= query.offset:
            return [], total
        stmt = (
            select(Order)
            .where(*conditions)
            .order_by(orders.c.created_at.desc(), orders.c.id.desc())
            .limit(query.limit)
            .offset(query.offset)
        )
        return list(self.session.scalars(stmt)), total

    def add(self, order: Order) -> None:
        begin_writing(self.session)
        self.session.add(order)
        self._track(order)

    def replace(self, current: Order, new: Order) -> None:
        """Give ``current`` every field of ``new``. Old children are deleted before new ones are
        inserted, so a re-imported line number or refund id does not collide with itself."""
        for children in (current.lines, current.shipments, current.returns, current.refunds):
            children.clear()
        self.session.flush()
        current.replace_with(new)


def _start_of(day: Any) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


class SqlAlchemyIdempotencyStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(self, request_id: str, operation: str, fingerprint: str, now: datetime) -> StoredResult | None:
        begin_writing(self.session)
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = (
            insert(idempotency_records)
            .values(request_id=request_id, operation=operation, fingerprint=fingerprint, created_at=now)
            .on_conflict_do_nothing(index_elements=["request_id"])
            .returning(idempotency_records.c.request_id)
        )
        # On PostgreSQL a concurrent claim of the same id blocks here until the first commits or
        # rolls back; on SQLite the write lock taken at BEGIN serialises the two.
        if self.session.execute(stmt).scalar_one_or_none() is not None:
            return None
        row = self.session.execute(
            select(
                idempotency_records.c.operation, idempotency_records.c.fingerprint, idempotency_records.c.result
            ).where(idempotency_records.c.request_id == request_id)
        ).one()
        return StoredResult(row.operation, row.fingerprint, row.result)

    def complete(self, request_id: str, result: dict[str, Any]) -> None:
        self.session.execute(
            update(idempotency_records).where(idempotency_records.c.request_id == request_id).values(result=result)
        )
