"""The unit of work: one session, one transaction; rolled back unless ``commit`` is called."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from sqlalchemy import insert, text
from sqlalchemy.orm import Session, sessionmaker

from .access_stores import (
    SqlAlchemyClientRepository,
    SqlAlchemyFailureLog,
    SqlAlchemyNonceStore,
    SqlAlchemyTokenStore,
)
from .orm import order_events
from .outbox import SqlAlchemyOutbox
from .privacy import SqlAlchemyPersonalData
from .repository import (
    SqlAlchemyAuditLog,
    SqlAlchemyEventFeed,
    SqlAlchemyIdempotencyStore,
    SqlAlchemyOrderRepository,
    SqlAlchemySubscriptionRepository,
)
from .retention import SqlAlchemyRetention

#: The advisory lock that orders the writers of the change feed on PostgreSQL.
FEED_LOCK = 727_001
#: Built once: building a statement costs more than running it.
_TAKE_FEED_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
_APPEND_EVENTS = insert(order_events)


class SqlAlchemyUnitOfWork:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def __enter__(self) -> SqlAlchemyUnitOfWork:
        self.session = self.session_factory()
        self.orders = SqlAlchemyOrderRepository(self.session)
        self.subscriptions = SqlAlchemySubscriptionRepository(self.session)
        self.idempotency = SqlAlchemyIdempotencyStore(self.session)
        self.clients = SqlAlchemyClientRepository(self.session)
        self.tokens = SqlAlchemyTokenStore(self.session)
        self.nonces = SqlAlchemyNonceStore(self.session)
        self.failures = SqlAlchemyFailureLog(self.session)
        self.audit = SqlAlchemyAuditLog(self.session)
        self.outbox = SqlAlchemyOutbox(self.session)
        self.events = SqlAlchemyEventFeed(self.session)
        self.privacy = SqlAlchemyPersonalData(self.session)
        self.retention = SqlAlchemyRetention(self.session)
        self.actor: str | None = None
        return self

    def act_as(self, client: str) -> None:
        """Name the client whose change this is, for the change feed."""
        self.actor = client

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Closing ends any transaction still open by rolling it back, and detaches the objects
        # without expiring them, so a response can still be built from what was loaded.
        self.session.close()

    def commit(self, last: Callable[[], object] | None = None) -> None:
        """Write the changed orders' documents, run ``last`` (see ports.UnitOfWork.commit), append the
        recorded order and subscription events, then commit them with the change they describe."""
        rows = [
            {
                "order_number": event.order_number,
                "subscription_id": None,
                "event_type": event.name,
                "payload": payload,
                "occurred_at": event.occurred_at,
                "client": self.actor,
                "request_id": payload.get("request_id"),
            }
            for order in self.orders.seen
            for event in order.events
            for payload in (event.payload(),)
        ]
        rows += [
            {
                "order_number": None,
                "subscription_id": event.subscription_id,
                "event_type": event.name,
                "payload": payload,
                "occurred_at": event.occurred_at,
                "client": self.actor,
                "request_id": payload.get("request_id"),
            }
            for subscription in self.subscriptions.seen
            for event in subscription.events
            for payload in (event.payload(),)
        ]
        self.orders.write_new()
        self.orders.store_documents(self.orders.seen)
        if last is not None:
            last()
        if rows:
            if self.session.get_bind().dialect.name == "postgresql":
                # Events are numbered by a sequence, which hands out ids before commit: two writers
                # could commit out of id order, and a reader polling between them would skip the
                # smaller id for good. Writers of events take turns until they commit, so ids
                # commit in order (SQLite serialises every writer anyway). The turn is taken last,
                # with everything else written, so it is held only for this insert and the commit.
                self.session.execute(_TAKE_FEED_LOCK, {"key": FEED_LOCK})
            self.session.execute(_APPEND_EVENTS, rows)
        self.session.commit()
        for order in self.orders.seen:
            order.events.clear()
        for subscription in self.subscriptions.seen:
            subscription.events.clear()

    def rollback(self) -> None:
        self.orders.new.clear()
        self.session.rollback()
