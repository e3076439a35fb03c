"""The in-memory records kept beside the orders: audit, change feed, outbox, personal data and
retention."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Collection, Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from ...domain.retention import Kept
from ...service.ports import (
    AuditRecord,
    OutboxEntry,
    OutboxMessage,
    OutboxStats,
    PendingEvents,
    RelayRecord,
    StoredEvent,
)
from .tables import (
    DEAD,
    MAX_ERROR,
    PENDING,
    SENT,
    SKIPPED,
    STATES,
    Outboxed,
    Tables,
    page,
)


class MemoryAuditLog:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def add(self, record: AuditRecord) -> None:
        self.add_many([record])

    def add_many(self, records: Iterable[AuditRecord]) -> None:
        self.tables.audit.extend(copy.deepcopy(list(records)))

    def for_order(self, order_number: str) -> list[AuditRecord]:
        return [r for r in self.tables.audit if r.order_number == order_number]

    def for_subscription(self, subscription_id: str) -> list[AuditRecord]:
        return [r for r in self.tables.audit if r.subscription_id == subscription_id]


class MemoryEventFeed:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def after(self, event_id: int, limit: int) -> list[StoredEvent]:
        return [e for e in self.tables.events if e.event_id > event_id][:limit]


class MemoryOutbox:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def add(self, messages: list[OutboxMessage]) -> None:
        for m in messages:
            self.tables.outbox.append(Outboxed(OutboxEntry(
                self.tables.next_id("outbox"), m.order_number, m.event_type, m.external_id, copy.deepcopy(m.payload),
                PENDING, 0, m.created_at, m.created_at,
            )))

    def claim(self, now: datetime, limit: int, lease_until: datetime, token: str,
              event_types: Collection[str]) -> list[OutboxEntry]:
        types = set(event_types)
        claimed: list[OutboxEntry] = []
        held_orders: set[str] = set()  # orders with an earlier PENDING row of these types
        for row in self.tables.outbox:
            entry = row.entry
            if entry.state != PENDING or entry.event_type not in types:
                continue
            blocked = entry.order_number in held_orders
            held_orders.add(entry.order_number)
            if (len(claimed) < limit and not blocked and entry.next_attempt_at <= now
                    and (row.lease_until is None or row.lease_until < now)):
                row.lease_until, row.claim_token = lease_until, token
                claimed.append(entry)
        return claimed

    def _finish(self, entry_id: int, token: str, **values: Any) -> bool:
        for row in self.tables.outbox:
            if row.entry.id == entry_id and row.claim_token == token and row.entry.state == PENDING:
                row.entry = replace(row.entry, **values)
                row.lease_until = row.claim_token = None
                return True
        return False

    def mark_sent(self, entry_id: int, token: str, now: datetime, status: int) -> bool:
        return self._finish(entry_id, token, **self._attempt(entry_id, 1), state=SENT, sent_at=now,
                            last_attempt_at=now, last_status=status, last_error=None)

    def mark_retry(self, entry_id: int, token: str, now: datetime, next_attempt_at: datetime,
                   status: int | None, error: str, *, count_attempt: bool = True) -> bool:
        return self._finish(entry_id, token, **self._attempt(entry_id, 1 if count_attempt else 0),
                            next_attempt_at=next_attempt_at, last_attempt_at=now, last_status=status,
                            last_error=error[:MAX_ERROR])

    def mark_dead(self, entry_id: int, token: str, now: datetime, status: int | None, error: str) -> bool:
        return self._finish(entry_id, token, **self._attempt(entry_id, 1), state=DEAD, last_attempt_at=now,
                            last_status=status, last_error=error[:MAX_ERROR])

    def _attempt(self, entry_id: int, more: int) -> dict[str, int]:
        attempts = next((row.entry.attempts for row in self.tables.outbox if row.entry.id == entry_id), 0)
        return {"attempts": attempts + more}

    def release(self, token: str) -> int:
        released = 0
        for row in self.tables.outbox:
            if row.claim_token == token and row.entry.state == PENDING:
                row.lease_until = row.claim_token = None
                released += 1
        return released

    def skip(self, event_types: Collection[str], now: datetime, note: str) -> dict[str, int]:
        skipped: dict[str, int] = {}
        for row in self.tables.outbox:
            entry = row.entry
            if (entry.state == PENDING and entry.event_type in event_types
                    and (row.lease_until is None or row.lease_until < now)):
                row.entry = replace(entry, state=SKIPPED, skipped_at=now, last_error=note[:MAX_ERROR])
                row.lease_until = row.claim_token = None
                skipped[entry.event_type] = skipped.get(entry.event_type, 0) + 1
        return dict(sorted(skipped.items()))

    def prune(self, finished_before: datetime) -> int:
        kept = [row for row in self.tables.outbox if not _finished_before(row.entry, finished_before)]
        pruned = len(self.tables.outbox) - len(kept)
        self.tables.outbox[:] = kept
        return pruned

    def stats(self, now: datetime) -> OutboxStats:
        entries = [row.entry for row in self.tables.outbox]
        counts = {state: sum(1 for e in entries if e.state == state) for state in STATES}
        pending = tuple(
            PendingEvents(event_type, len(of_type), min(e.created_at for e in of_type))
            for event_type in sorted({e.event_type for e in entries if e.state == PENDING})
            for of_type in ([e for e in entries if e.state == PENDING and e.event_type == event_type],)
        )
        relays = list(self.tables.relays.values())
        sent = [e.sent_at for e in entries if e.state == SENT and e.sent_at is not None]
        delivered = [r.last_delivered_at for r in relays if r.last_delivered_at is not None]
        last_delivery = max([*delivered, *([max(sent)] if sent else [])], default=None)
        running = tuple(r for r in relays if r.stopped_at is None and r.expires_at > now)
        return OutboxStats(counts, min((p.oldest for p in pending), default=None), pending, last_delivery, running)

    def entries(self, state: str | None, limit: int) -> list[OutboxEntry]:
        return [row.entry for row in self.tables.outbox if state is None or row.entry.state == state][:limit]

    def requeue_dead(self, entry_ids: list[int] | None, now: datetime) -> int:
        requeued = 0
        for row in self.tables.outbox:
            if row.entry.state == DEAD and (entry_ids is None or row.entry.id in entry_ids):
                row.entry = replace(row.entry, state=PENDING, attempts=0, next_attempt_at=now)
                row.lease_until = row.claim_token = None
                requeued += 1
        return requeued

    # ------------------------------------------------------------------ the relays draining it

    def register_relay(self, relay: RelayRecord) -> None:
        if relay.relay_id in self.tables.relays:
            raise ValueError(f"relay {relay.relay_id} is already registered")
        self.tables.relays[relay.relay_id] = relay

    def beat_relay(self, relay_id: str, now: datetime, expires_at: datetime) -> bool:
        relay = self.tables.relays.get(relay_id)
        if relay is None:
            return False
        self.tables.relays[relay_id] = replace(relay, seen_at=now, expires_at=expires_at, stopped_at=None)
        return True

    def note_delivery(self, relay_id: str, now: datetime) -> None:
        relay = self.tables.relays.get(relay_id)
        if relay is not None:
            self.tables.relays[relay_id] = replace(relay, last_delivered_at=now, delivered=relay.delivered + 1,
                                                   seen_at=now)

    def stop_relay(self, relay_id: str, now: datetime) -> None:
        relay = self.tables.relays.get(relay_id)
        if relay is not None:
            self.tables.relays[relay_id] = replace(relay, stopped_at=now, seen_at=now, expires_at=now)

    def prune_relays(self, expired_before: datetime) -> int:
        latest = max((r.last_delivered_at for r in self.tables.relays.values() if r.last_delivered_at is not None),
                     default=None)
        gone = [relay_id for relay_id, r in self.tables.relays.items()
                if r.expires_at < expired_before
                and (r.last_delivered_at is None or (latest is not None and r.last_delivered_at < latest))]
        for relay_id in gone:
            del self.tables.relays[relay_id]
        return len(gone)


def _finished_before(entry: OutboxEntry, before: datetime) -> bool:
    """SENT or SKIPPED before ``before`` (pending and DEAD rows are never finished)."""
    return ((entry.state == SENT and entry.sent_at is not None and entry.sent_at < before)
            or (entry.state == SKIPPED and entry.skipped_at is not None and entry.skipped_at < before))


def _about(order_number: str | None, subscription_id: str | None, order_numbers: list[str],
           subscription_ids: list[str]) -> bool:
    return (order_number is not None and order_number in order_numbers) or (
        subscription_id is not None and subscription_id in subscription_ids)


class MemoryPersonalData:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def order_numbers_for(self, email: str) -> list[str]:
        found, _ = page([o for o in self.tables.orders.values() if o.customer.email.lower() == email.lower()],
                         len(self.tables.orders), 0)
        return [order.order_number for order in found]

    def subscription_ids_for(self, email: str) -> list[str]:
        found, _ = page([s for s in self.tables.subscriptions.values() if s.customer.email.lower() == email.lower()],
                         len(self.tables.subscriptions), 0)
        return [subscription.subscription_id for subscription in found]

    def events_about(self, order_numbers: list[str], subscription_ids: list[str]) -> list[StoredEvent]:
        return [e for e in self.tables.events if _about(e.order_number, e.subscription_id, order_numbers, subscription_ids)]

    def rewrite_events(self, order_numbers: list[str], subscription_ids: list[str],
                       rewrite: Callable[[dict[str, Any]], dict[str, Any]]) -> int:
        changed = 0
        for index, event in enumerate(self.tables.events):
            if _about(event.order_number, event.subscription_id, order_numbers, subscription_ids):
                details = rewrite(event.details)
                if details != event.details:
                    self.tables.events[index] = replace(event, details=details)
                    changed += 1
        return changed

    def rewrite_audit_details(self, order_numbers: list[str], subscription_ids: list[str],
                              rewrite: Callable[[dict[str, Any]], dict[str, Any]]) -> int:
        changed = 0
        for index, record in enumerate(self.tables.audit):
            if record.details is not None and _about(record.order_number, record.subscription_id, order_numbers,
                                                     subscription_ids):
                details = rewrite(record.details)
                if details != record.details:
                    self.tables.audit[index] = replace(record, details=details)
                    changed += 1
        return changed

    def rewrite_notifications(self, order_numbers: list[str],
                              rewrite: Callable[[dict[str, Any], str | None], tuple[dict[str, Any], str | None]]) -> int:
        changed = 0
        for row in self.tables.outbox:
            if row.entry.order_number in order_numbers:
                payload, last_error = rewrite(row.entry.payload, row.entry.last_error)
                if (payload, last_error) != (row.entry.payload, row.entry.last_error):
                    row.entry = replace(row.entry, payload=payload, last_error=last_error)
                    changed += 1
        return changed

    def rewrite_stored_answers(self, needles: list[str], rewrite: Callable[[dict[str, Any]], dict[str, Any]]) -> int:
        wanted = [needle.lower() for needle in dict.fromkeys(needles) if needle]
        changed = 0
        for stored in self.tables.idempotency.values():
            if stored.result is None:
                continue
            text = json.dumps(stored.result, ensure_ascii=False).lower()
            if any(needle in text for needle in wanted):
                result = rewrite(stored.result)
                if result != stored.result:
                    stored.result = result
                    changed += 1
        return changed


class MemoryRetention:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def _older(self, kind: Kept, before: datetime) -> list[Any]:
        """The records of ``kind`` from before ``before``, oldest first (as the SQL store orders them)."""
        t = self.tables
        if kind is Kept.AUDIT:
            return sorted((r for r in t.audit if r.occurred_at < before), key=lambda r: r.occurred_at)
        if kind is Kept.EVENTS:
            return sorted((e for e in t.events if e.occurred_at < before), key=lambda e: e.occurred_at)
        if kind is Kept.IDEMPOTENCY:
            return sorted((key for key, stored in t.idempotency.items() if stored.created_at < before),
                          key=lambda key: t.idempotency[key].created_at)
        return sorted((row for row in t.outbox if _finished_before(row.entry, before)), key=lambda row: row.entry.id)

    def count(self, kind: Kept, before: datetime) -> int:
        return len(self._older(kind, before))

    def delete(self, kind: Kept, before: datetime, limit: int) -> int:
        doomed = self._older(kind, before)[:limit]
        t = self.tables
        if kind is Kept.IDEMPOTENCY:
            for key in doomed:
                del t.idempotency[key]
        else:
            gone = {id(row) for row in doomed}
            if kind is Kept.AUDIT:
                t.audit[:] = [r for r in t.audit if id(r) not in gone]
            elif kind is Kept.EVENTS:
                t.events[:] = [e for e in t.events if id(e) not in gone]
            else:
                t.outbox[:] = [row for row in t.outbox if id(row) not in gone]
        return len(doomed)
