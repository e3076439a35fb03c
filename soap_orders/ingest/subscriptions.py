"""The ERP feeds subscriptions in: a batch of documents (``UpsertSubscriptions``, ``soap-orders
import``), each created or merged into the stored subscription and answered on its own, in one
transaction, idempotent by RequestId."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ..documents import records
from ..documents import subscriptions as forms
from ..documents.records import RecordError
from ..domain.errors import ValidationError
from ..domain.privacy import keep_subscription_forgotten
from ..domain.subscription_events import SubscriptionUpserted
from ..domain.subscriptions import MAX_UPSERT_BATCH, MergeRefused, Subscription
from ..domain.upserts import UpsertOutcome, UpsertReasonCode
from ..service.idempotency import Caller, act_once
from ..service.ports import AuditRecord, Clock, UnitOfWork

#: Who feeds subscriptions in when no API client is involved (``soap-orders import``).
IMPORT_CALLER = Caller("import")


@dataclass(frozen=True)
class UpsertSubscriptions:
    """A batch of ERP documents in their plain-data form, each checked on its own."""

    request_id: str
    subscriptions: tuple[Any, ...]


#: What an accepted document's result says.
_ACCEPTED = {
    UpsertOutcome.CREATED: "The subscription was created.",
    UpsertOutcome.UPDATED: "The subscription was updated.",
    UpsertOutcome.UNCHANGED: "The subscription already held this data.",
}


@dataclass(frozen=True)
class UpsertResult:
    """What became of one document of a batch, as an order's (``service.orders.UpsertResult``):
    CREATED, UPDATED, UNCHANGED or REJECTED, and the field a refusal is about."""

    index: int  # 1-based position in the batch
    subscription_id: str | None
    outcome: UpsertOutcome
    reason_code: UpsertReasonCode = UpsertReasonCode.NONE
    message: str = ""
    field: str | None = None

    def __post_init__(self) -> None:
        if not self.message:
            object.__setattr__(self, "message", _ACCEPTED.get(self.outcome, "The document was refused."))


@dataclass(frozen=True)
class UpsertAnswer:
    """A batch's results, in the order of its documents, and how many of each."""

    results: list[UpsertResult]

    def _count(self, outcome: UpsertOutcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    @property
    def created(self) -> int:
        return self._count(UpsertOutcome.CREATED)

    @property
    def updated(self) -> int:
        return self._count(UpsertOutcome.UPDATED)

    @property
    def unchanged(self) -> int:
        return self._count(UpsertOutcome.UNCHANGED)

    @property
    def rejected(self) -> int:
        return self._count(UpsertOutcome.REJECTED)


def upsert_subscriptions(
    uow: UnitOfWork,
    documents: Sequence[Any],
    clock: Clock,
    caller: Caller = IMPORT_CALLER,
    request_id: str | None = None,
    *,
    dry_run: bool = False,
) -> list[UpsertResult]:
    """Create or merge up to 100 subscription documents (plain-data records) in one transaction.

    Each document gets its own result; a bad one is REJECTED (its reason names the field, never its
    value) and never blocks the others. An update takes what the ERP owns and keeps what was done
    through the service (see :meth:`Subscription.merge`). With a ``request_id`` the batch runs once.
    With ``dry_run`` (no ``request_id``) the results are decided as for real and nothing is written."""
    batch = tuple(documents)
    if not 1 <= len(batch) <= MAX_UPSERT_BATCH:
        raise ValidationError(f"A batch holds 1 to {MAX_UPSERT_BATCH} subscriptions.", "Subscriptions")
    if request_id is None:
        now = clock()
        with uow:
            uow.act_as(caller.client)
            results = _upsert(uow, batch, now, caller, None)
            if dry_run:
                uow.rollback()
            else:
                uow.commit()
        return results
    if dry_run:
        raise ValueError("a dry run has no request id")
    command = UpsertSubscriptions(request_id, batch)
    return act_once(
        uow, command, clock, caller,
        lambda now: _upsert(uow, batch, now, caller, request_id.strip()),
        lambda results: {"Results": [records.dump(forms.UPSERT_RESULT, r) for r in results]},
        lambda stored: [_upsert_result(r) for r in stored["Results"]],
    )


def _upsert_result(record: dict[str, Any]) -> UpsertResult:
    """A kept result, also in the form 1.3 kept (``Result``, ``INVALID_RECORD``, no ``Message`` on an
    accepted document), replayed in today's form."""
    record = dict(record)
    if "Result" in record:
        record["Outcome"] = record.pop("Result")
    if record.get("ReasonCode") == "INVALID_RECORD":
        record["ReasonCode"] = UpsertReasonCode.INVALID_DOCUMENT.value
    record.setdefault("Message", _ACCEPTED.get(UpsertOutcome(record["Outcome"]), "The document was refused."))
    values = records.load(forms.UPSERT_RESULT, record, "Results")
    return UpsertResult(**{"subscription_id": None, **values})  # a document without an id has none


def _upsert(
    uow: UnitOfWork, batch: tuple[Any, ...], now: datetime, caller: Caller, request_id: str | None
) -> list[UpsertResult]:
    loaded: list[Subscription | UpsertResult] = []
    for index, document in enumerate(batch, 1):
        try:
            loaded.append(forms.subscription_from_record(document))
        except RecordError as error:
            loaded.append(UpsertResult(index, forms.claimed_id(document), UpsertOutcome.REJECTED,
                                       UpsertReasonCode.INVALID_DOCUMENT, error.message, error.path or None))
    ids = [item.subscription_id for item in loaded if isinstance(item, Subscription)]
    existing = uow.subscriptions.get_many(ids, for_update=True)
    results: list[UpsertResult] = []
    seen: set[str] = set()
    for index, item in enumerate(loaded, 1):
        if isinstance(item, UpsertResult):
            results.append(item)
            continue
        sid = item.subscription_id
        if sid in seen:
            results.append(UpsertResult(index, sid, UpsertOutcome.REJECTED, UpsertReasonCode.DUPLICATE_IN_BATCH,
                                        "SubscriptionId: appears more than once in the batch", "SubscriptionId"))
            continue
        seen.add(sid)
        current = existing.get(sid)
        if current is None:
            item.updated_at = item.updated_at or now
            uow.subscriptions.add(item)
            result = UpsertResult(index, sid, UpsertOutcome.CREATED)
            subject = item
        else:
            before, updated_at = _comparable(current), current.updated_at
            set_aside = keep_subscription_forgotten(current, item)
            try:
                current.merge(item, now)
            except MergeRefused as refusal:
                results.append(UpsertResult(index, sid, UpsertOutcome.REJECTED, UpsertReasonCode.CONTRADICTS_SERVICE,
                                            f"{refusal.field}: {refusal.message}" if refusal.field else refusal.message,
                                            refusal.field or None))
                continue
            if _comparable(current) == before:
                current.updated_at = updated_at
                result = UpsertResult(index, sid, UpsertOutcome.UNCHANGED)
            else:
                result = UpsertResult(index, sid, UpsertOutcome.UPDATED)
            if set_aside:
                result = replace(result, reason_code=UpsertReasonCode.PERSONAL_DATA_FORGOTTEN,
                                 message="The customer's personal data stays forgotten.")
            subject = current
        results.append(result)
        uow.audit.add(AuditRecord(now, caller.client, caller.address, "UpsertSubscription", None, request_id,
                                  result.outcome.value, subscription_id=sid))
        if result.outcome is not UpsertOutcome.UNCHANGED:
            subject.events.append(SubscriptionUpserted(sid, now, result.outcome.value, subject.status.value,
                                                       request_id))
    return results


def _comparable(subscription: Subscription) -> dict[str, Any]:
    record = forms.subscription_to_record(subscription, stored=True)
    record.pop("UpdatedAt", None)
    return record
