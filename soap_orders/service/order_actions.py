"""Use cases that act on an order for a customer or the warehouse: change the shipping address,
cancel some lines, send a replacement, open and move a return, record a shipment; and find orders by
tracking number.

Each action is one unit of work, idempotent by RequestId (see ``orders.act_on_order_once``): the decision,
the change, its domain events and an audit record commit together.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ..domain import limits
from ..domain.errors import ValidationError
from ..domain.orders import (
    Address,
    Decision,
    Order,
    Reason,
    RefundLineRequest,
    ReplacementReason,
    ReturnReason,
    ReturnUpdate,
    Shipment,
)
from ..domain.paging import page_window
from .orders import (
    ActionResult,
    Caller,
    OrderPage,
    act_on_order_once,
    clean_note,
    new_refund_id,
    normalize_email,
)
from .ports import Clock, TrackingQuery, UnitOfWork

#: Days after delivery within which a return may be opened, unless configured otherwise.
DEFAULT_RETURN_WINDOW_DAYS = 30

# A line of a request, by LineNumber or Sku, with a quantity.
LineRequest = RefundLineRequest


@dataclass(frozen=True)
class ChangeShippingAddress:
    order_number: str
    request_id: str
    address: Address


@dataclass(frozen=True)
class CancelOrderLines:
    order_number: str
    request_id: str
    reason: Reason
    lines: tuple[LineRequest, ...]
    note: str | None = None


@dataclass(frozen=True)
class IssueReplacement:
    order_number: str
    request_id: str
    reason: ReplacementReason
    lines: tuple[LineRequest, ...]
    note: str | None = None


@dataclass(frozen=True)
class CreateReturn:
    order_number: str
    request_id: str
    reason: ReturnReason
    lines: tuple[LineRequest, ...]
    return_tracking_number: str | None = None
    carrier_code: str | None = None
    label_url: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class UpdateReturn:
    order_number: str
    request_id: str
    return_id: str
    status: ReturnUpdate
    note: str | None = None


@dataclass(frozen=True)
class RecordShipment:
    order_number: str
    request_id: str
    shipment: Shipment


@dataclass(frozen=True)
class FindOrdersByTrackingNumber:
    tracking_number: str
    email: str | None = None
    page_size: int = 20
    page_number: int = 1


# ---------------------------------------------------------------------- actions


def change_shipping_address(
    uow: UnitOfWork, command: ChangeShippingAddress, clock: Clock, caller: Caller
) -> ActionResult:
    """Replace the shipping address while nothing has shipped (else REJECTED / ALREADY_SHIPPED)."""
    command = replace(command, order_number=command.order_number.strip())

    def act(order: Order, now: datetime) -> Decision:
        return order.change_shipping_address(command.address, now=now, request_id=command.request_id)

    return act_on_order_once(uow, command, clock, caller, act)


def cancel_order_lines(uow: UnitOfWork, command: CancelOrderLines, clock: Clock, caller: Caller) -> ActionResult:
    """Cancel unshipped quantities of some lines; refund (or release) what they cost."""
    command = replace(command, order_number=command.order_number.strip(), note=clean_note(command.note),
                      lines=_stripped(command.lines))

    def act(order: Order, now: datetime) -> Decision:
        return order.cancel_lines(
            command.lines, reason=command.reason, now=now, request_id=command.request_id,
            refund_id=new_refund_id(), note=command.note,
        )

    return act_on_order_once(uow, command, clock, caller, act)


def issue_replacement(uow: UnitOfWork, command: IssueReplacement, clock: Clock, caller: Caller) -> ActionResult:
    """Create a zero-charge replacement order for shipped items; its number is in the result."""
    command = replace(command, order_number=command.order_number.strip(), note=clean_note(command.note),
                      lines=_stripped(command.lines))

    def act(order: Order, now: datetime) -> Decision:
        return order.issue_replacement(
            command.lines, reason=command.reason, now=now, request_id=command.request_id,
            replacement_number=_replacement_number(uow, order), note=command.note,
        )

    return act_on_order_once(uow, command, clock, caller, act)


def create_return(
    uow: UnitOfWork,
    command: CreateReturn,
    clock: Clock,
    caller: Caller,
    return_window_days: int = DEFAULT_RETURN_WINDOW_DAYS,
) -> ActionResult:
    """Open a return for delivered items within ``return_window_days`` of delivery; the consumer
    is told (a return-update notification, queued with the return)."""
    command = replace(command, order_number=command.order_number.strip(), note=clean_note(command.note),
                      lines=_stripped(command.lines))

    def act(order: Order, now: datetime) -> Decision:
        return order.create_return(
            command.lines, reason=command.reason, now=now, window=timedelta(days=return_window_days),
            request_id=command.request_id, return_id=new_return_id(),
            return_tracking_number=command.return_tracking_number, carrier_code=command.carrier_code,
            label_url=command.label_url, note=command.note,
        )

    return act_on_order_once(uow, command, clock, caller, act, notify=True)


def update_return(uow: UnitOfWork, command: UpdateReturn, clock: Clock, caller: Caller) -> ActionResult:
    """Move a return to RECEIVED, INSPECTED, REFUNDED (refunding its lines) or REJECTED; the
    consumer is told (a return-update notification)."""
    return_id = command.return_id.strip()
    if not 1 <= len(return_id) <= limits.IDENTIFIER:
        raise ValidationError("ReturnId must be 1 to 64 characters.", "ReturnId")
    command = replace(command, order_number=command.order_number.strip(), note=clean_note(command.note),
                      return_id=return_id)

    def act(order: Order, now: datetime) -> Decision:
        return order.update_return(
            command.return_id, command.status, now=now, request_id=command.request_id,
            refund_id=new_refund_id(), note=command.note,
        )

    return act_on_order_once(uow, command, clock, caller, act, notify=True)


def record_shipment(uow: UnitOfWork, command: RecordShipment, clock: Clock, caller: Caller) -> ActionResult:
    """Create or update a shipment of the order as the ERP reports it (see ``Order.record_shipment``);
    a shipment that became DELAYED or DELIVERED queues its notification."""
    command = replace(command, order_number=command.order_number.strip())

    def act(order: Order, now: datetime) -> Decision:
        return order.record_shipment(command.shipment, now=now, request_id=command.request_id)

    return act_on_order_once(uow, command, clock, caller, act, notify=True)


def new_return_id() -> str:
    return "RMA-" + uuid.uuid4().hex[:16].upper()


def _replacement_number(uow: UnitOfWork, order: Order) -> str:
    """``<order>-R<n>`` for the next free n; a random number when that would be too long."""
    limit = limits.ORDER_NUMBER
    n = len(order.replacement_order_numbers) + 1
    for _ in range(100):
        candidate = f"{order.order_number}-R{n}"
        if len(candidate) > limit:
            break
        if candidate not in order.replacement_order_numbers and uow.orders.get(candidate) is None:
            return candidate
        n += 1
    return "R-" + uuid.uuid4().hex[:20].upper()


def _stripped(lines: tuple[LineRequest, ...]) -> tuple[LineRequest, ...]:
    return tuple(replace(line, sku=line.sku.strip() if line.sku else None) for line in lines)


# ---------------------------------------------------------------------- queries


def find_orders_by_tracking_number(uow: UnitOfWork, query: FindOrdersByTrackingNumber) -> OrderPage:
    """Orders whose outbound shipment or return carries this tracking number (exact, any case),
    newest first; with ``email``, only that customer's. No match is an empty page."""
    tracking = (query.tracking_number or "").strip()
    if not 1 <= len(tracking) <= limits.IDENTIFIER:
        raise ValidationError("TrackingNumber must be 1 to 64 characters.", "TrackingNumber")
    email = None if query.email is None else normalize_email(query.email)
    limit, offset = page_window(query.page_size, query.page_number)
    with uow:
        orders, total = uow.orders.find_by_tracking_number(TrackingQuery(tracking, email, limit, offset))
    return OrderPage(orders, total, query.page_number, query.page_size)
