"""Order.refund: an amount, some lines, or the whole refundable balance."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soap_orders.domain.errors import InvalidAmount, ValidationError
from soap_orders.domain.events import RefundIssued
from soap_orders.domain.orders import (
    FinancialStatus,
    OrderStatus,
    Outcome,
    Reason,
    ReasonCode,
    RefundLineRequest,
    RefundStatus,
)
from tests.examples import examples
from tests.unit.factories import (
    NOW,
    by_number,
    by_sku,
    make_line,
    make_order,
    make_refund,
    refund,
    snapshot,
)


def taxed_order(**overrides):
    """Subtotal 100.00 - discount 10.00 + tax 18.00 + shipping 5.00 = 113.00: lines are worth 1.08 x price."""
    return make_order(
        lines=[make_line(1, "SKU-A", 4, "20.00"), make_line(2, "SKU-B", 1, "20.00")],
        discount_total="10.00",
        tax_total="18.00",
        shipping_total="5.00",
        **overrides,
    )


# ---------------------------------------------------------------------- derived amounts


@pytest.mark.parametrize(
    ("financial_status", "captured"),
    [
        (FinancialStatus.PAID, "40.00"),
        (FinancialStatus.PARTIALLY_REFUNDED, "40.00"),
        (FinancialStatus.REFUNDED, "40.00"),
        (FinancialStatus.PENDING, "0"),
        (FinancialStatus.AUTHORIZED, "0"),
        (FinancialStatus.VOIDED, "0"),
    ],
)
def test_captured_amount_is_the_total_only_once_payment_is_captured(financial_status, captured):
    assert make_order(financial_status=financial_status).captured_amount == Decimal(captured)


def test_refunded_amount_counts_pending_and_completed_refunds_but_not_failed_ones():
    order = make_order(
        financial_status=FinancialStatus.PARTIALLY_REFUNDED,
        refunds=[
            make_refund("5.00", RefundStatus.COMPLETED, "RF-1"),
            make_refund("2.50", RefundStatus.PENDING, "RF-2"),
            make_refund("30.00", RefundStatus.FAILED, "RF-3"),
        ],
    )

    assert order.refunded_amount == Decimal("7.50")
    assert order.refundable_amount == Decimal("32.50")


def test_refundable_amount_is_never_negative():
    order = make_order(financial_status=FinancialStatus.AUTHORIZED, refunds=[make_refund("10.00")])

    assert order.refundable_amount == Decimal("0.00")


# ---------------------------------------------------------------------- refunding an amount


def test_partial_amount_refund_makes_the_order_partially_refunded():
    order = make_order()

    decision = refund(order, amount=Decimal("12.5"), refund_id="RF-5", note="Scratched", reason=Reason.DAMAGED)

    assert decision.outcome is Outcome.REFUNDED
    assert decision.reason_code is ReasonCode.NONE
    assert decision.message == "A refund of 12.50 EUR has been issued for order ORD-1001."
    assert decision.refund is order.refunds[-1]
    assert (decision.refund.refund_id, decision.refund.amount) == ("RF-5", Decimal("12.50"))
    assert (decision.refund.reason, decision.refund.status) == (Reason.DAMAGED, RefundStatus.PENDING)
    assert (decision.refund.note, decision.refund.created_at) == ("Scratched", NOW)
    assert order.financial_status is FinancialStatus.PARTIALLY_REFUNDED
    assert order.refunded_amount == Decimal("12.50")
    assert order.refundable_amount == Decimal("27.50")
    assert order.updated_at == NOW
    assert order.status is OrderStatus.PROCESSING
    assert [line.quantity_refunded for line in order.lines] == [0, 0]


def test_refund_of_exactly_the_refundable_balance_makes_the_order_refunded():
    order = make_order()

    decision = refund(order, amount="40.00")

    assert decision.outcome is Outcome.REFUNDED
    assert order.financial_status is FinancialStatus.REFUNDED
    assert order.refundable_amount == Decimal("0.00")


def test_successive_partial_refunds_end_in_refunded():
    order = make_order()

    refund(order, amount="30.00", refund_id="RF-1")
    assert order.financial_status is FinancialStatus.PARTIALLY_REFUNDED
    refund(order, amount="10.00", refund_id="RF-2")

    assert order.financial_status is FinancialStatus.REFUNDED
    assert [(r.refund_id, r.amount) for r in order.refunds] == [("RF-1", Decimal("30.00")), ("RF-2", Decimal("10.00"))]


def test_refund_records_a_refund_issued_event():
    order = make_order()

    refund(order, amount="12.50", reason=Reason.LATE_DELIVERY, note="Sorry", request_id="REQ-7", refund_id="RF-7")

    assert order.events == [
        RefundIssued("ORD-1001", NOW, "RF-7", Decimal("12.50"), "EUR", "LATE_DELIVERY", "Sorry", "REQ-7", ())
    ]
    assert order.events[0].payload() == {
        "refund_id": "RF-7", "amount": "12.50", "currency": "EUR", "reason": "LATE_DELIVERY",
        "note": "Sorry", "request_id": "REQ-7", "lines": (),
    }


def test_refund_without_amount_or_lines_refunds_the_whole_refundable_balance():
    order = make_order(financial_status=FinancialStatus.PARTIALLY_REFUNDED, refunds=[make_refund("15.00")])

    decision = refund(order)

    assert decision.outcome is Outcome.REFUNDED
    assert decision.refund is not None and decision.refund.amount == Decimal("25.00")
    assert order.financial_status is FinancialStatus.REFUNDED
    assert order.refundable_amount == Decimal("0.00")


def test_failed_refunds_do_not_reduce_what_can_be_refunded():
    order = make_order(refunds=[make_refund("40.00", RefundStatus.FAILED)])

    decision = refund(order, amount="40.00")

    assert decision.outcome is Outcome.REFUNDED
    assert order.financial_status is FinancialStatus.REFUNDED


@pytest.mark.parametrize(
    ("currency", "unit_price", "amount", "expected"),
    [("JPY", "1500", "700", "700"), ("KWD", "1.500", "0.125", "0.125"), ("EUR", "10.00", "0.01", "0.01")],
)
def test_refund_amounts_use_the_currency_places(currency, unit_price, amount, expected):
    order = make_order(currency=currency, lines=[make_line(1, quantity=2, unit_price=unit_price)], shipping_total="0")

    decision = refund(order, amount=amount)

    assert decision.outcome is Outcome.REFUNDED
    assert decision.refund is not None
    assert str(decision.refund.amount) == expected


# ---------------------------------------------------------------------- invalid requests


def test_refund_with_both_amount_and_lines_is_a_validation_error():
    order = make_order()
    before = snapshot(order)

    with pytest.raises(ValidationError) as caught:
        refund(order, amount="5.00", lines=(by_number(1, 1),))

    assert caught.value.message == "Give either Amount or Lines, not both."
    assert caught.value.field == "Amount"
    assert snapshot(order) == before


@pytest.mark.parametrize("amount", ["0", "0.00", "-1.00", Decimal("-0.01")])
def test_refund_of_zero_or_a_negative_amount_is_invalid(amount):
    order = make_order()
    before = snapshot(order)

    with pytest.raises(InvalidAmount) as caught:
        refund(order, amount=amount)

    assert caught.value.message == "Amount must be greater than zero."
    assert caught.value.code == "INVALID_AMOUNT"
    assert snapshot(order) == before


@pytest.mark.parametrize(
    ("currency", "unit_price", "amount", "places"),
    [("EUR", "10.00", "1.001", 2), ("JPY", "1500", "10.5", 0), ("KWD", "1.500", "0.0001", 3)],
)
def test_refund_amount_with_more_decimals_than_the_currency_is_invalid(currency, unit_price, amount, places):
    order = make_order(currency=currency, lines=[make_line(1, quantity=2, unit_price=unit_price)], shipping_total="0")
    before = snapshot(order)

    with pytest.raises(InvalidAmount) as caught:
        refund(order, amount=amount)

    assert isinstance(caught.value, ValidationError)
    assert caught.value.message == f"Amount has more than {places} decimal places for {currency}."
    assert snapshot(order) == before


@pytest.mark.parametrize("amount", [Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity"), "NaN",
                                    float("inf")])
def test_refund_of_nan_or_infinity_is_invalid(amount):
    order = make_order()
    before = snapshot(order)

    with pytest.raises(InvalidAmount) as caught:
        refund(order, amount=amount)

    assert caught.value.message == "Amount is not a finite number."
    assert snapshot(order) == before


def test_refund_line_needs_a_line_number_or_a_sku():
    order = make_order()
    before = snapshot(order)

    with pytest.raises(ValidationError) as caught:
        refund(order, lines=(RefundLineRequest(quantity=1),))

    assert caught.value.field == "Line"
    assert snapshot(order) == before


@pytest.mark.parametrize("quantity", [0, -1])
def test_refund_line_quantity_must_be_at_least_one(quantity):
    order = make_order()
    before = snapshot(order)

    with pytest.raises(ValidationError) as caught:
        refund(order, lines=(by_number(1, quantity),))

    assert caught.value.message == "Refund line Quantity must be at least 1."
    assert snapshot(order) == before


# ---------------------------------------------------------------------- rejected decisions


def assert_rejected(decision, reason_code):
    assert decision.outcome is Outcome.REJECTED
    assert decision.reason_code is reason_code
    assert decision.refund is None
    assert decision.message.startswith("Order ORD-1001 cannot be refunded: ")


@pytest.mark.parametrize(
    "financial_status", [FinancialStatus.PENDING, FinancialStatus.AUTHORIZED, FinancialStatus.VOIDED]
)
def test_refund_of_an_order_not_yet_paid_is_rejected(financial_status):
    order = make_order(financial_status=financial_status)
    before = snapshot(order)

    decision = refund(order, amount="5.00")

    assert_rejected(decision, ReasonCode.NOT_PAID)
    assert decision.message == "Order ORD-1001 cannot be refunded: nothing has been charged for it yet."
    assert snapshot(order) == before


def test_refund_of_a_fully_refunded_order_is_rejected_as_nothing_refundable():
    order = make_order(financial_status=FinancialStatus.REFUNDED, refunds=[make_refund("40.00")])
    before = snapshot(order)

    decision = refund(order)

    assert_rejected(decision, ReasonCode.NOTHING_REFUNDABLE)
    assert decision.message == "Order ORD-1001 cannot be refunded: it has already been refunded in full."
    assert snapshot(order) == before


def test_refund_of_a_free_order_is_rejected_as_nothing_refundable():
    order = make_order(lines=[make_line(1, unit_price="0.00")], shipping_total="0")
    before = snapshot(order)

    decision = refund(order, amount="1.00")

    assert_rejected(decision, ReasonCode.NOTHING_REFUNDABLE)
    assert snapshot(order) == before


def test_refund_of_free_items_only_is_rejected_as_nothing_refundable():
    order = make_order(lines=[make_line(1, "SKU-A", 2, "10.00"), make_line(2, "SKU-GIFT", 1, "0.00")])
    before = snapshot(order)

    decision = refund(order, lines=(by_number(2, 1),))

    assert_rejected(decision, ReasonCode.NOTHING_REFUNDABLE)
    assert decision.message == "Order ORD-1001 cannot be refunded: those items were free of charge."
    assert snapshot(order) == before


def test_refund_of_more_than_refundable_is_rejected():
    order = make_order()
    before = snapshot(order)

    decision = refund(order, amount="40.01")

    assert_rejected(decision, ReasonCode.EXCEEDS_REFUNDABLE)
    assert decision.message == "Order ORD-1001 cannot be refunded: at most 40.00 EUR can be refunded."
    assert snapshot(order) == before


def test_refund_of_more_than_what_is_left_after_earlier_refunds_is_rejected():
    order = make_order(financial_status=FinancialStatus.PARTIALLY_REFUNDED, refunds=[make_refund("30.00")])
    before = snapshot(order)

    decision = refund(order, amount="10.01")

    assert_rejected(decision, ReasonCode.EXCEEDS_REFUNDABLE)
    assert decision.message.endswith("at most 10.00 EUR can be refunded.")
    assert snapshot(order) == before


@pytest.mark.parametrize(
    "wanted",
    [by_number(9, 1), by_sku("NOPE", 1), RefundLineRequest(quantity=1, line_number=1, sku="SKU-B")],
    ids=["unknown-number", "unknown-sku", "number-and-sku-of-different-lines"],
)
def test_refund_of_a_line_not_on_the_order_is_rejected(wanted):
    order = make_order()
    before = snapshot(order)

    decision = refund(order, lines=(by_number(1, 1), wanted))

    assert_rejected(decision, ReasonCode.UNKNOWN_LINE)
    assert decision.message == "Order ORD-1001 cannot be refunded: one of the items is not part of it."
    assert snapshot(order) == before


def test_refund_of_more_items_than_the_line_has_is_rejected():
    order = make_order()
    before = snapshot(order)

    decision = refund(order, lines=(by_number(1, 3),))

    assert_rejected(decision, ReasonCode.EXCEEDS_LINE_QUANTITY)
    assert decision.message == "Order ORD-1001 cannot be refunded: line 1 has only 2 item(s) left to refund."
    assert snapshot(order) == before


def test_repeated_lines_in_one_request_are_summed_against_the_line_quantity():
    order = make_order()
    before = snapshot(order)

    decision = refund(order, lines=(by_number(1, 1), by_sku("SKU-A", 1), by_number(1, 1)))

    assert_rejected(decision, ReasonCode.EXCEEDS_LINE_QUANTITY)
    assert snapshot(order) == before


def test_items_already_refunded_cannot_be_refunded_again():
    order = make_order(
        financial_status=FinancialStatus.PARTIALLY_REFUNDED,
        lines=[make_line(1, "SKU-A", 2, "10.00", quantity_refunded=1), make_line(2, "SKU-B", 1, "15.50")],
        refunds=[make_refund("10.00")],
    )
    before = snapshot(order)

    decision = refund(order, lines=(by_number(1, 2),))

    assert_rejected(decision, ReasonCode.EXCEEDS_LINE_QUANTITY)
    assert decision.message.endswith("line 1 has only 1 item(s) left to refund.")
    assert snapshot(order) == before


def test_not_paid_is_decided_before_the_lines_are_looked_at():
    order = make_order(financial_status=FinancialStatus.AUTHORIZED)

    decision = refund(order, lines=(by_number(9, 1),))

    assert decision.reason_code is ReasonCode.NOT_PAID


# ---------------------------------------------------------------------- refunding lines


def test_line_refund_is_worth_the_price_after_discount_and_tax():
    order = taxed_order()

    decision = refund(order, lines=(by_number(1, 1),), refund_id="RF-L1", request_id="REQ-L1")

    assert decision.outcome is Outcome.REFUNDED
    assert decision.refund is not None and decision.refund.amount == Decimal("21.60")
    assert [line.quantity_refunded for line in order.lines] == [1, 0]
    assert order.financial_status is FinancialStatus.PARTIALLY_REFUNDED
    assert order.refundable_amount == Decimal("91.40")
    assert order.events == [
        RefundIssued("ORD-1001", NOW, "RF-L1", Decimal("21.60"), "EUR", "DAMAGED", None, "REQ-L1", ((1, 1),))
    ]


def test_refunding_every_line_leaves_the_shipping_refundable():
    order = taxed_order()

    decision = refund(order, lines=(by_sku("SKU-B", 1), by_number(1, 4)))

    assert decision.refund is not None and decision.refund.amount == Decimal("108.00")
    assert [line.quantity_refunded for line in order.lines] == [4, 1]
    assert order.financial_status is FinancialStatus.PARTIALLY_REFUNDED
    assert order.refundable_amount == Decimal("5.00")
    assert order.events[-1].lines == ((1, 4), (2, 1))


def test_line_refund_value_is_rounded_half_to_even_to_the_currency():
    # 3 x 10.00 with 10.00 off: each item is worth 20.00 / 3 = 6.666...
    order = make_order(lines=[make_line(1, quantity=3, unit_price="10.00")], discount_total="10.00", shipping_total="0")

    decision = refund(order, lines=(by_number(1, 1),))

    assert decision.refund is not None and decision.refund.amount == Decimal("6.67")


def test_line_refund_without_discount_or_tax_is_the_line_price():
    order = make_order()

    decision = refund(order, lines=(by_number(2, 1),))

    assert decision.refund is not None and decision.refund.amount == Decimal("15.50")
    assert order.lines[1].quantity_refunded == 1


def test_line_refund_is_capped_at_the_refundable_balance():
    order = taxed_order(financial_status=FinancialStatus.PARTIALLY_REFUNDED, refunds=[make_refund("100.00")])

    decision = refund(order, lines=(by_number(1, 1),))

    assert decision.outcome is Outcome.REFUNDED
    assert decision.refund is not None and decision.refund.amount == Decimal("13.00")
    assert order.lines[0].quantity_refunded == 1
    assert order.financial_status is FinancialStatus.REFUNDED


def test_line_refunds_accumulate_up_to_the_line_quantity():
    order = make_order()

    first = refund(order, lines=(by_number(1, 1),), refund_id="RF-1")
    second = refund(order, lines=(by_sku("SKU-A", 1),), refund_id="RF-2")
    third = refund(order, lines=(by_number(1, 1),), refund_id="RF-3")

    assert [first.outcome, second.outcome] == [Outcome.REFUNDED, Outcome.REFUNDED]
    assert third.reason_code is ReasonCode.EXCEEDS_LINE_QUANTITY
    assert order.lines[0].quantity_refunded == 2
    assert order.refunded_amount == Decimal("20.00")


def test_refund_of_a_free_line_issues_no_zero_refund():
    order = make_order(lines=[make_line(1, "SKU-A", 1, "10.00"), make_line(2, "GIFT", 1, "0.00")])

    refund(order, lines=(by_sku("GIFT", 1),))

    assert all(r.amount > 0 for r in order.refunds)
    assert order.financial_status is FinancialStatus.PAID
    order.check()


# ---------------------------------------------------------------------- properties

_REQUESTS = st.one_of(
    st.tuples(st.just("amount"), st.decimals(min_value="0.01", max_value="60.00", places=2)),
    st.tuples(st.just("lines"), st.lists(st.tuples(st.sampled_from([1, 2, 3]), st.integers(1, 3)), min_size=1, max_size=3)),
    st.tuples(st.just("all"), st.none()),
)


@settings(max_examples=examples(150), deadline=None)
@given(
    requests=st.lists(_REQUESTS, max_size=8),
    tax=st.sampled_from(["0", "1.99", "7.10"]),
    shipping=st.sampled_from(["0", "4.50"]),
    failed=st.booleans(),
)
def test_no_sequence_of_refunds_exceeds_what_was_captured(requests, tax, shipping, failed):
    lines = [make_line(1, "SKU-A", 2, "10.00"), make_line(2, "SKU-B", 1, "15.50"), make_line(3, "SKU-C", 3, "0.99")]
    order = make_order(lines=lines, tax_total=tax, shipping_total=shipping,
                       refunds=[make_refund("5.00", RefundStatus.FAILED)] if failed else [])
    captured = order.captured_amount

    for index, (kind, value) in enumerate(requests):
        before = snapshot(order)
        arguments = {"refund_id": f"RF-{index}", "request_id": f"REQ-{index}"}
        if kind == "amount":
            decision = refund(order, amount=value, **arguments)
        elif kind == "lines":
            decision = refund(order, lines=tuple(by_number(n, q) for n, q in value), **arguments)
        else:
            decision = refund(order, **arguments)

        if decision.outcome is Outcome.REJECTED:
            assert snapshot(order) == before
        else:
            assert decision.outcome is Outcome.REFUNDED
            assert decision.refund is not None and decision.refund.amount > 0
            assert len(order.events) == len(before["events"]) + 1
        assert order.refunded_amount <= captured
        assert order.refundable_amount == captured - order.refunded_amount
        assert all(0 <= line.quantity_refunded <= line.quantity for line in order.lines)
        assert (order.financial_status is FinancialStatus.REFUNDED) == (order.refundable_amount == 0)
        order.check()
