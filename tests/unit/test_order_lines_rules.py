"""Line cancellations and replacements: what a caller is told line by line, what is cancelled,
refunded, released or sent again, and what the change feed records."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from soap_orders.domain.errors import ValidationError
from soap_orders.domain.events import (
    OrderCancelled,
    OrderLinesCancelled,
    RefundIssued,
    ReplacementIssued,
    ReplacementOrderCreated,
)
from soap_orders.domain.orders import (
    Address,
    Channel,
    Decision,
    FinancialStatus,
    LineResult,
    LineStatus,
    OrderStatus,
    OrderType,
    Origin,
    Outcome,
    Reason,
    ReasonCode,
    ReplacementReason,
)
from tests.unit.factories import (
    NOW,
    by_number,
    by_sku,
    make_line,
    make_order,
    mark_shipped,
    plain,
    snapshot,
)


def cancel_lines(order, *lines, **overrides):
    arguments = {"reason": Reason.CUSTOMER, "now": NOW, "request_id": "REQ-LINES", "refund_id": "RF-L1"}
    arguments.update(overrides)
    return order.cancel_lines(lines, **arguments)


def replace_items(order, *lines, number="ORD-1001-R1", note=None):
    return order.issue_replacement(
        lines, reason=ReplacementReason.DAMAGED, now=NOW, request_id="REQ-REPL", replacement_number=number, note=note,
    )


def three_lines(**overrides):
    """Lines 1 (SKU-A 3 x 10.00), 2 (SKU-B 2 x 5.00), 3 (SKU-C 1 x 7.00); shipping 4.50; total 51.50."""
    return make_order(
        lines=[
            make_line(1, "SKU-A", 3, "10.00", status=LineStatus.PROCESSING),
            make_line(2, "SKU-B", 2, "5.00", status=LineStatus.PROCESSING),
            make_line(3, "SKU-C", 1, "7.00", status=LineStatus.PROCESSING),
        ],
        **overrides,
    )


def result(quantity, line_number, code, message, sku=None):
    return LineResult(quantity, line_number, sku, code, message)


# ---------------------------------------------------------------------- cancelling lines


def test_cancelling_some_lines_of_a_paid_order_refunds_them_and_records_it():
    order = three_lines()

    decision = cancel_lines(order, by_number(1, 2), by_sku("SKU-B", 2), note="changed mind")

    assert decision.outcome is Outcome.LINES_CANCELLED and decision.reason_code is ReasonCode.NONE
    assert decision.message == "Items of order ORD-1001 were cancelled. A refund of 30.00 EUR has been issued."
    assert decision.lines == (
        result(2, 1, ReasonCode.NONE, "Cancelled 2 item(s) of line 1."),
        LineResult(2, None, "SKU-B", ReasonCode.NONE, "Cancelled 2 item(s) of line 2."),
    )
    assert decision.released_amount is None
    assert decision.refund is order.refunds[-1]
    assert (decision.refund.refund_id, decision.refund.amount, decision.refund.reason) == (
        "RF-L1", Decimal("30.00"), Reason.CUSTOMER)
    assert [
        (line.quantity_cancelled, line.quantity_cancelled_by_service, line.status, line.quantity_refunded)
        for line in order.lines
    ] == [
        (2, 2, LineStatus.PROCESSING, 2),
        (2, 2, LineStatus.CANCELLED, 2),
        (0, 0, LineStatus.PROCESSING, 0),
    ]
    assert (order.status, order.financial_status, order.cancelled_at, order.cancel_origin, order.updated_at) == (
        OrderStatus.PROCESSING, FinancialStatus.PARTIALLY_REFUNDED, None, None, NOW)
    [issued, cancelled] = order.events
    assert issued == RefundIssued(
        "ORD-1001", NOW, "RF-L1", Decimal("30.00"), "EUR", "CUSTOMER", "changed mind", "REQ-LINES", ((1, 2), (2, 2)))
    assert cancelled == OrderLinesCancelled(
        "ORD-1001", NOW, "REQ-LINES", "CUSTOMER", "changed mind", ((1, 2), (2, 2)), "RF-L1", None, False,
    )


def test_cancelling_every_open_item_cancels_the_order_and_refunds_shipping_too():
    order = three_lines()

    decision = cancel_lines(order, by_number(3, 1), by_number(1, 3), by_number(2, 2), reason=Reason.FRAUD,
                            note="card stolen")

    assert decision.message == (
        "Order ORD-1001 has been cancelled: no item was left to send. A refund of 51.50 EUR has been issued.")
    assert decision.refund.amount == Decimal("51.50")
    assert (order.status, order.cancelled_at, order.cancel_reason, order.cancel_origin) == (
        OrderStatus.CANCELLED, NOW, Reason.FRAUD, Origin.SERVICE)
    assert all(line.status is LineStatus.CANCELLED for line in order.lines)
    assert order.events[1:] == [
        OrderLinesCancelled("ORD-1001", NOW, "REQ-LINES", "FRAUD", "card stolen", ((1, 3), (2, 2), (3, 1)),
                            "RF-L1", None, True),
        OrderCancelled("ORD-1001", NOW, "FRAUD", "card stolen", "REQ-LINES", None, None),
    ]


def test_cancelling_the_rest_of_a_partly_cancelled_order_cancels_it():
    order = three_lines()
    cancel_lines(order, by_number(1, 3), by_number(2, 2), refund_id="RF-L0")
    decision = cancel_lines(order, by_number(3, 1), refund_id="RF-L2")
    assert order.status is OrderStatus.CANCELLED
    assert decision.refund.amount == Decimal("11.50")  # line 3 and the shipping


def test_an_order_part_of_which_has_shipped_is_not_cancelled_with_its_last_open_line():
    order = three_lines(status=OrderStatus.PARTIALLY_SHIPPED)
    line = order.line(line_number=1)
    line.quantity_shipped, line.status = 3, LineStatus.SHIPPED

    decision = cancel_lines(order, by_number(2, 2), by_number(3, 1))

    assert decision.message == "Items of order ORD-1001 were cancelled. A refund of 17.00 EUR has been issued."
    assert order.status is OrderStatus.SHIPPED  # all that is left has shipped
    assert (order.cancelled_at, order.cancel_reason, order.cancel_origin) == (None, None, None)
    assert [event.name for event in order.events] == ["RefundIssued", "OrderLinesCancelled"]
    assert order.events[-1].order_cancelled is False


def test_cancellations_of_one_line_through_the_service_add_up():
    order = three_lines()
    cancel_lines(order, by_number(1, 1), refund_id="RF-L0")
    cancel_lines(order, by_number(1, 1))
    line = order.line(line_number=1)
    assert (line.quantity_cancelled, line.quantity_cancelled_by_service, line.quantity_refunded) == (2, 2, 2)


def test_a_line_worth_less_than_one_unit_is_refunded_when_cancelled():
    order = make_order(lines=[make_line(1, "SKU-A", 1, "0.50"), make_line(2, "SKU-B", 1, "10.00")])

    decision = cancel_lines(order, by_number(1, 1))

    assert decision.message == "Items of order ORD-1001 were cancelled. A refund of 0.50 EUR has been issued."
    assert (decision.refund.amount, [refund.amount for refund in order.refunds]) == (
        Decimal("0.50"), [Decimal("0.50")])


def test_lines_refunded_already_are_cancelled_without_a_second_refund():
    order = three_lines(financial_status=FinancialStatus.PARTIALLY_REFUNDED)
    order.refund(reason=Reason.DAMAGED, now=NOW, request_id="R", refund_id="RF-0", lines=(by_number(2, 2),))
    order.events.clear()

    decision = cancel_lines(order, by_number(2, 2))

    assert decision.refund is None
    assert decision.message == "Items of order ORD-1001 were cancelled."
    assert [refund.refund_id for refund in order.refunds] == ["RF-0"]
    assert order.events == [
        OrderLinesCancelled("ORD-1001", NOW, "REQ-LINES", "CUSTOMER", None, ((2, 2),), None, None, False)
    ]
    assert order.line(line_number=2).quantity_refunded == 2


def test_only_the_items_not_yet_refunded_are_refunded_when_lines_are_cancelled():
    order = three_lines()
    order.refund(reason=Reason.DAMAGED, now=NOW, request_id="R", refund_id="RF-0", lines=(by_number(1, 1),))

    decision = cancel_lines(order, by_number(1, 3))

    assert decision.refund.amount == Decimal("20.00")
    assert order.line(line_number=1).quantity_refunded == 3


def test_cancelling_lines_of_an_authorised_order_releases_their_value():
    order = three_lines(financial_status=FinancialStatus.AUTHORIZED)

    decision = cancel_lines(order, by_number(1, 1), by_number(3, 1))

    assert (decision.refund, decision.released_amount) == (None, Decimal("17.00"))
    assert decision.message == "Items of order ORD-1001 were cancelled."
    assert order.refunds == [] and order.financial_status is FinancialStatus.AUTHORIZED
    assert order.events == [
        OrderLinesCancelled("ORD-1001", NOW, "REQ-LINES", "CUSTOMER", None, ((1, 1), (3, 1)), None,
                            Decimal("17.00"), False)
    ]


@pytest.mark.parametrize("financial_status", [FinancialStatus.PENDING, FinancialStatus.AUTHORIZED])
def test_cancelling_every_line_of_an_unpaid_order_releases_the_total_and_voids_it(financial_status):
    order = three_lines(financial_status=financial_status)

    decision = cancel_lines(order, by_number(1, 3), by_number(2, 2), by_number(3, 1))

    assert (decision.refund, decision.released_amount) == (None, Decimal("51.50"))
    assert decision.message == "Order ORD-1001 has been cancelled: no item was left to send."
    assert (order.status, order.financial_status) == (OrderStatus.CANCELLED, FinancialStatus.VOIDED)
    assert order.events[0].released_amount == Decimal("51.50")


def test_what_is_released_is_never_more_than_the_order_total():
    # A discount larger than the goods left leaves a total below the value of the lines.
    order = three_lines(financial_status=FinancialStatus.AUTHORIZED, total="12.00")
    decision = cancel_lines(order, by_number(1, 3))
    assert decision.released_amount == Decimal("12.00")
    assert order.financial_status is FinancialStatus.AUTHORIZED


def test_a_voided_order_neither_refunds_nor_releases():
    order = three_lines(financial_status=FinancialStatus.VOIDED)
    decision = cancel_lines(order, by_number(1, 1))
    assert (decision.refund, decision.released_amount) == (None, None)
    assert decision.message == "Items of order ORD-1001 were cancelled."


def test_each_requested_line_gets_its_own_answer():
    order = three_lines(status=OrderStatus.PARTIALLY_SHIPPED)
    order.line(line_number=2).quantity_shipped = 1
    cancel_lines(order, by_number(3, 1), refund_id="RF-L0")  # line 3 is now cancelled whole
    order.events.clear()

    decision = cancel_lines(
        order, by_number(1, 2), by_number(9, 1), by_number(2, 2), by_number(3, 1), by_number(1, 2), by_number(2, 1),
    )

    assert decision.lines == (
        result(2, 1, ReasonCode.NONE, "Cancelled 2 item(s) of line 1."),
        result(1, 9, ReasonCode.UNKNOWN_LINE, "Not cancelled: the line is not part of the order."),
        result(2, 2, ReasonCode.ALREADY_SHIPPED, "Not cancelled: line 2 has only 1 item(s) not shipped."),
        result(1, 3, ReasonCode.ALREADY_CANCELLED, "Not cancelled: line 3 was already cancelled."),
        result(2, 1, ReasonCode.EXCEEDS_LINE_QUANTITY, "Not cancelled: line 1 has only 1 item(s) left to cancel."),
        result(1, 2, ReasonCode.NONE, "Cancelled 1 item(s) of line 2."),
    )
    assert decision.message == (
        "Items of order ORD-1001 were cancelled. A refund of 25.00 EUR has been issued. "
        "Some lines could not be cancelled.")
    assert [line.quantity_cancelled for line in order.lines] == [2, 1, 1]
    assert order.events[-1].lines == ((1, 2), (2, 1))


def test_what_is_left_to_cancel_counts_what_the_same_request_already_cancelled():
    order = three_lines(status=OrderStatus.PARTIALLY_SHIPPED)
    order.line(line_number=1).quantity_shipped = 1

    decision = cancel_lines(order, by_number(1, 2), by_number(1, 1), by_number(1, 3))

    assert decision.lines == (
        result(2, 1, ReasonCode.NONE, "Cancelled 2 item(s) of line 1."),
        result(1, 1, ReasonCode.ALREADY_SHIPPED, "Not cancelled: line 1 has only 0 item(s) not shipped."),
        result(3, 1, ReasonCode.EXCEEDS_LINE_QUANTITY, "Not cancelled: line 1 has only 0 item(s) left to cancel."),
    )


def test_exactly_the_open_items_may_be_cancelled_and_one_more_is_refused():
    order = three_lines(status=OrderStatus.PARTIALLY_SHIPPED)
    order.line(line_number=1).quantity_shipped = 1
    before = snapshot(order)

    refused = cancel_lines(order, by_number(1, 3))

    assert refused == Decision(
        Outcome.REJECTED, ReasonCode.ALREADY_SHIPPED, "No line of order ORD-1001 could be cancelled.",
        lines=(result(3, 1, ReasonCode.ALREADY_SHIPPED, "Not cancelled: line 1 has only 2 item(s) not shipped."),),
    )
    assert snapshot(order) == before
    assert cancel_lines(order, by_number(1, 2)).outcome is Outcome.LINES_CANCELLED
    assert order.line(line_number=1).status is LineStatus.SHIPPED  # the rest of it has shipped


def test_more_than_a_line_ever_had_is_refused():
    order = three_lines()
    decision = cancel_lines(order, by_number(3, 2))
    assert decision.lines == (
        result(2, 3, ReasonCode.EXCEEDS_LINE_QUANTITY, "Not cancelled: line 3 has only 1 item(s) left to cancel."),
    )


def test_a_refusal_of_every_line_names_the_first_reason_and_changes_nothing():
    order = three_lines()
    cancel_lines(order, by_number(3, 1), refund_id="RF-L0")
    before = snapshot(order)

    decision = cancel_lines(order, by_number(3, 1), by_number(9, 1))

    assert decision == Decision(
        Outcome.REJECTED, ReasonCode.ALREADY_CANCELLED, "No line of order ORD-1001 could be cancelled.",
        lines=(
            result(1, 3, ReasonCode.ALREADY_CANCELLED, "Not cancelled: line 3 was already cancelled."),
            result(1, 9, ReasonCode.UNKNOWN_LINE, "Not cancelled: the line is not part of the order."),
        ),
    )
    assert snapshot(order) == before


def test_a_cancelled_order_has_no_lines_to_cancel():
    order = three_lines(status=OrderStatus.CANCELLED)
    before = snapshot(order)
    assert cancel_lines(order, by_number(1, 1)) == Decision(
        Outcome.REJECTED, ReasonCode.ALREADY_CANCELLED, "Order ORD-1001 cannot be cancelled: it was already cancelled.",
    )
    assert snapshot(order) == before


def test_an_empty_request_is_refused():
    with pytest.raises(ValidationError) as caught:
        cancel_lines(three_lines())
    assert (str(caught.value), caught.value.field) == ("Give at least one line to cancel.", "Lines")


@pytest.mark.parametrize("request_kwargs, message, field", [
    ({"quantity": 1}, "Each cancel line needs a LineNumber or a Sku.", "Line"),
    ({"quantity": 0, "line_number": 1}, "Cancel line Quantity must be at least 1.", "Quantity"),
])
def test_a_malformed_line_is_refused_even_on_a_cancelled_order(request_kwargs, message, field):
    from soap_orders.domain.orders import RefundLineRequest

    order = three_lines(status=OrderStatus.CANCELLED)
    with pytest.raises(ValidationError) as caught:
        cancel_lines(order, RefundLineRequest(**request_kwargs))
    assert (str(caught.value), caught.value.field) == (message, field)


# ---------------------------------------------------------------------- replacements


def test_a_replacement_is_a_free_copy_of_the_items_sent_again():
    order = mark_shipped(three_lines(channel=Channel.PHONE, shipping_address=Address(name="Ann", city="Paris")))
    order.line(line_number=3).image_url = "https://img.example/c.png"
    order.events.clear()

    decision = replace_items(order, by_number(3, 1), by_sku("SKU-A", 1), by_number(1, 1), note="crushed")

    assert (decision.outcome, decision.reason_code, decision.message) == (
        Outcome.REPLACEMENT_ISSUED, ReasonCode.NONE, "Replacement order ORD-1001-R1 was created for order ORD-1001.")
    replacement = decision.replacement
    zero = Decimal("0.00")
    assert plain(replacement.customer) == plain(order.customer) and replacement.customer is not order.customer
    assert replacement.shipping_address == order.shipping_address
    assert replacement.shipping_address is not order.shipping_address
    assert (
        replacement.order_number, replacement.currency, replacement.created_at, replacement.updated_at,
        replacement.order_type, replacement.channel, replacement.status, replacement.financial_status,
        replacement.replaces_order_number,
    ) == (
        "ORD-1001-R1", "EUR", NOW, NOW, OrderType.REPLACEMENT, Channel.PHONE, OrderStatus.PENDING,
        FinancialStatus.PAID, "ORD-1001",
    )
    for amount in (replacement.subtotal, replacement.total, replacement.shipping_total, replacement.tax_total,
                   replacement.discount_total):
        assert (amount, str(amount)) == (zero, "0.00")
    assert [(line.line_number, line.sku, line.name, line.quantity, str(line.unit_price), line.image_url)
            for line in replacement.lines] == [
        (1, "SKU-C", "Item 3", 1, "0.00", "https://img.example/c.png"),
        (2, "SKU-A", "Item 1", 2, "0.00", None),
    ]
    replacement.check()
    assert replacement.events == [
        ReplacementOrderCreated("ORD-1001-R1", NOW, "REQ-REPL", "ORD-1001", "DAMAGED")
    ]
    assert [line.quantity_replaced for line in order.lines] == [2, 0, 1]
    assert order.replacement_order_numbers == ["ORD-1001-R1"] and order.updated_at == NOW
    assert order.events == [
        ReplacementIssued("ORD-1001", NOW, "REQ-REPL", "ORD-1001-R1", "DAMAGED", "crushed", ((1, 2), (3, 1)))
    ]


def test_a_replacement_of_an_order_without_a_shipping_address_has_none():
    order = mark_shipped(three_lines())
    assert replace_items(order, by_number(1, 1)).replacement.shipping_address is None


def test_a_zero_amount_is_written_with_the_currency_s_decimals():
    order = mark_shipped(make_order(currency="JPY", lines=[make_line(1, "SKU-A", 1, "500")], shipping_total="0"))
    replacement = replace_items(order, by_number(1, 1)).replacement
    assert (str(replacement.total), str(replacement.lines[0].unit_price)) == ("0", "0")


def test_replacements_never_exceed_what_shipped_and_say_what_is_left():
    order = mark_shipped(three_lines())
    replace_items(order, by_number(1, 2))
    before = snapshot(order)

    decision = replace_items(order, by_number(1, 2), number="ORD-1001-R2")

    assert decision == Decision(
        Outcome.REJECTED, ReasonCode.EXCEEDS_REPLACEABLE,
        "Order ORD-1001 cannot get a replacement: line 1 has only 1 shipped item(s) left to replace.",
    )
    assert snapshot(order) == before
    assert replace_items(order, by_number(1, 1), number="ORD-1001-R2").outcome is Outcome.REPLACEMENT_ISSUED
    assert order.replacement_order_numbers == ["ORD-1001-R1", "ORD-1001-R2"]


def test_the_items_left_to_replace_are_never_said_to_be_negative():
    order = mark_shipped(three_lines())
    order.line(line_number=3).quantity_replaced = 2  # the ERP reported more replaced than shipped
    decision = replace_items(order, by_number(3, 1))
    assert decision.message == (
        "Order ORD-1001 cannot get a replacement: line 3 has only 0 shipped item(s) left to replace.")


def test_requests_for_one_line_are_added_up_before_they_are_checked():
    order = mark_shipped(three_lines())
    before = snapshot(order)
    decision = replace_items(order, by_number(3, 1), by_sku("SKU-C", 1))
    assert decision.reason_code is ReasonCode.EXCEEDS_REPLACEABLE
    assert snapshot(order) == before


def test_only_shipped_items_of_a_partly_shipped_line_are_replaceable():
    order = three_lines(status=OrderStatus.PARTIALLY_SHIPPED)
    order.line(line_number=1).quantity_shipped = 2
    assert replace_items(order, by_number(1, 3)).message == (
        "Order ORD-1001 cannot get a replacement: line 1 has only 2 shipped item(s) left to replace.")
    assert replace_items(order, by_number(1, 2)).outcome is Outcome.REPLACEMENT_ISSUED


def test_a_line_whose_status_says_shipped_counts_its_items_not_cancelled():
    order = three_lines(status=OrderStatus.SHIPPED)
    line = order.line(line_number=1)
    line.status, line.quantity_cancelled = LineStatus.SHIPPED, 1
    assert replace_items(order, by_number(1, 3)).message == (
        "Order ORD-1001 cannot get a replacement: line 1 has only 2 shipped item(s) left to replace.")
    assert replace_items(order, by_number(1, 2)).outcome is Outcome.REPLACEMENT_ISSUED


def test_an_order_of_which_nothing_has_shipped_gets_no_replacement():
    order = three_lines()
    before = snapshot(order)
    assert replace_items(order, by_number(9, 1)) == Decision(
        Outcome.REJECTED, ReasonCode.NOT_SHIPPED, "Order ORD-1001 cannot get a replacement: nothing of it has shipped yet.",
    )
    assert snapshot(order) == before


def test_an_unknown_line_gets_no_replacement():
    order = mark_shipped(three_lines())
    before = snapshot(order)
    assert replace_items(order, by_number(1, 1), by_number(9, 1)) == Decision(
        Outcome.REJECTED, ReasonCode.UNKNOWN_LINE,
        "Order ORD-1001 cannot get a replacement: one of the items is not part of it.",
    )
    assert snapshot(order) == before


@pytest.mark.parametrize("request_kwargs, message, field", [
    ({"quantity": 1}, "Each replacement line needs a LineNumber or a Sku.", "Line"),
    ({"quantity": 0, "line_number": 1}, "Replacement line Quantity must be at least 1.", "Quantity"),
])
def test_a_malformed_replacement_line_is_refused_whole_message(request_kwargs, message, field):
    from soap_orders.domain.orders import RefundLineRequest

    order = mark_shipped(three_lines())
    with pytest.raises(ValidationError) as caught:
        replace_items(order, RefundLineRequest(**request_kwargs))
    assert (str(caught.value), caught.value.field) == (message, field)
    assert order.replacement_order_numbers == []


def test_an_empty_replacement_request_is_refused():
    with pytest.raises(ValidationError) as caught:
        replace_items(mark_shipped(three_lines()))
    assert (str(caught.value), caught.value.field) == ("Give at least one line for a replacement.", "Lines")


def test_a_later_replacement_is_stamped_with_its_own_time():
    order = mark_shipped(three_lines())
    later = NOW + timedelta(days=1)
    replacement = order.issue_replacement(
        (by_number(1, 1),), reason=ReplacementReason.WRONG_ITEM, now=later, request_id="REQ-2",
        replacement_number="ORD-1001-R9",
    ).replacement
    assert (replacement.created_at, replacement.updated_at, order.updated_at) == (later, later, later)
    assert replacement.events[0].reason == "WRONG_ITEM"
