"""``soap-orders demo-data`` against a real database (SQLite file and PostgreSQL): it never touches
an order it did not create unless told to with --replace."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner
from sqlalchemy import func, select

from soap_orders.adapters.orm import order_events
from soap_orders.adapters.orm import orders as orders_table
from soap_orders.bootstrap import Dependencies
from soap_orders.cli import main
from soap_orders.demo import generate_records
from soap_orders.documents.records import order_from_record, order_to_record
from soap_orders.domain.orders import FinancialStatus, OrderStatus, Reason
from soap_orders.ingest.orders import upsert_orders
from soap_orders.service.auth import order_history
from soap_orders.service.orders import (
    Caller,
    IssueRefund,
    get_order,
    issue_refund,
)

LIVE = "SO-100005"  # a number the demo data also uses


def invoke(db_url: str, *args: str) -> Any:
    return CliRunner().invoke(main, list(args), env={"SOAP_ORDERS_DATABASE_URL": db_url})


def stored_count(deps: Dependencies) -> int:
    with deps.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(orders_table)) or 0


def event_count(deps: Dependencies) -> int:
    with deps.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(order_events)) or 0


def read_back(deps: Dependencies, number: str) -> dict[str, Any]:
    return order_to_record(get_order(deps.uow(), number))


def a_refunded_live_order(deps: Dependencies) -> dict[str, Any]:
    """A live order under a demo number: imported, then refunded in full through the service."""
    record = {
        "OrderNumber": LIVE, "Status": "DELIVERED", "FinancialStatus": "PAID", "CreatedAt": "2025-12-01T10:00:00Z",
        "Currency": "CHF", "Subtotal": "43.98", "Total": "43.98",
        "Customer": {"Email": "live.customer@shop.test", "FirstName": "Live"},
        "Lines": [{"LineNumber": 1, "Sku": "LIVE-1", "Name": "Live item", "Quantity": 2, "UnitPrice": "21.99",
                   "Status": "DELIVERED", "QuantityShipped": 2}],
    }
    upsert_orders(deps.uow(), [order_from_record(record)], deps.clock)
    result = issue_refund(deps.uow(), IssueRefund(LIVE, "live-refund-1", Reason.DAMAGED), deps.clock, Caller("dg"))
    assert result.order.financial_status is FinancialStatus.REFUNDED
    return read_back(deps, LIVE)


def test_demo_data_leaves_an_existing_refunded_order_untouched(database_url: str, deps: Dependencies) -> None:
    before = a_refunded_live_order(deps)
    history = order_history(deps.uow(), LIVE)
    events = event_count(deps)

    result = invoke(database_url, "demo-data", "--orders", "30", "--seed", "3")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Wrote 29 of 30 demo orders (seed 3): 29 created, 0 updated, 1 skipped."
    assert LIVE in lines[1] and "untouched" in lines[1]
    assert "--replace" in lines[2]
    assert read_back(deps, LIVE) == before
    assert order_history(deps.uow(), LIVE) == history
    assert event_count(deps) == events  # demo orders add nothing to the change feed
    assert stored_count(deps) == 30
    demo = {r["OrderNumber"]: r for r in generate_records(30, 3)}
    assert read_back(deps, "SO-100030") == demo["SO-100030"]


def test_a_second_run_skips_every_number_in_use_and_says_so(database_url: str, deps: Dependencies) -> None:
    assert invoke(database_url, "demo-data", "--orders", "20", "--seed", "3").exit_code == 0
    first = {n: read_back(deps, n) for n in ("SO-100001", "SO-100020")}

    second = invoke(database_url, "demo-data", "--orders", "25", "--seed", "4")

    assert second.exit_code == 0, second.output
    lines = second.stdout.splitlines()
    assert lines[0] == "Wrote 5 of 25 demo orders (seed 4): 5 created, 0 updated, 20 skipped."
    assert "SO-100001, SO-100002, SO-100003 and 17 more" in lines[1]
    assert {n: read_back(deps, n) for n in first} == first
    assert stored_count(deps) == 25

    beside = invoke(database_url, "demo-data", "--orders", "10", "--seed", "4", "--first-number", "100026")

    assert beside.exit_code == 0, beside.output
    assert beside.stdout.startswith("Wrote 10 demo orders (seed 4): 10 created, 0 updated.\nTry:")
    assert stored_count(deps) == 35
    assert {n: read_back(deps, n) for n in first} == first


def test_replace_updates_existing_orders_but_never_erases_what_callers_did(database_url: str,
                                                                          deps: Dependencies) -> None:
    before = a_refunded_live_order(deps)
    assert invoke(database_url, "demo-data", "--orders", "10", "--seed", "5", "--first-number", "100050").exit_code == 0

    result = invoke(database_url, "demo-data", "--orders", "10", "--seed", "3", "--replace")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Wrote 9 of 10 demo orders (seed 3): 9 created, 0 updated, 1 refused."
    assert LIVE in lines[1]
    assert read_back(deps, LIVE) == before  # refunded through the service: the demo may not rewrite it
    # Demo orders written before are updated, but for those whose refunds the domain made (as the
    # service would have): those the new demo contradicts are refused too.
    demo = {r["OrderNumber"]: r for r in generate_records(10, 6, first_number=100050)}
    earlier = {number: read_back(deps, number) for number in demo}
    again = invoke(database_url, "demo-data", "--orders", "10", "--seed", "6", "--first-number", "100050", "--replace")
    assert again.exit_code == 0, again.output
    first = again.stdout.splitlines()[0]
    updated = int(first.split(" updated")[0].rsplit(" ", 1)[1])
    assert "0 created" in first and updated >= 5
    # Each order is the new demo's, or was refused and is exactly as it was (its parcels carry
    # SKUs the new demo's lines do not have, or its refunds fix its currency).
    now = {number: read_back(deps, number) for number in demo}
    replaced = [number for number in demo if now[number]["Customer"] == demo[number]["Customer"]]
    assert len(replaced) == updated
    assert all(now[number] == earlier[number] for number in demo if number not in replaced)


def test_orders_written_to_the_database_are_the_generated_records(database_url: str, deps: Dependencies) -> None:
    result = invoke(database_url, "demo-data", "--orders", "60", "--seed", "2")

    assert result.exit_code == 0, result.output
    for record in generate_records(60, 2):
        assert read_back(deps, record["OrderNumber"]) == record
    cancelled = get_order(deps.uow(), next(r["OrderNumber"] for r in generate_records(60, 2)
                                           if r["Status"] == "CANCELLED"))
    assert cancelled.status is OrderStatus.CANCELLED
    assert [r.operation for r in order_history(deps.uow(), cancelled.order_number)] == ["UpsertOrder"]
    assert order_history(deps.uow(), cancelled.order_number)[0].client == "demo-data"


def test_the_demo_data_imports_with_no_refusal_and_nothing_derived_differently(deps: Dependencies, tmp_path) -> None:
    """Every demo record passes the checks an ERP's record must pass (import, UpsertOrders), and
    what it says of its lines and status is what follows from its parcels."""
    from soap_orders.demo import write_jsonl
    from soap_orders.ingest.files import import_file

    path = tmp_path / "demo.jsonl"
    write_jsonl(path, 300, 7)

    report = import_file(deps, path)

    assert (report.created, report.errors, report.notices) == (300, [], [])
