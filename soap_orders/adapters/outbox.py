"""The outbox of flow notifications over a SQLAlchemy session.

Rows are claimed by leasing them to a relay (``lease_until`` and a ``claim_token``) in a short
transaction of its own (the caller commits it at once), so nothing stays locked while a request is
on the wire. On PostgreSQL the claim selects with ``FOR UPDATE SKIP LOCKED``: relays on several
machines never lease one row twice; on SQLite the claim takes the write lock when it begins, which
serialises claims. Every later update of a row names the token, so a relay whose lease ran out
cannot overwrite what another one did.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session

from ..service.ports import OutboxEntry, OutboxMessage, OutboxStats
from .database import begin_writing
from .orm import flow_outbox

PENDING, SENT, DEAD = "PENDING", "SENT", "DEAD"
#: Longest response excerpt kept on a row.
MAX_ERROR = 2000

_c = flow_outbox.c


class SqlAlchemyOutbox:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, messages: list[OutboxMessage]) -> None:
        if not messages:
            return
        begin_writing(self.session)
        self.session.execute(insert(flow_outbox), [
            {
                "order_number": m.order_number, "event_type": m.event_type, "external_id": m.external_id,
                "payload": m.payload, "state": PENDING, "attempts": 0, "created_at": m.created_at,
                "next_attempt_at": m.created_at,
            }
            for m in messages
        ])

    def claim(self, now: datetime, limit: int, lease_until: datetime, token: str) -> list[OutboxEntry]:
        begin_writing(self.session)
        earlier = flow_outbox.alias("earlier")
        blocked = exists().where(
            earlier.c.order_number == _c.order_number, earlier.c.id < _c.id, earlier.c.state == PENDING
        )
        due = (
            select(_c.id)
            .where(
                _c.state == PENDING,
                _c.next_attempt_at <= now,
                or_(_c.lease_until.is_(None), _c.lease_until < now),
                ~blocked,
            )
            .order_by(_c.id)
            .limit(limit)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True, of=flow_outbox)
        ids = list(self.session.scalars(due))
        if not ids:
            return []
        self.session.execute(
            update(flow_outbox).where(_c.id.in_(ids)).values(lease_until=lease_until, claim_token=token)
        )
        rows = self.session.execute(select(flow_outbox).where(_c.id.in_(ids)).order_by(_c.id)).mappings().all()
        return [_entry(row) for row in rows]

    def _finish(self, entry_id: int, token: str, values: dict[str, Any]) -> bool:
        begin_writing(self.session)
        result = self.session.execute(
            update(flow_outbox)
            .where(_c.id == entry_id, _c.claim_token == token, _c.state == PENDING)
            .values(lease_until=None, claim_token=None, **values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def mark_sent(self, entry_id: int, token: str, now: datetime, status: int) -> bool:
        return self._finish(entry_id, token, {
            "state": SENT, "sent_at": now, "last_attempt_at": now, "attempts": _c.attempts + 1,
            "last_status": status, "last_error": None,
        })

    def mark_retry(self, entry_id: int, token: str, now: datetime, next_attempt_at: datetime,
                   status: int | None, error: str, *, count_attempt: bool = True) -> bool:
        return self._finish(entry_id, token, {
            "next_attempt_at": next_attempt_at, "last_attempt_at": now,
            "attempts": _c.attempts + (1 if count_attempt else 0), "last_status": status,
            "last_error": error[:MAX_ERROR],
        })

    def mark_dead(self, entry_id: int, token: str, now: datetime, status: int | None, error: str) -> bool:
        return self._finish(entry_id, token, {
            "state": DEAD, "last_attempt_at": now, "attempts": _c.attempts + 1, "last_status": status,
            "last_error": error[:MAX_ERROR],
        })

    def release(self, token: str) -> int:
        begin_writing(self.session)
        result = self.session.execute(
            update(flow_outbox).where(_c.claim_token == token, _c.state == PENDING)
            .values(lease_until=None, claim_token=None)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def prune(self, sent_before: datetime) -> int:
        begin_writing(self.session)
        result = self.session.execute(delete(flow_outbox).where(_c.state == SENT, _c.sent_at < sent_before))
        return int(result.rowcount)  # type: ignore[attr-defined]

    def stats(self) -> OutboxStats:
        counts = {state: 0 for state in (PENDING, SENT, DEAD)}
        for state, count in self.session.execute(select(_c.state, func.count()).group_by(_c.state)):
            counts[state] = count
        oldest = self.session.scalar(select(func.min(_c.created_at)).where(_c.state == PENDING))
        return OutboxStats(counts, oldest)

    def entries(self, state: str | None, limit: int) -> list[OutboxEntry]:
        stmt = select(flow_outbox).order_by(_c.id).limit(limit)
        if state is not None:
            stmt = stmt.where(_c.state == state)
        return [_entry(row) for row in self.session.execute(stmt).mappings()]

    def requeue_dead(self, entry_ids: list[int] | None, now: datetime) -> int:
        begin_writing(self.session)
        stmt = update(flow_outbox).where(_c.state == DEAD)
        if entry_ids is not None:
            stmt = stmt.where(_c.id.in_(entry_ids))
        result = self.session.execute(stmt.values(
            state=PENDING, attempts=0, next_attempt_at=now, lease_until=None, claim_token=None,
        ))
        return int(result.rowcount)  # type: ignore[attr-defined]


def _entry(row: Any) -> OutboxEntry:
    return OutboxEntry(
        id=row["id"], order_number=row["order_number"], event_type=row["event_type"],
        external_id=row["external_id"], payload=row["payload"], state=row["state"], attempts=row["attempts"],
        created_at=row["created_at"], next_attempt_at=row["next_attempt_at"],
        last_attempt_at=row["last_attempt_at"], sent_at=row["sent_at"], last_status=row["last_status"],
        last_error=row["last_error"],
    )
