"""Wire types of the v1 contract (namespace ``urn:soap-orders:orders:v1``).

Every simple and complex type has an explicit name and namespace, so the WSDL never depends on
Python class names or declaration order. Required elements are ``minOccurs=1`` and not nillable;
optional ones are left out when empty; lists have explicit wrappers (``Orders/Order``).
"""

from __future__ import annotations

import enum
from typing import Any

from spyne import ComplexModel, Date, DateTime, Decimal, Integer, Unicode

from ..domain import money
from ..domain import orders as model
from ..service.records import MAX_LEN
from .ns import TNS

# ---------------------------------------------------------------------- simple types


def _string(name: str, limit: int, **facets: Any) -> Any:
    return Unicode.customize(type_name=name, __namespace__=TNS, max_len=limit, min_len=1, **facets)


def _enumeration(kind: type[enum.Enum], name: str | None = None) -> Any:
    return Unicode.customize(
        type_name=name or kind.__name__, __namespace__=TNS, values=[member.value for member in kind]
    )


OrderNumberType = _string("OrderNumber", MAX_LEN["OrderNumber"])
RequestIdType = _string("RequestId", MAX_LEN["RequestId"])
EmailType = _string("Email", MAX_LEN["Email"], pattern=r"\s*[^@\s]+@[^@\s]+\s*")
CurrencyType = _string("CurrencyCode", 3, pattern="[A-Z]{3}")
CountryType = _string("CountryCode", 2, pattern="[A-Z]{2}")
SkuType = _string("Sku", MAX_LEN["Sku"])
IdentifierType = _string("Identifier", 64)
PhoneType = _string("Phone", MAX_LEN["Phone"])
Text100 = _string("Text100", 100)
Text200 = _string("Text200", 200)
Text255 = _string("Text255", 255)
UrlType = _string("Url", MAX_LEN["Url"])
NoteType = _string("Note", MAX_LEN["Note"])
MessageType = _string("Message", 1000)

AmountType = Decimal.customize(
    type_name="Amount", __namespace__=TNS, total_digits=18, fraction_digits=money.MAX_DECIMAL_PLACES
)
PositiveAmountType = Decimal.customize(
    type_name="PositiveAmount", __namespace__=TNS, total_digits=18,
    fraction_digits=money.MAX_DECIMAL_PLACES, gt=0,
)
CountType = Integer.customize(type_name="Count", __namespace__=TNS, ge=0, le=1_000_000)
QuantityType = Integer.customize(type_name="Quantity", __namespace__=TNS, ge=1, le=1_000_000)
LineNumberType = Integer.customize(type_name="LineNumber", __namespace__=TNS, ge=0, le=1_000_000)
PageSizeType = Integer.customize(type_name="PageSize", __namespace__=TNS, ge=1, le=100)
PageNumberType = Integer.customize(type_name="PageNumber", __namespace__=TNS, ge=1, le=1_000_000)
DateType = Date.customize(type_name="Date", __namespace__=TNS)
TimestampType = DateTime.customize(type_name="Timestamp", __namespace__=TNS)

OrderStatusType = _enumeration(model.OrderStatus)
FinancialStatusType = _enumeration(model.FinancialStatus)
LineStatusType = _enumeration(model.LineStatus)
ShipmentStatusType = _enumeration(model.ShipmentStatus)
ReturnStatusType = _enumeration(model.ReturnStatus)
WarehouseStatusType = _enumeration(model.WarehouseStatus)
ReturnRefundStatusType = _enumeration(model.ReturnRefundStatus)
RefundStatusType = _enumeration(model.RefundStatus)
ReasonType = _enumeration(model.Reason)
OrderTypeType = _enumeration(model.OrderType)
ChannelType = _enumeration(model.Channel)
OutcomeType = _enumeration(model.Outcome)
ReasonCodeType = _enumeration(model.ReasonCode)


def required(kind: Any, **extra: Any) -> Any:
    """An element that is always present and never nil."""
    return kind.customize(min_occurs=1, nillable=False, type_name=kind.get_type_name(), **extra)


def optional(kind: Any, **extra: Any) -> Any:
    """An element left out when there is no value (never sent as xsi:nil)."""
    return kind.customize(min_occurs=0, nillable=False, type_name=kind.get_type_name(), **extra)


def many(kind: Any, limit: int | str = "unbounded") -> Any:
    """The repeated element inside a list wrapper."""
    return kind.customize(min_occurs=0, max_occurs=limit, nillable=False, type_name=kind.get_type_name())


class Model(ComplexModel):
    """Base of the contract's complex types."""

    __namespace__ = TNS


# ---------------------------------------------------------------------- the order document


class Customer(Model):
    __type_name__ = "Customer"
    _type_info = [
        ("Email", required(EmailType)),
        ("FirstName", optional(Text100)),
        ("LastName", optional(Text100)),
        ("Phone", optional(PhoneType)),
    ]


class Address(Model):
    __type_name__ = "Address"
    _type_info = [
        ("Name", optional(Text200)),
        ("Line1", optional(Text200)),
        ("Line2", optional(Text200)),
        ("City", optional(Text100)),
        ("Region", optional(Text100)),
        ("PostalCode", optional(_string("PostalCode", MAX_LEN["PostalCode"]))),
        ("CountryCode", optional(CountryType)),
        ("Phone", optional(PhoneType)),
    ]


class Line(Model):
    __type_name__ = "Line"
    _type_info = [
        ("LineNumber", required(LineNumberType)),
        ("Sku", required(SkuType)),
        ("Name", required(Text255)),
        ("Quantity", required(QuantityType)),
        ("UnitPrice", required(AmountType)),
        ("LineTotal", required(AmountType)),
        ("ImageUrl", optional(UrlType)),
        ("Status", required(LineStatusType)),
        ("QuantityShipped", required(CountType)),
        ("QuantityCancelled", required(CountType)),
        ("QuantityRefunded", required(CountType)),
        ("QuantityReturned", required(CountType)),
    ]


class Lines(Model):
    __type_name__ = "Lines"
    _type_info = [("Line", many(Line))]


class Item(Model):
    __type_name__ = "Item"
    _type_info = [("Sku", required(SkuType)), ("Quantity", required(QuantityType))]


class Items(Model):
    __type_name__ = "Items"
    _type_info = [("Item", many(Item))]


class Shipment(Model):
    __type_name__ = "Shipment"
    _type_info = [
        ("ShipmentId", required(IdentifierType)),
        ("CarrierName", optional(Text100)),
        ("CarrierCode", optional(IdentifierType)),
        ("TrackingNumber", optional(IdentifierType)),
        ("TrackingUrl", optional(UrlType)),
        ("Status", required(ShipmentStatusType)),
        ("ShippedAt", optional(TimestampType)),
        ("ExpectedDeliveryDate", optional(DateType)),
        ("DeliveredAt", optional(TimestampType)),
        ("Items", required(Items)),
    ]


class Shipments(Model):
    __type_name__ = "Shipments"
    _type_info = [("Shipment", many(Shipment))]


class Return(Model):
    __type_name__ = "Return"
    _type_info = [
        ("ReturnId", required(IdentifierType)),
        ("Status", required(ReturnStatusType)),
        ("Reason", optional(Text255)),
        ("ReturnTrackingNumber", optional(IdentifierType)),
        ("CarrierCode", optional(IdentifierType)),
        ("LabelUrl", optional(UrlType)),
        ("WarehouseStatus", required(WarehouseStatusType)),
        ("RefundStatus", required(ReturnRefundStatusType)),
        ("CreatedAt", required(TimestampType)),
        ("Items", required(Items)),
    ]


class Returns(Model):
    __type_name__ = "Returns"
    _type_info = [("Return", many(Return))]


class Refund(Model):
    __type_name__ = "Refund"
    _type_info = [
        ("RefundId", required(IdentifierType)),
        ("Amount", required(AmountType)),
        ("Reason", required(ReasonType)),
        ("Status", required(RefundStatusType)),
        ("CreatedAt", required(TimestampType)),
        ("Note", optional(NoteType)),
    ]


class Refunds(Model):
    __type_name__ = "Refunds"
    _type_info = [("Refund", many(Refund))]


class Order(Model):
    """A customer's order with its lines, shipments, returns and refunds."""

    __type_name__ = "Order"
    _type_info = [
        ("OrderNumber", required(OrderNumberType)),
        ("OrderType", required(OrderTypeType)),
        ("Channel", required(ChannelType)),
        ("Status", required(OrderStatusType)),
        ("FinancialStatus", required(FinancialStatusType)),
        ("CreatedAt", required(TimestampType)),
        ("UpdatedAt", optional(TimestampType)),
        ("CancelledAt", optional(TimestampType)),
        ("CancelReason", optional(ReasonType)),
        ("Currency", required(CurrencyType)),
        ("Subtotal", required(AmountType)),
        ("ShippingTotal", required(AmountType)),
        ("TaxTotal", required(AmountType)),
        ("DiscountTotal", required(AmountType)),
        ("Total", required(AmountType)),
        ("RefundedAmount", required(AmountType)),
        ("RefundableAmount", required(AmountType)),
        ("ExpectedShipDate", optional(DateType)),
        ("ExpectedDeliveryDate", optional(DateType)),
        ("ShippedAt", optional(TimestampType)),
        ("Customer", required(Customer)),
        ("ShippingAddress", optional(Address)),
        ("Lines", required(Lines)),
        ("Shipments", required(Shipments)),
        ("Returns", required(Returns)),
        ("Refunds", required(Refunds)),
    ]


class Orders(Model):
    __type_name__ = "Orders"
    _type_info = [("Order", many(Order, 100))]


# ---------------------------------------------------------------------- request parts


class RefundLine(Model):
    """One line of a per-line refund: LineNumber or Sku (or both, when they must agree)."""

    __type_name__ = "RefundLine"
    _type_info = [
        ("LineNumber", optional(LineNumberType)),
        ("Sku", optional(SkuType)),
        ("Quantity", required(QuantityType)),
    ]


class RefundLines(Model):
    __type_name__ = "RefundLines"
    _type_info = [("Line", RefundLine.customize(min_occurs=1, max_occurs=100, nillable=False, type_name="RefundLine"))]
