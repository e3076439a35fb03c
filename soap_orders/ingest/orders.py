"""The ERP feeds orders in: a batch of order documents (``UpsertOrders``, ``soap-orders import``,
demo data), each created or merged into the stored order (merge, never erase) and answered on its
own, in one transaction, idempotent by RequestId.

The rules of the merge are the domain's (``domain.merge``); this module runs them over a batch:
one query reads and locks the stored orders, each document gets its result, and the change, its
events, audit records and notifications commit together.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..documents import records
from ..documents.orders import ORDER_NUMBER
from ..domain import limits
from ..domain.errors import IdempotencyConflict, ValidationError
from ..domain.merge import accept_new, merge_into
from ..domain.notifications import notified
from ..domain.orders import Order
from ..domain.upserts import UpsertOutcome, UpsertReasonCode
from ..service.idempotency import Caller, canonical
from ..service.notifications import queue_flow_events
from ..service.ports import AuditRecord, Clock, UnitOfWork

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
    set_based: bool = True,
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
    decided as for real and nothing is written (the transaction is rolled back).

    The batch's new orders are written together when it commits, with set-based statements
    (``OrderRepository.add_new``); with ``set_based`` False each is added to the unit of work on its
    own (the per-record path, which leaves the same rows: the tests hold the two side by side)."""
    batch = list(orders)
    return _upsert(uow, list(batch), clock, caller, request_id, lambda: _fingerprint_of(
        [records.order_to_record(order) for order in batch]), notify, fingerprints, dry_run, set_based)


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
    return _upsert(uow, prepared, clock, caller, request_id, lambda: _fingerprint_of(items), True, None, False, True)


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
    set_based: bool,
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
                    (uow.orders.add_new if set_based else uow.orders.add)(document)
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
