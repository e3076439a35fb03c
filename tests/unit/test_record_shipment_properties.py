"""Property-based: no sequence of recorded shipments (new, raised, lowered, delivered), line
cancellations and cancellations ships more than was bought minus cancelled, and the order's status
always agrees with its lines."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from soap_orders.domain.events import ShipmentRecorded
from soap_orders.domain.orders import (
    DELIVERED_LINE_STATUSES,
    SHIPPED_LINE_STATUSES,
    LineStatus,
    OrderStatus,
    Outcome,
    Reason,
    RefundLineRequest,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
)
from tests.examples import examples
from tests.unit.factories import NOW, make_line, make_order

SKUS = ["SKU-1", "SKU-2", "SKU-3", "SKU-X"]  # SKU-X is on no line

STEPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("ship"),
            st.sampled_from(["SH-1", "SH-2", "SH-3"]),
            st.sampled_from(list(ShipmentStatus)),
            st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 4)), max_size=3),
        ),
        st.tuples(st.just("cancel_lines"), st.integers(1, 3), st.integers(1, 3)),
        st.tuples(st.just("cancel")),
    ),
    max_size=14,
)


@settings(max_examples=examples(300), deadline=None)
@given(quantities=st.lists(st.integers(1, 4), min_size=1, max_size=3), steps=STEPS)
# Cancelling the open rest of a line whose other items are in a parcel closes it: once the other
# line's parcel is recorded every item not cancelled has shipped, and the order is SHIPPED (it
# stayed PARTIALLY_SHIPPED while the order's status was not derived again after the cancellation).
@example(quantities=[4, 1], steps=[
    ("ship", "SH-1", ShipmentStatus.LABEL_CREATED, [("SKU-1", 2)]),
    ("cancel_lines", 1, 2),
    ("ship", "SH-2", ShipmentStatus.LABEL_CREATED, [("SKU-2", 1)]),
])
def test_shipments_never_ship_more_than_bought_minus_cancelled(quantities, steps):
    order = make_order(lines=[make_line(n, f"SKU-{n}", q, status=LineStatus.PROCESSING)
                              for n, q in enumerate(quantities, 1)])
    recorded = 0
    for n, step in enumerate(steps):
        before = {line.line_number: line.quantity_shipped for line in order.lines}
        if step[0] == "ship":
            _, shipment_id, status, items = step
            known = {s.shipment_id for s in order.shipments}
            if not items and shipment_id not in known:
                continue
            decision = order.record_shipment(
                Shipment(shipment_id, status, items=[ShipmentItem(sku, q) for sku, q in items]),
                now=NOW, request_id=f"R-{n}",
            )
            if decision.outcome is Outcome.SHIPMENT_RECORDED:
                recorded += 1
            else:
                assert decision.outcome is Outcome.REJECTED
                assert before == {line.line_number: line.quantity_shipped for line in order.lines}
        elif step[0] == "cancel_lines":
            if order.line(line_number=step[1]) is not None:
                order.cancel_lines((RefundLineRequest(step[2], line_number=step[1]),), reason=Reason.CUSTOMER,
                                   now=NOW, request_id=f"R-{n}", refund_id=f"RF-{n}")
        else:
            order.cancel(reason=Reason.CUSTOMER, now=NOW, request_id=f"R-{n}", refund_id=f"RF-{n}")
        check(order)
    assert sum(isinstance(e, ShipmentRecorded) for e in order.events) == recorded


def check(order) -> None:
    carried: dict[str, int] = {}
    for shipment in order.shipments:
        for sku, quantity in shipment.quantities.items():
            carried[sku] = carried.get(sku, 0) + quantity
    assert "SKU-X" not in carried
    for line in order.lines:
        assert 0 <= line.quantity_shipped <= line.quantity - line.quantity_cancelled
        assert line.quantity_shipped == carried.get(line.sku, 0)  # one line per SKU here
        wanted = line.quantity - line.quantity_cancelled
        if line.status in SHIPPED_LINE_STATUSES:
            assert wanted > 0 and line.quantity_shipped == wanted
        if line.status is LineStatus.DELIVERED:
            delivered = sum(s.quantities.get(line.sku, 0) for s in order.shipments
                            if s.status is ShipmentStatus.DELIVERED)
            assert delivered >= line.quantity_shipped
    shipped_any = any(line.quantity_shipped for line in order.lines)
    assert not (order.status is OrderStatus.CANCELLED and shipped_any)
    if order.status is OrderStatus.CANCELLED:
        return
    open_lines = [line for line in order.lines if line.quantity_cancelled < line.quantity]
    if open_lines and all(line.open_quantity == 0 for line in open_lines):
        assert order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED)
    if order.status is OrderStatus.DELIVERED:
        assert all(line.status in DELIVERED_LINE_STATUSES for line in open_lines)
    elif order.status is OrderStatus.SHIPPED:
        assert all(line.open_quantity == 0 for line in open_lines)
    elif order.status is OrderStatus.PARTIALLY_SHIPPED:
        assert shipped_any and any(line.open_quantity for line in open_lines)
    else:
        assert not shipped_any
