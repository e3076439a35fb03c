"""The outbox of flow notifications over a SQLAlchemy session.

Rows are claimed by leasing them to a relay (``lease_until`` and a ``claim_token``) in a short
transaction of its own (the caller commits it at once), so nothing stays locked while a request is
on the wire. On PostgreSQL the claim selects with ``FOR UPDATE SKIP LOCKED``: relays on several
machines never lease one row twice; on SQLite the claim takes the write lock when it begins, which
serialises claims. Every later update of a row names the token, so a relay whose lease ran out
cannot overwrite what another one did.

A relay claims only the event types it has a flow id for; the others stay PENDING (held) until a
relay that has one comes, or are made SKIPPED when the operator says so. Relays register
themselves in ``outbox_relays`` (one row per process), so that every instance can tell whether
one is running, what it sends, and when one last delivered.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session

from ..service.ports import (
    OutboxEntry,
    OutboxMessage,
    OutboxStats,
    PendingEvents,
    RelayRecord,
)
from .database import begin_writing
from .orm import flow_outbox, outbox_relays

PENDING, SENT, DEAD, SKIPPED = "PENDING", "SENT", "DEAD", "SKIPPED"
STATES = (PENDING, SENT, DEAD, SKIPPED)
#: Longest response excerpt kept on a row.
MAX_ERROR = 2000

_c = flow_outbox.c
_r = outbox_relays.c


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

    def claim(self, now: datetime, limit: int, lease_until: datetime, token: str,
              event_types: Collection[str]) -> list[OutboxEntry]:
        begin_writing(self.session)
        types = sorted(event_types)
        if not types:
            return []
        earlier = flow_outbox.alias("earlier")
        # Held events (of types this relay does not send) do not hold up the others of their order.
        blocked = exists().where(
            earlier.c.order_number == _c.order_number, earlier.c.id < _c.id, earlier.c.state == PENDING,
            earlier.c.event_type.in_(types),
        )
        due = (
            select(_c.id)
            .where(
                _c.state == PENDING,
                _c.event_type.in_(types),
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

    def skip(self, event_types: Collection[str], now: datetime, note: str) -> dict[str, int]:
        begin_writing(self.session)
        skipped = {}
        for event_type in sorted(event_types):
            result = self.session.execute(
                update(flow_outbox)
                .where(_c.state == PENDING, _c.event_type == event_type,
                       or_(_c.lease_until.is_(None), _c.lease_until < now))
                .values(state=SKIPPED, skipped_at=now, lease_until=None, claim_token=None,
                        last_error=note[:MAX_ERROR])
            )
            if result.rowcount:  # type: ignore[attr-defined]
                skipped[event_type] = int(result.rowcount)  # type: ignore[attr-defined]
        return skipped

    def prune(self, finished_before: datetime) -> int:
        begin_writing(self.session)
        result = self.session.execute(delete(flow_outbox).where(or_(
            and_(_c.state == SENT, _c.sent_at < finished_before),
            and_(_c.state == SKIPPED, _c.skipped_at < finished_before),
        )))
        return int(result.rowcount)  # type: ignore[attr-defined]

    def stats(self, now: datetime) -> OutboxStats:
        counts = {state: 0 for state in STATES}
        last_sent = None
        for state, count, latest in self.session.execute(
            select(_c.state, func.count(), func.max(_c.sent_at)).group_by(_c.state)
        ):
            counts[state] = count
            if state == SENT:
                last_sent = latest
        pending = tuple(
            PendingEvents(event_type, count, oldest)
            for event_type, count, oldest in self.session.execute(
                select(_c.event_type, func.count(), func.min(_c.created_at))
                .where(_c.state == PENDING).group_by(_c.event_type).order_by(_c.event_type)
            )
        )
        relays = [_relay(row) for row in self.session.execute(select(outbox_relays)).mappings()]
        # The latest delivery a relay noted, or the latest SENT row (a relay of an earlier release).
        delivered = [r.last_delivered_at for r in relays if r.last_delivered_at is not None]
        last_delivery = max([*delivered, *([last_sent] if last_sent is not None else [])], default=None)
        running = tuple(r for r in relays if r.stopped_at is None and r.expires_at > now)
        oldest = min((p.oldest for p in pending), default=None)
        return OutboxStats(counts, oldest, pending, last_delivery, running)

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

    # ------------------------------------------------------------------ the relays draining it

    def register_relay(self, relay: RelayRecord) -> None:
        begin_writing(self.session)
        self.session.execute(insert(outbox_relays).values(
            relay_id=relay.relay_id, host=relay.host, pid=relay.pid, started_at=relay.started_at,
            seen_at=relay.seen_at, expires_at=relay.expires_at, stopped_at=relay.stopped_at,
            flow_types=",".join(relay.flow_types), skip_types=",".join(relay.skip_types),
            last_delivered_at=relay.last_delivered_at, delivered=relay.delivered,
        ))

    def beat_relay(self, relay_id: str, now: datetime, expires_at: datetime) -> bool:
        begin_writing(self.session)
        result = self.session.execute(
            update(outbox_relays).where(_r.relay_id == relay_id)
            .values(seen_at=now, expires_at=expires_at, stopped_at=None)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def note_delivery(self, relay_id: str, now: datetime) -> None:
        begin_writing(self.session)
        self.session.execute(
            update(outbox_relays).where(_r.relay_id == relay_id)
            .values(last_delivered_at=now, delivered=_r.delivered + 1, seen_at=now)
        )

    def stop_relay(self, relay_id: str, now: datetime) -> None:
        begin_writing(self.session)
        self.session.execute(
            update(outbox_relays).where(_r.relay_id == relay_id).values(stopped_at=now, seen_at=now, expires_at=now)
        )

    def prune_relays(self, expired_before: datetime) -> int:
        begin_writing(self.session)
        latest = select(func.max(_r.last_delivered_at)).scalar_subquery()
        result = self.session.execute(delete(outbox_relays).where(
            _r.expires_at < expired_before,
            or_(_r.last_delivered_at.is_(None), _r.last_delivered_at < latest),
        ))
        return int(result.rowcount)  # type: ignore[attr-defined]


def _entry(row: Any) -> OutboxEntry:
    return OutboxEntry(
        id=row["id"], order_number=row["order_number"], event_type=row["event_type"],
        external_id=row["external_id"], payload=row["payload"], state=row["state"], attempts=row["attempts"],
        created_at=row["created_at"], next_attempt_at=row["next_attempt_at"],
        last_attempt_at=row["last_attempt_at"], sent_at=row["sent_at"], last_status=row["last_status"],
        last_error=row["last_error"], skipped_at=row["skipped_at"],
    )


def _relay(row: Any) -> RelayRecord:
    return RelayRecord(
        relay_id=row["relay_id"], host=row["host"], pid=row["pid"], started_at=row["started_at"],
        seen_at=row["seen_at"], expires_at=row["expires_at"], flow_types=_types(row["flow_types"]),
        skip_types=_types(row["skip_types"]), last_delivered_at=row["last_delivered_at"],
        delivered=row["delivered"], stopped_at=row["stopped_at"],
    )


def _types(value: str) -> tuple[str, ...]:
    return tuple(part for part in value.split(",") if part)
