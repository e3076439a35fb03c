"""Boundary examples at the smallest amount (0.01) and at the limits of the money and quantity rules.

Each test pins a comparison that a neighbouring constant (0 against 1, < against <=) would break."""

from __future__ import annotations

from decimal import Decimal

import pytest

from soap_orders.domain import money
from soap_orders.domain.errors import InvalidAmount
from soap_orders.domain.orders import FinancialStatus, Outcome, Reason, ReasonCode
from tests.unit.factories import (
    by_number,
    cancel,
    make_line,
    make_order,
    make_refund,
    refund,
)


@pytest.mark.parametrize("left", ["0.01", "0.99", "1.00", "1.01"])
def test_cancel_refunds_whatever_is_left_down_to_a_cent(left):
    order = make_order(financial_status=FinancialStatus.PARTIALLY_REFUNDED,
                       refunds=[make_refund(Decimal("40.00") - Decimal(left))])
    decision = cancel(order)
    assert decision.refund is not None and decision.refund.amount == Decimal(left)
    assert order.refundable_amount == 0 and order.financial_status is FinancialStatus.REFUNDED


@pytest.mark.parametrize("subtotal_price, discount, expected", [
    ("0.50", "0.10", "0.40"),   # subtotal 0.50: the 0.10 discount is shared out
    ("1.00", "0.50", "0.50"),   # subtotal exactly 1.00
    ("0.01", "0.01", "0.00"),   # a one-cent line fully discounted: nothing to refund
])
def test_a_line_refund_on_a_small_subtotal_takes_off_the_discount(subtotal_price, discount, expected):
    order = make_order(lines=[make_line(1, "A", 1, subtotal_price)], discount_total=discount, shipping_total="5.00")
    decision = refund(order, lines=(by_number(1, 1),))
    if expected == "0.00":
        assert (decision.outcome, decision.reason_code) == (Outcome.REJECTED, ReasonCode.NOTHING_REFUNDABLE)
    else:
        assert decision.refund is not None and decision.refund.amount == Decimal(expected)


@pytest.mark.parametrize("owed", ["0.01", "0.50", "1.00"])
def test_a_small_balance_still_owed_is_refunded_not_refused(owed):
    order = make_order(financial_status=FinancialStatus.PARTIALLY_REFUNDED,
                       refunds=[make_refund(Decimal("40.00") - Decimal(owed))])
    decision = refund(order)
    assert decision.outcome is Outcome.REFUNDED and decision.refund.amount == Decimal(owed)


@pytest.mark.parametrize("price", ["0.01", "0.99", "1.00"])
def test_lines_worth_a_cent_to_a_unit_are_refunded_not_refused_as_free(price):
    order = make_order(lines=[make_line(1, "A", 1, price)], shipping_total="0")
    decision = refund(order, lines=(by_number(1, 1),))
    assert decision.outcome is Outcome.REFUNDED and decision.refund.amount == Decimal(price)


def test_free_goods_with_paid_shipping_are_refused_cleanly_as_free():
    order = make_order(lines=[make_line(1, "FREE", 2, "0.00")], shipping_total="5.00")
    order.check()
    decision = refund(order, lines=(by_number(1, 1),))
    assert (decision.outcome, decision.reason_code) == (Outcome.REJECTED, ReasonCode.NOTHING_REFUNDABLE)
    assert order.refunds == [] and order.refundable_amount == Decimal("5.00")


def test_cancelling_free_lines_with_paid_shipping_refunds_nothing_until_the_order_closes():
    order = make_order(lines=[make_line(1, "FREE", 2, "0.00")], shipping_total="5.00")
    decision = order.cancel_lines((by_number(1, 1),), reason=Reason.CUSTOMER, now=order.created_at,
                                  request_id="R", refund_id="RF-1")
    assert decision.outcome is Outcome.LINES_CANCELLED and decision.refund is None
    decision = order.cancel_lines((by_number(1, 1),), reason=Reason.CUSTOMER, now=order.created_at, request_id="R2",
                                  refund_id="RF-2")
    assert decision.refund is not None and decision.refund.amount == Decimal("5.00")


@pytest.mark.parametrize("text", ["99999999999999.99", "-99999999999999.99", "12345678901234"])
def test_fourteen_integer_digits_are_accepted(text):
    assert money.parse_amount(text, "EUR") == Decimal(text)


@pytest.mark.parametrize("text", ["100000000000000", "100000000000000.00", "-100000000000000"])
def test_fifteen_integer_digits_are_too_large(text):
    with pytest.raises(InvalidAmount) as caught:
        money.parse_amount(text, "EUR")
    assert "at most 14 digits" in caught.value.message


def test_the_largest_amount_fits_the_stored_precision():
    assert money.MAX_INTEGER_DIGITS + money.MAX_DECIMAL_PLACES == 18


@pytest.mark.parametrize("text, ok", [("0.01", True), ("0.00", False), ("-0.01", False)])
def test_positive_amount_starts_at_one_cent(text, ok):
    if ok:
        assert money.positive_amount(text, "EUR") == Decimal(text)
    else:
        with pytest.raises(InvalidAmount):
            money.positive_amount(text, "EUR")


@pytest.mark.parametrize("amount, outcome", [("39.99", Outcome.REFUNDED), ("40.00", Outcome.REFUNDED),
                                             ("40.01", Outcome.REJECTED)])
def test_an_amount_refund_up_to_the_balance_and_not_a_cent_more(amount, outcome):
    decision = refund(make_order(), amount=amount)
    assert decision.outcome is outcome
    if outcome is Outcome.REJECTED:
        assert decision.reason_code is ReasonCode.EXCEEDS_REFUNDABLE
