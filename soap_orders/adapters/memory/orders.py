"""The in-memory order and subscription repositories and the idempotency store."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from ...documents.records import Rendered
from ...documents.rendered import RENDER_VERSION, render_order
from ...domain.orders import Order
from ...domain.subscriptions import Subscription
from ...service.ports import OrderQuery, StoredResult, SubscriptionQuery, TrackingQuery
from .tables import DocumentRow, Idempotent, Tables, Tracking, page, start_of


class MemoryOrderRepository(Tracking):
    def __init__(self, tables: Tables) -> None:
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
            and (query.placed_from is None or order.created_at >= start_of(query.placed_from))
            and (query.placed_to is None or query.placed_to >= date.max
                 or order.created_at < start_of(query.placed_to + timedelta(days=1)))
        ]
        return page(found, query.limit, query.offset)

    def find_by_tracking_number(self, query: TrackingQuery) -> tuple[list[Order], int]:
        wanted = query.tracking_number.lower()
        found = [
            order for order in self.tables.orders.values()
            if (any((s.tracking_number or "").lower() == wanted for s in order.shipments if s.tracking_number)
                or any((r.return_tracking_number or "").lower() == wanted for r in order.returns
                       if r.return_tracking_number))
            and (query.email is None or order.customer.email.lower() == query.email.lower())
        ]
        return page(found, query.limit, query.offset)

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
                self.tables.documents[order.order_number] = DocumentRow(RENDER_VERSION, rendered.xml, rendered.json,
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


class MemorySubscriptionRepository(Tracking):
    def __init__(self, tables: Tables) -> None:
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
        return page(found, query.limit, query.offset)

    def add(self, subscription: Subscription) -> None:
        if subscription.subscription_id in self.tables.subscriptions:
            raise ValueError(f"subscription {subscription.subscription_id} is already stored")
        self.tables.subscriptions[subscription.subscription_id] = subscription
        self._track(subscription)


class MemoryIdempotencyStore:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def claim(self, client: str, request_id: str, operation: str, fingerprint: str, now: datetime) -> StoredResult | None:
        stored = self.tables.idempotency.get((client, request_id))
        if stored is None:
            self.tables.idempotency[(client, request_id)] = Idempotent(operation, fingerprint, now)
            return None
        return StoredResult(stored.operation, stored.fingerprint, stored.result)  # type: ignore[arg-type]

    def complete(self, client: str, request_id: str, result: dict[str, Any]) -> None:
        stored = self.tables.idempotency.get((client, request_id))
        if stored is not None:
            stored.result = copy.deepcopy(result)
