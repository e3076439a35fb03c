"""The order's own checks and figures: the whole text of what a malformed order or request is told,
and what line refunds add up to."""

from __future__ import annotations

import pytest

from soap_orders.domain.errors import ValidationError
from soap_orders.domain.orders import (
    Customer,
    FinancialStatus,
    Reason,
    RefundLineRequest,
    RefundStatus,
    Return,
    ReturnStatus,
)
from tests.unit.factories import (
    NOW,
    add_shipment,
    by_number,
    make_line,
    make_order,
    make_refund,
    mark_shipped,
    refund,
)


def test_settling_a_refund_that_is_not_pending_is_refused_whole_message():
    completed = make_refund("5.00", RefundStatus.COMPLETED, "RF-7")
    with pytest.raises(ValidationError) as caught:
        completed.settle()
    assert (str(caught.value), caught.value.field) == ("Refund RF-7 is COMPLETED, not PENDING.", "Status")
    assert completed.status is RefundStatus.COMPLETED


@pytest.mark.parametrize("email", ["", "ada.example.com"])
def test_an_order_without_an_email_address_is_refused_whole_message(email):
    order = make_order(customer=Customer(email, "Ada", "Lovelace"))
    with pytest.raises(ValidationError) as caught:
        order.check()
    assert (str(caught.value), caught.value.field) == ("Customer Email is not an email address.", "Email")


def test_two_refunds_of_one_id_are_refused_whole_message():
    order = make_order(
        financial_status=FinancialStatus.PARTIALLY_REFUNDED,
        refunds=[make_refund("1.00", refund_id="RF-1"), make_refund("2.00", refund_id="RF-1")],
    )
    with pytest.raises(ValidationError) as caught:
        order.check()
    assert (str(caught.value), caught.value.field) == (
        "RefundId values must be unique within an order's Refunds.", "RefundId")


@pytest.mark.parametrize("request_kwargs, message, field", [
    ({"quantity": 1}, "Each refund line needs a LineNumber or a Sku.", "Line"),
    ({"quantity": 0, "line_number": 1}, "Refund line Quantity must be at least 1.", "Quantity"),
])
def test_a_malformed_refund_line_is_refused_whole_message(request_kwargs, message, field):
    order = make_order()
    with pytest.raises(ValidationError) as caught:
        refund(order, lines=(RefundLineRequest(**request_kwargs),))
    assert (str(caught.value), caught.value.field) == (message, field)
    assert order.refunds == []


def test_line_refunds_through_the_service_add_up():
    order = make_order()
    refund(order, lines=(by_number(1, 1),), refund_id="RF-1")
    refund(order, lines=(by_number(1, 1),), refund_id="RF-2")
    line = order.line(line_number=1)
    assert (line.quantity_refunded, line.quantity_refunded_by_service) == (2, 2)


def test_cancelling_a_free_line_refunded_already_issues_no_refund():
    order = make_order(lines=[make_line(1, "SKU-A", 1, "0.00"), make_line(2, "SKU-B", 1, "0.00")])
    order.line(line_number=1).quantity_refunded = 1  # the ERP reported it refunded

    decision = order.cancel_lines(
        (by_number(1, 1),), reason=Reason.CUSTOMER, now=NOW, request_id="REQ-LINES", refund_id="RF-L1",
    )

    assert (decision.refund, decision.message) == (None, "Items of order ORD-1001 were cancelled.")
    assert order.refunds == [] and order.line(line_number=1).quantity_cancelled == 1


def test_two_parcels_of_one_id_are_refused_whole_message():
    order = mark_shipped(make_order())
    add_shipment(order).shipment_id = "SH-1"
    with pytest.raises(ValidationError) as caught:
        order.check()
    assert (str(caught.value), caught.value.field) == (
        "ShipmentId values must be unique within an order's Shipments.", "ShipmentId")


def test_two_returns_of_one_id_are_refused_whole_message():
    order = make_order(returns=[Return("RMA-1", ReturnStatus.REQUESTED, NOW), Return("RMA-1", ReturnStatus.REQUESTED, NOW)])
    with pytest.raises(ValidationError) as caught:
        order.check()
    assert (str(caught.value), caught.value.field) == (
        "ReturnId values must be unique within an order's Returns.", "ReturnId")
