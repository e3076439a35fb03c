"""Use cases on orders: find, read, cancel and refund (the ERP's upserts are in ``ingest.orders``).

Each use case is one unit of work. Actions that change an order are idempotent by RequestId: the
first result is stored in the same transaction as the change and replayed for the same id.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, Protocol, TypeVar

from ..documents import Document, Field, ListOf, records
from ..documents import orders as d
from ..documents.records import Rendered
from ..domain import limits
from ..domain.errors import OrderNotFound, ValidationError
from ..domain.notifications import notified
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
from ..domain.paging import has_more, page_window
from .idempotency import Caller, act_once, checked_request_id, operation_of
from .notifications import queue_flow_events
from .ports import AuditRecord, Clock, OrderDocuments, OrderQuery, UnitOfWork

__all__ = ["Caller"]  # re-exported: the callers of these use cases name it from here



@dataclass(frozen=True)
class FindOrdersByEmail:
    email: str
    status: OrderStatus | None = None
    placed_from: date | None = None
    placed_to: date | None = None
    page_size: int = 20
    page_number: int = 1


#: An order's kept-written document (see ports.OrderDocuments).
W = TypeVar("W")


@dataclass(frozen=True)
class OrderPage(Generic[W]):
    #: The orders, or their kept-written documents (what answers carry).
    orders: Sequence[Order | W]
    total_count: int
    page_number: int
    page_size: int

    @property
    def has_more(self) -> bool:
        return has_more(self.page_number, self.page_size, self.total_count)


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
    #: The order's document as the action's commit kept it written (None when replayed).
    document: Rendered | None = None

    @property
    def answered_order(self) -> Order | Rendered:
        """What answers show of the order: its kept-written document when there is one, written
        from the order once, at commit."""
        return self.document if self.document is not None else self.order

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


def find_orders_by_email(uow: UnitOfWork, query: FindOrdersByEmail,
                         documents: OrderDocuments[W] | None = None) -> OrderPage[W]:
    """A customer's orders, newest first, one page at a time; no match is an empty page. Given
    ``documents``, the page holds the orders' kept-written documents when all are current."""
    email = normalize_email(query.email)
    limit, offset = page_window(query.page_size, query.page_number)
    if query.placed_from and query.placed_to and query.placed_from > query.placed_to:
        raise ValidationError("PlacedFrom must not be after PlacedTo.", "PlacedFrom")
    wanted = OrderQuery(
        email=email,
        status=query.status,
        placed_from=query.placed_from,
        placed_to=query.placed_to,
        limit=limit,
        offset=offset,
    )
    found = documents.order_documents_by_email(wanted) if documents is not None else None
    if found is not None:
        return OrderPage(found[0], found[1], query.page_number, query.page_size)
    with uow:
        orders, total = uow.orders.find_by_email(wanted)
    return OrderPage(orders, total, query.page_number, query.page_size)


def get_order_document(documents: OrderDocuments[W], uow: UnitOfWork, order_number: str,
                       email: str | None = None) -> Order | W:
    """One order's kept-written document (the order itself when it has no current one); when
    ``email`` is given it must be the customer's, else not found."""
    found = documents.order_document(order_number.strip())
    if found is None:
        return get_order(uow, order_number, email)
    customer_email, document = found
    if email is not None and customer_email.lower() != normalize_email(email).lower():
        raise OrderNotFound()
    return document


def write_missing_documents(uow: Callable[[], UnitOfWork], batch: int = 500) -> int:
    """Write the documents of every order that has none, or an out-of-date one (after a release
    that changed the document); returns how many were written. Safe to run while serving."""
    written = 0
    while True:
        with uow() as unit:
            numbers = unit.orders.without_current_document(batch)
            if not numbers:
                return written
            unit.orders.get_many(numbers, for_update=True)  # tracked, so commit writes them
            unit.commit()
        written += len(numbers)


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
    command = replace(command, order_number=command.order_number.strip(), note=clean_note(command.note))
    def act(order: Order, now: datetime) -> Decision:
        return order.cancel(
            reason=command.reason, now=now, request_id=command.request_id,
            refund_id=new_refund_id(), note=command.note,
        )

    return act_on_order_once(uow, command, clock, caller, act)


def issue_refund(uow: UnitOfWork, command: IssueRefund, clock: Clock, caller: Caller) -> ActionResult:
    lines = tuple(replace(line, sku=line.sku.strip() if line.sku else None) for line in command.lines)
    command = replace(command, order_number=command.order_number.strip(), note=clean_note(command.note), lines=lines)
    def act(order: Order, now: datetime) -> Decision:
        return order.refund(
            reason=command.reason, now=now, request_id=command.request_id, refund_id=new_refund_id(),
            amount=command.amount, lines=command.lines, note=command.note,
        )

    return act_on_order_once(uow, command, clock, caller, act)


def clean_note(note: str | None) -> str | None:
    """A note without surrounding whitespace; an empty one is no note."""
    return (note or "").strip() or None


def new_refund_id() -> str:
    return "RF-" + uuid.uuid4().hex[:16].upper()


def act_on_order_once(
    uow: UnitOfWork,
    command: ActionCommand,
    clock: Clock,
    caller: Caller,
    act: Callable[[Order, datetime], Decision],
    notify: bool = False,
) -> ActionResult:
    """Run ``act`` on the command's order once per RequestId (see :func:`.idempotency.act_once`): the
    result, the change, its events, a new order the decision created (a replacement), the audit
    records and, with ``notify`` (actions that move shipments or returns), the notifications the
    change calls for commit together. The RequestId is kept under, and the audit records name, the
    command's operation."""
    request_id = checked_request_id(command.request_id)
    operation = operation_of(command)

    def execute(now: datetime) -> ActionResult:
        order = uow.orders.get(command.order_number, for_update=True)
        if order is None:
            raise OrderNotFound()
        before = notified(order) if notify else None
        decision = act(order, now)
        if before is not None:
            queue_flow_events(uow, before, order, now)
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

    def with_document(result: ActionResult) -> ActionResult:
        document = uow.orders.written_document(result.order)
        return result if document is None else replace(result, document=document)

    def dump(result: ActionResult) -> dict[str, Any]:
        return _result_to_record(with_document(result))

    return with_document(act_once(uow, command, clock, caller, execute, dump, _result_from_record))


def _audit_details(order: Order) -> dict[str, Any] | None:
    """The events the action recorded on ``order``, for the audit trail (None when there are none)."""
    if not order.events:
        return None
    return {"Events": [{"Type": event.name, **event.payload()} for event in order.events]}


def _action_result(answered_order: Order, lines: list[LineResult] | None = None, **values: Any) -> ActionResult:
    return ActionResult(order=answered_order, lines=tuple(lines or ()), **values)


def _line_result(line_number: int | None = None, sku: str | None = None, **values: Any) -> LineResult:
    return LineResult(line_number=line_number, sku=sku, **values)


#: How an action's result is kept under its RequestId, and read back to be replayed: the parts of
#: the answers by their wire names, the order in its stored form (rows kept before this
#: declaration have the same form).
STORED_ACTION_RESULT = Document("StoredActionResult", (
    Field("Outcome", d.OUTCOME, required=True),
    Field("ReasonCode", d.REASON_CODE, required=True),
    Field("Message", d.MESSAGE, required=True),
    Field("Refund", d.REFUND),
    # The kept-written document when there is one (the same record as the order's own).
    Field("Order", d.ORDER, attr="answered_order", required=True),
    Field("Lines", ListOf("LineResults", "Line", Document("LineResult", d.LINE_RESULT.fields, _line_result))),
    Field("ReleasedAmount", d.AMOUNT),
    Field("ReplacementOrderNumber", d.ORDER_NUMBER),
    Field("ReturnId", d.IDENTIFIER),
), _action_result)


def _result_to_record(result: ActionResult) -> dict[str, Any]:
    return records.dump(STORED_ACTION_RESULT, result)


def _result_from_record(record: dict[str, Any]) -> ActionResult:
    result: ActionResult = records.load(STORED_ACTION_RESULT, record, "", record["Order"]["Currency"])
    return result
