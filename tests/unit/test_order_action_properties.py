"""Property-based: no sequence of cancellations, line cancellations, refunds, replacements and returns
(with shipments and deliveries in between, as the ERP reports them) refunds more than was paid, ships,
replaces or returns more than was bought, refuses what is owed, or leaves the status at odds with the lines."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soap_orders.domain.events import OrderCancelled, RefundIssued
from soap_orders.domain.orders import (
    FinancialStatus,
    LineStatus,
    Order,
    OrderStatus,
    Outcome,
    Reason,
    RefundLineRequest,
    ReplacementReason,
    ReturnReason,
    ReturnStatus,
    ReturnUpdate,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
)
from tests.examples import examples
from tests.unit.factories import NOW, make_line, make_order

WINDOW = timedelta(days=30)
CENTS = st.integers(min_value=0, max_value=5000).map(lambda c: Decimal(c).scaleb(-2))


@st.composite
def orders(draw) -> Order:
    count = draw(st.integers(1, 3))
    lines = [make_line(n, f"SKU-{n}", draw(st.integers(1, 4)), draw(CENTS), status=LineStatus.PROCESSING)
             for n in range(1, count + 1)]
    subtotal = sum((line.line_total for line in lines), Decimal(0))
    discount = draw(st.integers(0, int(subtotal * 100)).map(lambda c: Decimal(c).scaleb(-2)))
    order = make_order(lines=lines, shipping_total=draw(CENTS) / 10, tax_total=draw(CENTS) / 10, discount_total=discount,
                       financial_status=draw(st.sampled_from([FinancialStatus.PAID, FinancialStatus.AUTHORIZED])))
    order.shipping_total = order.shipping_total.quantize(Decimal("0.01"))
    order.tax_total = order.tax_total.quantize(Decimal("0.01"))
    order.total = order.subtotal + order.shipping_total + order.tax_total - order.discount_total
    order.check()
    return order


STEPS = st.lists(
    st.tuples(
        st.sampled_from(["cancel", "cancel_lines", "refund_amount", "refund_lines", "ship", "deliver", "replace",
                         "return", "update_return"]),
        st.integers(1, 3),  # line number
        st.integers(1, 4),  # quantity
        st.integers(1, 4000),  # amount in cents
        st.sampled_from(list(ReturnUpdate)),
    ),
    max_size=12,
)


def ship(order: Order, line_number: int, quantity: int) -> None:
    line = order.line(line_number=line_number)
    if order.status is OrderStatus.CANCELLED or line is None or quantity > line.open_quantity:
        return
    line.quantity_shipped += quantity
    line.status = LineStatus.SHIPPED if line.open_quantity == 0 else line.status
    order.shipments.append(Shipment(f"SH-{len(order.shipments) + 1}", ShipmentStatus.IN_TRANSIT,
                                    tracking_number="T", shipped_at=NOW, items=[ShipmentItem(line.sku, quantity)]))
    order.status = OrderStatus.PARTIALLY_SHIPPED if any(line.open_quantity for line in order.lines) else OrderStatus.SHIPPED
    order.financial_status = (FinancialStatus.PAID if order.financial_status is FinancialStatus.AUTHORIZED
                              else order.financial_status)  # captured on dispatch


def deliver(order: Order) -> None:
    for shipment in order.shipments:
        shipment.status, shipment.delivered_at = ShipmentStatus.DELIVERED, NOW
    if order.shipments and order.status is OrderStatus.SHIPPED:
        order.status = OrderStatus.DELIVERED


def check_invariants(order: Order) -> None:
    assert Decimal(0) <= order.refunded_amount <= order.captured_amount
    assert all(r.amount > 0 for r in order.refunds)
    if order.refunds:
        expected = FinancialStatus.REFUNDED if order.refundable_amount == 0 else FinancialStatus.PARTIALLY_REFUNDED
        assert order.financial_status is expected
    for line in order.lines:
        assert 0 <= line.quantity_shipped + line.quantity_cancelled <= line.quantity
        assert 0 <= line.quantity_refunded <= line.quantity
        assert 0 <= line.quantity_returned <= order.delivered_quantity(line) <= order.shipped_quantity(line)
        assert 0 <= line.quantity_replaced <= order.shipped_quantity(line) <= line.quantity
        assert (line.status is LineStatus.CANCELLED) == (line.quantity_cancelled == line.quantity)
        open_returns = sum(i.quantity for r in order.returns if r.status is not ReturnStatus.REJECTED
                           for i in r.items if i.line_number == line.line_number)
        assert open_returns == line.quantity_returned
    everything_cancelled = all(line.quantity_cancelled == line.quantity for line in order.lines)
    assert (order.status is OrderStatus.CANCELLED) == everything_cancelled
    shipped_any = any(line.quantity_shipped for line in order.lines)
    if shipped_any:
        assert order.status in (OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.DELIVERED)
        assert (order.status is OrderStatus.PARTIALLY_SHIPPED) == any(line.open_quantity for line in order.lines)
    elif order.status is OrderStatus.CANCELLED and order.captured_amount:
        assert order.refundable_amount == 0  # cancelled before dispatch: every cent paid came back
    money_in_events = sum((e.amount for e in order.events if isinstance(e, RefundIssued)), Decimal(0)) + sum(
        (e.refund_amount or Decimal(0) for e in order.events if isinstance(e, OrderCancelled)), Decimal(0))
    assert money_in_events == order.refunded_amount


def apply(order: Order, step: tuple, n: int) -> None:
    kind, number, quantity, cents, update = step
    line = order.line(line_number=number)
    request = (RefundLineRequest(quantity, line_number=number),)
    ids = {"now": NOW, "request_id": f"REQ-{n}"}
    if kind == "ship":
        ship(order, number, quantity)
    elif kind == "deliver":
        deliver(order)
    elif kind == "cancel":
        owed = order.status is not OrderStatus.CANCELLED and not order.has_shipped
        decision = order.cancel(reason=Reason.CUSTOMER, refund_id=f"RF-{n}", **ids)
        assert (decision.outcome is Outcome.CANCELLED) == owed
    elif kind == "cancel_lines":
        owed = order.status is not OrderStatus.CANCELLED and line is not None and quantity <= line.open_quantity
        decision = order.cancel_lines(request, reason=Reason.CUSTOMER, refund_id=f"RF-{n}", **ids)
        assert (decision.outcome is Outcome.LINES_CANCELLED) == owed
    elif kind == "refund_amount":
        amount = Decimal(cents).scaleb(-2)
        owed = order.financial_status in (FinancialStatus.PAID, FinancialStatus.PARTIALLY_REFUNDED,
                                          FinancialStatus.REFUNDED) and amount <= order.refundable_amount
        decision = order.refund(reason=Reason.DAMAGED, refund_id=f"RF-{n}", amount=amount, **ids)
        assert (decision.outcome is Outcome.REFUNDED) == owed
    elif kind == "refund_lines":
        owed = (order.captured_amount > 0 and line is not None and quantity <= line.refundable_quantity
                and order._lines_refund_amount({number: quantity}) > 0)
        decision = order.refund(reason=Reason.DAMAGED, refund_id=f"RF-{n}", lines=request, **ids)
        assert (decision.outcome is Outcome.REFUNDED) == owed
    elif kind == "replace":
        owed = line is not None and quantity <= order.shipped_quantity(line) - line.quantity_replaced
        decision = order.issue_replacement(request, reason=ReplacementReason.LOST, replacement_number=f"R-{n}", **ids)
        assert (decision.outcome is Outcome.REPLACEMENT_ISSUED) == owed
        if owed:
            assert decision.replacement is not None and decision.replacement.total == 0
            decision.replacement.check()
    elif kind == "return":
        owed = line is not None and quantity <= order.delivered_quantity(line) - line.quantity_returned
        decision = order.create_return(request, reason=ReturnReason.UNWANTED, window=WINDOW,
                                       return_id=f"RMA-{n}", **ids)
        assert (decision.outcome is Outcome.RETURN_CREATED) == owed
    elif kind == "update_return" and order.returns:
        target = order.returns[number % len(order.returns)]
        order.update_return(target.return_id, update, refund_id=f"RF-{n}", **ids)


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order=orders(), steps=STEPS)
def test_no_sequence_of_actions_breaks_the_order(order, steps):
    check_invariants(order)
    for n, step in enumerate(steps, 1):
        apply(order, step, n)
        check_invariants(order)


@settings(max_examples=examples(200), deadline=None)
@given(order=orders(), cut=st.lists(st.integers(1, 3), min_size=1, max_size=12))
def test_cancelling_every_line_before_dispatch_gives_back_everything_paid(order, cut):
    authorised = order.financial_status is FinancialStatus.AUTHORIZED
    for n, number in enumerate(cut, 1):
        line = order.line(line_number=number)
        if line is not None and line.open_quantity:
            order.cancel_lines((RefundLineRequest(1, line_number=number),), reason=Reason.CUSTOMER, now=NOW,
                               request_id=f"R{n}", refund_id=f"RF-{n}")
    for line in order.lines:
        if line.open_quantity:
            order.cancel_lines((RefundLineRequest(line.open_quantity, line_number=line.line_number),),
                               reason=Reason.CUSTOMER, now=NOW, request_id=f"L{line.line_number}",
                               refund_id=f"RF-L{line.line_number}")
    assert order.status is OrderStatus.CANCELLED
    assert order.refunded_amount == order.captured_amount
    if authorised:
        assert order.financial_status is FinancialStatus.VOIDED and order.refunds == []
    check_invariants(order)
