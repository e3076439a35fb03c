"""``soap-orders prune`` on SQLite and PostgreSQL: records older than their retention go, newer ones
and everything about money (orders, refunds) stay, and a pruned order still answers with every
refund it had."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import func, insert, select

from soap_orders.adapters.orm import (
    audit_records,
    flow_outbox,
    idempotency_records,
    order_events,
    refunds,
)
from soap_orders.cli import main
from soap_orders.domain.orders import Reason
from soap_orders.domain.retention import Kept, RetentionPolicy
from soap_orders.service import orders as use_cases
from soap_orders.service.idempotency import Caller
from soap_orders.service.retention import prune
from tests.records import order_record, store, unique
from tests.server import TEST_SECRET_KEY

NOW = datetime.now(timezone.utc).replace(microsecond=0)
CALLER = Caller("dg-prune", "35.167.19.246")


def refund_at(deps, number: str, when: datetime, request_id: str) -> None:
    """A refund of 1.00 made through the service at ``when``: an audit record, an order event and an
    idempotency record of that time."""
    command = use_cases.IssueRefund(number, request_id, Reason.DAMAGED, amount=Decimal("1.00"))
    answer = use_cases.issue_refund(deps.uow(), command, lambda: when, CALLER)
    assert answer.outcome.value == "REFUNDED"


def notification(state: str, created: datetime, finished: datetime | None) -> dict:
    """An outbox row; ``finished`` is when it was sent (SENT) or skipped (SKIPPED)."""
    return {"order_number": "SO-PRUNE", "event_type": "delivered", "external_id": unique("ext"), "payload": {},
            "state": state, "attempts": 1, "created_at": created, "next_attempt_at": created,
            "sent_at": finished if state == "SENT" else None, "skipped_at": finished if state == "SKIPPED" else None}


def counts(deps, number: str) -> dict[str, int]:
    with deps.engine.connect() as connection:
        def count(table, *where) -> int:
            return int(connection.scalar(select(func.count()).select_from(table).where(*where)))

        return {
            "audit": count(audit_records, audit_records.c.order_number == number),
            "events": count(order_events, order_events.c.order_number == number),
            "idempotency": count(idempotency_records, idempotency_records.c.client == CALLER.client),
            "finished": count(flow_outbox, flow_outbox.c.state.in_(("SENT", "SKIPPED"))),
            "unsent": count(flow_outbox, flow_outbox.c.state.in_(("PENDING", "DEAD"))),
            "refunds": count(refunds),
        }


@pytest.fixture
def aged(deps):
    """An order refunded 800, 100 and 10 days ago; notifications sent 10 and 1 days ago, skipped 9
    days ago, and one pending and one dead from 30 days ago."""
    (number,) = store(deps, order_record(unique("PR")))
    for days, request_id in ((800, "old-refund"), (100, "older-than-90"), (10, "recent-refund")):
        refund_at(deps, number, NOW - timedelta(days=days), request_id)
    month = NOW - timedelta(days=30)
    with deps.engine.begin() as connection:
        connection.execute(insert(flow_outbox), [
            notification("SENT", NOW - timedelta(days=11), NOW - timedelta(days=10)),
            notification("SENT", NOW - timedelta(days=2), NOW - timedelta(days=1)),
            notification("SKIPPED", NOW - timedelta(days=12), NOW - timedelta(days=9)),
            notification("PENDING", month, None),
            notification("DEAD", month, None),
        ])
    return number


def run(database_url: str, *args: str):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(main, ["prune", *args], catch_exceptions=False, env={
        "SOAP_ORDERS_DATABASE_URL": database_url, "SOAP_ORDERS_SECRET_KEY": TEST_SECRET_KEY})
    assert result.exit_code == 0, result.output
    return result.output


def test_prune_deletes_only_what_outlived_its_retention(deps, database_url, aged):
    number = aged
    before = counts(deps, number)
    assert before == {"audit": 4, "events": 4, "idempotency": 3, "finished": 3, "unsent": 2, "refunds": 3}

    dry = run(database_url, "--dry-run")
    assert "audit records: would delete 1 (older than 730 days, before " in dry
    assert "order events: would delete 1 (older than 730 days" in dry
    assert "idempotency records: would delete 2 (older than 90 days" in dry
    assert "delivered notifications: would delete 2 (older than 7 days" in dry
    assert counts(deps, number) == before

    done = run(database_url)
    assert "audit records: deleted 1 " in done and "idempotency records: deleted 2 " in done
    assert "order events: deleted 1 " in done and "delivered notifications: deleted 2 " in done
    # The store's own audit record and event (the import, now) and the recent refunds' stay; the
    # pending and dead notifications stay whatever their age; no refund is ever deleted.
    assert counts(deps, number) == {"audit": 3, "events": 3, "idempotency": 1, "finished": 1, "unsent": 2, "refunds": 3}
    with deps.engine.connect() as connection:
        kept = set(connection.execute(select(idempotency_records.c.request_id)
                                      .where(idempotency_records.c.client == CALLER.client)).scalars())
    assert kept == {"recent-refund"}
    with deps.uow() as uow:
        order = uow.orders.get(number)
        assert sum(r.amount for r in order.refunds) == Decimal("3.00")
    assert "deleted 0 " in run(database_url) and "deleted 1 " not in run(database_url)


def test_a_recent_request_id_still_replays_after_pruning(deps, database_url, aged):
    run(database_url)
    again = use_cases.issue_refund(deps.uow(), use_cases.IssueRefund(aged, "recent-refund", Reason.DAMAGED,
                                                                     amount=Decimal("1.00")), lambda: NOW, CALLER)
    assert again.outcome.value == "REFUNDED"
    with deps.uow() as uow:
        assert len(uow.orders.get(aged).refunds) == 3  # replayed, not refunded again


def test_prune_works_in_batches(deps):
    (number,) = store(deps, order_record(unique("PB")))
    for index in range(7):
        refund_at(deps, number, NOW - timedelta(days=1000 + index), f"ancient-{index}")
    pruned = {p.kind: p.count for p in prune(deps.uow, lambda: NOW, RetentionPolicy(), batch=2)}
    assert pruned[Kept.AUDIT] == 7 and pruned[Kept.EVENTS] == 7 and pruned[Kept.IDEMPOTENCY] == 7
    assert counts(deps, number)["audit"] == 1  # the import's own record, from now


def test_shorter_retention_is_read_from_the_environment_and_warned_about(deps, database_url, aged):
    output = CliRunner().invoke(main, ["prune", "--dry-run"], catch_exceptions=False, env={
        "SOAP_ORDERS_DATABASE_URL": database_url, "SOAP_ORDERS_RETAIN_AUDIT_DAYS": "50",
        "SOAP_ORDERS_RETAIN_IDEMPOTENCY_DAYS": "5", "SOAP_ORDERS_DG_RETENTION_DAYS": "30"}).output
    assert "audit records: would delete 2 (older than 50 days" in output
    assert "idempotency records: would delete 3 (older than 5 days" in output
    assert "delivered notifications: would delete 0 (older than 30 days" in output
    assert "Warning: audit records are kept 50 days, less than the 540 days" in output
    assert replace(RetentionPolicy(), events_days=600).shorter_than_disputes() == []
