"""Deleting what has outlived its retention (``soap-orders prune``), a batch at a time.

Each batch is one short statement on the oldest rows, found through an index on their time, so
the deletion holds the database (SQLite's one writer, PostgreSQL's row locks) only briefly and
never touches rows that callers are writing now.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, func, select, tuple_
from sqlalchemy.orm import Session

from ..domain.retention import Kept
from .database import begin_writing
from .orm import audit_records, flow_outbox, idempotency_records, order_events

#: Per kind: the table, its time column, its key columns, and any further condition.
_PRUNED: dict[Kept, tuple[Table, Any, tuple[Any, ...], ColumnElement[bool] | None]] = {
    Kept.AUDIT: (audit_records, audit_records.c.occurred_at, (audit_records.c.id,), None),
    Kept.EVENTS: (order_events, order_events.c.occurred_at, (order_events.c.id,), None),
    Kept.IDEMPOTENCY: (idempotency_records, idempotency_records.c.created_at,
                       (idempotency_records.c.client, idempotency_records.c.request_id), None),
    # Only notifications the consumer accepted; pending and DEAD ones stay whatever their age.
    Kept.DELIVERED_NOTIFICATIONS: (flow_outbox, flow_outbox.c.sent_at, (flow_outbox.c.id,),
                                   flow_outbox.c.state == "SENT"),
}


class SqlAlchemyRetention:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _older(self, kind: Kept, before: datetime) -> list[ColumnElement[bool]]:
        _, moment, _, condition = _PRUNED[kind]
        return [moment < before, *([condition] if condition is not None else [])]

    def count(self, kind: Kept, before: datetime) -> int:
        """How many records of ``kind`` are older than ``before``."""
        table = _PRUNED[kind][0]
        return int(self.session.scalar(select(func.count()).select_from(table).where(*self._older(kind, before))) or 0)

    def delete(self, kind: Kept, before: datetime, limit: int) -> int:
        """Delete at most ``limit`` of the oldest records of ``kind`` from before ``before``."""
        table, moment, key, _ = _PRUNED[kind]
        begin_writing(self.session)
        oldest = select(*key).where(*self._older(kind, before)).order_by(moment).limit(limit)
        target = key[0].in_(oldest.scalar_subquery()) if len(key) == 1 else tuple_(*key).in_(oldest)
        result = self.session.execute(delete(table).where(target))
        return int(getattr(result, "rowcount", 0) or 0)
