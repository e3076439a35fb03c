"""Refund.settle: the payment provider confirmed a pending refund."""

from __future__ import annotations

from decimal import Decimal

import pytest

from soap_orders.domain.errors import ValidationError
from soap_orders.domain.orders import FinancialStatus, RefundStatus
from tests.unit.factories import make_order, make_refund, refund


def test_a_pending_refund_becomes_completed_and_the_balance_stays() -> None:
    order = make_order()
    issued = refund(order, amount="10.00").refund
    assert issued is not None and issued.status is RefundStatus.PENDING

    issued.settle()

    assert issued.status is RefundStatus.COMPLETED
    assert order.refunded_amount == Decimal("10.00")
    assert order.refundable_amount == Decimal("30.00")
    assert order.financial_status is FinancialStatus.PARTIALLY_REFUNDED


@pytest.mark.parametrize("status", [RefundStatus.COMPLETED, RefundStatus.FAILED])
def test_only_a_pending_refund_can_be_settled(status: RefundStatus) -> None:
    settled = make_refund("5.00", status)

    with pytest.raises(ValidationError, match="not PENDING"):
        settled.settle()

    assert settled.status is status
