"""Repositories over a SQLAlchemy session: orders, subscriptions, stored idempotent results, the
change feed and the audit log (the stores of clients and credentials are in ``access_stores``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from ..documents.records import Rendered
from ..documents.rendered import RENDER_VERSION, render_order
from ..domain.orders import Order
from ..domain.subscriptions import Subscription
from ..service.ports import (
    AuditRecord,
    OrderQuery,
    StoredEvent,
    StoredResult,
    SubscriptionQuery,
    TrackingQuery,
)
from .database import WRITE_INTENT, begin_writing, dialect_insert
from .new_orders import insert_new_orders
from .orm import (
    audit_records,
    idempotency_records,
    order_documents,
    order_events,
    orders,
    returns,
    shipments,
    subscriptions,
)

#: Statements of the single-order write path, built once and run with their values bound
#: (``_prebuilt``): building a statement and working out its cache key cost more than running it.
_PREBUILT: dict[tuple[str, ...], Any] = {}


def _prebuilt(key: tuple[str, ...], build: Callable[[], Any]) -> Any:
    statement = _PREBUILT.get(key)
    if statement is None:
        statement = _PREBUILT[key] = build()
    return statement


def _dialect_insert(session: Session) -> tuple[str, Any]:
    dialect = session.get_bind().dialect.name
    return dialect, dialect_insert(dialect)


#: The seeds of ``lock_keys``, one per kind of key, so an order number and a subscription id that
#: are the same text do not share a lock.
ORDER_NUMBERS, SUBSCRIPTION_IDS = 0, 1


def lock_keys(session: Session, keys: list[str], kind: int) -> None:
    """On PostgreSQL, lock business keys (of ``kind``) until the transaction ends, whether or not
    a row holds them yet (``FOR UPDATE`` can only lock rows that exist): two transactions creating
    the same order or subscription then run one after the other, and the second finds the first's
    row instead of failing on the unique key. Locks are taken in one order, so two batches never
    wait on each other in a circle. SQLite needs none: its writers are serialised when they begin."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(
        text(
            "SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtextextended(n, :kind) AS k "
            "FROM unnest(CAST(:keys AS text[])) AS n ORDER BY k) AS keys"
        ),
        {"keys": sorted(set(keys)), "kind": kind},
    )


#: The feed fingerprints of stored orders (``feed_fingerprints``): the placeholder of the render
#: version, and the test of the order number, are the driver's.
_FINGERPRINTS_SQL = (
    "SELECT o.order_number, d.feed_fingerprint FROM orders o JOIN order_documents d ON d.order_id = o.id "
    "WHERE d.render_version = {version} AND d.feed_fingerprint IS NOT NULL AND o.order_number {numbers}"
)
#: How many numbers one SQLite statement asks about (SQLite before 3.32 allows 999 placeholders).
_SQLITE_PLACEHOLDERS = 900


class SqlAlchemyOrderRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        #: Orders handed out in this unit of work, whose recorded events are saved on commit.
        self.seen: list[Order] = []
        #: Order number -> fingerprint of the ERP record whose merge left the order as it is.
        self.fingerprints: dict[str, str] = {}
        #: Orders not stored yet, written set-based when the unit of work commits (``add_new``).
        self.new: list[Order] = []
        #: Order number -> its document as store_documents (or write_new) kept it written.
        self.written: dict[str, Rendered] = {}

    def _track(self, order: Order | None) -> Order | None:
        if order is not None and all(order is not other for other in self.seen):
            self.seen.append(order)
        return order

    def get(self, order_number: str, *, for_update: bool = False) -> Order | None:
        if for_update:
            begin_writing(self.session)
        stmt = _prebuilt(("order", "locked" if for_update else "read"), lambda: _order_by_number(for_update))
        return self._track(self.session.scalars(stmt, {"order_number": order_number}).one_or_none())

    def get_many(self, order_numbers: Iterable[str], *, for_update: bool = False) -> dict[str, Order]:
        numbers = list(order_numbers)
        if not numbers:
            return {}
        stmt = select(Order).where(orders.c.order_number.in_(numbers))
        if for_update:
            begin_writing(self.session)
            lock_keys(self.session, numbers, ORDER_NUMBERS)
            stmt = stmt.with_for_update(of=orders).order_by(orders.c.order_number)
        found = {order.order_number: order for order in self.session.scalars(stmt)}
        for order in found.values():
            self._track(order)
        return found

    def find_by_email(self, query: OrderQuery) -> tuple[list[Order], int]:
        return self._page(self._email_conditions(query), query.limit, query.offset)

    def _email_conditions(self, query: OrderQuery) -> list[Any]:
        conditions: list[Any] = [func.lower(orders.c.customer_email) == func.lower(query.email)]
        if query.status is not None:
            conditions.append(orders.c.status == query.status)
        if query.placed_from is not None:
            conditions.append(orders.c.created_at >= _start_of(query.placed_from))
        if query.placed_to is not None and query.placed_to < date.max:  # up to date.max: no upper bound
            conditions.append(orders.c.created_at < _start_of(query.placed_to + timedelta(days=1)))
        return conditions

    def find_by_tracking_number(self, query: TrackingQuery) -> tuple[list[Order], int]:
        # Both sides lowered, so the functional indexes on lower(tracking number) serve the lookup.
        wanted = func.lower(query.tracking_number)
        conditions: list[Any] = [
            or_(
                orders.c.id.in_(select(shipments.c.order_id).where(func.lower(shipments.c.tracking_number) == wanted)),
                orders.c.id.in_(
                    select(returns.c.order_id).where(func.lower(returns.c.return_tracking_number) == wanted)
                ),
            )
        ]
        if query.email is not None:
            conditions.append(func.lower(orders.c.customer_email) == func.lower(query.email))
        return self._page(conditions, query.limit, query.offset)

    def _page(self, conditions: list[Any], limit: int, offset: int) -> tuple[list[Order], int]:
        """A page of the orders meeting ``conditions``, newest first, and how many meet them."""
        total = self.session.scalar(select(func.count()).select_from(orders).where(*conditions)) or 0
        if total <= offset:
            return [], total
        stmt = (
            select(Order)
            .where(*conditions)
            .order_by(orders.c.created_at.desc(), orders.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return list(self.session.scalars(stmt)), total

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(orders)) or 0

    def add(self, order: Order) -> None:
        begin_writing(self.session)
        self.session.add(order)
        self._track(order)

    def add_new(self, order: Order) -> None:
        """Queue an order not stored yet (its number locked by ``get_many(..., for_update=True)``)
        to be inserted with the batch's other new orders when the unit of work commits, by
        set-based statements instead of the session (see ``new_orders``). Queries of this unit of
        work do not see it."""
        begin_writing(self.session)
        self.new.append(order)
        self._track(order)

    def write_new(self) -> None:
        """Insert the orders queued by ``add_new``, their children and their documents."""
        new, self.new = self.new, []
        self.written.update(insert_new_orders(self.session, new, self.fingerprints))

    def store_documents(self, changed: Iterable[Order]) -> None:
        """Write the documents of ``changed`` orders (all flushed first, so each has its id).

        A document written again loses its feed fingerprint unless this unit of work merged a record
        of that fingerprint (``remember_fingerprint``); an unchanged document keeps it, or takes the
        one remembered."""
        changed = list(changed)
        if not changed:
            return
        self.session.flush()
        rows = []
        for order in changed:
            state = inspect(order)
            if state.deleted or state.detached or not state.identity:  # (and the orders of add_new)
                continue
            rendered = render_order(order)
            self.written[order.order_number] = rendered
            rows.append({"order_id": state.identity[0], "render_version": RENDER_VERSION,
                         "xml": rendered.xml, "json": rendered.json,
                         "feed_fingerprint": self.fingerprints.get(order.order_number)})
        if not rows:
            return
        dialect, insert_ = _dialect_insert(self.session)
        upsert = insert_(order_documents)
        if self.session.connection().get_execution_options().get(WRITE_INTENT):
            # A unit of work that writes (the order rows are locked) writes in one statement, and
            # only what differs: the database compares each document with the stored one.
            self.session.execute(_prebuilt(("documents", dialect), lambda: _changed_documents_upsert(upsert)), rows)
            return
        # Only what differs is written: an unchanged order costs a read, never a write (a unit of
        # work that only read takes no write lock).
        stored = {
            row.order_id: ((row.render_version, row.xml, row.json), row.feed_fingerprint)
            for row in self.session.execute(
                select(order_documents).where(order_documents.c.order_id.in_([r["order_id"] for r in rows]))
            )
        }
        written, marked = [], []
        for row in rows:
            document, fingerprint = stored.get(row["order_id"], (None, None))
            if document != (row["render_version"], row["xml"], row["json"]):
                written.append(row)
            elif row["feed_fingerprint"] is not None and row["feed_fingerprint"] != fingerprint:
                marked.append({"id": row["order_id"], "fingerprint": row["feed_fingerprint"]})
        if not written and not marked:
            return
        begin_writing(self.session)
        if written:
            self.session.execute(upsert.on_conflict_do_update(
                index_elements=[order_documents.c.order_id],
                set_={"render_version": upsert.excluded.render_version, "xml": upsert.excluded.xml,
                      "json": upsert.excluded.json, "feed_fingerprint": upsert.excluded.feed_fingerprint},
            ), written)
        if marked:
            self.session.execute(
                update(order_documents).where(order_documents.c.order_id == bindparam("id"))
                .values(feed_fingerprint=bindparam("fingerprint")),
                marked,
            )

    def written_document(self, order: Order) -> Rendered | None:
        return self.written.get(order.order_number)

    def feed_fingerprints(self, order_numbers: Iterable[str]) -> dict[str, str]:
        # Asked of many numbers at a time by every re-import, so sent as plain SQL: on PostgreSQL
        # the numbers are one array parameter (one statement text, prepared once by the driver,
        # rather than one placeholder per number to render and parse); on SQLite one placeholder
        # per number, within SQLite's oldest limit on them.
        numbers = list(order_numbers)
        found: dict[str, str] = {}
        if not numbers:
            return found
        connection = self.session.connection()
        if connection.dialect.name == "postgresql":
            statement = _FINGERPRINTS_SQL.format(version="%(version)s", numbers="= ANY(%(numbers)s::text[])")
            found.update(connection.exec_driver_sql(statement, {"numbers": numbers, "version": RENDER_VERSION}).all())
            return found
        for start in range(0, len(numbers), _SQLITE_PLACEHOLDERS):
            chunk = numbers[start:start + _SQLITE_PLACEHOLDERS]
            statement = _FINGERPRINTS_SQL.format(version="?", numbers="IN (" + ",".join("?" * len(chunk)) + ")")
            found.update(connection.exec_driver_sql(statement, (RENDER_VERSION, *chunk)).all())
        return found

    def remember_fingerprint(self, order_number: str, fingerprint: str | None) -> None:
        if fingerprint is None:
            self.fingerprints.pop(order_number, None)
        else:
            self.fingerprints[order_number] = fingerprint

    def without_current_document(self, limit: int) -> list[str]:
        """Numbers of orders whose document is missing or out of date, at most ``limit``."""
        stale = or_(order_documents.c.order_id.is_(None), order_documents.c.render_version != RENDER_VERSION)
        return list(self.session.scalars(
            select(orders.c.order_number)
            .select_from(orders.outerjoin(order_documents, order_documents.c.order_id == orders.c.id))
            .where(stale).order_by(orders.c.id).limit(limit)
        ))


def _order_by_number(for_update: bool) -> Any:
    stmt = select(Order).where(orders.c.order_number == bindparam("order_number"))
    return stmt.with_for_update(of=orders) if for_update else stmt


def _changed_documents_upsert(upsert: Any) -> Any:
    """``store_documents``' rules as one statement: a new document is inserted; one that differs
    from the stored one replaces it, with the fingerprint remembered for it (or none); an unchanged
    one is left alone, but takes a fingerprint remembered for it."""
    stored, new = order_documents.c, upsert.excluded
    unchanged = and_(stored.render_version == new.render_version, stored.xml == new.xml, stored.json == new.json)
    return upsert.on_conflict_do_update(
        index_elements=[stored.order_id],
        set_={"render_version": new.render_version, "xml": new.xml, "json": new.json,
              "feed_fingerprint": new.feed_fingerprint},
        where=or_(~unchanged, and_(new.feed_fingerprint.is_not(None),
                                   stored.feed_fingerprint.is_distinct_from(new.feed_fingerprint))),
    )


class SqlAlchemyEventFeed:
    def __init__(self, session: Session) -> None:
        self.session = session

    def after(self, event_id: int, limit: int) -> list[StoredEvent]:
        rows = self.session.execute(
            select(order_events).where(order_events.c.id > event_id).order_by(order_events.c.id).limit(limit)
        ).mappings()
        return [StoredEvent(r["id"], r["occurred_at"], r["event_type"], r["order_number"], r["request_id"],
                            r["client"], r["payload"] or {}, r["subscription_id"]) for r in rows]


def _start_of(day: Any) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


class SqlAlchemyIdempotencyStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(self, client: str, request_id: str, operation: str, fingerprint: str, now: datetime) -> StoredResult | None:
        begin_writing(self.session)
        dialect, insert_ = _dialect_insert(self.session)
        stmt = _prebuilt(("claim", dialect), lambda: (
            insert_(idempotency_records)
            .on_conflict_do_nothing(index_elements=["client", "request_id"])
            .returning(idempotency_records.c.request_id)
        ))
        values = {"client": client, "request_id": request_id, "operation": operation, "fingerprint": fingerprint,
                  "created_at": now}
        # On PostgreSQL a concurrent claim of the same id blocks here until the first commits or
        # rolls back; on SQLite the write lock taken at BEGIN serialises the two.
        if self.session.execute(stmt, values).scalar_one_or_none() is not None:
            return None
        row = self.session.execute(
            select(
                idempotency_records.c.operation, idempotency_records.c.fingerprint, idempotency_records.c.result
            ).where(idempotency_records.c.client == client, idempotency_records.c.request_id == request_id)
        ).one()
        return StoredResult(row.operation, row.fingerprint, row.result)

    def complete(self, client: str, request_id: str, result: dict[str, Any]) -> None:
        stmt = _prebuilt(("complete",), lambda: (
            update(idempotency_records)
            .where(idempotency_records.c.client == bindparam("of_client"),
                   idempotency_records.c.request_id == bindparam("of_request_id"))
        ))
        self.session.execute(stmt, {"of_client": client, "of_request_id": request_id, "result": result})


class SqlAlchemyAuditLog:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, record: AuditRecord) -> None:
        self.add_many([record])

    def add_many(self, records: Iterable[AuditRecord]) -> None:
        rows = [
            {"occurred_at": r.occurred_at, "client": r.client, "address": r.address, "operation": r.operation,
             "order_number": r.order_number, "request_id": r.request_id, "outcome": r.outcome,
             "details": r.details, "subscription_id": r.subscription_id}
            for r in records
        ]
        if rows:
            self.session.execute(_prebuilt(("audit",), lambda: insert(audit_records)), rows)

    def for_order(self, order_number: str) -> list[AuditRecord]:
        rows = self.session.execute(
            select(audit_records).where(audit_records.c.order_number == order_number).order_by(audit_records.c.id)
        ).mappings()
        return [_audit_record(r) for r in rows]

    def for_subscription(self, subscription_id: str) -> list[AuditRecord]:
        rows = self.session.execute(
            select(audit_records).where(audit_records.c.subscription_id == subscription_id)
            .order_by(audit_records.c.id)
        ).mappings()
        return [_audit_record(r) for r in rows]


def _audit_record(r: Any) -> AuditRecord:
    return AuditRecord(r["occurred_at"], r["client"], r["address"], r["operation"], r["order_number"],
                       r["request_id"], r["outcome"], r["details"], r["subscription_id"])


class SqlAlchemySubscriptionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        #: Subscriptions handed out in this unit of work, whose recorded events are saved on commit.
        self.seen: list[Subscription] = []

    def _track(self, subscription: Subscription | None) -> Subscription | None:
        if subscription is not None and all(subscription is not other for other in self.seen):
            self.seen.append(subscription)
        return subscription

    def get(self, subscription_id: str, *, for_update: bool = False) -> Subscription | None:
        stmt = select(Subscription).where(subscriptions.c.subscription_id == subscription_id)
        if for_update:
            begin_writing(self.session)
            stmt = stmt.with_for_update(of=subscriptions)
        return self._track(self.session.scalars(stmt).one_or_none())

    def get_many(self, subscription_ids: Iterable[str], *, for_update: bool = False) -> dict[str, Subscription]:
        ids = list(subscription_ids)
        if not ids:
            return {}
        stmt = select(Subscription).where(subscriptions.c.subscription_id.in_(ids))
        if for_update:
            begin_writing(self.session)
            lock_keys(self.session, ids, SUBSCRIPTION_IDS)
            stmt = stmt.with_for_update(of=subscriptions).order_by(subscriptions.c.subscription_id)
        found = {s.subscription_id: s for s in self.session.scalars(stmt)}
        for subscription in found.values():
            self._track(subscription)
        return found

    def find_by_email(self, query: SubscriptionQuery) -> tuple[list[Subscription], int]:
        conditions: list[Any] = [func.lower(subscriptions.c.customer_email) == func.lower(query.email)]
        if query.status is not None:
            conditions.append(subscriptions.c.status == query.status)
        total = self.session.scalar(select(func.count()).select_from(subscriptions).where(*conditions)) or 0
        if total <= query.offset:
            return [], total
        stmt = (
            select(Subscription)
            .where(*conditions)
            .order_by(subscriptions.c.created_at.desc(), subscriptions.c.id.desc())
            .limit(query.limit)
            .offset(query.offset)
        )
        return list(self.session.scalars(stmt)), total

    def add(self, subscription: Subscription) -> None:
        begin_writing(self.session)
        self.session.add(subscription)
        self._track(subscription)
