"""The idempotency fingerprint: what makes two requests with one RequestId 'the same request'."""

from __future__ import annotations

from decimal import Decimal

import pytest

from soap_orders.domain.orders import Reason, RefundLineRequest
from soap_orders.service.idempotency import fingerprint as _fingerprint
from soap_orders.service.orders import CancelOrder, IssueRefund


def refund_command(**overrides) -> IssueRefund:
    fields = {"order_number": "ORD-1001", "request_id": "REQ-1", "reason": Reason.DAMAGED, "amount": Decimal("10.00"),
              "note": "Scratched"}
    fields.update(overrides)
    return IssueRefund(**fields)


def cancel_command(**overrides) -> CancelOrder:
    fields = {"order_number": "ORD-1001", "request_id": "REQ-1", "reason": Reason.CUSTOMER, "note": None}
    fields.update(overrides)
    return CancelOrder(**fields)


def refund_fingerprint(**overrides) -> str:
    return _fingerprint("IssueRefund", refund_command(**overrides))


def test_fingerprint_is_a_sha256_hex_digest():
    fingerprint = refund_fingerprint()

    assert len(fingerprint) == 64
    assert int(fingerprint, 16) >= 0


def test_fingerprint_is_stable_for_the_same_request():
    assert refund_fingerprint() == refund_fingerprint()


@pytest.mark.parametrize("amount", ["10", "10.0", "10.00", "10.000", "1E+1", "0010.00"])
def test_fingerprint_ignores_how_the_amount_was_written(amount):
    assert refund_fingerprint(amount=Decimal(amount)) == refund_fingerprint(amount=Decimal("10.00"))


def test_fingerprint_ignores_the_request_id():
    assert refund_fingerprint(request_id="REQ-2") == refund_fingerprint(request_id="REQ-1")


@pytest.mark.parametrize("note", ["  Scratched", "Scratched  ", "\tScratched\n"])
def test_fingerprint_ignores_whitespace_around_the_note(note):
    assert refund_fingerprint(note=note) == refund_fingerprint(note="Scratched")


def test_fingerprint_ignores_whitespace_around_the_order_number():
    assert refund_fingerprint(order_number=" ORD-1001 ") == refund_fingerprint()


@pytest.mark.parametrize(
    "overrides",
    [
        {"amount": Decimal("10.01")},
        {"amount": Decimal("1.00")},
        {"amount": None},
        {"reason": Reason.LATE_DELIVERY},
        {"order_number": "ORD-1002"},
        {"note": "Scratched badly"},
        {"note": None},
    ],
    ids=["amount-cent", "amount-tenth", "no-amount", "reason", "order-number", "note", "no-note"],
)
def test_fingerprint_differs_when_a_parameter_differs(overrides):
    assert refund_fingerprint(**overrides) != refund_fingerprint()


def test_fingerprint_differs_for_another_operation():
    command = cancel_command(reason=Reason.DAMAGED, note="Scratched")

    assert _fingerprint("CancelOrder", command) != _fingerprint("IssueRefund", command)
    assert _fingerprint("CancelOrder", command) != refund_fingerprint(amount=None)


def test_cancel_fingerprint_differs_by_reason_and_order():
    base = _fingerprint("CancelOrder", cancel_command())

    assert _fingerprint("CancelOrder", cancel_command(reason=Reason.FRAUD)) != base
    assert _fingerprint("CancelOrder", cancel_command(order_number="ORD-1002")) != base
    assert _fingerprint("CancelOrder", cancel_command(request_id="REQ-9")) == base


def test_line_refunds_fingerprint_by_their_lines():
    one = (RefundLineRequest(quantity=1, line_number=1),)
    base = refund_fingerprint(amount=None, lines=one)

    assert refund_fingerprint(amount=None, lines=(RefundLineRequest(quantity=1, line_number=1),)) == base
    assert refund_fingerprint(amount=None, lines=(RefundLineRequest(quantity=2, line_number=1),)) != base
    assert refund_fingerprint(amount=None, lines=(RefundLineRequest(quantity=1, line_number=2),)) != base
    assert refund_fingerprint(amount=None, lines=(RefundLineRequest(quantity=1, sku="SKU-A"),)) != base
    assert refund_fingerprint(amount=None, lines=one + (RefundLineRequest(quantity=1, line_number=2),)) != base
    assert refund_fingerprint(amount=None) != base

