"""The stores of ``service.ports`` kept in memory: a unit of work and its repositories over plain
Python objects, for running the use cases where what is stored, and how, is not the point (tests
of the use cases' decisions; tests/integration/test_repository_contract.py holds it to what the
SQL adapters do).

A ``MemoryStore`` holds the committed state. A unit of work works on a copy of it, taken when it
begins, and puts its copy in place when it commits (so a rollback, or leaving without a commit,
changes nothing). One unit of work of a store runs at a time: another one waits until it ends,
as SQLite's writers do; beginning a second one in the thread that has one open is an error (it
would wait for itself).
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..documents.records import Rendered
from ..documents.rendered import RENDER_VERSION, render_order
from ..domain.clients import ApiClient
from ..domain.orders import Order
from ..domain.retention import Kept
from ..domain.subscriptions import Subscription
from ..service.ports import (
    AuditRecord,
    OrderQuery,
    OutboxEntry,
    OutboxMessage,
    OutboxStats,
    PendingEvents,
    RelayRecord,
    StoredEvent,
    StoredResult,
    StoredToken,
    SubscriptionQuery,
    TrackingQuery,
    UnitOfWork,
)

PENDING, SENT, DEAD, SKIPPED = "PENDING", "SENT", "DEAD", "SKIPPED"
STATES = (PENDING, SENT, DEAD, SKIPPED)
#: Longest response excerpt kept on an outbox row (as the SQL outbox keeps).
MAX_ERROR = 2000


@dataclass
class _Idempotent:
    operation: str
    fingerprint: str
    created_at: datetime
    result: dict[str, Any] | None = None


@dataclass
class _Document:
    render_version: int
    xml: str
    json: str
    feed_fingerprint: str | None = None


@dataclass
class _Outboxed:
    """An outbox row, with its lease."""

    entry: OutboxEntry
    lease_until: datetime | None = None
    claim_token: str | None = None


@dataclass
class _Tables:
    """Everything a store holds. Orders and subscriptions keep the order they were added in (the
    tie-break of "newest first", as a table's ids are)."""

    orders: dict[str, Order] = field(default_factory=dict)
    documents: dict[str, _Document] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], _Idempotent] = field(default_factory=dict)
    clients: dict[str, ApiClient] = field(default_factory=dict)
    tokens: dict[str, StoredToken] = field(default_factory=dict)
    nonces: dict[str, datetime] = field(default_factory=dict)
    failures: list[tuple[str, datetime]] = field(default_factory=list)
    audit: list[AuditRecord] = field(default_factory=list)
    events: list[StoredEvent] = field(default_factory=list)
    outbox: list[_Outboxed] = field(default_factory=list)
    relays: dict[str, RelayRecord] = field(default_factory=dict)
    #: The last id handed out per kind of row (ids are never reused, as a sequence's are not).
    ids: dict[str, int] = field(default_factory=dict)

    def next_id(self, kind: str) -> int:
        self.ids[kind] = self.ids.get(kind, 0) + 1
        return self.ids[kind]


class MemoryStore:
    """The committed state of the in-memory stores; ``uow()`` begins a unit of work over it."""

    def __init__(self) -> None:
        self._tables = _Tables()
        self._lock = threading.Lock()
        self._owner = threading.local()

    def uow(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self)

    def _begin(self) -> _Tables:
        if getattr(self._owner, "open", False):
            raise RuntimeError("a unit of work of this store is already open in this thread")
        self._lock.acquire()
        self._owner.open = True
        return copy.deepcopy(self._tables)

    def _snapshot(self) -> _Tables:
        return copy.deepcopy(self._tables)

    def _commit(self, tables: _Tables) -> None:
        self._tables = copy.deepcopy(tables)

    def _end(self) -> None:
        self._owner.open = False
        self._lock.release()


class MemoryUnitOfWork:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.actor: str | None = None

    def __enter__(self) -> MemoryUnitOfWork:
        self._open(self.store._begin())
        return self

    def _open(self, tables: _Tables) -> None:
        self.tables = tables
        self.orders = MemoryOrderRepository(tables)
        self.subscriptions = MemorySubscriptionRepository(tables)
        self.idempotency = MemoryIdempotencyStore(tables)
        self.clients = MemoryClientRepository(tables)
        self.tokens = MemoryTokenStore(tables)
        self.nonces = MemoryNonceStore(tables)
        self.failures = MemoryFailureLog(tables)
        self.audit = MemoryAuditLog(tables)
        self.outbox = MemoryOutbox(tables)
        self.events = MemoryEventFeed(tables)
        self.privacy = MemoryPersonalData(tables)
        self.retention = MemoryRetention(tables)

    def act_as(self, client: str) -> None:
        """Name the client whose change this is, for the change feed."""
        self.actor = client

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.store._end()

    def commit(self, last: Callable[[], object] | None = None) -> None:
        """Append the recorded order and subscription events to the change feed, write the changed
        orders' documents, run ``last`` (see ports.UnitOfWork.commit), and make this unit of work's
        state the store's."""
        recorded: list[tuple[str | None, str | None, Any]] = [
            (order.order_number, None, event) for order in self.orders.seen for event in order.events
        ]
        recorded += [(None, s.subscription_id, event) for s in self.subscriptions.seen for event in s.events]
        for order_number, subscription_id, event in recorded:
            payload = event.payload()
            self.tables.events.append(StoredEvent(
                self.tables.next_id("events"), event.occurred_at, event.name, order_number,
                payload.get("request_id"), self.actor, payload, subscription_id,
            ))
        self.orders.store_documents(self.orders.seen)
        if last is not None:
            last()
        for order in self.orders.seen:
            order.events.clear()
        for subscription in self.subscriptions.seen:
            subscription.events.clear()
        self.store._commit(self.tables)

    def rollback(self) -> None:
        """Forget this unit of work's changes: it goes on from the store's committed state."""
        self._open(self.store._snapshot())


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def _page(found: list[Any], limit: int, offset: int) -> tuple[list[Any], int]:
    """Newest first (by creation time, then the order they were added in), a page of them, and how many."""
    ordered = [item for _, item in sorted(enumerate(found), key=lambda pair: (pair[1].created_at, pair[0]),
                                          reverse=True)]
    return ordered[offset:offset + limit], len(ordered)


class _Tracking:
    """Objects handed out in this unit of work, whose recorded events are saved on commit."""

    def __init__(self) -> None:
        self.seen: list[Any] = []

    def _track(self, found: Any) -> Any:
        if found is not None and all(found is not other for other in self.seen):
            self.seen.append(found)
        return found


class MemoryOrderRepository(_Tracking):
    def __init__(self, tables: _Tables) -> None:
        super().__init__()
        self.tables = tables
        #: Order number -> fingerprint of the ERP record whose merge left the order as it is.
        self.fingerprints: dict[str, str] = {}
        #: Order number -> its document as store_documents kept it written.
        self.written: dict[str, Rendered] = {}

    def get(self, order_number: str, *, for_update: bool = False) -> Order | None:
        return self._track(self.tables.orders.get(order_number))

    def get_many(self, order_numbers: Iterable[str], *, for_update: bool = False) -> dict[str, Order]:
        found = {n: self.tables.orders[n] for n in sorted(set(order_numbers)) if n in self.tables.orders}
        for order in found.values():
            self._track(order)
        return found

    def find_by_email(self, query: OrderQuery) -> tuple[list[Order], int]:
        email = query.email.lower()
        found = [
            order for order in self.tables.orders.values()
            if order.customer.email.lower() == email
            and (query.status is None or order.status == query.status)
            and (query.placed_from is None or order.created_at >= _start_of(query.placed_from))
            and (query.placed_to is None or query.placed_to >= date.max
                 or order.created_at < _start_of(query.placed_to + timedelta(days=1)))
        ]
        return _page(found, query.limit, query.offset)

    def find_by_tracking_number(self, query: TrackingQuery) -> tuple[list[Order], int]:
        wanted = query.tracking_number.lower()
        found = [
            order for order in self.tables.orders.values()
            if (any((s.tracking_number or "").lower() == wanted for s in order.shipments if s.tracking_number)
                or any((r.return_tracking_number or "").lower() == wanted for r in order.returns
                       if r.return_tracking_number))
            and (query.email is None or order.customer.email.lower() == query.email.lower())
        ]
        return _page(found, query.limit, query.offset)

    def count(self) -> int:
        return len(self.tables.orders)

    def add(self, order: Order) -> None:
        if order.order_number in self.tables.orders:
            raise ValueError(f"order {order.order_number} is already stored")
        self.tables.orders[order.order_number] = order
        self._track(order)

    def add_new(self, order: Order) -> None:
        """As ``add``: in memory, orders written together cost no less than one by one."""
        self.add(order)

    def store_documents(self, changed: Iterable[Order]) -> None:
        """Write the documents of ``changed`` orders; a document written again loses its feed
        fingerprint unless this unit of work remembered one for it."""
        for order in changed:
            if self.tables.orders.get(order.order_number) is not order:
                continue
            rendered = render_order(order)
            self.written[order.order_number] = rendered
            fingerprint = self.fingerprints.get(order.order_number)
            stored = self.tables.documents.get(order.order_number)
            if stored is None or (stored.render_version, stored.xml, stored.json) != (RENDER_VERSION, rendered.xml,
                                                                                     rendered.json):
                self.tables.documents[order.order_number] = _Document(RENDER_VERSION, rendered.xml, rendered.json,
                                                                      fingerprint)
            elif fingerprint is not None:
                stored.feed_fingerprint = fingerprint

    def written_document(self, order: Order) -> Rendered | None:
        return self.written.get(order.order_number)

    def feed_fingerprints(self, order_numbers: Iterable[str]) -> dict[str, str]:
        found = {}
        for number in order_numbers:
            document = self.tables.documents.get(number)
            if (number in self.tables.orders and document is not None and document.feed_fingerprint is not None
                    and document.render_version == RENDER_VERSION):
                found[number] = document.feed_fingerprint
        return found

    def remember_fingerprint(self, order_number: str, fingerprint: str | None) -> None:
        if fingerprint is None:
            self.fingerprints.pop(order_number, None)
        else:
            self.fingerprints[order_number] = fingerprint

    def without_current_document(self, limit: int) -> list[str]:
        stale = [number for number in self.tables.orders
                 if (document := self.tables.documents.get(number)) is None or document.render_version != RENDER_VERSION]
        return stale[:limit]


class MemorySubscriptionRepository(_Tracking):
    def __init__(self, tables: _Tables) -> None:
        super().__init__()
        self.tables = tables

    def get(self, subscription_id: str, *, for_update: bool = False) -> Subscription | None:
        return self._track(self.tables.subscriptions.get(subscription_id))

    def get_many(self, subscription_ids: Iterable[str], *, for_update: bool = False) -> dict[str, Subscription]:
        found = {i: self.tables.subscriptions[i] for i in sorted(set(subscription_ids)) if i in self.tables.subscriptions}
        for subscription in found.values():
            self._track(subscription)
        return found

    def find_by_email(self, query: SubscriptionQuery) -> tuple[list[Subscription], int]:
        email = query.email.lower()
        found = [s for s in self.tables.subscriptions.values()
                 if s.customer.email.lower() == email and (query.status is None or s.status == query.status)]
        return _page(found, query.limit, query.offset)

    def add(self, subscription: Subscription) -> None:
        if subscription.subscription_id in self.tables.subscriptions:
            raise ValueError(f"subscription {subscription.subscription_id} is already stored")
        self.tables.subscriptions[subscription.subscription_id] = subscription
        self._track(subscription)


class MemoryIdempotencyStore:
    def __init__(self, tables: _Tables) -> None:
        self.tables = tables

    def claim(self, client: str, request_id: str, operation: str, fingerprint: str, now: datetime) -> StoredResult | None:
        stored = self.tables.idempotency.get((client, request_id))
        if stored is None:
            self.tables.idempotency[(client, request_id)] = _Idempotent(operation, fingerprint, now)
            return None
        return StoredResult(stored.operation, stored.fingerprint, stored.result)  # type: ignore[arg-type]

    def complete(self, client: str, request_id: str, result: dict[str, Any]) -> None:
        stored = self.tables.idempotency.get((client, request_id))
        if stored is not None:
            stored.result = copy.deepcopy(result)


class MemoryClientRepository:
    def __init__(self, tables: _Tables) -> None:
        self.tables = tables

    def get(self, name: str, *, for_update: bool = False) -> ApiClient | None:
        return self.tables.clients.get(name)

    def add(self, client: ApiClient) -> None:
        if client.name in self.tables.clients:
            raise ValueError(f"client {client.name} already exists")
        self.tables.clients[client.name] = client

    def list(self) -> list[ApiClient]:
        return [self.tables.clients[name] for name in sorted(self.tables.clients)]


class MemoryTokenStore:
    def __init__(self, tables: _Tables) -> None:
        self.tables = tables

    def add(self, digest: str, token: StoredToken) -> None:
        if digest in self.tables.tokens:
            raise ValueError("a token of this digest is already stored")
        self.tables.tokens[digest] = token

    def get(self, digest: str, *, for_update: bool = False) -> StoredToken | None:
        return self.tables.tokens.get(digest)

    def revoke(self, digest: str) -> None:
        if digest in self.tables.tokens:
            self.tables.tokens[digest] = replace(self.tables.tokens[digest], revoked=True)

    def revoke_client(self, client: str) -> None:
        for digest, token in self.tables.tokens.items():
            if token.client == client:
                self.tables.tokens[digest] = replace(token, revoked=True)

    def purge_expired(self, now: datetime) -> None:
        cutoff = now - timedelta(days=1)
        for digest in [d for d, token in self.tables.tokens.items() if token.expires_at < cutoff]:
            del self.tables.tokens[digest]


class MemoryNonceStore:
    def __init__(self, tables: _Tables) -> None:
        self.tables = tables

    def use(self, nonce: str, client: str, now: datetime, keep_until: datetime) -> bool:
        for seen in [n for n, until in self.tables.nonces.items() if until < now]:
            del self.tables.nonces[seen]
        if nonce in self.tables.nonces:
            return False
        self.tables.nonces[nonce] = keep_until
        return True


class MemoryFailureLog:
    def __init__(self, tables: _Tables) -> None:
        self.tables = tables

    def counts(self, keys: list[str], since: datetime) -> dict[str, int]:
        found: dict[str, int] = {}
        for key, occurred_at in self.tables.failures:
            if key in keys and occurred_at >= since:
                found[key] = found.get(key, 0) + 1
        return found

    def add(self, key: str, now: datetime) -> None:
        cutoff = now - timedelta(days=1)
        self.tables.failures[:] = [f for f in self.tables.failures if f[1] >= cutoff]
        self.tables.failures.append((key[:128], now))

    def _clear(self, matches: Callable[[str], bool]) -> int:
        kept = [f for f in self.tables.failures if not matches(f[0])]
        cleared = len(self.tables.failures) - len(kept)
        self.tables.failures[:] = kept
        return cleared

    def clear(self, key: str) -> int:
        return self._clear(lambda k: k == key)

    def clear_client(self, name: str) -> int:
        return self._clear(lambda k: k == f"client:{name}" or k.startswith(f"client:{name}@"))


class MemoryAuditLog:
    def __init__(self, tables: _Tables) -> None:
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
    def __init__(self, tables: _Tables) -> None:
        self.tables = tables

    def after(self, event_id: int, limit: int) -> list[StoredEvent]:
        return [e for e in self.tables.events if e.event_id > event_id][:limit]


class MemoryOutbox:
    def __init__(self, tables: _Tables) -> None:
        self.tables = tables

    def add(self, messages: list[OutboxMessage]) -> None:
        for m in messages:
            self.tables.outbox.append(_Outboxed(OutboxEntry(
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
    def __init__(self, tables: _Tables) -> None:
        self.tables = tables

    def order_numbers_for(self, email: str) -> list[str]:
        found, _ = _page([o for o in self.tables.orders.values() if o.customer.email.lower() == email.lower()],
                         len(self.tables.orders), 0)
        return [order.order_number for order in found]

    def subscription_ids_for(self, email: str) -> list[str]:
        found, _ = _page([s for s in self.tables.subscriptions.values() if s.customer.email.lower() == email.lower()],
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
    def __init__(self, tables: _Tables) -> None:
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


if TYPE_CHECKING:
    def _is_a_unit_of_work(store: MemoryStore) -> UnitOfWork:
        """The type checker holds the in-memory stores to the ports."""
        return store.uow()
