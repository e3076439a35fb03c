"""Recording shipments on an order: quantities, refusals, statuses of lines and order, events."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from soap_orders.domain.errors import ValidationError
from soap_orders.domain.events import ShipmentRecorded
from soap_orders.domain.orders import (
    LineStatus,
    OrderStatus,
    Outcome,
    Reason,
    ReasonCode,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
)
from tests.unit.factories import NOW, by_number, cancel, make_line, make_order


def parcel(*items: tuple[str, int], shipment_id: str = "SH-1", status: ShipmentStatus = ShipmentStatus.IN_TRANSIT,
           **fields) -> Shipment:
    return Shipment(shipment_id, status, items=[ShipmentItem(sku, q) for sku, q in items], **fields)


def record(order, shipment, request_id="REQ-SHIP-1", now=NOW):
    return order.record_shipment(shipment, now=now, request_id=request_id)


def test_a_first_partial_shipment_ships_its_items_and_the_order_partially():
    order = make_order()
    decision = record(order, parcel(("SKU-A", 1), carrier_name="DHL Express", carrier_code="dhl",
                                    tracking_number="JD0001", tracking_url="https://track.example/JD0001",
                                    expected_delivery_date=date(2026, 1, 15)))
    assert (decision.outcome, decision.reason_code) == (Outcome.SHIPMENT_RECORDED, ReasonCode.NONE)
    line_a, line_b = order.lines
    assert (line_a.quantity_shipped, line_a.status) == (1, LineStatus.PROCESSING)
    assert (line_b.quantity_shipped, line_b.status) == (0, LineStatus.PROCESSING)
    assert order.status is OrderStatus.PARTIALLY_SHIPPED
    [shipment] = order.shipments
    assert (shipment.carrier_name, shipment.carrier_code, shipment.tracking_number) == ("DHL Express", "dhl", "JD0001")
    assert shipment.shipped_at == NOW  # in transit without a time: it left now
    assert shipment.expected_delivery_date == date(2026, 1, 15)
    [event] = order.events
    assert isinstance(event, ShipmentRecorded)
    assert (event.old_status, event.new_status, event.items) == (None, "IN_TRANSIT", (("SKU-A", 1),))
    assert (event.old_order_status, event.new_order_status) == ("PROCESSING", "PARTIALLY_SHIPPED")
    assert order.updated_at == NOW


def test_shipping_everything_ships_the_lines_and_the_order_then_delivery_delivers_them():
    order = make_order()
    record(order, parcel(("SKU-A", 2), ("SKU-B", 1)))
    assert [line.status for line in order.lines] == [LineStatus.SHIPPED, LineStatus.SHIPPED]
    assert order.status is OrderStatus.SHIPPED
    later = NOW + timedelta(days=2)
    decision = record(order, parcel(status=ShipmentStatus.DELIVERED), request_id="REQ-SHIP-2", now=later)
    assert decision.outcome is Outcome.SHIPMENT_RECORDED
    assert [line.status for line in order.lines] == [LineStatus.DELIVERED, LineStatus.DELIVERED]
    assert order.status is OrderStatus.DELIVERED
    [shipment] = order.shipments
    assert shipment.delivered_at == later
    assert shipment.quantities == {"SKU-A": 2, "SKU-B": 1}  # empty Items on an update keep the items
    assert [(e.old_status, e.new_status) for e in order.events] == [(None, "IN_TRANSIT"), ("IN_TRANSIT", "DELIVERED")]


def test_one_delivered_parcel_of_two_delivers_only_its_lines():
    order = make_order()
    record(order, parcel(("SKU-A", 2), shipment_id="SH-A"))
    record(order, parcel(("SKU-B", 1), shipment_id="SH-B"))
    record(order, parcel(shipment_id="SH-A", status=ShipmentStatus.DELIVERED))
    assert [line.status for line in order.lines] == [LineStatus.DELIVERED, LineStatus.SHIPPED]
    assert order.status is OrderStatus.SHIPPED


def test_an_update_keeps_fields_it_leaves_out_and_may_change_the_items():
    order = make_order()
    record(order, parcel(("SKU-A", 1), tracking_number="T-1", carrier_code="ups"))
    record(order, parcel(("SKU-A", 2), ("SKU-B", 1), tracking_url="https://t.example/1"), request_id="R2")
    [shipment] = order.shipments
    assert (shipment.tracking_number, shipment.carrier_code, shipment.tracking_url) == (
        "T-1", "ups", "https://t.example/1")
    assert [line.quantity_shipped for line in order.lines] == [2, 1]
    assert order.status is OrderStatus.SHIPPED
    record(order, parcel(("SKU-A", 1)), request_id="R3")  # the ERP corrects the parcel down
    assert [line.quantity_shipped for line in order.lines] == [1, 0]
    assert [line.status for line in order.lines] == [LineStatus.PROCESSING, LineStatus.PROCESSING]
    assert order.status is OrderStatus.PARTIALLY_SHIPPED


def test_more_than_is_unshipped_is_refused_and_nothing_changes():
    order = make_order()
    record(order, parcel(("SKU-A", 1), shipment_id="SH-1"))
    decision = record(order, parcel(("SKU-A", 2), shipment_id="SH-2"), request_id="R2")
    assert (decision.outcome, decision.reason_code) == (Outcome.REJECTED, ReasonCode.EXCEEDS_UNSHIPPED)
    assert "1 item(s) left to ship" in decision.message
    assert [s.shipment_id for s in order.shipments] == ["SH-1"]
    assert order.lines[0].quantity_shipped == 1
    assert len(order.events) == 1
    # Raising an existing parcel counts only the increase.
    assert record(order, parcel(("SKU-A", 2), shipment_id="SH-1"), request_id="R3").outcome is Outcome.SHIPMENT_RECORDED
    assert order.lines[0].quantity_shipped == 2


def test_cancelled_items_never_ship():
    order = make_order()
    order.cancel_lines((by_number(1, 1),), reason=Reason.CUSTOMER,
                       now=NOW, request_id="RC", refund_id="RF-1")
    decision = record(order, parcel(("SKU-A", 2)))
    assert decision.reason_code is ReasonCode.EXCEEDS_UNSHIPPED
    assert record(order, parcel(("SKU-A", 1))).outcome is Outcome.SHIPMENT_RECORDED
    assert order.lines[0].status is LineStatus.SHIPPED  # 1 shipped + 1 cancelled


def test_a_cancelled_line_cannot_ship():
    order = make_order()
    order.cancel_lines((by_number(2, 1),), reason=Reason.CUSTOMER, now=NOW, request_id="RC", refund_id="RF-1")
    decision = record(order, parcel(("SKU-A", 1), ("SKU-B", 1)))
    assert (decision.outcome, decision.reason_code) == (Outcome.REJECTED, ReasonCode.LINE_CANCELLED)
    assert order.shipments == [] and all(line.quantity_shipped == 0 for line in order.lines)


def test_a_cancelled_order_cannot_ship():
    order = make_order()
    cancel(order)
    order.events.clear()
    decision = record(order, parcel(("SKU-A", 1)))
    assert (decision.outcome, decision.reason_code) == (Outcome.REJECTED, ReasonCode.ALREADY_CANCELLED)
    assert order.shipments == [] and order.events == []


def test_an_unknown_sku_is_refused():
    order = make_order()
    decision = record(order, parcel(("SKU-A", 1), ("NOPE", 1)))
    assert (decision.outcome, decision.reason_code) == (Outcome.REJECTED, ReasonCode.UNKNOWN_LINE)
    assert order.shipments == [] and order.status is OrderStatus.PROCESSING


def test_the_same_sku_on_two_lines_fills_them_in_order():
    order = make_order(lines=[make_line(1, "SKU-A", 1), make_line(2, "SKU-A", 2)])
    assert record(order, parcel(("SKU-A", 2))).outcome is Outcome.SHIPMENT_RECORDED
    assert [line.quantity_shipped for line in order.lines] == [1, 1]
    assert record(order, parcel(("SKU-A", 2), shipment_id="SH-2")).reason_code is ReasonCode.EXCEEDS_UNSHIPPED


def test_a_line_the_erp_reported_shipped_has_nothing_left_to_ship():
    order = make_order()
    order.lines[0].status = LineStatus.SHIPPED  # imported: shipped, quantities not reported
    decision = record(order, parcel(("SKU-A", 1)))
    assert decision.reason_code is ReasonCode.EXCEEDS_UNSHIPPED


@pytest.mark.parametrize(("shipment", "field"), [
    (Shipment("  ", ShipmentStatus.IN_TRANSIT, items=[ShipmentItem("SKU-A", 1)]), "ShipmentId"),
    (Shipment("SH-1", ShipmentStatus.IN_TRANSIT, items=[]), "Items"),
    (Shipment("SH-1", ShipmentStatus.IN_TRANSIT, items=[ShipmentItem("SKU-A", 0)]), "Quantity"),
    (Shipment("SH-1", ShipmentStatus.IN_TRANSIT, tracking_url="ftp://x", items=[ShipmentItem("SKU-A", 1)]),
     "TrackingUrl"),
    (Shipment("SH-1", ShipmentStatus.IN_TRANSIT, carrier_name="x" * 101, items=[ShipmentItem("SKU-A", 1)]),
     "CarrierName"),
])
def test_a_malformed_shipment_is_a_validation_error(shipment, field):
    order = make_order()
    with pytest.raises(ValidationError) as raised:
        record(order, shipment)
    assert raised.value.field == field
    assert order.shipments == []


def test_a_label_alone_is_recorded_without_a_shipping_time():
    order = make_order()
    record(order, parcel(("SKU-B", 1), status=ShipmentStatus.LABEL_CREATED))
    assert order.shipments[0].shipped_at is None
    assert order.lines[1].quantity_shipped == 1  # the items are taken by the parcel
    assert cancel(order).reason_code is ReasonCode.ALREADY_SHIPPED  # so the order can no longer be cancelled

