"""Re-importing orders after acting on them through the service: merge, never erase (SQLite and PostgreSQL)."""

from __future__ import annotations

import copy
import json
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import event, select

from soap_orders.adapters import migrate
from soap_orders.adapters.orm import audit_records, order_events
from soap_orders.bootstrap import Dependencies
from soap_orders.cli import main
from soap_orders.documents.records import order_from_record, order_to_record
from soap_orders.domain.errors import IdempotencyConflict
from soap_orders.domain.merge import UpsertOutcome, UpsertReasonCode
from soap_orders.domain.orders import (
    FinancialStatus,
    OrderStatus,
    Origin,
    Outcome,
    Reason,
    ReasonCode,
    RefundLineRequest,
)
from soap_orders.ingest import orders as upserts
from soap_orders.ingest.files import import_file
from soap_orders.service import orders as use_cases
from tests.records import order_record, shipped

DG = use_cases.Caller("dg", "127.0.0.1")


def write_jsonl(path: Path, *records: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def refund(deps: Dependencies, number: str, request_id: str, **arguments: Any) -> use_cases.ActionResult:
    command = use_cases.IssueRefund(number, request_id, Reason.DAMAGED, **arguments)
    return use_cases.issue_refund(deps.uow(), command, deps.clock, DG)


def stored(deps: Dependencies, number: str) -> dict[str, Any]:
    return order_to_record(use_cases.get_order(deps.uow(), number))


def events_of(deps: Dependencies, number: str) -> list[tuple[str, dict[str, Any]]]:
    with deps.engine.connect() as connection:
        rows = connection.execute(
            select(order_events.c.event_type, order_events.c.payload)
            .where(order_events.c.order_number == number).order_by(order_events.c.id)
        ).all()
    return [(kind, payload) for kind, payload in rows]


def audit_of(deps: Dependencies, number: str) -> list[tuple[str, str, str]]:
    with deps.engine.connect() as connection:
        rows = connection.execute(
            select(audit_records.c.operation, audit_records.c.outcome, audit_records.c.client)
            .where(audit_records.c.order_number == number).order_by(audit_records.c.id)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_a_refund_survives_a_reimport_and_is_not_paid_twice(deps: Dependencies, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "erp.jsonl", order_record("RE-1"))
    assert import_file(deps, path).created == 1
    first = refund(deps, "RE-1", "dg-refund-1")
    assert (first.outcome, first.refund.amount if first.refund else None) == (Outcome.REFUNDED, 30)

    again = import_file(deps, path)

    assert (again.created, again.updated, again.unchanged, again.errors) == (0, 0, 1, [])
    order = use_cases.get_order(deps.uow(), "RE-1")
    assert [(r.refund_id, r.amount, r.origin) for r in order.refunds] == [(first.refund.refund_id, 30, Origin.SERVICE)]  # type: ignore[union-attr]
    assert order.refundable_amount == 0 and order.financial_status is FinancialStatus.REFUNDED
    assert [kind for kind, _payload in events_of(deps, "RE-1")] == ["OrderUpserted", "RefundIssued"]
    assert audit_of(deps, "RE-1") == [
        ("UpsertOrder", "CREATED", "import"), ("IssueRefund", "REFUNDED/NONE", "dg"),
    ]

    second = refund(deps, "RE-1", "dg-refund-2")

    assert (second.outcome, second.reason_code) == (Outcome.REJECTED, ReasonCode.NOTHING_REFUNDABLE)
    assert [kind for kind, _payload in events_of(deps, "RE-1")] == ["OrderUpserted", "RefundIssued"]


def test_a_changed_reimport_updates_the_erp_part_and_keeps_the_refund(deps: Dependencies, tmp_path: Path) -> None:
    import_file(deps, write_jsonl(tmp_path / "a.jsonl", order_record("RE-2")))
    refund(deps, "RE-2", "dg-refund-3", lines=(RefundLineRequest(1, line_number=2),))
    changed = order_record("RE-2", Status="ON_HOLD")
    changed["Customer"]["LastName"] = "Leigh"

    report = import_file(deps, write_jsonl(tmp_path / "b.jsonl", changed))

    assert (report.updated, report.errors) == (1, [])
    record = stored(deps, "RE-2")
    assert (record["Status"], record["Customer"]["LastName"]) == ("ON_HOLD", "Leigh")
    assert [(r["Amount"], r["Status"]) for r in record["Refunds"]] == [("5.50", "PENDING")]
    assert record["FinancialStatus"] == "PARTIALLY_REFUNDED"
    assert use_cases.get_order(deps.uow(), "RE-2").refundable_amount == Decimal("24.50")
    assert record["Lines"][1]["QuantityRefunded"] == 1
    upserted = [payload for kind, payload in events_of(deps, "RE-2") if kind == "OrderUpserted"]
    assert [(p["outcome"], sorted(p["changed"])) for p in upserted] == [("CREATED", []), ("UPDATED", ["Customer", "Status"])]
    assert audit_of(deps, "RE-2")[-1] == ("UpsertOrder", "UPDATED", "import")


def _refused(deps: Dependencies, tmp_path: Path, number: str, document: dict[str, Any],
             code: UpsertReasonCode, field: str) -> None:
    before = stored(deps, number)
    events = events_of(deps, number)

    report = import_file(deps, write_jsonl(tmp_path / "contradicting.jsonl", order_record("RE-OK"), document))

    assert (report.created, report.updated) == (1, 0)
    assert [problem.line for problem in report.errors] == [2]
    message = report.errors[0].message
    assert message.startswith(field + ":") and message.endswith(f"({code.value})")
    assert stored(deps, number) == before
    assert events_of(deps, number) == events
    assert audit_of(deps, number)[-1] == ("UpsertOrder", f"REJECTED/{code.value}", "import")


def test_removing_a_refunded_line_is_refused(deps: Dependencies, tmp_path: Path) -> None:
    import_file(deps, write_jsonl(tmp_path / "a.jsonl", order_record("RE-3")))
    refund(deps, "RE-3", "dg-refund-4", lines=(RefundLineRequest(1, line_number=2),))
    document = order_record("RE-3", Subtotal="20.00", Total="24.50")
    del document["Lines"][1]
    _refused(deps, tmp_path, "RE-3", document, UpsertReasonCode.LINE_REFUNDED, "Lines")


def test_a_total_below_the_refunds_is_refused(deps: Dependencies, tmp_path: Path) -> None:
    import_file(deps, write_jsonl(tmp_path / "a.jsonl", order_record("RE-4")))
    refund(deps, "RE-4", "dg-refund-5", amount=Decimal("28.00"))
    document = order_record("RE-4", ShippingTotal="0.00", Total="25.50")
    _refused(deps, tmp_path, "RE-4", document, UpsertReasonCode.TOTAL_BELOW_REFUNDED, "Total")


def test_a_cancelled_order_reported_as_shipped_is_refused(deps: Dependencies, tmp_path: Path) -> None:
    import_file(deps, write_jsonl(tmp_path / "a.jsonl", order_record("RE-5")))
    cancelled = use_cases.cancel_order(
        deps.uow(), use_cases.CancelOrder("RE-5", "dg-cancel-1", Reason.CUSTOMER), deps.clock, DG)
    assert cancelled.outcome is Outcome.CANCELLED
    _refused(deps, tmp_path, "RE-5", shipped(order_record("RE-5")), UpsertReasonCode.CANCELLED_ORDER_SHIPPED,
             "Status")
    report = import_file(deps, write_jsonl(tmp_path / "b.jsonl", order_record("RE-5")))
    assert (report.unchanged, report.errors) == (1, [])
    assert stored(deps, "RE-5")["Status"] == "CANCELLED"


def test_unchanged_documents_write_nothing(deps: Dependencies, tmp_path: Path) -> None:
    records = [shipped(order_record("RE-6")), order_record("RE-7")]
    path = write_jsonl(tmp_path / "a.jsonl", *records)
    import_file(deps, path)
    statements: list[str] = []

    def listener(*args: Any) -> None:
        statements.append(args[2])

    event.listen(deps.engine, "before_cursor_execute", listener)
    try:
        report = import_file(deps, path)
    finally:
        event.remove(deps.engine, "before_cursor_execute", listener)

    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    writes = [s for s in statements if s.split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    assert writes == []
    assert [kind for kind, _payload in events_of(deps, "RE-6")] == ["OrderUpserted"]


def test_the_upsert_reads_stored_orders_for_update_in_one_query(deps: Dependencies) -> None:
    numbers = [f"RE-L{i}" for i in range(5)]
    upserts.upsert_orders(deps.uow(), [order_from_record(order_record(n)) for n in numbers], deps.clock)
    statements: list[str] = []

    def listener(*args: Any) -> None:
        statements.append(args[2])

    event.listen(deps.engine, "before_cursor_execute", listener)
    try:
        changed = [order_from_record(order_record(n, Status="ON_HOLD")) for n in numbers]
        report = upserts.upsert_orders(deps.uow(), changed, deps.clock)
    finally:
        event.remove(deps.engine, "before_cursor_execute", listener)

    assert report.updated == 5
    order_reads = [s for s in statements if s.lstrip().upper().startswith("SELECT") and "FROM orders" in s]
    assert len(order_reads) == 1
    if deps.engine.dialect.name == "postgresql":
        assert "FOR UPDATE OF orders" in order_reads[0]
    else:
        assert [s for s in statements if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE"]
    updates = [s for s in statements if s.upper().startswith("UPDATE ORDERS")]
    assert len(updates) <= 2  # one executemany per distinct set of changed columns, never one per order


def test_per_record_results_and_one_bad_document_does_not_block_the_others(deps: Dependencies) -> None:
    upserts.upsert_orders(deps.uow(), [order_from_record(order_record("RE-8"))], deps.clock)
    refund(deps, "RE-8", "dg-refund-6")
    bad = order_record("RE-8")
    del bad["Lines"][1]
    bad.update(Subtotal="20.00", Total="24.50")
    records = [order_record("RE-9"), bad, {"OrderNumber": "RE-10", "Currency": "EUR"}, order_record("RE-8", Status="ON_HOLD")]

    report = upserts.upsert_records(deps.uow(), records, deps.clock, use_cases.Caller("erp-1", "10.0.0.1"))

    assert [(r.order_number, r.outcome, r.reason_code) for r in report.results] == [
        ("RE-9", UpsertOutcome.CREATED, UpsertReasonCode.NONE),
        ("RE-8", UpsertOutcome.REJECTED, UpsertReasonCode.TOTAL_BELOW_REFUNDED),
        ("RE-10", UpsertOutcome.REJECTED, UpsertReasonCode.INVALID_DOCUMENT),
        ("RE-8", UpsertOutcome.UPDATED, UpsertReasonCode.NONE),
    ]
    assert report.results[2].message == "Customer: is required"
    order = use_cases.get_order(deps.uow(), "RE-8")
    assert order.status is OrderStatus.ON_HOLD and order.refundable_amount == 0 and len(order.refunds) == 1


def test_a_batch_under_a_request_id_runs_once(deps: Dependencies) -> None:
    caller = use_cases.Caller("erp-2")
    documents = [order_record("RE-11"), {"OrderNumber": "RE-BAD"}, order_record("RE-12")]

    first = upserts.upsert_records(deps.uow(), documents, deps.clock, caller, request_id="erp-batch-1")
    replay = upserts.upsert_records(deps.uow(), copy.deepcopy(documents), deps.clock, caller,
                                      request_id="erp-batch-1")

    assert [r.outcome for r in first.results] == [UpsertOutcome.CREATED, UpsertOutcome.REJECTED, UpsertOutcome.CREATED]
    assert [(r.order_number, r.outcome, r.reason_code, r.message) for r in replay.results] == [
        (r.order_number, r.outcome, r.reason_code, r.message) for r in first.results]
    assert [kind for kind, _payload in events_of(deps, "RE-11")] == ["OrderUpserted"]
    with pytest.raises(IdempotencyConflict):
        upserts.upsert_records(deps.uow(), documents[:1], deps.clock, caller, request_id="erp-batch-1")


def test_cli_prints_refusals_with_their_lines(database_url: str, deps: Dependencies, tmp_path: Path) -> None:
    import_file(deps, write_jsonl(tmp_path / "a.jsonl", order_record("RE-13")))
    refund(deps, "RE-13", "dg-refund-7")
    path = write_jsonl(tmp_path / "b.jsonl", order_record("RE-13"), order_record("RE-13", FinancialStatus="AUTHORIZED"))

    result = CliRunner().invoke(main, ["import", str(path)], env={"SOAP_ORDERS_DATABASE_URL": database_url})

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        ("b.jsonl:2: FinancialStatus: says nothing was charged, but refunds have been made; the order was not "
         "changed. (TOTAL_BELOW_REFUNDED)"),
    ]
    assert result.stdout == "Refused by reason: TOTAL_BELOW_REFUNDED 1.\n0 created, 0 updated, 1 unchanged, 1 failed.\n"


def test_two_transactions_creating_one_order_run_one_after_the_other(deps: Dependencies) -> None:
    """The second waits for the first and then merges into its order instead of failing on the number."""
    results: list[upserts.UpsertReport] = []
    with deps.uow() as first:
        assert first.orders.get_many(["RE-RACE"], for_update=True) == {}
        second = threading.Thread(target=lambda: results.append(upserts.upsert_orders(
            deps.uow(), [order_from_record(order_record("RE-RACE", Status="ON_HOLD"))], deps.clock)))
        second.start()
        second.join(timeout=1.0)
        assert second.is_alive(), "the second transaction did not wait for the first"
        first.orders.add(order_from_record(order_record("RE-RACE")))
        first.commit()
    second.join(timeout=30)

    assert [(r.outcome, r.changed) for r in results[0].results] == [(UpsertOutcome.UPDATED, ("Status",))]
    assert use_cases.get_order(deps.uow(), "RE-RACE").status is OrderStatus.ON_HOLD


def test_upgrading_marks_what_the_service_did_before_from_the_event_log(deps: Dependencies, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", order_record("RE-M1"), order_record("RE-M2"),
                       order_record("RE-M3") | {"Refunds": [
                           {"RefundId": "ERP-1", "Amount": "1.00", "Reason": "OTHER", "Status": "COMPLETED",
                            "CreatedAt": "2026-03-02T10:00:00Z"}]})
    assert import_file(deps, path).created == 3
    refund(deps, "RE-M1", "dg-refund-m1", lines=(RefundLineRequest(1, line_number=1),))
    use_cases.cancel_order(deps.uow(), use_cases.CancelOrder("RE-M2", "dg-cancel-m2", Reason.CUSTOMER), deps.clock, DG)

    migrate.downgrade(deps.engine, "0002")
    migrate.upgrade(deps.engine)

    m1, m2, m3 = (use_cases.get_order(deps.uow(), n) for n in ("RE-M1", "RE-M2", "RE-M3"))
    assert [r.origin for r in m1.refunds] == [Origin.SERVICE]
    assert [line.quantity_refunded_by_service for line in m1.lines] == [1, 0]
    assert m2.cancel_origin is Origin.SERVICE and [r.origin for r in m2.refunds] == [Origin.SERVICE]
    assert [line.quantity_cancelled_by_service for line in m2.lines] == [2, 1]
    assert [r.origin for r in m3.refunds] == [Origin.ERP] and m3.cancel_origin is None
    again = import_file(deps, path)
    assert (again.unchanged, again.errors) == (3, [])
