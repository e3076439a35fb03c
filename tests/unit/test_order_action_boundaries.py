"""Quantity and money rules of the order actions at the cases the other unit tests pass by: earlier
replacements and returns of the same line, one line named twice in a request, a line partly
cancelled before it shipped, a line delivered in an order not yet delivered, and what a replacement
order and a return keep of the request."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from soap_orders.domain.errors import ValidationError
from soap_orders.domain.events import RefundIssued
from soap_orders.domain.orders import (
    Channel,
    FinancialStatus,
    LineStatus,
    OrderStatus,
    Outcome,
    Reason,
    ReasonCode,
    ReplacementReason,
    ReturnItem,
    ReturnReason,
    ReturnUpdate,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
)
from tests.unit.factories import (
    NOW,
    by_number,
    by_sku,
    make_line,
    make_order,
    mark_shipped,
    refund,
)

WINDOW = timedelta(days=30)


def replace_items(order, *lines, number="ORD-1001-R1"):
    return order.issue_replacement(lines, reason=ReplacementReason.LOST, now=NOW, request_id="REQ-REPL",
                                   replacement_number=number)


def open_return(order, *lines, return_id="RMA-1", **texts):
    return order.create_return(lines, reason=ReturnReason.SIZE, now=NOW, window=WINDOW, request_id="REQ-RET",
                               return_id=return_id, **texts)


def delivered(order=None):
    order = mark_shipped(order or make_order())
    order.status = OrderStatus.DELIVERED
    order.shipments[0].status = ShipmentStatus.DELIVERED
    order.shipments[0].delivered_at = NOW - timedelta(days=2)
    return order


# ---------------------------------------------------------------------- replacements


def test_replacements_add_up_per_line():
    order = mark_shipped(make_order())  # line 1: 2 shipped
    assert replace_items(order, by_number(1, 1)).outcome is Outcome.REPLACEMENT_ISSUED
    assert replace_items(order, by_number(1, 1), number="ORD-1001-R2").outcome is Outcome.REPLACEMENT_ISSUED
    assert order.lines[0].quantity_replaced == 2
    third = replace_items(order, by_number(1, 1), number="ORD-1001-R3")
    assert (third.outcome, third.reason_code) == (Outcome.REJECTED, ReasonCode.EXCEEDS_REPLACEABLE)


def test_one_line_named_twice_counts_once_with_both_quantities():
    order = mark_shipped(make_order())  # line 1 is SKU-A, 2 shipped
    over = replace_items(order, by_number(1, 1), by_sku("SKU-A", 2))
    assert (over.outcome, over.reason_code) == (Outcome.REJECTED, ReasonCode.EXCEEDS_REPLACEABLE)
    exact = replace_items(order, by_number(1, 1), by_sku("SKU-A", 1))
    assert exact.outcome is Outcome.REPLACEMENT_ISSUED
    assert [(line.line_number, line.quantity) for line in exact.replacement.lines] == [(1, 2)]


def test_a_line_cancelled_in_part_before_shipping_can_be_replaced_only_as_far_as_it_shipped():
    # Status SHIPPED with no shipped count: everything not cancelled (3 - 1) has left.
    line = make_line(1, "SKU-A", 3, "10.00", status=LineStatus.SHIPPED, quantity_cancelled=1)
    order = make_order(lines=[line], status=OrderStatus.SHIPPED)
    assert order.shipped_quantity(line) == 2
    refused = replace_items(order, by_number(1, 3))
    assert refused.reason_code is ReasonCode.EXCEEDS_REPLACEABLE
    assert replace_items(order, by_number(1, 2)).outcome is Outcome.REPLACEMENT_ISSUED


def test_the_replacement_order_is_paid_at_zero_and_keeps_what_the_customer_sees():
    order = mark_shipped(make_order(channel=Channel.MOBILE_APP))
    order.lines[1].image_url = "https://cdn.example.com/b.jpg"
    new = replace_items(order, by_number(2, 1), by_number(1, 1)).replacement
    assert (new.channel, new.status, new.financial_status) == (
        Channel.MOBILE_APP, OrderStatus.PENDING, FinancialStatus.PAID)
    assert [str(a) for a in (new.subtotal, new.shipping_total, new.tax_total, new.discount_total, new.total)] == [
        "0.00"] * 5
    assert [(line.line_number, line.sku, line.name, line.quantity, str(line.unit_price), line.image_url)
            for line in new.lines] == [
        (1, "SKU-B", "Item 2", 1, "0.00", "https://cdn.example.com/b.jpg"),
        (2, "SKU-A", "Item 1", 1, "0.00", None),
    ]
    assert (new.created_at, new.updated_at) == (NOW, NOW)


# ---------------------------------------------------------------------- returns


def test_returns_add_up_per_line():
    order = delivered()  # line 1: 2 delivered
    assert open_return(order, by_number(1, 1)).outcome is Outcome.RETURN_CREATED
    assert open_return(order, by_number(1, 1), return_id="RMA-2").outcome is Outcome.RETURN_CREATED
    assert order.lines[0].quantity_returned == 2
    third = open_return(order, by_number(1, 1), return_id="RMA-3")
    assert (third.outcome, third.reason_code) == (Outcome.REJECTED, ReasonCode.EXCEEDS_RETURNABLE)


def test_a_delivered_line_of_an_order_still_on_its_way_can_be_returned():
    order = mark_shipped(make_order())  # order SHIPPED, parcel in transit
    # Line 1 came in a parcel of its own that was delivered; line 2's parcel is still on its way.
    order.shipments[0].items = [item for item in order.shipments[0].items if item.sku == "SKU-B"]
    order.shipments.append(Shipment("SH-A", ShipmentStatus.DELIVERED, items=[ShipmentItem("SKU-A", 2)]))
    assert order.delivered_quantity(order.lines[0]) == 2 and order.delivered_quantity(order.lines[1]) == 0
    assert open_return(order, by_number(1, 2)).outcome is Outcome.RETURN_CREATED
    assert open_return(order, by_number(2, 1), return_id="RMA-2").reason_code is ReasonCode.NOT_DELIVERED


def test_a_return_keeps_the_callers_carrier_and_label():
    order = delivered()
    open_return(order, by_number(1, 1), return_tracking_number="RR1", carrier_code="royalmail",
                label_url="https://labels.example.com/1.pdf")
    created = order.returns[0]
    assert (created.created_at, created.return_tracking_number, created.carrier_code, created.label_url) == (
        NOW, "RR1", "royalmail", "https://labels.example.com/1.pdf")


def test_a_return_text_may_be_as_long_as_its_limit():
    order = delivered()
    assert open_return(order, by_number(1, 1), return_tracking_number="T" * 64).outcome is Outcome.RETURN_CREATED
    assert order.returns[0].return_tracking_number == "T" * 64


def test_refunding_a_return_counts_every_item_of_a_line():
    order = delivered()
    open_return(order, by_number(1, 2))
    order.returns[0].items = [ReturnItem("SKU-A", 1, 1), ReturnItem("SKU-A", 1, 1)]
    order.update_return("RMA-1", ReturnUpdate.RECEIVED, now=NOW, request_id="REQ-U1", refund_id="RF-U1")
    decision = order.update_return("RMA-1", ReturnUpdate.REFUNDED, now=NOW, request_id="REQ-U2", refund_id="RF-U2")
    assert decision.refund is not None and decision.refund.amount == Decimal("20.00")
    assert order.lines[0].quantity_refunded == 2


# ---------------------------------------------------------------------- line cancellation


def test_cancelling_a_line_refunds_by_that_lines_own_refundable_quantity():
    order = make_order()
    refund(order, lines=(by_number(1, 2),))  # line 1 refunded in full, not cancelled
    decision = order.cancel_lines((by_number(1, 1), by_number(2, 1)), reason=Reason.CUSTOMER, now=NOW,
                                  request_id="REQ-L", refund_id="RF-L")
    assert decision.refund is not None and decision.refund.amount == Decimal("15.50")
    assert [line.quantity_refunded for line in order.lines] == [2, 1]
    issued = [event for event in order.events if isinstance(event, RefundIssued)][-1]
    assert issued.lines == ((2, 1),)


def test_each_cancelled_line_reports_what_was_asked_and_what_is_left():
    order = make_order()
    order.lines[0].quantity_shipped = 1  # one of line 1's two items has left
    decision = order.cancel_lines(
        (by_number(1, 2), by_sku("SKU-B", 2), by_sku("SKU-B", 1)),
        reason=Reason.CUSTOMER, now=NOW, request_id="REQ-L", refund_id="RF-L",
    )
    assert [(r.quantity, r.line_number, r.sku, r.reason_code) for r in decision.lines] == [
        (2, 1, None, ReasonCode.ALREADY_SHIPPED),
        (2, None, "SKU-B", ReasonCode.EXCEEDS_LINE_QUANTITY),
        (1, None, "SKU-B", ReasonCode.NONE),
    ]
    assert [r.message for r in decision.lines] == [
        "Not cancelled: line 1 has only 1 item(s) not shipped.",
        "Not cancelled: line 2 has only 1 item(s) left to cancel.",
        "Cancelled 1 item(s) of line 2.",
    ]
    assert decision.message.endswith("Some lines could not be cancelled.")


def test_a_second_request_for_a_line_sees_what_the_first_took():
    order = make_order()  # line 1: 2 open
    decision = order.cancel_lines((by_number(1, 1), by_sku("SKU-A", 2)), reason=Reason.CUSTOMER, now=NOW,
                                  request_id="REQ-L", refund_id="RF-L")
    assert [(r.reason_code, r.message) for r in decision.lines] == [
        (ReasonCode.NONE, "Cancelled 1 item(s) of line 1."),
        (ReasonCode.EXCEEDS_LINE_QUANTITY, "Not cancelled: line 1 has only 1 item(s) left to cancel."),
    ]
    assert order.lines[0].quantity_cancelled == 1


def test_what_is_left_counts_the_earlier_requests_of_the_call():
    line = make_line(1, "SKU-A", 3, "10.00", status=LineStatus.PROCESSING, quantity_shipped=1)  # 2 open
    order = make_order(lines=[line, make_line(2, "SKU-B", 2, "5.00", status=LineStatus.PROCESSING)])
    decision = order.cancel_lines(
        (by_number(1, 1), by_number(1, 2), by_number(2, 2), by_number(2, 1)),
        reason=Reason.CUSTOMER, now=NOW, request_id="REQ-L", refund_id="RF-L",
    )
    assert [r.message for r in decision.lines] == [
        "Cancelled 1 item(s) of line 1.",
        "Not cancelled: line 1 has only 1 item(s) not shipped.",
        "Cancelled 2 item(s) of line 2.",
        "Not cancelled: line 2 has only 0 item(s) left to cancel.",
    ]


def test_cancelling_lines_of_a_voided_order_releases_nothing_and_names_its_outcome():
    order = make_order(financial_status=FinancialStatus.VOIDED)
    decision = order.cancel_lines((by_number(2, 1),), reason=Reason.FRAUD, now=NOW, request_id="REQ-L",
                                  refund_id="RF-L")
    assert (decision.outcome, decision.reason_code) == (Outcome.LINES_CANCELLED, ReasonCode.NONE)
    assert decision.refund is None and decision.released_amount is None
    assert decision.message == "Items of order ORD-1001 were cancelled."
    closing = order.cancel_lines((by_number(1, 2),), reason=Reason.FRAUD, now=NOW, request_id="REQ-L2",
                                 refund_id="RF-L2")
    assert (order.status, order.cancel_reason, order.cancelled_at) == (OrderStatus.CANCELLED, Reason.FRAUD, NOW)
    assert closing.message == "Order ORD-1001 has been cancelled: no item was left to send."


def test_refunding_a_return_with_an_item_not_in_the_order_is_refused_as_unknown_line():
    order = delivered()
    open_return(order, by_number(1, 1))
    order.returns[0].items = [ReturnItem("GONE", 1)]
    order.update_return("RMA-1", ReturnUpdate.RECEIVED, now=NOW, request_id="REQ-U1", refund_id="RF-U1")
    decision = order.update_return("RMA-1", ReturnUpdate.REFUNDED, now=NOW, request_id="REQ-U2", refund_id="RF-U2")
    assert (decision.outcome, decision.reason_code) == (Outcome.REJECTED, ReasonCode.UNKNOWN_LINE)
    assert decision.message == "Order ORD-1001 cannot have that return refunded: an item of the return is not part of it."


def test_return_texts_allow_printable_characters_and_refuse_delete():
    order = delivered()
    assert open_return(order, by_number(1, 1), return_tracking_number="RR!1",
                       carrier_code="Royal Mail").outcome is Outcome.RETURN_CREATED
    assert (order.returns[0].return_tracking_number, order.returns[0].carrier_code) == ("RR!1", "Royal Mail")
    for texts, message in (
        ({"return_tracking_number": "RR\x7f1"}, "ReturnTrackingNumber must not contain spaces or control characters."),
        ({"carrier_code": "Royal\x7fMail"}, "CarrierCode must not contain control characters."),
    ):
        with pytest.raises(ValidationError) as refused:
            open_return(order, by_number(1, 1), return_id="RMA-X", **texts)
        assert str(refused.value) == message
