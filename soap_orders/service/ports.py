"""What the use cases need from the outside world, as protocols the adapters implement."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

from ..documents.records import Rendered
from ..domain.clients import ApiClient, Scope
from ..domain.orders import Order, OrderStatus
from ..domain.retention import Kept
from ..domain.subscriptions import Subscription, SubscriptionStatus

#: Returns the current time as an aware UTC datetime.
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class OrderQuery:
    email: str
    status: OrderStatus | None = None
    placed_from: date | None = None
    placed_to: date | None = None
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True)
class TrackingQuery:
    """Orders with an outbound shipment or a return of this tracking number (any case)."""

    tracking_number: str
    email: str | None = None
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True)
class StoredResult:
    """A result kept under a RequestId."""

    operation: str
    fingerprint: str
    result: dict[str, Any]


#: An order's document as kept written for the wire: its form is the wire's business; the use cases
#: hand it on unread, in place of the order it was written from.
Written = TypeVar("Written", covariant=True)


class OrderDocuments(Protocol[Written]):
    """The kept-written documents of orders, read outside any unit of work: each read is one
    statement, so it sees one consistent state. None means "read the order itself" (the order is
    unknown, or one of the documents is missing or written by an older description)."""

    def order_document(self, order_number: str) -> tuple[str, Written] | None:
        """The customer's email and the current document of an order."""

    def order_documents_by_email(self, query: OrderQuery) -> tuple[Sequence[Written], int] | None:
        """A page of a customer's documents, newest first, and how many orders match in all."""


class OrderRepository(Protocol):
    """Orders by number. ``for_update`` locks the rows read until the unit of work ends (``SELECT
    ... FOR UPDATE`` on PostgreSQL; on SQLite the transaction takes the write lock when it begins):
    every use case that changes an order reads it that way."""

    def get(self, order_number: str, *, for_update: bool = False) -> Order | None: ...

    def get_many(self, order_numbers: Iterable[str], *, for_update: bool = False) -> dict[str, Order]: ...

    def find_by_email(self, query: OrderQuery) -> tuple[list[Order], int]: ...

    def store_documents(self, changed: Iterable[Order]) -> None:
        """Write the documents of orders changed in this unit of work."""

    def written_document(self, order: Order) -> Rendered | None:
        """The document of ``order`` as this unit of work's commit kept it written (written
        again, or found current); None when no commit wrote one for it."""

    def without_current_document(self, limit: int) -> list[str]:
        """Numbers of orders whose document is missing or out of date, at most ``limit``."""

    def find_by_tracking_number(self, query: TrackingQuery) -> tuple[list[Order], int]:
        """A page of matching orders, newest first, and how many match in all."""

    def add(self, order: Order) -> None: ...

    def add_new(self, order: Order) -> None:
        """Queue an order not stored yet, whose number this unit of work has locked (read with
        ``get_many(..., for_update=True)`` and not found), to be written with the others queued
        when the unit of work commits, set-based; until then no query of it sees the order."""

    def count(self) -> int: ...

    def feed_fingerprints(self, order_numbers: Iterable[str]) -> dict[str, str]:
        """The stored fingerprint of the ERP record that last left each of these orders as it is
        (orders changed since by anything else have none)."""

    def remember_fingerprint(self, order_number: str, fingerprint: str | None) -> None:
        """Keep ``fingerprint`` beside the order when this unit of work commits: merging the record
        it is the fingerprint of left the order as it will be stored (None: no record did)."""


class IdempotencyStore(Protocol):
    def claim(self, client: str, request_id: str, operation: str, fingerprint: str, now: datetime) -> StoredResult | None:
        """Reserve the client's ``request_id`` for this transaction, or return what is already stored under it.

        A concurrent claim of the same id waits until the first transaction ends."""

    def complete(self, client: str, request_id: str, result: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class StoredToken:
    """An issued bearer or refresh token, known to the store only by its digest."""

    kind: str  # "access" or "refresh"
    client: str
    scopes: frozenset[Scope]
    expires_at: datetime
    revoked: bool = False


@dataclass(frozen=True)
class AuditRecord:
    occurred_at: datetime
    client: str
    address: str | None
    operation: str
    order_number: str | None
    request_id: str | None
    outcome: str
    #: What changed, e.g. the events the action recorded (with an address's old value).
    details: dict[str, Any] | None = None
    #: The subscription acted on (``order_number`` is then empty).
    subscription_id: str | None = None


class ClientRepository(Protocol):
    def get(self, name: str, *, for_update: bool = False) -> ApiClient | None:
        """The client named ``name``; ``for_update`` when the transaction is going to change it (or
        add one by that name): the row is locked, and on SQLite the write lock is taken first."""
        ...

    def add(self, client: ApiClient) -> None: ...

    def list(self) -> list[ApiClient]: ...


class TokenStore(Protocol):
    def add(self, digest: str, token: StoredToken) -> None: ...

    def get(self, digest: str, *, for_update: bool = False) -> StoredToken | None: ...

    def revoke(self, digest: str) -> None: ...

    def revoke_client(self, client: str) -> None: ...

    def purge_expired(self, now: datetime) -> None: ...


class NonceStore(Protocol):
    def use(self, nonce: str, client: str, now: datetime, keep_until: datetime) -> bool:
        """Record a WS-Security nonce; False when it was seen before (a replay)."""


class FailureLog(Protocol):
    def counts(self, keys: list[str], since: datetime) -> dict[str, int]:
        """Failures recorded since ``since`` for each of ``keys`` that has any."""

    def add(self, key: str, now: datetime) -> None: ...

    def clear(self, key: str) -> int:
        """Forget the failures of ``key``; returns how many."""

    def clear_client(self, name: str) -> int:
        """Forget the failures recorded for client ``name`` from any address; returns how many."""


class AuditLog(Protocol):
    def add(self, record: AuditRecord) -> None: ...

    def add_many(self, records: Iterable[AuditRecord]) -> None:
        """Add records in one statement (a batch's worth)."""

    def for_order(self, order_number: str) -> list[AuditRecord]: ...

    def for_subscription(self, subscription_id: str) -> list[AuditRecord]: ...


class SecretBox(Protocol):
    """Reversible encryption for the few secrets that must be recoverable (digest clients)."""

    def encrypt(self, plaintext: str) -> str: ...

    def decrypt(self, token: str) -> str: ...


@dataclass(frozen=True)
class OutboxMessage:
    """A notification for the consumer's Flow Execution API, queued with its change: ``payload`` is
    the request body without the flow's id (``FlowEvent.content()``); the relay adds it."""

    order_number: str
    event_type: str
    external_id: str
    payload: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class OutboxEntry:
    """A stored outbox row, as the relay and the operators see it."""

    id: int
    order_number: str
    event_type: str
    external_id: str
    payload: dict[str, Any]
    state: str  # PENDING, SENT, DEAD or SKIPPED
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    last_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None
    skipped_at: datetime | None = None


@dataclass(frozen=True)
class PendingEvents:
    """The PENDING events of one type: how many, and when the oldest was queued."""

    event_type: str
    count: int
    oldest: datetime


@dataclass(frozen=True)
class RelayRecord:
    """A relay as it registered itself in the database: which event types it sends (it has their
    flow ids) and skips, when it was last heard from, and until when it promised to be heard from
    again (``expires_at``); a relay past that, or stopped, is not running."""

    relay_id: str
    host: str
    pid: int
    started_at: datetime
    seen_at: datetime
    expires_at: datetime
    flow_types: tuple[str, ...]
    skip_types: tuple[str, ...] = ()
    last_delivered_at: datetime | None = None
    delivered: int = 0
    stopped_at: datetime | None = None


@dataclass(frozen=True)
class OutboxStats:
    """The outbox as every instance and relay sees it: read from the database, never from one
    process's memory."""

    counts: dict[str, int]
    oldest_pending: datetime | None
    #: PENDING events per type, in type order.
    pending: tuple[PendingEvents, ...] = ()
    #: When a relay last had an event accepted (None: never, as far as the database remembers).
    last_delivery: datetime | None = None
    #: The relays running at the time of reading.
    relays: tuple[RelayRecord, ...] = ()

    def handled_types(self) -> frozenset[str]:
        """The event types some running relay sends or skips."""
        return frozenset(t for relay in self.relays for t in (*relay.flow_types, *relay.skip_types))

    def held(self) -> tuple[PendingEvents, ...]:
        """PENDING events of types no running relay sends or skips: they wait for a flow id."""
        handled = self.handled_types()
        return tuple(p for p in self.pending if p.event_type not in handled)


class OutboxStore(Protocol):
    def add(self, messages: list[OutboxMessage]) -> None:
        """Queue messages in the caller's transaction, in order."""

    def claim(self, now: datetime, limit: int, lease_until: datetime, token: str,
              event_types: Collection[str]) -> list[OutboxEntry]:
        """Lease up to ``limit`` due PENDING rows of ``event_types`` to ``token``, oldest first, none
        behind an earlier PENDING row of its order and of those types; rows leased by others are
        skipped."""

    def mark_sent(self, entry_id: int, token: str, now: datetime, status: int) -> bool: ...

    def mark_retry(self, entry_id: int, token: str, now: datetime, next_attempt_at: datetime,
                   status: int | None, error: str, *, count_attempt: bool = True) -> bool: ...

    def mark_dead(self, entry_id: int, token: str, now: datetime, status: int | None, error: str) -> bool: ...

    def release(self, token: str) -> int:
        """Give up the leases of ``token``'s rows that are still PENDING."""

    def skip(self, event_types: Collection[str], now: datetime, note: str) -> dict[str, int]:
        """Make the PENDING rows of ``event_types`` that no relay holds SKIPPED (never sent), with
        ``note`` as their last answer; returns how many of each type."""

    def prune(self, finished_before: datetime) -> int:
        """Delete SENT and SKIPPED rows finished before the given time."""

    def stats(self, now: datetime) -> OutboxStats: ...

    def entries(self, state: str | None, limit: int) -> list[OutboxEntry]: ...

    def requeue_dead(self, entry_ids: list[int] | None, now: datetime) -> int:
        """Make DEAD rows (those given, or all when None) PENDING and due now, attempts reset."""

    # ------------------------------------------------------------------ the relays draining it

    def register_relay(self, relay: RelayRecord) -> None: ...

    def beat_relay(self, relay_id: str, now: datetime, expires_at: datetime) -> bool:
        """Note that the relay is alive until ``expires_at``; False when it is not registered."""

    def note_delivery(self, relay_id: str, now: datetime) -> None:
        """Note, with the row marked SENT, that the relay delivered an event now."""

    def stop_relay(self, relay_id: str, now: datetime) -> None: ...

    def prune_relays(self, expired_before: datetime) -> int:
        """Forget relays that stopped answering before the given time, except the one that
        delivered last (so that when the last delivery was is never forgotten)."""


@dataclass(frozen=True)
class EventDetail:
    name: str
    value: str


@dataclass(frozen=True)
class StoredEvent:
    """One change of the change feed."""

    event_id: int
    occurred_at: datetime
    type: str
    order_number: str | None
    request_id: str | None
    client: str | None
    details: dict[str, Any]
    subscription_id: str | None = None

    @property
    def detail_list(self) -> list[EventDetail]:
        """The details as name and text, names in the wire's style (``refund_id`` is ``RefundId``);
        structured values as JSON."""
        return [
            EventDetail("".join(part.capitalize() for part in name.split("_")),
                        (value if isinstance(value, str) else json.dumps(value, sort_keys=True))[:4000])
            for name, value in sorted(self.details.items())
            if value is not None and name != "request_id"
        ]


class EventFeed(Protocol):
    def after(self, event_id: int, limit: int) -> list[StoredEvent]:
        """Up to ``limit`` events with ids above ``event_id``, in id order."""


class PersonalDataStore(Protocol):
    """The copies of a customer's personal data beside their orders and subscriptions (the change
    feed's payloads, audit details, queued and sent notifications, stored answers of earlier
    calls), found by whose they are and rewritten in place, in the unit of work's transaction.
    Each ``rewrite_...`` hands every value to ``rewrite`` and writes back those it changed,
    returning how many rows it changed."""

    def order_numbers_for(self, email: str) -> list[str]:
        """Numbers of the orders whose customer has this email (any case), newest first."""

    def subscription_ids_for(self, email: str) -> list[str]:
        """Ids of the subscriptions whose customer has this email (any case), newest first."""

    def events_about(self, order_numbers: list[str], subscription_ids: list[str]) -> list[StoredEvent]:
        """Every event of the change feed about these orders and subscriptions, in id order."""

    def rewrite_events(self, order_numbers: list[str], subscription_ids: list[str],
                       rewrite: Callable[[dict[str, Any]], dict[str, Any]]) -> int:
        """The payloads of the change feed's events about these orders and subscriptions."""

    def rewrite_audit_details(self, order_numbers: list[str], subscription_ids: list[str],
                              rewrite: Callable[[dict[str, Any]], dict[str, Any]]) -> int:
        """The details of the audit records about these orders and subscriptions."""

    def rewrite_notifications(self, order_numbers: list[str],
                              rewrite: Callable[[dict[str, Any], str | None], tuple[dict[str, Any], str | None]]) -> int:
        """The payload and last answer (``last_error``) of every outbox row about these orders, in
        any state."""

    def rewrite_stored_answers(self, needles: list[str], rewrite: Callable[[dict[str, Any]], dict[str, Any]]) -> int:
        """The stored answers of earlier calls (any client's) whose JSON text contains one of
        ``needles`` (any case)."""


@dataclass(frozen=True)
class SubscriptionQuery:
    email: str
    status: SubscriptionStatus | None = None
    limit: int = 20
    offset: int = 0


class SubscriptionRepository(Protocol):
    def get(self, subscription_id: str, *, for_update: bool = False) -> Subscription | None: ...

    def get_many(self, subscription_ids: Iterable[str], *, for_update: bool = False) -> dict[str, Subscription]: ...

    def find_by_email(self, query: SubscriptionQuery) -> tuple[list[Subscription], int]:
        """A customer's subscriptions (email compared case-insensitively), newest first, and how many in all."""

    def add(self, subscription: Subscription) -> None: ...


class RetentionStore(Protocol):
    """The records kept only for a while (``domain.retention``), by age."""

    def count(self, kind: Kept, before: datetime) -> int: ...

    def delete(self, kind: Kept, before: datetime, limit: int) -> int:
        """Delete at most ``limit`` of the oldest records of ``kind`` from before ``before``."""


class UnitOfWork(Protocol):
    """One transaction over the stores; rolled back unless ``commit`` is called. The stores are
    read-only members, so any adapter whose stores satisfy these protocols satisfies this one."""

    @property
    def orders(self) -> OrderRepository: ...

    @property
    def subscriptions(self) -> SubscriptionRepository: ...

    @property
    def idempotency(self) -> IdempotencyStore: ...

    @property
    def clients(self) -> ClientRepository: ...

    @property
    def tokens(self) -> TokenStore: ...

    @property
    def nonces(self) -> NonceStore: ...

    @property
    def failures(self) -> FailureLog: ...

    @property
    def audit(self) -> AuditLog: ...

    @property
    def outbox(self) -> OutboxStore: ...

    @property
    def events(self) -> EventFeed: ...

    @property
    def privacy(self) -> PersonalDataStore: ...

    @property
    def retention(self) -> RetentionStore: ...

    def act_as(self, client: str) -> None:
        """Name the client whose change this is, for the change feed."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self, last: Callable[[], object] | None = None) -> None:
        """Commit the change with its events and the changed orders' documents; ``last``, when
        given, runs once the documents are written (``orders.written_document`` has them), in the
        same transaction, so what it writes commits with the change."""

    def rollback(self) -> None: ...
