"""The plain-data form of an order: a dict with the wire's PascalCase names.

It is what ``soap-orders import`` reads from JSON Lines (and from XML documents, once turned into
dicts), and what a stored idempotent result keeps of an order. ``order_from_record`` checks every
field's form and length and the order's own invariants; its errors name the field, never its value.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from ..domain import money
from ..domain.errors import DomainError
from ..domain.orders import (
    Address,
    Channel,
    Customer,
    FinancialStatus,
    LineStatus,
    Order,
    OrderLine,
    OrderStatus,
    OrderType,
    Reason,
    Refund,
    RefundStatus,
    Return,
    ReturnItem,
    ReturnRefundStatus,
    ReturnStatus,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
    WarehouseStatus,
)

#: Maximum lengths of string fields, shared with the wire schema's ``maxLength`` facets.
MAX_LEN = {
    "OrderNumber": 64,
    "RequestId": 64,
    "Email": 254,
    "FirstName": 100,
    "LastName": 100,
    "Phone": 32,
    "AddressName": 200,
    "Line1": 200,
    "Line2": 200,
    "City": 100,
    "Region": 100,
    "PostalCode": 20,
    "CountryCode": 2,
    "Currency": 3,
    "Sku": 64,
    "LineName": 255,
    "Url": 2048,
    "ShipmentId": 64,
    "CarrierName": 100,
    "CarrierCode": 64,
    "TrackingNumber": 64,
    "ReturnId": 64,
    "ReturnReason": 255,
    "RefundId": 64,
    "Note": 1000,
}

#: Fields of the order document that are computed from the others; accepted and ignored on input.
DERIVED = frozenset({"RefundedAmount", "RefundableAmount", "LineTotal", "ShippedAt"})


class RecordError(DomainError):
    """A record that cannot become an order; ``path`` names the field (``Lines[2].Quantity``)."""

    code = "INVALID_RECORD"

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}" if path else problem)
        self.path = path


# ---------------------------------------------------------------------- field converters


def _text(limit: str) -> Callable[[Any, str, str], str]:
    def convert(value: Any, path: str, _currency: str) -> str:
        if not isinstance(value, str):
            raise RecordError(path, "must be a string")
        value = value.strip()
        if not value:
            raise RecordError(path, "must not be empty")
        if len(value) > MAX_LEN[limit]:
            raise RecordError(path, f"is longer than {MAX_LEN[limit]} characters")
        if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value):
            raise RecordError(path, "contains control characters")
        return value

    return convert


def _integer(value: Any, path: str, _currency: str) -> int:
    if isinstance(value, bool):
        raise RecordError(path, "must be a whole number")
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?[0-9]{1,9}\s*", value):
        value = int(value)
    if not isinstance(value, int):
        raise RecordError(path, "must be a whole number")
    if not 0 <= value <= 1_000_000:
        raise RecordError(path, "must be between 0 and 1000000")
    return value


def _amount(value: Any, path: str, currency: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise RecordError(path, "must be a decimal number")
    try:
        return money.parse_amount(value, currency, field=path)
    except DomainError as exc:
        raise RecordError(path, exc.message.removeprefix(path).strip().rstrip(".")) from None


def _datetime(value: Any, path: str, _currency: str) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise RecordError(path, "must be an ISO 8601 date-time such as 2026-01-31T09:30:00Z") from None
    else:
        raise RecordError(path, "must be an ISO 8601 date-time")
    if parsed.tzinfo is None:
        raise RecordError(path, "must carry a time zone (Z for UTC)")
    return parsed.astimezone(timezone.utc)


def _boolean(value: Any, path: str, _currency: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    raise RecordError(path, "must be true or false")


def _date(value: Any, path: str, _currency: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise RecordError(path, "must be a date such as 2026-01-31") from None


def _enum(kind: type[enum.Enum]) -> Callable[[Any, str, str], Any]:
    def convert(value: Any, path: str, _currency: str) -> Any:
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(member.value for member in kind)
            raise RecordError(path, f"must be one of {allowed}") from None

    return convert


def _country(value: Any, path: str, currency: str) -> str:
    code = _text("CountryCode")(value, path, currency)
    if len(code) != 2 or not code.isascii() or not code.isupper():
        raise RecordError(path, "must be an ISO 3166-1 alpha-2 code such as GB")
    return code


@dataclass(frozen=True)
class _Field:
    wire: str
    attr: str
    convert: Callable[[Any, str, str], Any]
    required: bool = False


@dataclass(frozen=True)
class _Shape:
    """How one entity maps to a record: scalar fields, then nested shapes."""

    kind: Callable[..., Any]
    fields: tuple[_Field, ...]
    children: tuple[tuple[str, str, _Shape, bool], ...] = ()  # (wire, attr, shape, is_list)

    def load(self, record: Any, path: str, currency: str) -> Any:
        if not isinstance(record, dict):
            raise RecordError(path, "must be an object")
        known = {f.wire for f in self.fields} | {c[0] for c in self.children} | DERIVED
        for key in record:
            if key not in known:
                raise RecordError(_join(path, str(key)[:64]), "is not a field of this record")
        values: dict[str, Any] = {}
        for f in self.fields:
            value = record.get(f.wire)
            if value is None or value == "":
                if f.required:
                    raise RecordError(_join(path, f.wire), "is required")
                continue
            values[f.attr] = f.convert(value, _join(path, f.wire), currency)
        for wire, attr, shape, is_list in self.children:
            value = record.get(wire)
            if value is None:
                continue
            if is_list:
                if not isinstance(value, list):
                    raise RecordError(_join(path, wire), "must be a list")
                values[attr] = [
                    shape.load(item, f"{_join(path, wire)}[{i}]", currency) for i, item in enumerate(value, 1)
                ]
            else:
                values[attr] = shape.load(value, _join(path, wire), currency)
        return self.kind(**values)

    def dump(self, obj: Any, currency: str) -> dict[str, Any]:
        record: dict[str, Any] = {}
        for f in self.fields:
            value = getattr(obj, f.attr)
            if value is None or (value is False and f.convert is _boolean):
                continue
            # Amounts are written with their currency's places, however the database returned them.
            record[f.wire] = f"{money.quantize(value, currency):f}" if f.convert is _amount else _plain(value)
        for wire, attr, shape, is_list in self.children:
            value = getattr(obj, attr)
            if is_list:
                record[wire] = [shape.dump(item, currency) for item in value]
            elif value is not None:
                record[wire] = shape.dump(value, currency)
        return record


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


_ITEMS = _Shape(
    ShipmentItem, (_Field("Sku", "sku", _text("Sku"), True), _Field("Quantity", "quantity", _integer, True))
)
_RETURN_ITEMS = _Shape(ReturnItem, _ITEMS.fields)

_SHAPE = _Shape(
    Order,
    (
        _Field("OrderNumber", "order_number", _text("OrderNumber"), True),
        _Field("OrderType", "order_type", _enum(OrderType)),
        _Field("Channel", "channel", _enum(Channel)),
        _Field("Status", "status", _enum(OrderStatus)),
        _Field("FinancialStatus", "financial_status", _enum(FinancialStatus)),
        _Field("CreatedAt", "created_at", _datetime, True),
        _Field("UpdatedAt", "updated_at", _datetime),
        _Field("CancelledAt", "cancelled_at", _datetime),
        _Field("CancelReason", "cancel_reason", _enum(Reason)),
        _Field("Currency", "currency", _text("Currency"), True),
        _Field("Subtotal", "subtotal", _amount, True),
        _Field("ShippingTotal", "shipping_total", _amount),
        _Field("TaxTotal", "tax_total", _amount),
        _Field("DiscountTotal", "discount_total", _amount),
        _Field("Total", "total", _amount, True),
        _Field("ExpectedShipDate", "expected_ship_date", _date),
        _Field("ExpectedDeliveryDate", "expected_delivery_date", _date),
    ),
    (
        (
            "Customer",
            "customer",
            _Shape(
                Customer,
                (
                    _Field("Email", "email", _text("Email"), True),
                    _Field("FirstName", "first_name", _text("FirstName")),
                    _Field("LastName", "last_name", _text("LastName")),
                    _Field("Phone", "phone", _text("Phone")),
                ),
            ),
            False,
        ),
        (
            "ShippingAddress",
            "shipping_address",
            _Shape(
                Address,
                (
                    _Field("Name", "name", _text("AddressName")),
                    _Field("Line1", "line1", _text("Line1")),
                    _Field("Line2", "line2", _text("Line2")),
                    _Field("City", "city", _text("City")),
                    _Field("Region", "region", _text("Region")),
                    _Field("PostalCode", "postal_code", _text("PostalCode")),
                    _Field("CountryCode", "country_code", _country),
                    _Field("Phone", "phone", _text("Phone")),
                ),
            ),
            False,
        ),
        (
            "Lines",
            "lines",
            _Shape(
                OrderLine,
                (
                    _Field("LineNumber", "line_number", _integer, True),
                    _Field("Sku", "sku", _text("Sku"), True),
                    _Field("Name", "name", _text("LineName"), True),
                    _Field("Quantity", "quantity", _integer, True),
                    _Field("UnitPrice", "unit_price", _amount, True),
                    _Field("ImageUrl", "image_url", _text("Url")),
                    _Field("Status", "status", _enum(LineStatus)),
                    _Field("QuantityShipped", "quantity_shipped", _integer),
                    _Field("QuantityCancelled", "quantity_cancelled", _integer),
                    _Field("QuantityRefunded", "quantity_refunded", _integer),
                    _Field("QuantityReturned", "quantity_returned", _integer),
                    # Not part of the wire's Line type: an ERP flag that queues a notification.
                    _Field("OutOfStock", "out_of_stock", _boolean),
                ),
            ),
            True,
        ),
        (
            "Shipments",
            "shipments",
            _Shape(
                Shipment,
                (
                    _Field("ShipmentId", "shipment_id", _text("ShipmentId"), True),
                    _Field("CarrierName", "carrier_name", _text("CarrierName")),
                    _Field("CarrierCode", "carrier_code", _text("CarrierCode")),
                    _Field("TrackingNumber", "tracking_number", _text("TrackingNumber")),
                    _Field("TrackingUrl", "tracking_url", _text("Url")),
                    _Field("Status", "status", _enum(ShipmentStatus), True),
                    _Field("ShippedAt", "shipped_at", _datetime),
                    _Field("ExpectedDeliveryDate", "expected_delivery_date", _date),
                    _Field("DeliveredAt", "delivered_at", _datetime),
                ),
                (("Items", "items", _ITEMS, True),),
            ),
            True,
        ),
        (
            "Returns",
            "returns",
            _Shape(
                Return,
                (
                    _Field("ReturnId", "return_id", _text("ReturnId"), True),
                    _Field("Status", "status", _enum(ReturnStatus), True),
                    _Field("Reason", "reason", _text("ReturnReason")),
                    _Field("ReturnTrackingNumber", "return_tracking_number", _text("TrackingNumber")),
                    _Field("CarrierCode", "carrier_code", _text("CarrierCode")),
                    _Field("LabelUrl", "label_url", _text("Url")),
                    _Field("WarehouseStatus", "warehouse_status", _enum(WarehouseStatus)),
                    _Field("RefundStatus", "refund_status", _enum(ReturnRefundStatus)),
                    _Field("CreatedAt", "created_at", _datetime, True),
                ),
                (("Items", "items", _RETURN_ITEMS, True),),
            ),
            True,
        ),
        (
            "Refunds",
            "refunds",
            _Shape(
                Refund,
                (
                    _Field("RefundId", "refund_id", _text("RefundId"), True),
                    _Field("Amount", "amount", _amount, True),
                    _Field("Reason", "reason", _enum(Reason), True),
                    _Field("Status", "status", _enum(RefundStatus), True),
                    _Field("CreatedAt", "created_at", _datetime, True),
                    _Field("Note", "note", _text("Note")),
                ),
            ),
            True,
        ),
    ),
)

REFUND_SHAPE = _SHAPE.children[-1][2]


def order_from_record(record: Any) -> Order:
    """Build an order from its plain-data form, checking every field and the order's invariants."""
    if not isinstance(record, dict):
        raise RecordError("", "an order record must be an object")
    if record.get("Customer") is None:
        raise RecordError("Customer", "is required")
    currency = record.get("Currency")
    if not isinstance(currency, str) or currency.strip() not in money.ISO_4217:
        raise RecordError("Currency", "must be an ISO 4217 currency code such as EUR")
    order: Order = _SHAPE.load(record, "", currency.strip())
    try:
        order.check()
    except DomainError as exc:
        raise RecordError("", exc.message) from None
    return order


def order_to_record(order: Order) -> dict[str, Any]:
    return _SHAPE.dump(order, order.currency)


def refund_to_record(refund: Refund, currency: str) -> dict[str, Any]:
    return REFUND_SHAPE.dump(refund, currency)


def refund_from_record(record: dict[str, Any], currency: str) -> Refund:
    refund: Refund = REFUND_SHAPE.load(record, "Refund", currency)
    return refund
