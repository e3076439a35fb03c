"""Orders and everything hanging off them (lines, shipments, returns, refunds), with the rules for acting on them.

Callers cancel an order while nothing has shipped, refund an amount or some lines, change the
shipping address, cancel lines and issue replacements, create and update returns; the ERP and the
warehouse record shipments, and each line's state follows its parcels.

:mod:`.model` holds the data and its invariants; :mod:`.fulfilment` the one rule of line state;
each family of actions has its module (:mod:`.cancelling`, :mod:`.address`, :mod:`.refunds`,
:mod:`.lines`, :mod:`.returns`, :mod:`.shipments`), and :class:`Order` joins them. Standard library
only, like the rest of the domain.
"""

from __future__ import annotations

from .address import Addressing
from .cancelling import Cancelling
from .fulfilment import (
    Fulfilment,
    LineState,
    Untracked,
    apply_fulfilment,
    derive_fulfilment,
    parcel_quantities,
    untracked_shipments,
)
from .lines import LineActions
from .model import (
    CAPTURED_STATUSES,
    DELIVERED_LINE_STATUSES,
    RETURN_TEXT_LIMITS,
    RETURN_TRANSITIONS,
    SHIPMENT_TEXT_LIMITS,
    SHIPPED_LINE_STATUSES,
    SHIPPED_ORDER_STATUSES,
    Address,
    Channel,
    Customer,
    Decision,
    FinancialStatus,
    LineResult,
    LineStatus,
    OrderLine,
    OrderStatus,
    OrderType,
    Origin,
    Outcome,
    Reason,
    ReasonCode,
    Refund,
    RefundLineRequest,
    RefundStatus,
    ReplacementReason,
    Return,
    ReturnItem,
    ReturnReason,
    ReturnRefundStatus,
    ReturnStatus,
    ReturnUpdate,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
    WarehouseStatus,
)
from .refunds import Refunding
from .returns import Returning
from .shipments import Shipping

__all__ = [
    "CAPTURED_STATUSES",
    "DELIVERED_LINE_STATUSES",
    "RETURN_TEXT_LIMITS",
    "RETURN_TRANSITIONS",
    "SHIPMENT_TEXT_LIMITS",
    "SHIPPED_LINE_STATUSES",
    "SHIPPED_ORDER_STATUSES",
    "Address",
    "Channel",
    "Customer",
    "Decision",
    "FinancialStatus",
    "Fulfilment",
    "LineResult",
    "LineState",
    "LineStatus",
    "Order",
    "OrderLine",
    "OrderStatus",
    "OrderType",
    "Origin",
    "Outcome",
    "Reason",
    "ReasonCode",
    "Refund",
    "RefundLineRequest",
    "RefundStatus",
    "ReplacementReason",
    "Return",
    "ReturnItem",
    "ReturnReason",
    "ReturnRefundStatus",
    "ReturnStatus",
    "ReturnUpdate",
    "Shipment",
    "ShipmentItem",
    "ShipmentStatus",
    "Untracked",
    "WarehouseStatus",
    "apply_fulfilment",
    "derive_fulfilment",
    "parcel_quantities",
    "untracked_shipments",
]


class Order(Cancelling, Addressing, LineActions, Returning, Refunding, Shipping):
    """An order: its data (:class:`.model.OrderState`) and every action on it."""
