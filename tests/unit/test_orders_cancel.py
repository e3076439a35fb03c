"""Order.cancel: cancellable while nothing has shipped; paid orders refunded, unpaid ones voided."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from soap_orders.domain.events import OrderCancelled
from soap_orders.domain.orders import (
    FinancialStatus,
    LineStatus,
    OrderStatus,
    Outcome,
    Reason,
    ReasonCode,
    RefundStatus,
    ShipmentStatus,
)
from tests.unit.factories import (
    NOW,
    add_shipment,
    cancel,
    make_line,
    make_order,
    make_refund,
    mark_shipped,
    refund,
    snapshot,
)


def test_cancel_of_a_paid_order_refunds_the_whole_total():
    order = make_order()

    decision = cancel(order, refund_id="RF-7", note="Changed my mind")

    assert decision.outcome is Outcome.CANCELLED
    assert decision.reason_code is ReasonCode.NONE
    assert decision.message == "Order ORD-1001 has been cancelled. A refund of 40.00 EUR has been issued."
    assert decision.refund is order.refunds[-1]
    assert decision.refund.refund_id == "RF-7"
    assert decision.refund.amount == Decimal("40.00")
    assert decision.refund.status is RefundStatus.PENDING
    assert decision.refund.reason is Reason.CUSTOMER
    assert decision.refund.note == "Changed my mind"
    assert decision.refund.created_at == NOW
    assert order.status is OrderStatus.CANCELLED
    assert order.financial_status is FinancialStatus.REFUNDED
    assert order.refunded_amount == Decimal("40.00")
    assert order.refundable_amount == Decimal("0.00")


def test_cancel_of_a_partially_refunded_order_refunds_only_the_remaining_balance():
    order = make_order(financial_status=FinancialStatus.PARTIALLY_REFUNDED, refunds=[make_refund("12.50")])

    decision = cancel(order)

    assert decision.outcome is Outcome.CANCELLED
    assert decision.refund is not None and decision.refund.amount == Decimal("27.50")
    assert [r.amount for r in order.refunds] == [Decimal("12.50"), Decimal("27.50")]
    assert order.financial_status is FinancialStatus.REFUNDED
    assert order.refundable_amount == Decimal("0.00")


def test_cancel_ignores_failed_refunds_when_computing_what_to_refund():
    order = make_order(refunds=[make_refund("40.00", status=RefundStatus.FAILED)])

    decision = cancel(order)

    assert decision.refund is not None and decision.refund.amount == Decimal("40.00")
    assert order.financial_status is FinancialStatus.REFUNDED


@pytest.mark.parametrize("financial_status", [FinancialStatus.AUTHORIZED, FinancialStatus.PENDING])
def test_cancel_of_an_unpaid_order_voids_the_payment_without_a_refund(financial_status):
    order = make_order(financial_status=financial_status)

    decision = cancel(order)

    assert decision.outcome is Outcome.CANCELLED
    assert decision.reason_code is ReasonCode.NONE
    assert decision.refund is None
    assert decision.message == "Order ORD-1001 has been cancelled."
    assert order.financial_status is FinancialStatus.VOIDED
    assert order.refunds == []
    assert order.status is OrderStatus.CANCELLED


def test_cancel_of_a_fully_refunded_order_keeps_it_refunded_and_adds_no_refund():
    order = make_order(financial_status=FinancialStatus.REFUNDED, refunds=[make_refund("40.00")])

    decision = cancel(order)

    assert decision.outcome is Outcome.CANCELLED
    assert decision.refund is None
    assert len(order.refunds) == 1
    assert order.financial_status is FinancialStatus.REFUNDED


def test_cancel_marks_every_line_cancelled_with_its_whole_quantity():
    order = make_order()

    cancel(order)

    assert [(line.status, line.quantity_cancelled) for line in order.lines] == [
        (LineStatus.CANCELLED, 2),
        (LineStatus.CANCELLED, 1),
    ]
    assert [line.quantity_shipped for line in order.lines] == [0, 0]


def test_cancel_records_when_and_why():
    order = make_order()

    cancel(order, reason=Reason.FRAUD)

    assert order.cancelled_at == NOW
    assert order.updated_at == NOW
    assert order.cancel_reason is Reason.FRAUD


def test_cancel_records_an_order_cancelled_event_with_the_refund():
    order = make_order()

    cancel(order, reason=Reason.INVENTORY, note="Out of stock", request_id="REQ-9", refund_id="RF-9")

    assert order.events == [
        OrderCancelled("ORD-1001", NOW, "INVENTORY", "Out of stock", "REQ-9", "RF-9", Decimal("40.00"))
    ]
    event = order.events[0]
    assert event.name == "OrderCancelled"
    assert event.payload() == {
        "reason": "INVENTORY",
        "note": "Out of stock",
        "request_id": "REQ-9",
        "refund_id": "RF-9",
        "refund_amount": "40.00",
    }


def test_cancel_of_an_unpaid_order_records_an_event_without_refund():
    order = make_order(financial_status=FinancialStatus.AUTHORIZED)

    cancel(order, request_id="REQ-2")

    assert order.events == [OrderCancelled("ORD-1001", NOW, "CUSTOMER", None, "REQ-2", None, None)]


@pytest.mark.parametrize("status", [OrderStatus.PENDING, OrderStatus.PROCESSING, OrderStatus.ON_HOLD])
def test_cancel_is_allowed_in_every_status_before_dispatch(status):
    order = make_order(status=status)

    assert cancel(order).outcome is Outcome.CANCELLED


def test_cancel_is_allowed_when_only_a_shipping_label_was_created():
    order = make_order()
    add_shipment(order, ShipmentStatus.LABEL_CREATED, shipped_at=None)

    decision = cancel(order)

    assert decision.outcome is Outcome.CANCELLED
    assert order.status is OrderStatus.CANCELLED


def test_cancel_rejected_after_dispatch():
    order = mark_shipped(make_order())
    before = snapshot(order)

    decision = cancel(order)

    assert decision.outcome is Outcome.REJECTED
    assert decision.reason_code is ReasonCode.ALREADY_SHIPPED
    assert decision.message == "Order ORD-1001 can no longer be cancelled because it has shipped."
    assert decision.refund is None
    assert snapshot(order) == before


@pytest.mark.parametrize("status", [OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.DELIVERED])
def test_cancel_rejected_when_the_order_status_says_it_shipped(status):
    order = make_order(status=status)
    before = snapshot(order)

    decision = cancel(order)

    assert (decision.outcome, decision.reason_code) == (Outcome.REJECTED, ReasonCode.ALREADY_SHIPPED)
    assert snapshot(order) == before


def test_cancel_rejected_when_one_line_has_shipped_quantity():
    order = make_order(lines=[make_line(1, quantity=3), make_line(2, quantity=1, quantity_shipped=1)])
    before = snapshot(order)

    decision = cancel(order)

    assert (decision.outcome, decision.reason_code) == (Outcome.REJECTED, ReasonCode.ALREADY_SHIPPED)
    assert snapshot(order) == before


def test_cancel_rejected_when_a_label_shipment_has_a_shipped_time():
    order = make_order()
    add_shipment(order, ShipmentStatus.LABEL_CREATED, shipped_at=NOW - timedelta(hours=1))
    before = snapshot(order)

    decision = cancel(order)

    assert (decision.outcome, decision.reason_code) == (Outcome.REJECTED, ReasonCode.ALREADY_SHIPPED)
    assert snapshot(order) == before


@pytest.mark.parametrize("status", [s for s in ShipmentStatus if s is not ShipmentStatus.LABEL_CREATED])
def test_cancel_rejected_when_a_shipment_is_with_the_carrier(status):
    order = make_order()
    add_shipment(order, status, shipped_at=None)
    before = snapshot(order)

    decision = cancel(order)

    assert (decision.outcome, decision.reason_code) == (Outcome.REJECTED, ReasonCode.ALREADY_SHIPPED)
    assert snapshot(order) == before


def test_cancelling_again_answers_already_cancelled_and_changes_nothing():
    order = make_order()
    cancel(order)
    before = snapshot(order)

    decision = cancel(order, request_id="REQ-CANCEL-2", refund_id="RF-NEW-2")

    assert decision.outcome is Outcome.ALREADY_CANCELLED
    assert decision.reason_code is ReasonCode.ALREADY_CANCELLED
    assert decision.message == "Order ORD-1001 was already cancelled."
    assert decision.refund is None
    assert snapshot(order) == before
    assert len(order.refunds) == 1
    assert len(order.events) == 1


def test_already_cancelled_is_answered_before_the_shipping_check():
    order = make_order(status=OrderStatus.CANCELLED)
    add_shipment(order, ShipmentStatus.IN_TRANSIT)

    assert cancel(order).reason_code is ReasonCode.ALREADY_CANCELLED


def test_a_cancelled_order_has_nothing_left_to_refund():
    order = make_order()
    cancel(order)

    decision = refund(order, amount="1.00")

    assert (decision.outcome, decision.reason_code) == (Outcome.REJECTED, ReasonCode.NOTHING_REFUNDABLE)


def test_a_cancelled_order_still_passes_its_own_checks():
    order = make_order(financial_status=FinancialStatus.PARTIALLY_REFUNDED, refunds=[make_refund("5.00")])
    cancel(order)

    order.check()
