"""How parcels are shared out among an order's lines (``orders.fulfilment``): items of a SKU go to
its lines in line-number order, each taking what is left of it; a parcel's arrival is counted only
for the items it carried; and what an ERP without parcel detail says has shipped or arrived stays
so."""

from __future__ import annotations

from soap_orders.domain.merge import UpsertOutcome, UpsertReasonCode, accept_new
from soap_orders.domain.orders import (
    LineStatus,
    Order,
    OrderStatus,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
)
from tests.unit.factories import NOW, make_line, make_order


def two_lines_of_sku_a(**order) -> Order:
    """Line 1: two of SKU-A; line 2: one of SKU-A."""
    return make_order(lines=[make_line(1, "SKU-A", 2, "10.00"), make_line(2, "SKU-A", 1, "10.00")], **order)


def parcel(shipment_id: str, status: ShipmentStatus, quantity: int) -> Shipment:
    return Shipment(shipment_id, status, shipped_at=NOW, items=[ShipmentItem("SKU-A", quantity)])


def states(order: Order) -> list[tuple[int, LineStatus]]:
    return [(line.quantity_shipped, line.status) for line in order.lines]


def test_a_delivered_parcel_counts_as_arrived_only_for_the_items_it_carried():
    order = two_lines_of_sku_a(status=OrderStatus.SHIPPED)
    order.shipments += [parcel("SH-1", ShipmentStatus.DELIVERED, 2), parcel("SH-2", ShipmentStatus.IN_TRANSIT, 1)]

    result = accept_new(order, now=NOW)

    assert (result.outcome, result.reason_code) == (UpsertOutcome.CREATED, UpsertReasonCode.STATE_DERIVED)
    assert states(order) == [(2, LineStatus.DELIVERED), (1, LineStatus.SHIPPED)]
    assert order.status is OrderStatus.SHIPPED


def test_no_item_has_arrived_while_every_parcel_is_on_its_way():
    order = two_lines_of_sku_a(status=OrderStatus.SHIPPED)
    order.shipments.append(parcel("SH-1", ShipmentStatus.IN_TRANSIT, 3))

    accept_new(order, now=NOW)

    assert states(order) == [(2, LineStatus.SHIPPED), (1, LineStatus.SHIPPED)]
    assert [order.delivered_quantity(line) for line in order.lines] == [0, 0]


def test_without_parcels_a_line_the_erp_says_arrived_stays_delivered_beside_one_only_shipped():
    order = make_order(lines=[make_line(1, "SKU-A", 2, "10.00", status=LineStatus.DELIVERED, quantity_shipped=2),
                              make_line(2, "SKU-B", 1, "15.50", status=LineStatus.SHIPPED, quantity_shipped=1)],
                       status=OrderStatus.SHIPPED)

    result = accept_new(order, now=NOW)

    assert (result.outcome, result.reason_code) == (UpsertOutcome.CREATED, UpsertReasonCode.NONE)
    assert states(order) == [(2, LineStatus.DELIVERED), (1, LineStatus.SHIPPED)]
    assert [order.delivered_quantity(line) for line in order.lines] == [2, 0]


def test_a_parcel_recorded_after_the_erp_said_the_first_line_had_shipped_goes_to_the_next_line():
    """The ERP keeps no parcel detail and said line 1 (two of SKU-A) had shipped; a parcel of one
    SKU-A recorded through the service is line 2's, never a third item for line 1."""
    order = two_lines_of_sku_a(status=OrderStatus.PARTIALLY_SHIPPED)
    order.lines[0].quantity_shipped, order.lines[0].status = 2, LineStatus.SHIPPED
    assert accept_new(order, now=NOW).accepted

    decision = order.record_shipment(parcel("SH-1", ShipmentStatus.IN_TRANSIT, 1), now=NOW, request_id="r-ship")

    assert decision.outcome.value != "REJECTED", decision.message
    assert states(order) == [(2, LineStatus.SHIPPED), (1, LineStatus.SHIPPED)]
    assert order.status is OrderStatus.SHIPPED
