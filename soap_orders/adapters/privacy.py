"""The copies of a customer's personal data beside their orders and subscriptions, found by whose
they are and rewritten in place (see ``service.privacy``): the change feed's payloads, audit
details, the notification outbox and the stored answers of earlier calls.

Orders, subscriptions and their kept-written documents are changed through the repositories; this
store reaches the append-only and bookkeeping tables those never rewrite."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Table, Text, bindparam, cast, false, func, or_, select, update
from sqlalchemy.orm import Session

from ..service.ports import StoredEvent
from .database import begin_writing
from .orm import (
    audit_records,
    flow_outbox,
    idempotency_records,
    order_events,
    orders,
    subscriptions,
)

#: Rows rewritten per statement.
_CHUNK = 500


class SqlAlchemyPersonalData:
    def __init__(self, session: Session) -> None:
        self.session = session

    def order_numbers_for(self, email: str) -> list[str]:
        return list(self.session.scalars(
            select(orders.c.order_number)
            .where(func.lower(orders.c.customer_email) == func.lower(email))
            .order_by(orders.c.created_at.desc(), orders.c.id.desc())
        ))

    def subscription_ids_for(self, email: str) -> list[str]:
        return list(self.session.scalars(
            select(subscriptions.c.subscription_id)
            .where(func.lower(subscriptions.c.customer_email) == func.lower(email))
            .order_by(subscriptions.c.created_at.desc(), subscriptions.c.id.desc())
        ))

    def events_about(self, order_numbers: list[str], subscription_ids: list[str]) -> list[StoredEvent]:
        rows = self.session.execute(
            select(order_events).where(_about(order_events, order_numbers, subscription_ids))
            .order_by(order_events.c.id)
        ).mappings()
        return [StoredEvent(r["id"], r["occurred_at"], r["event_type"], r["order_number"], r["request_id"],
                            r["client"], r["payload"] or {}, r["subscription_id"]) for r in rows]

    def rewrite_events(self, order_numbers: list[str], subscription_ids: list[str],
                       rewrite: Callable[[dict[str, Any]], dict[str, Any]]) -> int:
        rows = self.session.execute(
            select(order_events.c.id, order_events.c.payload)
            .where(_about(order_events, order_numbers, subscription_ids))
        )
        return self._write(order_events, "payload", ((row.id, row.payload, rewrite(row.payload)) for row in rows))

    def rewrite_audit_details(self, order_numbers: list[str], subscription_ids: list[str],
                              rewrite: Callable[[dict[str, Any]], dict[str, Any]]) -> int:
        rows = self.session.execute(
            select(audit_records.c.id, audit_records.c.details)
            .where(_about(audit_records, order_numbers, subscription_ids), audit_records.c.details.is_not(None))
        )
        return self._write(audit_records, "details", ((row.id, row.details, rewrite(row.details)) for row in rows))

    def rewrite_notifications(self, order_numbers: list[str],
                              rewrite: Callable[[dict[str, Any], str | None], tuple[dict[str, Any], str | None]]) -> int:
        if not order_numbers:
            return 0
        rows = self.session.execute(
            select(flow_outbox.c.id, flow_outbox.c.payload, flow_outbox.c.last_error)
            .where(flow_outbox.c.order_number.in_(order_numbers))
        ).all()
        changed = []
        for row in rows:
            payload, last_error = rewrite(row.payload, row.last_error)
            if (payload, last_error) != (row.payload, row.last_error):
                changed.append({"row_id": row.id, "new_payload": payload, "new_last_error": last_error})
        self._update(
            update(flow_outbox).where(flow_outbox.c.id == bindparam("row_id")).values(
                payload=bindparam("new_payload", type_=flow_outbox.c.payload.type),
                last_error=bindparam("new_last_error", type_=flow_outbox.c.last_error.type),
            ),
            changed,
        )
        return len(changed)

    def rewrite_stored_answers(self, needles: list[str], rewrite: Callable[[dict[str, Any]], dict[str, Any]]) -> int:
        wanted = [needle for needle in dict.fromkeys(needles) if needle]
        if not wanted:
            return 0
        # The answers are JSON; their text is searched (a scan of the table: a privacy request is
        # rare), then each candidate is read and rewritten as data.
        text = cast(idempotency_records.c.result, Text)
        rows = self.session.execute(
            select(idempotency_records.c.client, idempotency_records.c.request_id, idempotency_records.c.result)
            .where(idempotency_records.c.result.is_not(None),
                   or_(*(text.icontains(needle, autoescape=True) for needle in wanted)))
        ).all()
        changed = []
        for row in rows:
            result = rewrite(row.result)
            if result != row.result:
                changed.append({"row_client": row.client, "row_request_id": row.request_id, "new_result": result})
        self._update(
            update(idempotency_records).where(
                idempotency_records.c.client == bindparam("row_client"),
                idempotency_records.c.request_id == bindparam("row_request_id"),
            ).values(result=bindparam("new_result", type_=idempotency_records.c.result.type)),
            changed,
        )
        return len(changed)

    def _write(self, table: Table, column: str, rows: Iterable[tuple[int, Any, Any]]) -> int:
        """Write back the values of ``column`` that the rewrite changed, by row id."""
        changed = [{"row_id": row_id, "new_value": new} for row_id, old, new in rows if new != old]
        self._update(
            update(table).where(table.c.id == bindparam("row_id"))
            .values({column: bindparam("new_value", type_=table.c[column].type)}),
            changed,
        )
        return len(changed)

    def _update(self, statement: Any, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        begin_writing(self.session)
        for start in range(0, len(rows), _CHUNK):
            self.session.execute(statement, rows[start:start + _CHUNK])


def _about(table: Table, order_numbers: list[str], subscription_ids: list[str]) -> Any:
    """Rows of ``table`` about these orders or subscriptions (none when both lists are empty)."""
    conditions = []
    if order_numbers:
        conditions.append(table.c.order_number.in_(order_numbers))
    if subscription_ids:
        conditions.append(table.c.subscription_id.in_(subscription_ids))
    return or_(*conditions) if conditions else false()
