"""Subscriptions on a real SQLite file and on PostgreSQL: stored and read back unchanged, found
through the case-insensitive index, imported beside orders (the use cases themselves are tested
over the in-memory stores in tests/unit/test_subscription_use_cases.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select, text

from soap_orders.adapters.orm import order_events
from soap_orders.domain.errors import SubscriptionNotFound
from soap_orders.service import subscriptions as uc
from tests.unit.test_subscription_use_cases import clock_at, sub_record


def events_of(deps, sid: str) -> list[tuple[str, dict[str, Any]]]:
    with deps.engine.connect() as connection:
        rows = connection.execute(
            select(order_events.c.event_type, order_events.c.payload, order_events.c.order_number)
            .where(order_events.c.subscription_id == sid).order_by(order_events.c.id)
        ).all()
    assert all(row.order_number is None for row in rows)
    return [(row.event_type, row.payload) for row in rows]


def test_demo_subscriptions_are_stored_and_read_back_unchanged(deps):
    from soap_orders.demo.subscriptions import demo_subscriptions
    from soap_orders.documents.subscriptions import subscription_to_record
    from soap_orders.domain.orders import Customer

    made = demo_subscriptions(5, [Customer(f"demo{i}@example.com", "Demo") for i in range(8)])
    expected = {s.subscription_id: subscription_to_record(s, stored=True) for s in made}
    with deps.uow() as uow:
        for subscription in made:
            uow.subscriptions.add(subscription)
        uow.commit()
    with deps.uow() as uow:
        stored = uow.subscriptions.get_many(expected)
        assert {sid: subscription_to_record(s, stored=True) for sid, s in stored.items()} == expected
    assert events_of(deps, made[0].subscription_id) == []  # demo history is not news for the change feed


def test_email_lookup_can_use_the_case_insensitive_index(deps):
    query = ("SELECT id FROM subscriptions WHERE lower(customer_email) = lower('a@b.c') "
             "ORDER BY created_at DESC")
    with deps.engine.connect() as connection:
        if deps.engine.dialect.name == "sqlite":
            plan = connection.execute(text("EXPLAIN QUERY PLAN " + query)).all()
        else:  # an empty table is scanned anyway; forbid that to see that the index serves the query
            connection.execute(text("SET LOCAL enable_seqscan = off"))
            plan = connection.execute(text("EXPLAIN " + query)).all()
    assert "ix_subscriptions_email_lower_created_at" in " ".join(str(row) for row in plan)


def test_import_takes_subscription_records_beside_orders(deps, tmp_path):
    from soap_orders.ingest.files import import_file
    from tests.records import order_record

    good = sub_record("SUB-IMP-1")
    inconsistent = sub_record("SUB-IMP-2", Status="CANCELLED", NextOrderDate=None)  # no CancelledAt
    lines = [json.dumps(order_record("SO-IMP-1")), json.dumps(good), json.dumps(inconsistent),
             json.dumps(sub_record("SUB-IMP-1", Name="Coffee club XL"))]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n")
    report = import_file(deps, path)
    assert (report.created, report.updated) == (2, 1)
    assert [(p.line, p.message.split(":")[0]) for p in report.errors] == [(3, "INVALID_DOCUMENT")]
    assert "CancelledAt" in report.errors[0].message
    assert uc.get_subscription(deps.uow(), "SUB-IMP-1", clock_at()).name == "Coffee club XL"
    with pytest.raises(SubscriptionNotFound):
        uc.get_subscription(deps.uow(), "SUB-IMP-2", clock_at())
