"""The in-memory store and its unit of work."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

from ...service.ports import StoredEvent
from .access import (
    MemoryClientRepository,
    MemoryFailureLog,
    MemoryNonceStore,
    MemoryTokenStore,
)
from .orders import (
    MemoryIdempotencyStore,
    MemoryOrderRepository,
    MemorySubscriptionRepository,
)
from .records import (
    MemoryAuditLog,
    MemoryEventFeed,
    MemoryOutbox,
    MemoryPersonalData,
    MemoryRetention,
)
from .tables import Tables


class MemoryStore:
    """The committed state of the in-memory stores; ``uow()`` begins a unit of work over it."""

    def __init__(self) -> None:
        self._tables = Tables()
        self._lock = threading.Lock()
        self._owner = threading.local()

    def uow(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self)

    def _begin(self) -> Tables:
        if getattr(self._owner, "open", False):
            raise RuntimeError("a unit of work of this store is already open in this thread")
        self._lock.acquire()
        self._owner.open = True
        return copy.deepcopy(self._tables)

    def _snapshot(self) -> Tables:
        return copy.deepcopy(self._tables)

    def _commit(self, tables: Tables) -> None:
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

    def _open(self, tables: Tables) -> None:
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
