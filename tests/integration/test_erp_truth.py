"""What the ERP sends is checked and line state follows the parcels, through the real ways in
(``soap-orders import`` of JSON Lines, then the actions), on a SQLite file and PostgreSQL.

The records are in the README's JSON Lines shape: no per-line Status or QuantityShipped."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from soap_orders.domain.errors import OrderNotFound
from soap_orders.domain.orders import (
    FinancialStatus,
    LineStatus,
    OrderStatus,
    Outcome,
    Reason,
    ReasonCode,
    RefundLineRequest,
    ReturnReason,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
)
from soap_orders.ingest.files import import_file
from soap_orders.service import order_actions as actions
from soap_orders.service.orders import Caller, CancelOrder, cancel_order, get_order
from tests.records import unique

CALLER = Caller("dg-test", "10.1.2.3")
NOW = datetime(2026, 3, 20, 12, tzinfo=timezone.utc)
LAST_WEEK = (NOW - timedelta(days=7)).isoformat().replace("+00:00", "Z")


def clock() -> datetime:
    return NOW


def readme_record(number: str, **overrides: Any) -> dict[str, Any]:
    """One order of one item as README's JSON Lines example writes it (no line state)."""
    record: dict[str, Any] = {
        "OrderNumber": number, "CreatedAt": "2026-03-01T10:00:00Z", "Status": "PROCESSING",
        "FinancialStatus": "PAID", "Currency": "EUR", "Subtotal": "120.00", "ShippingTotal": "0.00",
        "Total": "120.00", "Customer": {"Email": "ann.lee@example.com", "FirstName": "Ann"},
        "ShippingAddress": {"Name": "Ann Lee", "Line1": "1 High St", "City": "London", "PostalCode": "N1 1AA",
                            "CountryCode": "GB"},
        "Lines": [{"LineNumber": 1, "Sku": "COAT-1", "Name": "Coat", "Quantity": 1, "UnitPrice": "120.00"}],
    }
    record.update(copy.deepcopy(overrides))
    return record


def parcel(number: str, status: str, *items: tuple[str, int], **fields: Any) -> dict[str, Any]:
    return {"ShipmentId": f"SH-{number}", "Status": status, "CarrierCode": "dhl", "TrackingNumber": f"T{number}",
            "ShippedAt": "2026-03-02T08:00:00Z", "Items": [{"Sku": s, "Quantity": q} for s, q in items], **fields}


def run_import(deps, tmp_path: Path, *records: dict[str, Any]):
    path = tmp_path / f"{unique('erp')}.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return import_file(deps, path)


def test_an_item_in_a_parcel_on_its_way_is_shipped_and_cannot_be_cancelled_or_refunded(deps, tmp_path):
    number = unique("IT")
    record = readme_record(number, Status="SHIPPED", Shipments=[parcel(number, "IN_TRANSIT", ("COAT-1", 1))])

    report = run_import(deps, tmp_path, record)

    assert (report.created, report.errors) == (1, [])
    [notice] = report.notices  # the record said nothing of its line: what follows was stored, and said
    assert "STATE_DERIVED" in notice.message and "Lines[1].Status" in notice.message
    order = get_order(deps.uow(), number)
    line = order.lines[0]
    assert (line.status, line.quantity_shipped, order.status) == (LineStatus.SHIPPED, 1, OrderStatus.SHIPPED)

    lines = actions.cancel_order_lines(deps.uow(), actions.CancelOrderLines(
        number, unique("rq"), Reason.CUSTOMER, (RefundLineRequest(1, line_number=1),)), clock, CALLER)
    assert (lines.outcome, lines.reason_code) == (Outcome.REJECTED, ReasonCode.ALREADY_SHIPPED)
    assert lines.refund is None
    whole = cancel_order(deps.uow(), CancelOrder(number, unique("rq"), Reason.CUSTOMER), clock, CALLER)
    assert (whole.outcome, whole.reason_code) == (Outcome.REJECTED, ReasonCode.ALREADY_SHIPPED)
    after = get_order(deps.uow(), number)
    assert after.refunds == [] and after.financial_status is FinancialStatus.PAID
    assert after.lines[0].quantity_cancelled == 0


def test_a_delivered_order_whose_parcel_arrived_last_week_can_be_returned(deps, tmp_path):
    number = unique("DL")
    record = readme_record(number, Status="DELIVERED", Shipments=[
        parcel(number, "DELIVERED", ("COAT-1", 1), DeliveredAt=LAST_WEEK)])
    assert run_import(deps, tmp_path, record).errors == []
    order = get_order(deps.uow(), number)
    assert (order.lines[0].status, order.lines[0].quantity_shipped) == (LineStatus.DELIVERED, 1)

    result = actions.create_return(deps.uow(), actions.CreateReturn(
        number, unique("rq"), ReturnReason.SIZE, (RefundLineRequest(1, line_number=1),)), clock, CALLER,
        return_window_days=30)

    assert result.outcome is Outcome.RETURN_CREATED, result.message


@pytest.mark.parametrize(("change", "reason", "field"), [
    ("unknown SKU", "UNKNOWN_SKU", "Shipments[1].Items[1].Sku"),
    ("5 shipped of 2", "INVALID_DOCUMENT", "QuantityShipped"),
    ("parcel of more than ordered", "EXCEEDS_ORDERED", "Shipments[1].Items[1].Quantity"),
    ("DELIVERED without a parcel", "AHEAD_OF_PARCELS", "Status"),
    ("DELIVERED, parcel on its way", "AHEAD_OF_PARCELS", "Status"),
    ("line DELIVERED, parcel on its way", "AHEAD_OF_PARCELS", "Lines[1].Status"),
    ("QuantityShipped beyond the parcels", "AHEAD_OF_PARCELS", "Lines[1].QuantityShipped"),
    ("country UK", "INVALID_COUNTRY", "ShippingAddress.CountryCode"),
    ("three decimals in EUR", "INVALID_DOCUMENT", "UnitPrice"),
])
def test_an_inconsistent_record_is_refused_with_its_field_and_rule(deps, tmp_path, change, reason, field):
    number = unique("BAD")
    record = readme_record(number, Lines=[{"LineNumber": 1, "Sku": "COAT-1", "Name": "Coat", "Quantity": 2,
                                           "UnitPrice": "60.00"}])
    if change == "unknown SKU":
        record.update(Status="SHIPPED", Shipments=[parcel(number, "IN_TRANSIT", ("HAT-9", 1))])
    elif change == "5 shipped of 2":
        record["Lines"][0]["QuantityShipped"] = 5
    elif change == "parcel of more than ordered":
        record.update(Status="SHIPPED", Shipments=[parcel(number, "IN_TRANSIT", ("COAT-1", 5))])
    elif change == "DELIVERED without a parcel":
        record["Status"] = "DELIVERED"
    elif change == "DELIVERED, parcel on its way":
        record.update(Status="DELIVERED", Shipments=[parcel(number, "IN_TRANSIT", ("COAT-1", 2))])
    elif change == "line DELIVERED, parcel on its way":
        record["Lines"][0]["Status"] = "DELIVERED"
        record.update(Status="SHIPPED", Shipments=[parcel(number, "IN_TRANSIT", ("COAT-1", 2))])
    elif change == "QuantityShipped beyond the parcels":
        record["Lines"][0]["QuantityShipped"] = 2
        record.update(Status="PARTIALLY_SHIPPED", Shipments=[parcel(number, "IN_TRANSIT", ("COAT-1", 1))])
    elif change == "country UK":
        record["ShippingAddress"]["CountryCode"] = "UK"
    else:
        record["Lines"][0]["UnitPrice"] = "60.001"

    report = run_import(deps, tmp_path, record)

    assert report.created == 0
    [problem] = report.errors
    assert field in problem.message
    if reason != "INVALID_DOCUMENT":
        assert problem.message.endswith(f"({reason})")
    assert "HAT-9" not in problem.message and "60.001" not in problem.message
    if change == "country UK":
        assert "GB" in problem.message and "UK" not in problem.message.replace("United Kingdom", "")
    with pytest.raises(OrderNotFound):  # nothing was stored
        get_order(deps.uow(), number)


def test_a_record_that_lags_behind_a_recorded_parcel_keeps_the_parcels_state(deps, tmp_path):
    """The ERP re-sends the order as it knew it before a parcel was recorded through the service."""
    number = unique("LAG")
    record = readme_record(number)
    assert run_import(deps, tmp_path, record).created == 1
    shipped = actions.record_shipment(deps.uow(), actions.RecordShipment(number, unique("rq"), _shipment(number)),
                                      clock, Caller("erp-test"))
    assert shipped.outcome is Outcome.SHIPMENT_RECORDED

    report = run_import(deps, tmp_path, record)

    assert (report.unchanged, report.errors) == (1, [])
    order = get_order(deps.uow(), number)
    assert (order.lines[0].status, order.lines[0].quantity_shipped, order.status) == (
        LineStatus.SHIPPED, 1, OrderStatus.SHIPPED)


def _shipment(number: str) -> Shipment:
    return Shipment(f"SH-S-{number}", ShipmentStatus.IN_TRANSIT, items=[ShipmentItem("COAT-1", 1)])
