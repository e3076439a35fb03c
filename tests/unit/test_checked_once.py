"""An order read from a record is checked as it is read; accepting it checks it again only when
something the check reads was set since (``Order.check_unless_checked``)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from soap_orders.documents.records import order_from_record
from soap_orders.domain.merge import accept_new, merge_into
from soap_orders.domain.orders import (
    Order,
    OrderLine,
    Reason,
    Refund,
    RefundStatus,
    Shipment,
    ShipmentStatus,
)
from soap_orders.domain.upserts import UpsertOutcome, UpsertReasonCode
from tests.records import order_record
from tests.unit.factories import CREATED_AT, NOW, make_order


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The order numbers ``Order.check`` runs on, in order."""
    seen: list[str] = []
    original = Order.check

    def counted(self: Order) -> None:
        seen.append(self.order_number)
        original(self)

    monkeypatch.setattr(Order, "check", counted)
    return seen


def test_an_order_accepted_as_read_is_checked_once(checks: list[str]) -> None:
    order = order_from_record(order_record("T-ONCE-1"))
    result = accept_new(order, now=NOW)
    assert result.outcome is UpsertOutcome.CREATED
    assert checks == ["T-ONCE-1"]


def test_an_order_never_checked_is_checked_when_accepted(checks: list[str]) -> None:
    order = make_order(order_number="T-ONCE-2", total=Decimal("1.00"))
    result = accept_new(order, now=NOW)
    assert checks == ["T-ONCE-2"]
    assert (result.outcome, result.reason_code, result.field) == (
        UpsertOutcome.REJECTED, UpsertReasonCode.INVALID_DOCUMENT, "Total")


def _set_line(name: str, value: Any) -> Callable[[Order], None]:
    return lambda order: setattr(order.lines[0], name, value)


#: Changes made to an order after it was read, each one that the check refuses: (change, field).
CHANGES: dict[str, tuple[Callable[[Order], None], str]] = {
    "order number emptied": (lambda order: setattr(order, "order_number", " "), "OrderNumber"),
    "currency unknown": (lambda order: setattr(order, "currency", "XXX"), "Currency"),
    "email replaced": (lambda order: setattr(order.customer, "email", "no-at-sign"), "Email"),
    "total": (lambda order: setattr(order, "total", Decimal("99.00")), "Total"),
    "subtotal": (lambda order: setattr(order, "subtotal", Decimal("1.00")), "Subtotal"),
    "shipping": (lambda order: setattr(order, "shipping_total", Decimal("-1.00")), "ShippingTotal"),
    "tax": (lambda order: setattr(order, "tax_total", Decimal("1.001")), "TaxTotal"),
    "discount": (lambda order: setattr(order, "discount_total", Decimal("5.00")), "Total"),
    "unit price": (_set_line("unit_price", Decimal("11.00")), "Subtotal"),
    "quantity": (_set_line("quantity", 3), "Subtotal"),
    "line number repeated": (_set_line("line_number", 2), "LineNumber"),
    "shipped over the quantity": (_set_line("quantity_shipped", 5), "QuantityShipped"),
    "cancelled over the quantity": (_set_line("quantity_cancelled", 5), "QuantityCancelled"),
    "refunded over the quantity": (_set_line("quantity_refunded", 5), "QuantityRefunded"),
    "returned over the quantity": (_set_line("quantity_returned", 5), "QuantityReturned"),
    "replaced over the quantity": (_set_line("quantity_replaced", 5), "QuantityReplaced"),
    "line added": (lambda order: order.lines.append(
        OrderLine(1, "MUG-RED", "Red mug", 1, Decimal("10.00"))), "LineNumber"),
    "line replaced": (lambda order: order.lines.__setitem__(
        0, OrderLine(1, "MUG-RED", "Red mug", 1, Decimal("10.00"))), "Subtotal"),
    "refund added": (lambda order: order.refunds.append(
        Refund("RF-1", Decimal("40.00"), Reason.CUSTOMER, RefundStatus.COMPLETED, CREATED_AT)), "Refunds"),
    "shipment repeated": (lambda order: order.shipments.extend(
        [Shipment("SH-1", ShipmentStatus.IN_TRANSIT), Shipment("SH-1", ShipmentStatus.IN_TRANSIT)]), "ShipmentId"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_an_order_changed_after_it_was_read_is_checked_again(checks: list[str], change: str) -> None:
    order = order_from_record(order_record("T-AGAIN-1"))
    alter, field = CHANGES[change]
    alter(order)
    result = accept_new(order, now=NOW)
    assert len(checks) == 2
    assert (result.outcome, result.reason_code, result.field) == (
        UpsertOutcome.REJECTED, UpsertReasonCode.INVALID_DOCUMENT, field), result.message


def test_an_equal_value_set_again_is_checked_again(checks: list[str]) -> None:
    """Only the very values checked are trusted: an equal total written with fewer places is
    checked (and so written with the currency's places) again."""
    order = order_from_record(order_record("T-AGAIN-2"))
    order.total = Decimal("30.0")
    assert accept_new(order, now=NOW).outcome is UpsertOutcome.CREATED
    assert checks == ["T-AGAIN-2", "T-AGAIN-2"]
    assert str(order.total) == "30.00"


def test_a_refund_changed_after_the_check_is_checked_again(checks: list[str]) -> None:
    record = order_record("T-AGAIN-3", Refunds=[
        {"RefundId": "RF-1", "Amount": "5.00", "Reason": "CUSTOMER", "Status": "FAILED",
         "CreatedAt": "2026-03-02T10:00:00Z"}])
    order = order_from_record(record)
    order.refunds[0].amount = Decimal("0.00")
    result = accept_new(order, now=NOW)
    assert checks == ["T-AGAIN-3", "T-AGAIN-3"]
    assert result.outcome is UpsertOutcome.REJECTED
    assert "Refund Amount" in result.message


def test_a_document_merged_as_read_is_checked_once_and_again_when_changed(checks: list[str]) -> None:
    stored = order_from_record(order_record("T-MERGE-1"))
    assert accept_new(stored, now=NOW).accepted
    incoming = order_from_record(order_record("T-MERGE-1", Status="ON_HOLD"))
    assert merge_into(stored, incoming, now=NOW).outcome is UpsertOutcome.UPDATED
    assert checks == ["T-MERGE-1", "T-MERGE-1"]  # each read once, neither again

    changed = order_from_record(order_record("T-MERGE-1", Status="PENDING"))
    changed.lines[0].quantity = 3
    result = merge_into(stored, changed, now=NOW)
    assert checks[2:] == ["T-MERGE-1", "T-MERGE-1"]
    assert (result.outcome, result.field) == (UpsertOutcome.REJECTED, "Subtotal")
