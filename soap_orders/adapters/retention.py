"""Deleting what has outlived its retention (``soap-orders prune``), a batch at a time.

Each batch is one short statement on the oldest rows, found through an index on their time, so
the deletion holds the database (SQLite's one writer, PostgreSQL's row locks) only briefly and
never touches rows that callers are writing now.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, delete, func, or_, select, tuple_
from sqlalchemy.orm import Session

from ..domain.retention import Kept
from .database import begin_writing
from .orm import audit_records, flow_outbox, idempotency_records, order_events
from .outbox import SENT, SKIPPED

#: Per kind: the table, its key columns, the column its age is read from (oldest first), and the
#: condition "older than ``before``".
_PRUNED: dict[Kept, tuple[Table, tuple[Any, ...], Any, Callable[[datetime], ColumnElement[bool]]]] = {
    Kept.AUDIT: (audit_records, (audit_records.c.id,), audit_records.c.occurred_at,
                 lambda before: audit_records.c.occurred_at < before),
    Kept.EVENTS: (order_events, (order_events.c.id,), order_events.c.occurred_at,
                  lambda before: order_events.c.occurred_at < before),
    Kept.IDEMPOTENCY: (idempotency_records, (idempotency_records.c.client, idempotency_records.c.request_id),
                       idempotency_records.c.created_at, lambda before: idempotency_records.c.created_at < before),
    # Only notifications that are done with: the consumer accepted them (SENT) or the operator
    # skipped them (SKIPPED); pending and DEAD ones stay whatever their age.
    Kept.DELIVERED_NOTIFICATIONS: (flow_outbox, (flow_outbox.c.id,), flow_outbox.c.id, lambda before: or_(
        and_(flow_outbox.c.state == SENT, flow_outbox.c.sent_at < before),
        and_(flow_outbox.c.state == SKIPPED, flow_outbox.c.skipped_at < before))),
}


class SqlAlchemyRetention:
    def __init__(self, session: Session) -> None:
        self.session = session

    def count(self, kind: Kept, before: datetime) -> int:
        """How many records of ``kind`` are older than ``before``."""
        table, _, _, older = _PRUNED[kind]
        return int(self.session.scalar(select(func.count()).select_from(table).where(older(before))) or 0)

    def delete(self, kind: Kept, before: datetime, limit: int) -> int:
        """Delete at most ``limit`` of the oldest records of ``kind`` from before ``before``."""
        table, key, age, older = _PRUNED[kind]
        begin_writing(self.session)
        oldest = select(*key).where(older(before)).order_by(age).limit(limit)
        target = key[0].in_(oldest.scalar_subquery()) if len(key) == 1 else tuple_(*key).in_(oldest)
        result = self.session.execute(delete(table).where(target))
        return int(getattr(result, "rowcount", 0) or 0)
