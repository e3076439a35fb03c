"""The one rule by which a line's shipped and delivered quantities and status, and the order's
status, follow from the order's parcels (``derive_fulfilment``)."""

from __future__ import annotations

from soap_orders.domain.orders import (
    LineStatus,
    OrderStatus,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
    Untracked,
    apply_fulfilment,
    derive_fulfilment,
)
from tests.unit.factories import make_line, make_order


def parcel(shipment_id: str, status: ShipmentStatus, *items: tuple[str, int]) -> Shipment:
    return Shipment(shipment_id, status, items=[ShipmentItem(sku, quantity) for sku, quantity in items])


def pending_order(*lines):
    return make_order(lines=list(lines or (make_line(1, "SKU-A", 2), make_line(2, "SKU-B", 1))))


def states(order):
    fulfilment = derive_fulfilment(order, {})
    return {n: (s.shipped, s.delivered, s.status) for n, s in fulfilment.lines.items()}, fulfilment.status


def test_a_line_in_a_parcel_on_its_way_is_shipped_whatever_its_own_figures_say():
    order = pending_order(make_line(1, "SKU-A", 1))
    order.shipments.append(parcel("SH-1", ShipmentStatus.IN_TRANSIT, ("SKU-A", 1)))
    assert states(order) == ({1: (1, 0, LineStatus.SHIPPED)}, OrderStatus.SHIPPED)


def test_a_line_whose_parcel_was_delivered_is_delivered():
    order = pending_order()
    order.shipments.append(parcel("SH-1", ShipmentStatus.DELIVERED, ("SKU-A", 2), ("SKU-B", 1)))
    assert states(order) == (
        {1: (2, 2, LineStatus.DELIVERED), 2: (1, 1, LineStatus.DELIVERED)}, OrderStatus.DELIVERED
    )


def test_part_of_the_items_in_parcels_ships_the_order_partially():
    order = pending_order()
    order.shipments.append(parcel("SH-1", ShipmentStatus.DELIVERED, ("SKU-A", 1)))
    lines, status = states(order)
    assert lines[1] == (1, 1, LineStatus.PROCESSING) and lines[2][0] == 0
    assert status is OrderStatus.PARTIALLY_SHIPPED


def test_a_label_counts_as_shipped_but_not_delivered():
    order = pending_order(make_line(1, "SKU-A", 1))
    order.shipments.append(parcel("SH-1", ShipmentStatus.LABEL_CREATED, ("SKU-A", 1)))
    assert states(order) == ({1: (1, 0, LineStatus.SHIPPED)}, OrderStatus.SHIPPED)


def test_parcels_of_one_sku_fill_its_lines_in_line_number_order():
    order = pending_order(make_line(2, "SKU-A", 2), make_line(1, "SKU-A", 3))
    order.shipments.append(parcel("SH-1", ShipmentStatus.IN_TRANSIT, ("SKU-A", 4)))
    lines, status = states(order)
    assert (lines[1][0], lines[2][0]) == (3, 1)
    assert (lines[1][2], lines[2][2]) == (LineStatus.SHIPPED, LineStatus.PROCESSING)
    assert status is OrderStatus.PARTIALLY_SHIPPED


def test_cancelled_items_are_not_waited_for_and_a_wholly_cancelled_line_is_cancelled():
    order = pending_order(make_line(1, "SKU-A", 4, quantity_cancelled=2), make_line(2, "SKU-B", 1,
                                                                                     quantity_cancelled=1))
    order.shipments.append(parcel("SH-1", ShipmentStatus.IN_TRANSIT, ("SKU-A", 2)))
    lines, status = states(order)
    assert lines == {1: (2, 0, LineStatus.SHIPPED), 2: (0, 0, LineStatus.CANCELLED)}
    assert status is OrderStatus.SHIPPED


def test_items_beyond_what_the_lines_ordered_are_excess():
    order = pending_order(make_line(1, "SKU-A", 2))
    order.shipments.append(parcel("SH-1", ShipmentStatus.IN_TRANSIT, ("SKU-A", 5), ("SKU-X", 1)))
    fulfilment = derive_fulfilment(order, {})
    assert fulfilment.lines[1].shipped == 2
    assert fulfilment.excess == {"SKU-A": 3, "SKU-X": 1}


def test_a_shipped_status_no_parcel_supports_falls_back_to_processing():
    order = pending_order(make_line(1, "SKU-A", 2, status=LineStatus.SHIPPED, quantity_shipped=2))
    order.status = OrderStatus.SHIPPED
    assert states(order) == ({1: (0, 0, LineStatus.PROCESSING)}, OrderStatus.PROCESSING)


def test_untracked_items_count_as_shipped_and_delivered_when_known_to_have_arrived():
    order = pending_order(make_line(1, "SKU-A", 2), make_line(2, "SKU-B", 1))
    order.shipments.append(parcel("SH-1", ShipmentStatus.DELIVERED, ("SKU-B", 1)))
    fulfilment = derive_fulfilment(order, {1: Untracked(2, delivered=True)})
    assert (fulfilment.lines[1].shipped, fulfilment.lines[1].delivered) == (2, 2)
    assert fulfilment.status is OrderStatus.DELIVERED
    fulfilment = derive_fulfilment(order, {1: Untracked(1)})
    assert (fulfilment.lines[1].shipped, fulfilment.lines[1].delivered) == (1, 0)
    assert fulfilment.status is OrderStatus.PARTIALLY_SHIPPED


def test_an_order_shipped_without_parcels_keeps_what_its_lines_say():
    """An ERP that keeps no parcel detail: the lines' own figures are what shipped."""
    order = pending_order(make_line(1, "SKU-A", 2, status=LineStatus.DELIVERED, quantity_shipped=2))
    order.status = OrderStatus.DELIVERED
    fulfilment = derive_fulfilment(order)
    assert (fulfilment.lines[1].shipped, fulfilment.lines[1].delivered) == (2, 2)
    assert fulfilment.lines[1].status is LineStatus.DELIVERED and fulfilment.status is OrderStatus.DELIVERED


def test_a_returned_line_stays_returned_once_delivered():
    order = pending_order(make_line(1, "SKU-A", 1, status=LineStatus.RETURNED))
    order.shipments.append(parcel("SH-1", ShipmentStatus.DELIVERED, ("SKU-A", 1)))
    assert states(order) == ({1: (1, 1, LineStatus.RETURNED)}, OrderStatus.DELIVERED)


def test_a_cancelled_order_stays_cancelled():
    order = pending_order()
    order.status = OrderStatus.CANCELLED
    assert derive_fulfilment(order).status is OrderStatus.CANCELLED


def test_applying_stores_each_lines_state_and_the_orders_status():
    order = pending_order()
    order.shipments.append(parcel("SH-1", ShipmentStatus.IN_TRANSIT, ("SKU-A", 2), ("SKU-B", 1)))
    apply_fulfilment(order, derive_fulfilment(order))
    assert [(line.quantity_shipped, line.status) for line in order.lines] == [
        (2, LineStatus.SHIPPED), (1, LineStatus.SHIPPED)
    ]
    assert order.status is OrderStatus.SHIPPED
