"""What an in-memory store holds: its tables, the rows it keeps beside the domain objects, and
the helpers its repositories share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any

from ...domain.clients import ApiClient
from ...domain.orders import Order
from ...domain.subscriptions import Subscription
from ...service.ports import (
    AuditRecord,
    OutboxEntry,
    RelayRecord,
    StoredEvent,
    StoredToken,
)

PENDING, SENT, DEAD, SKIPPED = "PENDING", "SENT", "DEAD", "SKIPPED"
STATES = (PENDING, SENT, DEAD, SKIPPED)
#: Longest response excerpt kept on an outbox row (as the SQL outbox keeps).
MAX_ERROR = 2000


@dataclass
class Idempotent:
    operation: str
    fingerprint: str
    created_at: datetime
    result: dict[str, Any] | None = None


@dataclass
class DocumentRow:
    render_version: int
    xml: str
    json: str
    feed_fingerprint: str | None = None


@dataclass
class Outboxed:
    """An outbox row, with its lease."""

    entry: OutboxEntry
    lease_until: datetime | None = None
    claim_token: str | None = None


@dataclass
class Tables:
    """Everything a store holds. Orders and subscriptions keep the order they were added in (the
    tie-break of "newest first", as a table's ids are)."""

    orders: dict[str, Order] = field(default_factory=dict)
    documents: dict[str, DocumentRow] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], Idempotent] = field(default_factory=dict)
    clients: dict[str, ApiClient] = field(default_factory=dict)
    tokens: dict[str, StoredToken] = field(default_factory=dict)
    nonces: dict[str, datetime] = field(default_factory=dict)
    failures: list[tuple[str, datetime]] = field(default_factory=list)
    audit: list[AuditRecord] = field(default_factory=list)
    events: list[StoredEvent] = field(default_factory=list)
    outbox: list[Outboxed] = field(default_factory=list)
    relays: dict[str, RelayRecord] = field(default_factory=dict)
    #: The last id handed out per kind of row (ids are never reused, as a sequence's are not).
    ids: dict[str, int] = field(default_factory=dict)

    def next_id(self, kind: str) -> int:
        self.ids[kind] = self.ids.get(kind, 0) + 1
        return self.ids[kind]



def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def page(found: list[Any], limit: int, offset: int) -> tuple[list[Any], int]:
    """Newest first (by creation time, then the order they were added in), a page of them, and how many."""
    ordered = [item for _, item in sorted(enumerate(found), key=lambda pair: (pair[1].created_at, pair[0]),
                                          reverse=True)]
    return ordered[offset:offset + limit], len(ordered)


class Tracking:
    """Objects handed out in this unit of work, whose recorded events are saved on commit."""

    def __init__(self) -> None:
        self.seen: list[Any] = []

    def _track(self, found: Any) -> Any:
        if found is not None and all(found is not other for other in self.seen):
            self.seen.append(found)
        return found
