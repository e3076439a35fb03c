"""The kept-written documents of an order, written in one pass (``documents.rendered``), are byte
for byte the XML of ``documents.xml`` and the JSON of ``documents.records.dump``."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timezone
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from soap_orders.demo import build_orders
from soap_orders.documents.orders import ORDER
from soap_orders.documents.records import (
    Rendered,
    dump,
    order_from_record,
    order_to_record,
)
from soap_orders.documents.rendered import render_order
from soap_orders.documents.xml import document_writer
from soap_orders.domain.merge import accept_new
from soap_orders.domain.orders import Address, Order, Reason, Refund, RefundStatus
from tests.records import order_record
from tests.unit.factories import CREATED_AT, NOW


def written_apart(order: Order) -> tuple[str, str]:
    out: list[str] = []
    document_writer(ORDER)(order, None, out)
    return "".join(out), json.dumps(dump(ORDER, order), ensure_ascii=False, separators=(",", ":"))


def assert_same(order: Order) -> None:
    rendered = render_order(order)
    xml, text = written_apart(order)
    assert rendered.xml == xml
    assert rendered.json == text


@pytest.mark.parametrize("seed", [3, 7])
def test_demo_orders_are_written_alike(seed: int) -> None:
    for order in build_orders(150, seed):
        assert_same(order)
        read = order_from_record(order_to_record(order))  # as an import reads it, then accepts it
        accept_new(read, now=NOW)
        assert_same(read)


def _record(**overrides: Any) -> Order:
    return order_from_record(order_record("T-PASS-1", **overrides))


#: Orders whose parts are written in each way the two writers share: (name, how it is made).
ODD_ORDERS: dict[str, Callable[[], Order]] = {
    "markup and a carriage return in texts": lambda: _record(
        Customer={"Email": "a&b@example.com", "FirstName": "<Ann>", "LastName": "O'Lee \"Jr\""},
        ShippingAddress={"Name": "Ann\r\nLee", "Line1": "1 > 0 & 2 < 3", "CountryCode": "FR"}),
    "text beyond ASCII": lambda: _record(
        Customer={"Email": "zoë@example.com", "FirstName": "Zoë", "LastName": "Łukasz 李"}),
    "no shipping address": lambda: _record(ShippingAddress=None),
    "the flags set": lambda: _record(ReplaceIdentity=True, Lines=[
        {"LineNumber": 1, "Sku": "MUG-RED", "Name": "Red mug", "Quantity": 2, "UnitPrice": "10.00",
         "OutOfStock": True},
        {"LineNumber": 2, "Sku": "TEA-001", "Name": "Green tea", "Quantity": 1, "UnitPrice": "5.50"}]),
    "replacement numbers": lambda: _record(ReplacementOrderNumbers=["T-R-1", "T-R-2"], ReplacesOrderNumber="T-0"),
    "a currency of no places": lambda: _record(
        Currency="JPY", Subtotal="2550", ShippingTotal="450", Total="3000", Lines=[
            {"LineNumber": 1, "Sku": "MUG-RED", "Name": "Red mug", "Quantity": 2, "UnitPrice": "1000"},
            {"LineNumber": 2, "Sku": "TEA-001", "Name": "Green tea", "Quantity": 1, "UnitPrice": "550"}]),
}


@pytest.mark.parametrize("name", sorted(ODD_ORDERS))
def test_odd_orders_are_written_alike(name: str) -> None:
    assert_same(ODD_ORDERS[name]())


def test_values_of_other_types_are_written_alike() -> None:
    """Amounts not yet decimals, an address of nothing, an expected date and a refund."""
    order = _record()
    order.shipping_total = 4.5  # type: ignore[assignment]
    order.tax_total = "0"  # type: ignore[assignment]
    order.shipping_address = Address()
    order.expected_ship_date = date(2026, 3, 3)
    order.updated_at = datetime(2026, 3, 2, 11, 0, tzinfo=timezone.utc)
    order.refunds.append(Refund("RF-1", Decimal("1.5"), Reason.CUSTOMER, RefundStatus.PENDING, CREATED_AT, "a & b"))
    assert_same(order)


def test_parts_kept_written_are_written_alike() -> None:
    """A line already written (a ``Rendered`` in the list) is copied into both forms."""
    order = _record()
    line = order_from_record(order_record("T-PASS-2")).lines[0]
    out: list[str] = []
    document_writer(ORDER.field("Lines").kind.item, "Line")(line, "EUR", out)  # type: ignore[union-attr]
    kept = Rendered("".join(out), json.dumps(dump(ORDER.field("Lines").kind.item, line, "EUR"),  # type: ignore[union-attr,arg-type]
                                              ensure_ascii=False, separators=(",", ":")))
    # Read as the answers hold it: a plain object with the order's values (a mapped order's list
    # holds only lines).
    holder = SimpleNamespace(**{field.attribute: getattr(order, field.attribute) for field in ORDER.fields})
    holder.lines = [kept, *order.lines[1:]]
    assert_same(holder)  # type: ignore[arg-type]


def test_a_naive_time_is_refused_as_before() -> None:
    order = _record()
    order.updated_at = datetime(2026, 3, 2, 11, 0)
    with pytest.raises(ValueError):
        written_apart(order)
    with pytest.raises(ValueError):
        render_order(order)
