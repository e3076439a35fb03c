"""Builders for consistent orders in unit tests, and helpers to act on them.

``make_order()`` gives an EUR order of two lines that is PAID and PROCESSING, and that passes
``Order.check()``:

    line 1  SKU-A  2 x 10.00 = 20.00
    line 2  SKU-B  1 x 15.50 = 15.50
    Subtotal 35.50 + ShippingTotal 4.50 + TaxTotal 0 - DiscountTotal 0 = Total 40.00

Any field can be overridden; Subtotal and Total are recomputed from the lines and the other
amounts unless they are given explicitly.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from soap_orders.domain.orders import (
    Customer,
    Decision,
    FinancialStatus,
    LineStatus,
    Order,
    OrderLine,
    OrderStatus,
    Reason,
    Refund,
    RefundLineRequest,
    RefundStatus,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
)

CREATED_AT = datetime(2026, 1, 10, 9, 30, tzinfo=timezone.utc)
NOW = datetime(2026, 1, 12, 14, 0, tzinfo=timezone.utc)


def make_line(
    line_number: int = 1, sku: str | None = None, quantity: int = 1, unit_price: str | Decimal = "10.00", **overrides: Any
) -> OrderLine:
    return OrderLine(
        line_number=line_number,
        sku=sku or f"SKU-{line_number}",
        name=overrides.pop("name", f"Item {line_number}"),
        quantity=quantity,
        unit_price=Decimal(unit_price),
        **overrides,
    )


def default_lines() -> list[OrderLine]:
    return [
        make_line(1, "SKU-A", 2, "10.00", status=LineStatus.PROCESSING),
        make_line(2, "SKU-B", 1, "15.50", status=LineStatus.PROCESSING),
    ]


def make_order(**overrides: Any) -> Order:
    """A consistent order (see the module docstring); keyword arguments replace its fields."""
    lines = overrides.pop("lines", None)
    if lines is None:
        lines = default_lines()
    shipping = Decimal(overrides.pop("shipping_total", "4.50"))
    tax = Decimal(overrides.pop("tax_total", "0"))
    discount = Decimal(overrides.pop("discount_total", "0"))
    subtotal = overrides.pop("subtotal", None)
    subtotal = sum((line.line_total for line in lines), Decimal(0)) if subtotal is None else Decimal(subtotal)
    total = overrides.pop("total", None)
    total = subtotal + shipping + tax - discount if total is None else Decimal(total)
    fields: dict[str, Any] = {
        "order_number": "ORD-1001",
        "customer": Customer("ada@example.com", "Ada", "Lovelace"),
        "currency": "EUR",
        "created_at": CREATED_AT,
        "status": OrderStatus.PROCESSING,
        "financial_status": FinancialStatus.PAID,
    }
    fields.update(overrides)
    return Order(
        subtotal=subtotal,
        total=total,
        shipping_total=shipping,
        tax_total=tax,
        discount_total=discount,
        lines=lines,
        **fields,
    )


def make_refund(amount: str | Decimal, status: RefundStatus = RefundStatus.COMPLETED, refund_id: str = "RF-OLD-1") -> Refund:
    return Refund(refund_id, Decimal(amount), Reason.CUSTOMER, status, CREATED_AT + timedelta(days=1))


def add_shipment(
    order: Order, status: ShipmentStatus = ShipmentStatus.IN_TRANSIT, shipped_at: datetime | None = None
) -> Shipment:
    shipment = Shipment(
        f"SH-{len(order.shipments) + 1}",
        status,
        carrier_code="DHL",
        tracking_number="00340434",
        shipped_at=shipped_at,
        items=[ShipmentItem(line.sku, line.quantity) for line in order.lines],
    )
    order.shipments.append(shipment)
    return shipment


def mark_shipped(order: Order) -> Order:
    """Everything left the warehouse: shipped status, shipped quantities, a shipment in transit."""
    order.status = OrderStatus.SHIPPED
    for line in order.lines:
        line.status = LineStatus.SHIPPED
        line.quantity_shipped = line.quantity
    add_shipment(order, ShipmentStatus.IN_TRANSIT, NOW - timedelta(hours=5))
    return order


def cancel(order: Order, **overrides: Any) -> Decision:
    arguments: dict[str, Any] = {
        "reason": Reason.CUSTOMER, "now": NOW, "request_id": "REQ-CANCEL-1", "refund_id": "RF-NEW-1",
    }
    arguments.update(overrides)
    return order.cancel(**arguments)


def refund(order: Order, **overrides: Any) -> Decision:
    arguments: dict[str, Any] = {
        "reason": Reason.DAMAGED, "now": NOW, "request_id": "REQ-REFUND-1", "refund_id": "RF-NEW-1",
    }
    arguments.update(overrides)
    return order.refund(**arguments)


def by_number(line_number: int, quantity: int) -> RefundLineRequest:
    return RefundLineRequest(quantity=quantity, line_number=line_number)


def by_sku(sku: str, quantity: int) -> RefundLineRequest:
    return RefundLineRequest(quantity=quantity, sku=sku)


def plain(value: Any) -> Any:
    """Every field of a dataclass tree as nested dicts and lists (entities compare by identity)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def snapshot(order: Order) -> dict[str, Any]:
    """Everything a decision may change on an order, including the events recorded so far."""
    return {"order": plain(order), "events": list(order.events)}
