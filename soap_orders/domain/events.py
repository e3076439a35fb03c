"""Events the domain records when an order changes; appended to the order event log in the same
transaction as the change, and read back by ERP systems as a change feed."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class OrderEvent:
    order_number: str
    occurred_at: datetime

    @property
    def name(self) -> str:
        return type(self).__name__

    def payload(self) -> dict[str, Any]:
        """The event's own data as JSON-ready values (decimals and datetimes as strings)."""
        return own_data(self, "order_number", "occurred_at")


def own_data(event: Any, *subject: str) -> dict[str, Any]:
    """An event's fields but its ``subject`` ones (what it is about and when), JSON-ready."""
    data = asdict(event)
    for name in subject:
        del data[name]
    return {key: json_ready(value) for key, value in data.items()}


def json_ready(value: Any) -> Any:
    """A value of an event as JSON holds it: decimals, dates and times as strings, enumerations by
    value, inside lists and tuples too."""
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, date):  # and datetime
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return type(value)(json_ready(item) for item in value)
    if hasattr(value, "value"):  # enumerations
        return value.value
    return value


@dataclass(frozen=True)
class OrderCancelled(OrderEvent):
    reason: str
    note: str | None
    request_id: str
    refund_id: str | None
    refund_amount: Decimal | None


@dataclass(frozen=True)
class RefundIssued(OrderEvent):
    refund_id: str
    amount: Decimal
    currency: str
    reason: str
    note: str | None
    request_id: str
    lines: tuple[tuple[int, int], ...]  # (line number, quantity) for line refunds


@dataclass(frozen=True)
class ShippingAddressChanged(OrderEvent):
    request_id: str
    old_address: dict[str, str | None] | None
    new_address: dict[str, str | None]


@dataclass(frozen=True)
class OrderLinesCancelled(OrderEvent):
    request_id: str
    reason: str
    note: str | None
    lines: tuple[tuple[int, int], ...]  # (line number, quantity cancelled)
    refund_id: str | None  # the refund issued for them (its RefundIssued event carries the money)
    released_amount: Decimal | None  # what was only authorised and no longer will be charged
    order_cancelled: bool


@dataclass(frozen=True)
class ReplacementIssued(OrderEvent):
    request_id: str
    replacement_order_number: str
    reason: str
    note: str | None
    lines: tuple[tuple[int, int], ...]  # (line number of this order, quantity replaced)


@dataclass(frozen=True)
class ReplacementOrderCreated(OrderEvent):
    request_id: str
    replaces_order_number: str
    reason: str


@dataclass(frozen=True)
class ReturnCreated(OrderEvent):
    request_id: str
    return_id: str
    reason: str
    note: str | None
    lines: tuple[tuple[int, int], ...]  # (line number, quantity returned)
    return_tracking_number: str | None
    carrier_code: str | None
    label_url: str | None


@dataclass(frozen=True)
class ReturnUpdated(OrderEvent):
    request_id: str
    return_id: str
    old_status: str
    new_status: str
    note: str | None
    refund_id: str | None


@dataclass(frozen=True)
class OrderUpserted(OrderEvent):
    """The ERP's document of the order was stored: ``outcome`` CREATED or UPDATED, and for an
    update the wire names of the parts that changed."""

    outcome: str
    request_id: str | None
    changed: tuple[str, ...]


@dataclass(frozen=True)
class ShipmentRecorded(OrderEvent):
    """The ERP recorded a shipment (``old_status`` None when it is new) or updated one; ``items``
    are what it carries afterwards, per SKU, and the order's status before and after."""

    request_id: str
    shipment_id: str
    old_status: str | None
    new_status: str
    items: tuple[tuple[str, int], ...]
    tracking_number: str | None
    carrier_code: str | None
    old_order_status: str
    new_order_status: str


@dataclass(frozen=True)
class CustomerForgotten(OrderEvent):
    """The customer's personal data on the order was replaced by ``pseudonym`` at their request
    (the data itself is never in the feed): the ERP should forget it on its side too."""

    request_id: str
    pseudonym: str
