"""Recording a parcel: what the ERP is told, what is stored and what the change feed records, and
which texts and items of a parcel are refused."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from soap_orders.domain.errors import ValidationError
from soap_orders.domain.events import ShipmentRecorded
from soap_orders.domain.orders import (
    Decision,
    LineStatus,
    OrderStatus,
    Outcome,
    Reason,
    ReasonCode,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
)
from tests.unit.factories import NOW, by_number, make_line, make_order, plain, snapshot

SHIPPED_AT = NOW - timedelta(hours=3)


def parcel(*items, shipment_id="SH-1", status=ShipmentStatus.IN_TRANSIT, **fields):
    return Shipment(shipment_id, status, items=[ShipmentItem(sku, q) for sku, q in items], **fields)


def record(order, shipment, request_id="REQ-SHIP-1", now=NOW):
    return order.record_shipment(shipment, now=now, request_id=request_id)


def test_a_new_parcel_is_stored_recorded_and_answered_whole():
    order = make_order()

    decision = record(order, parcel(
        (" SKU-B ", 1), ("SKU-A", 1), ("SKU-A", 1), shipment_id=" SH-9 ", carrier_name=" DHL Express ",
        carrier_code="dhl", tracking_number="JD 0001", tracking_url="HTTP://track.example/JD0001",
        shipped_at=SHIPPED_AT, expected_delivery_date=date(2026, 1, 15),
    ))

    assert decision == Decision(
        Outcome.SHIPMENT_RECORDED, ReasonCode.NONE,
        "Shipment SH-9 of order ORD-1001 was recorded: it is IN_TRANSIT and the order is SHIPPED.",
    )
    [stored] = order.shipments
    assert plain(stored) == {
        "shipment_id": "SH-9", "status": ShipmentStatus.IN_TRANSIT, "carrier_name": "DHL Express",
        "carrier_code": "dhl", "tracking_number": "JD 0001", "tracking_url": "HTTP://track.example/JD0001",
        "shipped_at": SHIPPED_AT, "expected_delivery_date": date(2026, 1, 15), "delivered_at": None,
        "items": [{"sku": "SKU-B", "quantity": 1}, {"sku": "SKU-A", "quantity": 1}, {"sku": "SKU-A", "quantity": 1}],
    }
    assert order.updated_at == NOW
    assert order.events == [
        ShipmentRecorded("ORD-1001", NOW, "REQ-SHIP-1", "SH-9", None, "IN_TRANSIT", (("SKU-A", 2), ("SKU-B", 1)),
                         "JD 0001", "dhl", "PROCESSING", "SHIPPED"),
    ]


def test_an_update_says_so_and_records_the_status_it_had():
    order = make_order()
    record(order, parcel(("SKU-A", 2), tracking_number="T-1", carrier_code="ups"))
    later = NOW + timedelta(days=1)

    decision = record(order, parcel(status=ShipmentStatus.DELIVERED), request_id="REQ-SHIP-2", now=later)

    assert decision.message == (
        "Shipment SH-1 of order ORD-1001 was updated: it is DELIVERED and the order is PARTIALLY_SHIPPED.")
    assert order.events[-1] == ShipmentRecorded(
        "ORD-1001", later, "REQ-SHIP-2", "SH-1", "IN_TRANSIT", "DELIVERED", (("SKU-A", 2),), "T-1", "ups",
        "PARTIALLY_SHIPPED", "PARTIALLY_SHIPPED",
    )
    assert (order.shipments[0].shipped_at, order.shipments[0].delivered_at) == (NOW, later)


def test_an_update_takes_every_field_it_gives():
    order = make_order()
    record(order, parcel(("SKU-A", 2), carrier_name="A", carrier_code="a", tracking_number="1",
                         tracking_url="https://a.example", shipped_at=SHIPPED_AT,
                         expected_delivery_date=date(2026, 1, 15)))
    arrived = NOW + timedelta(days=2)

    record(order, parcel(("SKU-A", 1), status=ShipmentStatus.DELIVERED, carrier_name="B", carrier_code="b",
                         tracking_number="2", tracking_url="https://b.example", shipped_at=NOW,
                         expected_delivery_date=date(2026, 1, 16), delivered_at=arrived))

    stored = order.shipments[0]
    assert (stored.carrier_name, stored.carrier_code, stored.tracking_number, stored.tracking_url, stored.shipped_at,
            stored.expected_delivery_date, stored.delivered_at, stored.status, stored.quantities) == (
        "B", "b", "2", "https://b.example", NOW, date(2026, 1, 16), arrived, ShipmentStatus.DELIVERED, {"SKU-A": 1})


def test_a_delivered_parcel_without_a_time_arrived_now_and_left_now():
    order = make_order()
    record(order, parcel(("SKU-A", 2), ("SKU-B", 1), status=ShipmentStatus.DELIVERED))
    stored = order.shipments[0]
    assert (stored.shipped_at, stored.delivered_at) == (NOW, NOW)
    assert order.status is OrderStatus.DELIVERED


def test_given_times_are_kept():
    order = make_order()
    arrived = NOW - timedelta(hours=1)
    record(order, parcel(("SKU-A", 2), status=ShipmentStatus.DELIVERED, shipped_at=SHIPPED_AT, delivered_at=arrived))
    assert (order.shipments[0].shipped_at, order.shipments[0].delivered_at) == (SHIPPED_AT, arrived)


def test_a_label_gets_a_shipping_time_once_it_leaves():
    order = make_order()
    record(order, parcel(("SKU-A", 2), status=ShipmentStatus.LABEL_CREATED))
    assert order.shipments[0].shipped_at is None
    later = NOW + timedelta(hours=2)
    record(order, parcel(status=ShipmentStatus.IN_TRANSIT), now=later)
    assert order.shipments[0].shipped_at == later


def test_a_cancelled_order_cannot_ship_whole_message():
    order = make_order()
    order.cancel(reason=Reason.CUSTOMER, now=NOW, request_id="RC", refund_id="RF-1")
    before = snapshot(order)
    assert record(order, parcel(("SKU-A", 1))) == Decision(
        Outcome.REJECTED, ReasonCode.ALREADY_CANCELLED, "Order ORD-1001 cannot ship: it was cancelled.")
    assert snapshot(order) == before


def test_an_unknown_sku_is_refused_whole_message():
    order = make_order()
    before = snapshot(order)
    assert record(order, parcel(("SKU-A", 1), ("NOPE", 1))) == Decision(
        Outcome.REJECTED, ReasonCode.UNKNOWN_LINE, "Order ORD-1001 cannot ship: one of the items is not part of it.")
    assert snapshot(order) == before


def test_an_update_to_an_unknown_sku_is_refused_even_without_more_items():
    order = make_order()
    record(order, parcel(("SKU-A", 2)))
    before = snapshot(order)
    assert record(order, parcel(("NOPE", 1))).reason_code is ReasonCode.UNKNOWN_LINE
    assert snapshot(order) == before


def test_a_cancelled_line_cannot_ship_whole_message():
    order = make_order()
    order.cancel_lines((by_number(2, 1),), reason=Reason.CUSTOMER, now=NOW, request_id="RC", refund_id="RF-1")
    before = snapshot(order)
    assert record(order, parcel(("SKU-A", 1), ("SKU-B", 1))) == Decision(
        Outcome.REJECTED, ReasonCode.LINE_CANCELLED, "Order ORD-1001 cannot ship: the items of SKU SKU-B were cancelled.")
    assert snapshot(order) == before


def test_a_line_shipped_in_full_is_not_called_cancelled():
    order = make_order()
    record(order, parcel(("SKU-B", 1)))
    decision = record(order, parcel(("SKU-B", 1), shipment_id="SH-2"))
    assert decision == Decision(
        Outcome.REJECTED, ReasonCode.EXCEEDS_UNSHIPPED, "Order ORD-1001 cannot ship: SKU SKU-B has only 0 item(s) left to ship.")


def test_a_line_partly_cancelled_and_partly_shipped_is_not_called_cancelled():
    order = make_order()
    order.cancel_lines((by_number(1, 1),), reason=Reason.CUSTOMER, now=NOW, request_id="RC", refund_id="RF-1")
    record(order, parcel(("SKU-A", 1)))
    assert record(order, parcel(("SKU-A", 1), shipment_id="SH-2")).reason_code is ReasonCode.EXCEEDS_UNSHIPPED


def test_more_than_is_left_is_refused_whole_message():
    order = make_order(lines=[make_line(1, "SKU-A", 1), make_line(2, "SKU-A", 2)])
    record(order, parcel(("SKU-A", 1)))
    before = snapshot(order)
    assert record(order, parcel(("SKU-A", 3), shipment_id="SH-2")) == Decision(
        Outcome.REJECTED, ReasonCode.EXCEEDS_UNSHIPPED, "Order ORD-1001 cannot ship: SKU SKU-A has only 2 item(s) left to ship.")
    assert snapshot(order) == before
    assert record(order, parcel(("SKU-A", 2), shipment_id="SH-2")).outcome is Outcome.SHIPMENT_RECORDED


def test_an_update_that_lowers_one_sku_may_not_raise_another_beyond_what_is_left():
    order = make_order()
    record(order, parcel(("SKU-A", 2)))
    before = snapshot(order)
    decision = record(order, parcel(("SKU-A", 1), ("SKU-B", 2)))
    assert decision.message == "Order ORD-1001 cannot ship: SKU SKU-B has only 1 item(s) left to ship."
    assert snapshot(order) == before


def test_an_update_with_the_same_items_is_accepted_on_a_fully_shipped_order():
    order = make_order()
    record(order, parcel(("SKU-A", 2), ("SKU-B", 1)))
    decision = record(order, parcel(("SKU-A", 2), ("SKU-B", 1), status=ShipmentStatus.DELIVERED))
    assert decision.outcome is Outcome.SHIPMENT_RECORDED
    assert [line.status for line in order.lines] == [LineStatus.DELIVERED, LineStatus.DELIVERED]


def test_a_new_parcel_needs_items():
    order = make_order()
    with pytest.raises(ValidationError) as caught:
        record(order, parcel())
    assert (str(caught.value), caught.value.field) == ("A new shipment needs at least one item.", "Items")


def test_a_new_parcel_without_items_is_refused_even_on_a_cancelled_order():
    order = make_order(status=OrderStatus.CANCELLED)
    with pytest.raises(ValidationError):
        record(order, parcel())


@pytest.mark.parametrize("wire, name, limit", [
    ("ShipmentId", "shipment_id", 64), ("CarrierName", "carrier_name", 100), ("CarrierCode", "carrier_code", 64),
    ("TrackingNumber", "tracking_number", 64),
])
def test_each_text_at_its_limit_is_kept_and_one_longer_refused(wire, name, limit):
    fields = {"shipment_id": "SH-1", name: "x" * limit}
    order = make_order()
    record(order, Shipment(status=ShipmentStatus.IN_TRANSIT, items=[ShipmentItem("SKU-A", 1)], **fields))
    assert getattr(order.shipments[0], name) == "x" * limit

    fields = {"shipment_id": "SH-2", name: "x" * (limit + 1)}
    with pytest.raises(ValidationError) as caught:
        record(order, Shipment(status=ShipmentStatus.IN_TRANSIT, items=[ShipmentItem("SKU-A", 1)], **fields))
    assert (str(caught.value), caught.value.field) == (f"{wire} must be at most {limit} characters.", wire)


def test_a_tracking_url_at_its_limit_is_kept_and_one_longer_refused():
    url = "https://t.example/" + "a" * (2048 - 18)
    order = make_order()
    record(order, parcel(("SKU-A", 1), tracking_url=url))
    assert order.shipments[0].tracking_url == url
    with pytest.raises(ValidationError) as caught:
        record(order, parcel(("SKU-A", 1), shipment_id="SH-2", tracking_url=url + "a"))
    assert (str(caught.value), caught.value.field) == ("TrackingUrl must be at most 2048 characters.", "TrackingUrl")


@pytest.mark.parametrize("character", ["\t", "\x1f", "\x7f"])
@pytest.mark.parametrize("wire, name", [
    ("ShipmentId", "shipment_id"), ("CarrierName", "carrier_name"), ("CarrierCode", "carrier_code"),
    ("TrackingNumber", "tracking_number"), ("TrackingUrl", "tracking_url"),
])
def test_texts_refuse_control_characters(character, wire, name):
    fields = {"shipment_id": "SH-1", name: "https://x" + character + "y"}
    order = make_order()
    with pytest.raises(ValidationError) as caught:
        record(order, Shipment(status=ShipmentStatus.IN_TRANSIT, items=[ShipmentItem("SKU-A", 1)], **fields))
    assert (str(caught.value), caught.value.field) == (f"{wire} must not contain control characters.", wire)
    assert order.shipments == []


def test_an_empty_shipment_id_is_refused():
    with pytest.raises(ValidationError) as caught:
        record(make_order(), parcel(("SKU-A", 1), shipment_id=" "))
    assert (str(caught.value), caught.value.field) == ("ShipmentId must not be empty.", "ShipmentId")


@pytest.mark.parametrize("url", ["ftp://t.example/1", "t.example/https://", "http:/x"])
def test_a_tracking_url_must_be_http_or_https(url):
    with pytest.raises(ValidationError) as caught:
        record(make_order(), parcel(("SKU-A", 1), tracking_url=url))
    assert (str(caught.value), caught.value.field) == ("TrackingUrl must be an http:// or https:// URL.", "TrackingUrl")


@pytest.mark.parametrize("sku", ["", "  ", None])
def test_an_item_needs_a_sku(sku):
    with pytest.raises(ValidationError) as caught:
        record(make_order(), parcel(("SKU-A", 1), (sku, 1)))
    assert (str(caught.value), caught.value.field) == ("Each shipment item needs a Sku.", "Sku")


def test_an_item_needs_a_quantity_of_at_least_one():
    with pytest.raises(ValidationError) as caught:
        record(make_order(), parcel(("SKU-A", 0)))
    assert (str(caught.value), caught.value.field) == ("Shipment item Quantity must be at least 1.", "Quantity")
    order = make_order()
    record(order, parcel(("SKU-A", 1)))
    assert order.shipments[0].quantities == {"SKU-A": 1}


def test_a_status_given_as_its_name_is_taken():
    order = make_order()
    record(order, Shipment("SH-1", "DELIVERED", items=[ShipmentItem("SKU-A", 2)]))
    assert order.shipments[0].status is ShipmentStatus.DELIVERED
