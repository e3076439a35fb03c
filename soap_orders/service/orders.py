# Over 500 lines: the ERP's upsert ("data in" below) is the part to move to a module of its own, as subscription_upserts.py is for subscriptions.
"""Use cases on orders: find, read, cancel, refund, and the upsert behind imports.

Each use case is one unit of work. Actions that change an order are idempotent by RequestId: the
first result is stored in the same transaction as the change and replayed for the same id.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, Protocol, TypeVar

from ..documents import Document, Field, ListOf, records
from ..documents import orders as d
from ..documents.orders import ORDER_NUMBER
from ..domain import limits
from ..domain.errors import IdempotencyConflict, OrderNotFound, ValidationError
from ..domain.merge import accept_new, merge_into
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
from ..domain.upserts import UpsertOutcome, UpsertReasonCode
from .idempotency import Caller, act_once, canonical, checked_request_id, operation_of
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

    return act_once(uow, command, clock, caller, execute, _result_to_record, _result_from_record)


def _audit_details(order: Order) -> dict[str, Any] | None:
    """The events the action recorded on ``order``, for the audit trail (None when there are none)."""
    if not order.events:
        return None
    return {"Events": [{"Type": event.name, **event.payload()} for event in order.events]}


def _action_result(lines: list[LineResult] | None = None, **values: Any) -> ActionResult:
    return ActionResult(lines=tuple(lines or ()), **values)


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
    Field("Order", d.ORDER, required=True),
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


# ---------------------------------------------------------------------- data in


#: Who feeds orders in when no API client is involved (``soap-orders import``).
IMPORT_CALLER = Caller("import")


@dataclass(frozen=True)
class UpsertResult:
    """What became of one document: ``field`` names the field a refusal is about, ``changed`` the
    parts of an updated order that changed (wire names), ``order`` is the order as stored
    afterwards (None when refused, and in a replayed result)."""

    index: int  # 1-based position in the batch
    order_number: str | None  # None: a refused document without a valid number of its own
    outcome: UpsertOutcome
    reason_code: UpsertReasonCode
    message: str
    field: str | None = None
    order: Order | None = None
    changed: tuple[str, ...] = ()


@dataclass(frozen=True)
class UpsertOrders:
    """A batch of order documents from the ERP, in their record form, each checked on its own."""

    request_id: str
    orders: list[dict[str, Any]]


@dataclass(frozen=True)
class UpsertReport:
    """One result per document, in the order the documents were given."""

    results: tuple[UpsertResult, ...]

    def count(self, outcome: UpsertOutcome) -> int:
        return sum(1 for result in self.results if result.outcome is outcome)

    @property
    def created(self) -> int:
        return self.count(UpsertOutcome.CREATED)

    @property
    def updated(self) -> int:
        return self.count(UpsertOutcome.UPDATED)

    @property
    def unchanged(self) -> int:
        return self.count(UpsertOutcome.UNCHANGED)

    @property
    def rejected(self) -> int:
        return self.count(UpsertOutcome.REJECTED)


#: The operation a batch's RequestId is kept under, and the one each document is audited as.
UPSERT_OPERATION = UpsertOrders.__name__
UPSERT_AUDIT_OPERATION = "UpsertOrder"


def upsert_orders(
    uow: UnitOfWork,
    orders: Iterable[Order],
    clock: Clock,
    caller: Caller = IMPORT_CALLER,
    *,
    request_id: str | None = None,
    notify: bool = True,
    fingerprints: Sequence[str | None] | None = None,
    dry_run: bool = False,
) -> UpsertReport:
    """Create new orders and merge documents of stored ones (merge, never erase), in one transaction.

    Each document gets its own result; a refused one changes nothing and does not stop the others.
    Stored orders of the batch are read in one query and locked; only what differs is written. Each
    created or updated order gets an ``OrderUpserted`` event and an audit record (a refused document
    for a stored order gets an audit record too), committed with the change. With a ``request_id``
    the batch runs once per caller and id: a repeat replays the first results (without orders).
    An updated order's shipment, stock and return changes queue notifications (see
    ``service.notifications``) in the same transaction, unless ``notify`` is False (demo data,
    which is no news to a customer).

    ``fingerprints`` (one per order, from the importer) are kept beside the orders each accepted
    document left as they are (see ``unchanged_records``). With ``dry_run`` every result is
    decided as for real and nothing is written (the transaction is rolled back)."""
    batch = list(orders)
    return _upsert(uow, list(batch), clock, caller, request_id, lambda: _fingerprint_of(
        [records.order_to_record(order) for order in batch]), notify, fingerprints, dry_run)


def unchanged_records(uow: UnitOfWork, fingerprints: Mapping[str, str]) -> set[str]:
    """The order numbers (keys of ``fingerprints``: order number -> the fingerprint of a record of
    it) whose stored order was left as it is by the merge of a record of the same fingerprint, and
    has not been changed since by anything else: merging that record again would change nothing
    (merge, never erase, is idempotent), so it need not be read, checked or merged. One query."""
    if not fingerprints:
        return set()
    with uow:
        stored = uow.orders.feed_fingerprints(fingerprints)
    return {number for number, fingerprint in stored.items() if fingerprints.get(number) == fingerprint}


def upsert_records(
    uow: UnitOfWork,
    documents: Iterable[Any],
    clock: Clock,
    caller: Caller = IMPORT_CALLER,
    *,
    request_id: str | None = None,
) -> UpsertReport:
    """``upsert_orders`` for documents in their record form (dicts with the wire's names), as the
    SOAP and JSON operations receive them: a record that is not a valid order is REJECTED with
    ``INVALID_DOCUMENT`` in its place, and the others go on."""
    items = list(documents)
    prepared: list[Order | UpsertResult] = []
    for item in items:
        try:
            prepared.append(records.order_from_record(item))
        except records.RecordError as error:
            number = records.claimed(ORDER_NUMBER, item.get("OrderNumber") if isinstance(item, dict) else None)
            prepared.append(UpsertResult(len(prepared) + 1, number, UpsertOutcome.REJECTED,
                                         UpsertReasonCode.INVALID_DOCUMENT, error.message, error.path or None))
    return _upsert(uow, prepared, clock, caller, request_id, lambda: _fingerprint_of(items), True, None, False)


def _upsert(
    uow: UnitOfWork,
    batch: list[Order | UpsertResult],
    clock: Clock,
    caller: Caller,
    request_id: str | None,
    fingerprint_of_batch: Callable[[], str],
    notify: bool,
    fingerprints: Sequence[str | None] | None,
    dry_run: bool,
) -> UpsertReport:
    """Upsert the orders of ``batch``; its results (documents refused before) are kept in place."""
    fingerprint = None
    if request_id is not None:
        request_id = request_id.strip()
        if not 1 <= len(request_id) <= limits.REQUEST_ID:
            raise ValidationError("RequestId must be 1 to 64 characters.", "RequestId")
        fingerprint = fingerprint_of_batch()  # before merging, which consumes the documents
    now = clock()
    results: list[UpsertResult] = []
    audit: list[AuditRecord] = []
    with uow:
        if request_id is not None and fingerprint is not None:
            kept = uow.idempotency.claim(caller.client, request_id, UPSERT_OPERATION, fingerprint, now)
            if kept is not None:
                if kept.fingerprint != fingerprint:
                    raise IdempotencyConflict()
                return _upsert_report_from_record(kept.result)
        uow.act_as(caller.client)
        stored = uow.orders.get_many({item.order_number for item in batch if isinstance(item, Order)},
                                     for_update=True)
        if fingerprints is not None and len(fingerprints) != len(batch):
            raise ValueError("one fingerprint per document")
        for position, document in enumerate(batch):
            if isinstance(document, UpsertResult):
                results.append(document)
                continue
            current = stored.get(document.order_number)
            if current is None:
                decision = accept_new(document, now=now, request_id=request_id)
                if decision.accepted:
                    uow.orders.add(document)
                    stored[document.order_number] = current = document
            else:
                before = notified(current) if notify else None
                decision = merge_into(current, document, now=now, request_id=request_id)
                if before is not None and decision.outcome is UpsertOutcome.UPDATED:
                    queue_flow_events(uow, before, current, now)
            results.append(UpsertResult(
                position + 1, document.order_number, decision.outcome, decision.reason_code, decision.message, decision.field,
                current if decision.accepted else None, decision.changed,
            ))
            if fingerprints is not None and decision.accepted:
                # A document taken whole vouches for the order as it now is; so does one whose line
                # state was derived from its parcels (merging it again derives the same state and
                # changes nothing). One whose personal data was set aside does not: what it carries
                # is not what is stored.
                whole = decision.reason_code in (UpsertReasonCode.NONE, UpsertReasonCode.STATE_DERIVED)
                uow.orders.remember_fingerprint(document.order_number, fingerprints[position] if whole else None)
            if current is not None and decision.outcome is not UpsertOutcome.UNCHANGED:
                outcome = decision.outcome.value
                if decision.outcome is UpsertOutcome.REJECTED:
                    outcome += "/" + decision.reason_code.value
                audit.append(AuditRecord(now, caller.client, caller.address, UPSERT_AUDIT_OPERATION,
                                         document.order_number, request_id, outcome))
        uow.audit.add_many(audit)
        report = UpsertReport(tuple(results))
        if dry_run:
            uow.rollback()
            return report
        if request_id is not None:
            uow.idempotency.complete(caller.client, request_id, _upsert_report_to_record(report))
        uow.commit()
    return report


def _fingerprint_of(documents: list[Any]) -> str:
    """A digest of a batch's documents, insensitive to how numbers were written."""
    body = json.dumps([UPSERT_OPERATION, canonical(documents)], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def _upsert_report_to_record(report: UpsertReport) -> dict[str, Any]:
    return {"Results": [
        {"Index": r.index, "OrderNumber": r.order_number, "Outcome": r.outcome.value, "ReasonCode": r.reason_code.value,
         "Message": r.message, "Field": r.field, "Changed": list(r.changed)}
        for r in report.results
    ]}


def _upsert_report_from_record(record: dict[str, Any]) -> UpsertReport:
    return UpsertReport(tuple(
        UpsertResult(r.get("Index", index), r["OrderNumber"] or None, UpsertOutcome(r["Outcome"]), UpsertReasonCode(r["ReasonCode"]), r["Message"],
                     r.get("Field"), None, tuple(r.get("Changed") or ()))
        for index, r in enumerate(record["Results"], 1)  # results kept by 1.3 have no Index
    ))
