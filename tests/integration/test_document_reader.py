"""The one-statement reader of kept-written documents answers exactly what the orders themselves
answer, on SQLite and PostgreSQL, and leaves the pool's connections as it found them."""

from __future__ import annotations

import random
from datetime import date

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import OperationalError

from soap_orders.adapters.orm import order_documents, orders
from soap_orders.documents.rendered import RENDER_VERSION, render_order
from soap_orders.domain.orders import OrderStatus
from soap_orders.service.ports import OrderQuery
from tests.records import order_record, shipped, store

EMAILS = ("ann.lee@example.com", "Bob.Stone@example.com", "cy@example.org")
STATUSES = ("PROCESSING", "SHIPPED", "CANCELLED")


@pytest.fixture
def stored(deps) -> list[str]:
    rng = random.Random(7)
    records = []
    for index in range(30):
        status = rng.choice(STATUSES)
        record = order_record(f"RD-{index:03d}", email=rng.choice(EMAILS),
                              CreatedAt=f"2026-0{rng.randint(1, 4)}-{rng.randint(10, 28)}T{rng.randint(10, 23)}:00:00Z")
        if status == "SHIPPED":
            record = shipped(record)
        elif status == "CANCELLED":
            record.update(Status="CANCELLED", FinancialStatus="REFUNDED")
            for line in record["Lines"]:
                line.update(Status="CANCELLED", QuantityCancelled=line["Quantity"])
        records.append(record)
    # Two orders placed at the same instant: the order number's row id breaks the tie.
    records.append(order_record("RD-TIE-1", email=EMAILS[0], CreatedAt="2026-02-14T12:00:00Z"))
    records.append(order_record("RD-TIE-2", email=EMAILS[0], CreatedAt="2026-02-14T12:00:00Z"))
    return store(deps, *records)


def from_the_orders(deps, query: OrderQuery):
    with deps.uow() as uow:
        found, total = uow.orders.find_by_email(query)
    return [render_order(order) for order in found], total


def test_every_page_is_what_the_orders_themselves_answer(deps, stored):
    rng = random.Random(11)
    queries = [OrderQuery(email.upper() if rng.random() < 0.3 else email) for email in EMAILS]
    for _ in range(60):
        placed_from = date(2026, rng.randint(1, 4), rng.randint(1, 28)) if rng.random() < 0.5 else None
        placed_to = (date(2026, rng.randint(1, 4), rng.randint(1, 28)) if rng.random() < 0.4
                     else date.max if rng.random() < 0.1 else None)
        queries.append(OrderQuery(
            email=rng.choice(EMAILS + ("nobody@example.com",)),
            status=OrderStatus(rng.choice(STATUSES)) if rng.random() < 0.4 else None,
            placed_from=placed_from, placed_to=placed_to,
            limit=rng.randint(1, 6), offset=rng.choice((0, 0, 3, 5, 12, 40))))
    answered = 0
    for query in queries:
        page = deps.documents.order_documents_by_email(query)
        assert page == from_the_orders(deps, query), query
        answered += len(page[0])
    assert answered > 50  # the queries found orders, not only empty pages


def test_one_order_is_its_email_and_document(deps, stored):
    with deps.uow() as uow:
        order = uow.orders.get("RD-007")
    assert deps.documents.order_document("RD-007") == (order.customer.email, render_order(order))
    assert deps.documents.order_document("RD-NOPE") is None


def test_a_missing_or_out_of_date_document_sends_the_caller_to_the_order(deps, stored):
    email = deps.documents.order_document("RD-001")[0]
    with deps.engine.begin() as connection:
        order_id = connection.scalar(text("SELECT id FROM orders WHERE order_number = 'RD-001'"))
        connection.execute(update(order_documents).where(order_documents.c.order_id == order_id)
                           .values(render_version=RENDER_VERSION - 1))
    assert deps.documents.order_document("RD-001") is None
    assert deps.documents.order_documents_by_email(OrderQuery(email, limit=100)) is None
    with deps.engine.begin() as connection:
        connection.execute(order_documents.delete().where(order_documents.c.order_id == order_id))
    assert deps.documents.order_document("RD-001") is None
    assert deps.documents.order_documents_by_email(OrderQuery(email, limit=100)) is None


def test_reads_leave_the_pooled_connection_transactional(deps, stored):
    """A unit of work after a read still rolls back what it did not commit."""
    for _ in range(3):
        assert deps.documents.order_document("RD-002") is not None
        assert deps.documents.order_documents_by_email(OrderQuery(EMAILS[0])) is not None
    with deps.uow() as uow:
        uow.session.execute(update(orders).where(orders.c.order_number == "RD-002").values(customer_email="x@y.z"))
    assert deps.documents.order_document("RD-002")[0] != "x@y.z"


def test_a_database_error_is_raised_as_sqlalchemy_raises_it(deps, stored):
    """So that the service answers Server.Unavailable as for any other read."""
    with deps.engine.begin() as connection:
        connection.execute(text("DROP TABLE order_documents"))
    with pytest.raises(OperationalError if deps.engine.dialect.name == "sqlite" else Exception) as raised:
        deps.documents.order_document("RD-003")
    assert raised.value.__class__.__module__.startswith("sqlalchemy")
    # The pool still serves working connections afterwards.
    with deps.engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM orders")) == len(stored)
