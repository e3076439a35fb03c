"""The SQLAlchemy store on a real SQLite file and on PostgreSQL."""

from __future__ import annotations

import warnings
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, text

from soap_orders.adapters import migrate
from soap_orders.adapters.orm import metadata, order_events, orders
from soap_orders.documents.records import order_from_record
from soap_orders.domain.orders import OrderStatus, Reason
from soap_orders.ingest import orders as upserts
from soap_orders.service import orders as use_cases
from soap_orders.service.ports import OrderQuery
from tests.records import order_record, shipped, store


def test_migrations_build_exactly_the_mapped_tables(deps):
    with deps.engine.connect() as connection, warnings.catch_warnings():
        # SQLite cannot reflect expression indexes; the index itself is checked by the next test.
        warnings.filterwarnings("ignore", ".*expression-based index")
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []
    assert migrate.current_revision(deps.engine) == migrate.head_revision()


def test_migrations_downgrade_to_nothing_and_back(deps):
    migrate.downgrade(deps.engine, "base")
    with deps.engine.connect() as connection:
        assert migrate.current_revision(deps.engine) is None
        tables = set(deps.engine.dialect.get_table_names(connection))
    assert "orders" not in tables
    migrate.upgrade(deps.engine)
    assert migrate.current_revision(deps.engine) == migrate.head_revision()


def test_an_order_round_trips_with_every_field(deps):
    record = shipped(order_record("RT-1"))
    record["Returns"] = [{
        "ReturnId": "RMA-1", "Status": "IN_TRANSIT", "Reason": "Too small", "ReturnTrackingNumber": "1Z999",
        "CarrierCode": "ups", "LabelUrl": "https://labels.example.com/RMA-1.pdf", "WarehouseStatus": "AWAITING_ARRIVAL",
        "RefundStatus": "PENDING", "CreatedAt": "2026-03-08T12:00:00Z", "Items": [{"Sku": "MUG-RED", "Quantity": 1}],
    }]
    record["Refunds"] = [{"RefundId": "RF-OLD", "Amount": "4.25", "Reason": "DAMAGED", "Status": "COMPLETED",
                          "CreatedAt": "2026-03-09T12:00:00Z", "Note": "goodwill"}]
    record["FinancialStatus"] = "PARTIALLY_REFUNDED"
    store(deps, record)
    with deps.uow() as uow:
        order = uow.orders.get("RT-1")
    assert order is not None
    assert order.created_at == datetime(2026, 3, 1, 10, tzinfo=timezone.utc)
    assert order.expected_delivery_date == date(2026, 3, 6)
    assert order.total == Decimal("30.00") and order.refunded_amount == Decimal("4.25")
    assert order.customer.email == "ann.lee@example.com"
    assert order.shipping_address is not None and order.shipping_address.postal_code == "75001"
    assert [(i.sku, i.quantity) for i in order.shipments[0].items] == [("MUG-RED", 2), ("TEA-001", 1)]
    assert order.returns[0].label_url == "https://labels.example.com/RMA-1.pdf"
    assert order.returns[0].items[0].sku == "MUG-RED"
    assert order.refunds[0].note == "goodwill"


def test_money_is_exact_in_the_database(deps):
    store(deps, order_record("EXACT-1", Subtotal="0.30", Total="4.80",
                             Lines=[{"LineNumber": 1, "Sku": "A", "Name": "A", "Quantity": 3, "UnitPrice": "0.10"}]))
    with deps.uow() as uow:
        order = uow.orders.get("EXACT-1")
    assert order is not None and order.lines[0].line_total == Decimal("0.30")


def test_find_by_email_ignores_case_and_filters(deps):
    store(
        deps,
        order_record("E-1", "Mixed.Case@Example.com", CreatedAt="2026-01-01T00:00:00Z"),
        shipped(order_record("E-2", "mixed.case@example.com", CreatedAt="2026-01-02T00:00:00Z")),
        order_record("E-3", "other@example.com"),
    )
    with deps.uow() as uow:
        found, total = uow.orders.find_by_email(OrderQuery(email="MIXED.CASE@EXAMPLE.COM"))
        shipped_only, _ = uow.orders.find_by_email(OrderQuery(email="mixed.case@example.com", status=OrderStatus.SHIPPED))
        january_first, _ = uow.orders.find_by_email(
            OrderQuery(email="mixed.case@example.com", placed_from=date(2026, 1, 1), placed_to=date(2026, 1, 1)))
    assert [o.order_number for o in found] == ["E-2", "E-1"] and total == 2
    assert [o.order_number for o in shipped_only] == ["E-2"]
    assert [o.order_number for o in january_first] == ["E-1"]


def test_email_lookup_uses_the_case_insensitive_index(deps):
    if deps.engine.dialect.name != "sqlite":
        pytest.skip("the plan check below is SQLite's EXPLAIN QUERY PLAN")
    with deps.engine.connect() as connection:
        plan = connection.execute(text(
            "EXPLAIN QUERY PLAN SELECT id FROM orders WHERE lower(customer_email) = lower('a@b.c') ORDER BY created_at DESC"
        )).all()
    assert "ix_orders_email_lower_created_at" in " ".join(str(row) for row in plan)


def test_unit_of_work_rolls_back_unless_committed(deps):
    store(deps, order_record("UOW-1"))
    with deps.uow() as uow:
        order = uow.orders.get("UOW-1")
        assert order is not None
        order.cancel(reason=Reason.OTHER, now=datetime.now(timezone.utc), request_id="r", refund_id="RF-X")
    with deps.uow() as uow:
        again = uow.orders.get("UOW-1")
    assert again is not None and again.status is OrderStatus.PROCESSING and again.refunds == []
    with deps.engine.connect() as connection:
        types = connection.scalars(select(order_events.c.event_type)).all()
    assert types == ["OrderUpserted"]  # the import's, not the rolled-back cancellation's


def test_events_are_appended_in_the_same_commit_as_the_change(deps):
    store(deps, order_record("EV-1"))
    clock = lambda: datetime(2026, 4, 1, 12, tzinfo=timezone.utc)  # noqa: E731
    use_cases.cancel_order(deps.uow(), use_cases.CancelOrder("EV-1", "req-ev-1", Reason.CUSTOMER, "note"), clock,
                           use_cases.Caller("erp-test", "10.1.2.3"))
    with deps.engine.connect() as connection:
        rows = connection.execute(select(order_events).order_by(order_events.c.id)).mappings().all()
    assert [row["event_type"] for row in rows] == ["OrderUpserted", "OrderCancelled"]
    rows = rows[1:]
    assert rows[0]["payload"]["refund_amount"] == "30.00"
    assert rows[0]["payload"]["request_id"] == "req-ev-1"
    assert rows[0]["occurred_at"] == datetime(2026, 4, 1, 12, tzinfo=timezone.utc)


def test_upsert_updates_an_existing_order(deps):
    store(deps, order_record("UP-1"))
    changed = order_record("UP-1", Status="ON_HOLD", Lines=[
        {"LineNumber": 1, "Sku": "MUG-RED", "Name": "Red mug", "Quantity": 2, "UnitPrice": "10.00"},
        {"LineNumber": 3, "Sku": "BAG", "Name": "Bag", "Quantity": 1, "UnitPrice": "5.50"},
    ])
    summary = upserts.upsert_orders(deps.uow(), [order_from_record(changed)], deps.clock)
    assert (summary.created, summary.updated) == (0, 1)
    assert set(summary.results[0].changed) == {"Status", "Lines"}
    with deps.uow() as uow:
        order = uow.orders.get("UP-1")
    assert order is not None and order.status is OrderStatus.ON_HOLD
    assert [line.line_number for line in order.lines] == [1, 3]
    with deps.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(orders)) == 1


def test_sqlite_write_transactions_take_the_lock_when_they_begin(deps):
    """Two processes that each read and then write must queue, not fail with 'database is locked'."""
    if deps.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's locking only")
    statements: list[str] = []
    from sqlalchemy import event

    event.listen(deps.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    store(deps, order_record("LOCK-1"))
    with deps.uow() as uow:
        uow.orders.get("LOCK-1")
    with deps.uow() as uow:
        uow.orders.get("LOCK-1", for_update=True)
    begins = [s for s in statements if s.startswith("BEGIN")]
    assert begins == ["BEGIN IMMEDIATE", "BEGIN DEFERRED", "BEGIN IMMEDIATE"]


def test_amounts_read_back_keep_their_currency_places(deps):
    """PostgreSQL returns NUMERIC(18, 4); the record form still shows the currency's places."""
    from soap_orders.documents.records import order_to_record

    store(deps, order_record("PLACES-1"))
    with deps.uow() as uow:
        order = uow.orders.get("PLACES-1")
    record = order_to_record(order)
    assert (record["Total"], record["DiscountTotal"], record["Lines"][0]["UnitPrice"]) == ("30.00", "0.00", "10.00")
