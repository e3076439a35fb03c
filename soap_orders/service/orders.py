"""Use cases on orders: find, read, cancel, refund, and the upsert behind imports.

Each use case is one unit of work. Actions that change an order are idempotent by RequestId: the
first result is stored in the same transaction as the change and replayed for the same id.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from ..documents import records
from ..domain import limits
from ..domain.errors import OrderNotFound, ValidationError
from ..domain.notifications import FlowEventType, snapshot
from ..domain.orders import (
    Decision,
    LineResult,
    Order,
    OrderStatus,
    Outcome,
    Reason,
    ReasonCode,
    Refund,
    RefundLineRequest,
)
from .idempotency import Caller, act_once, checked_request_id
from .notifications import queue_flow_events
from .ports import AuditRecord, Clock, OrderQuery, UnitOfWork

__all__ = ["Caller"]  # re-exported: the callers of these use cases name it from here

MAX_PAGE_SIZE = limits.MAX_PAGE_SIZE


@dataclass(frozen=True)
class FindOrdersByEmail:
    email: str
    status: OrderStatus | None = None
    placed_from: date | None = None
    placed_to: date | None = None
    page_size: int = 20
    page_number: int = 1


@dataclass(frozen=True)
class OrderPage:
    orders: list[Order]
    total_count: int
    page_number: int
    page_size: int

    @property
    def has_more(self) -> bool:
        return self.page_number * self.page_size < self.total_count


@dataclass(frozen=True)
class GetOrder:
    order_number: str
    email: str | None = None


@dataclass(frozen=True)
class CancelOrder:
    order_number: str
    request_id: str
    reason: Reason
    note: str | None = None


@dataclass(frozen=True)
class IssueRefund:
    order_number: str
    request_id: str
    reason: Reason
    amount: Decimal | None = None
    lines: tuple[RefundLineRequest, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class ActionResult:
    """What an action answered: a business outcome and the order as it stood afterwards."""

    outcome: Outcome
    reason_code: ReasonCode
    message: str
    order: Order
    refund: Refund | None = None
    #: Per requested line (line cancellations).
    lines: tuple[LineResult, ...] = ()
    #: What was only authorised and will no longer be charged (line cancellations).
    released_amount: Decimal | None = None
    #: The order created as a replacement.
    replacement_order_number: str | None = None
    #: The return created or updated.
    return_id: str | None = None

    @property
    def currency(self) -> str:
        return self.order.currency

    @property
    def refundable_amount(self) -> Decimal:
        return self.order.refundable_amount


class ActionCommand(Protocol):
    """What every action names: the order and the caller's RequestId (a frozen dataclass)."""

    @property
    def order_number(self) -> str: ...

    @property
    def request_id(self) -> str: ...


# ---------------------------------------------------------------------- queries


def normalize_email(email: str) -> str:
    email = (email or "").strip()
    if not email or "@" not in email or len(email) > limits.EMAIL:
        raise ValidationError("Email must be an email address of at most 254 characters.", "Email")
    return email


def find_orders_by_email(uow: UnitOfWork, query: FindOrdersByEmail) -> OrderPage:
    """A customer's orders, newest first, one page at a time; no match is an empty page."""
    email = normalize_email(query.email)
    if not 1 <= query.page_size <= MAX_PAGE_SIZE:
        raise ValidationError(f"PageSize must be between 1 and {MAX_PAGE_SIZE}.", "PageSize")
    if query.page_number < 1:
        raise ValidationError("PageNumber must be at least 1.", "PageNumber")
    if query.placed_from and query.placed_to and query.placed_from > query.placed_to:
        raise ValidationError("PlacedFrom must not be after PlacedTo.", "PlacedFrom")
    with uow:
        orders, total = uow.orders.find_by_email(
            OrderQuery(
                email=email,
                status=query.status,
                placed_from=query.placed_from,
                placed_to=query.placed_to,
                limit=query.page_size,
                offset=(query.page_number - 1) * query.page_size,
            )
        )
    return OrderPage(orders, total, query.page_number, query.page_size)


def get_order(uow: UnitOfWork, order_number: str, email: str | None = None) -> Order:
    """One order by number; when ``email`` is given it must be the customer's, else not found."""
    with uow:
        order = uow.orders.get(order_number.strip())
    if order is None:
        raise OrderNotFound()
    if email is not None and order.customer.email.lower() != normalize_email(email).lower():
        raise OrderNotFound()
    return order


# ---------------------------------------------------------------------- actions


def cancel_order(uow: UnitOfWork, command: CancelOrder, clock: Clock, caller: Caller) -> ActionResult:
    command = replace(command, order_number=command.order_number.strip(), note=_note(command.note))
    def act(order: Order, now: datetime) -> Decision:
        return order.cancel(
            reason=command.reason, now=now, request_id=command.request_id,
            refund_id=new_refund_id(), note=command.note,
        )

    return _act_once(uow, "CancelOrder", command, clock, caller, act)


def issue_refund(uow: UnitOfWork, command: IssueRefund, clock: Clock, caller: Caller) -> ActionResult:
    lines = tuple(replace(line, sku=line.sku.strip() if line.sku else None) for line in command.lines)
    command = replace(command, order_number=command.order_number.strip(), note=_note(command.note), lines=lines)
    def act(order: Order, now: datetime) -> Decision:
        return order.refund(
            reason=command.reason, now=now, request_id=command.request_id, refund_id=new_refund_id(),
            amount=command.amount, lines=command.lines, note=command.note,
        )

    return _act_once(uow, "IssueRefund", command, clock, caller, act)


def _note(note: str | None) -> str | None:
    """A note without surrounding whitespace; an empty one is no note."""
    return (note or "").strip() or None


def new_refund_id() -> str:
    return "RF-" + uuid.uuid4().hex[:16].upper()


def _act_once(
    uow: UnitOfWork,
    operation: str,
    command: ActionCommand,
    clock: Clock,
    caller: Caller,
    act: Callable[[Order, datetime], Decision],
    flows: Mapping[FlowEventType, str] | None = None,
) -> ActionResult:
    """Run ``act`` on the command's order once per RequestId (see :func:`.idempotency.act_once`): the
    result, the change, its events, a new order the decision created (a replacement), the audit
    records and, with ``flows``, the notifications the change calls for commit together."""
    request_id = checked_request_id(command.request_id)

    def execute(now: datetime) -> ActionResult:
        order = uow.orders.get(command.order_number, for_update=True)
        if order is None:
            raise OrderNotFound()
        before = snapshot(order) if flows else None
        decision = act(order, now)
        if before is not None and flows:
            queue_flow_events(uow, before, order, flows, now)
        replacement = decision.replacement
        result = ActionResult(
            decision.outcome, decision.reason_code, decision.message, order, decision.refund, decision.lines,
            decision.released_amount, replacement.order_number if replacement else None, decision.return_id,
        )
        outcome = f"{decision.outcome.value}/{decision.reason_code.value}"
        uow.audit.add(AuditRecord(now, caller.client, caller.address, operation, order.order_number, request_id,
                                  outcome, _audit_details(order)))
        if replacement is not None:
            uow.orders.add(replacement)
            uow.audit.add(AuditRecord(now, caller.client, caller.address, operation, replacement.order_number,
                                      request_id, "CREATED", _audit_details(replacement)))
        return result

    return act_once(uow, operation, command, clock, caller, execute, _result_to_record, _result_from_record)


def _audit_details(order: Order) -> dict[str, Any] | None:
    """The events the action recorded on ``order``, for the audit trail (None when there are none)."""
    if not order.events:
        return None
    return {"Events": [{"Type": event.name, **event.payload()} for event in order.events]}


def _result_to_record(result: ActionResult) -> dict[str, Any]:
    record: dict[str, Any] = {
        "Outcome": result.outcome.value,
        "ReasonCode": result.reason_code.value,
        "Message": result.message,
        "Refund": records.refund_to_record(result.refund, result.order.currency) if result.refund else None,
        "Order": records.order_to_record(result.order),
    }
    if result.lines:
        record["Lines"] = [
            {"Quantity": r.quantity, "LineNumber": r.line_number, "Sku": r.sku, "ReasonCode": r.reason_code.value,
             "Message": r.message}
            for r in result.lines
        ]
    if result.released_amount is not None:
        record["ReleasedAmount"] = f"{result.released_amount:f}"
    if result.replacement_order_number is not None:
        record["ReplacementOrderNumber"] = result.replacement_order_number
    if result.return_id is not None:
        record["ReturnId"] = result.return_id
    return record


def _result_from_record(record: dict[str, Any]) -> ActionResult:
    order = records.order_from_record(record["Order"])
    refund = None
    if record.get("Refund"):
        refund = records.refund_from_record(record["Refund"], order.currency)
    lines = tuple(
        LineResult(r["Quantity"], r["LineNumber"], r["Sku"], ReasonCode(r["ReasonCode"]), r["Message"])
        for r in record.get("Lines", ())
    )
    released = record.get("ReleasedAmount")
    return ActionResult(
        Outcome(record["Outcome"]), ReasonCode(record["ReasonCode"]), record["Message"], order, refund, lines,
        None if released is None else Decimal(released), record.get("ReplacementOrderNumber"), record.get("ReturnId"),
    )


# ---------------------------------------------------------------------- data in


#: Who feeds orders in when no API client is involved (``soap-orders import``).
IMPORT_CALLER = Caller("import")


@dataclass(frozen=True)
class UpsertSummary:
    created: int
    updated: int


def upsert_orders(
    uow: UnitOfWork, orders: Iterable[Order], clock: Clock, caller: Caller = IMPORT_CALLER,
    *, flows: Mapping[FlowEventType, str] | None = None,
) -> UpsertSummary:
    """Insert new orders and replace existing ones with the same number, in one transaction.

    With ``flows``, a replaced order's shipment, stock and return changes queue notifications
    (see ``service.notifications``) in the same transaction."""
    batch = list(orders)
    numbers = [order.order_number for order in batch]
    if len(set(numbers)) != len(numbers):
        raise ValidationError("The same OrderNumber appears twice in one batch.", "OrderNumber")
    created = updated = 0
    now = clock()
    with uow:
        existing = uow.orders.get_many(numbers, for_update=True)
        for order in batch:
            order.updated_at = order.updated_at or now
            current = existing.get(order.order_number)
            if current is None:
                uow.orders.add(order)
                created += 1
            else:
                if flows:
                    queue_flow_events(uow, current, order, flows, now)
                uow.orders.replace(current, order)
                updated += 1
            uow.audit.add(AuditRecord(now, caller.client, caller.address, "UpsertOrder", order.order_number, None,
                                      "CREATED" if current is None else "UPDATED"))
        uow.commit()
    return UpsertSummary(created, updated)
