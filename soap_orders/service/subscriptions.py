"""Use cases on subscriptions: find, read, cancel, pause, resume, change plan, skip, refund a charge,
and on the ERP side upsert and record a charge.

Each use case is one unit of work. Every change is idempotent by RequestId (see
:mod:`.idempotency`), writes its domain events to the change feed and an audit record, all in the
transaction of the change. Time-driven transitions (a pause that ran out, a cancellation at the end
of the period, a plan change whose cycle began) are applied whenever a subscription is read or acted on.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..documents import Document, Field, records
from ..documents import subscriptions as forms
from ..documents.orders import MESSAGE
from ..documents.records import RecordError
from ..domain import limits
from ..domain.errors import SubscriptionNotFound, ValidationError
from ..domain.orders import Reason
from ..domain.paging import has_more, page_window
from ..domain.privacy import keep_subscription_forgotten
from ..domain.subscription_events import SubscriptionUpserted
from ..domain.subscriptions import (
    MAX_UPSERT_BATCH,
    CancelReason,
    Charge,
    ChargeStatus,
    Frequency,
    MergeRefused,
    Subscription,
    SubscriptionDecision,
    SubscriptionItem,
    SubscriptionOutcome,
    SubscriptionReasonCode,
    SubscriptionRefund,
    SubscriptionStatus,
)
from ..domain.upserts import UpsertOutcome, UpsertReasonCode
from .idempotency import Caller, act_once, operation_of
from .orders import normalize_email
from .ports import AuditRecord, Clock, SubscriptionQuery, UnitOfWork

MAX_UPSERT_BATCH = MAX_UPSERT_BATCH
#: The longest value of the text fields the use cases check themselves.
MAX_LEN = {
    "SubscriptionId": limits.SUBSCRIPTION_ID,
    "ChargeId": limits.CHARGE_ID,
    "OrderNumber": limits.ORDER_NUMBER,
    "Note": limits.NOTE,
    "Sku": limits.SKU,
    "LineName": limits.PRODUCT_NAME,
    "Url": limits.URL,
}
#: Who feeds subscriptions in when no API client is involved (``soap-orders import``).
IMPORT_CALLER = Caller("import")


# ---------------------------------------------------------------------- commands and answers


@dataclass(frozen=True)
class FindSubscriptionsByEmail:
    email: str
    status: SubscriptionStatus | None = None
    page_size: int = 20
    page_number: int = 1


@dataclass(frozen=True)
class SubscriptionPage:
    subscriptions: list[Subscription]
    total_count: int
    page_number: int
    page_size: int

    @property
    def has_more(self) -> bool:
        return has_more(self.page_number, self.page_size, self.total_count)


@dataclass(frozen=True)
class CancelSubscription:
    subscription_id: str
    request_id: str
    reason: CancelReason
    note: str | None = None
    at_period_end: bool = False


@dataclass(frozen=True)
class PauseSubscription:
    """Pause until a date, or for a number of cycles (exactly one of the two)."""

    subscription_id: str
    request_id: str
    until: date | None = None
    cycles: int | None = None


@dataclass(frozen=True)
class ResumeSubscription:
    subscription_id: str
    request_id: str


#: An item of a new plan (Sku, Name, Quantity, UnitPrice, ImageUrl).
PlanItem = SubscriptionItem


@dataclass(frozen=True)
class ChangeSubscriptionPlan:
    """Any of items, price and frequency; what is left out stays as it is."""

    subscription_id: str
    request_id: str
    items: tuple[PlanItem, ...] | None = None
    price: Decimal | None = None
    frequency: Frequency | None = None


@dataclass(frozen=True)
class SkipNextOrder:
    subscription_id: str
    request_id: str


@dataclass(frozen=True)
class RefundSubscriptionCharge:
    """Refund a charge: ``amount`` of it, or (no amount) all that is left of it."""

    subscription_id: str
    request_id: str
    charge_id: str
    reason: Reason
    amount: Decimal | None = None
    note: str | None = None


@dataclass(frozen=True)
class RecordCharge:
    """A charge the billing system made (PAID, with the order it produced) or failed to make."""

    subscription_id: str
    request_id: str
    charge_id: str
    amount: Decimal
    charged_at: datetime
    status: ChargeStatus = ChargeStatus.PAID
    order_number: str | None = None


@dataclass(frozen=True)
class SubscriptionActionResult:
    """What an action answered: a business outcome and the subscription as it stood afterwards."""

    outcome: SubscriptionOutcome
    reason_code: SubscriptionReasonCode
    message: str
    subscription: Subscription
    refund: SubscriptionRefund | None = None
    charge: Charge | None = None

    @property
    def currency(self) -> str:
        return self.subscription.currency


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


# ---------------------------------------------------------------------- queries


def find_subscriptions_by_email(uow: UnitOfWork, query: FindSubscriptionsByEmail, clock: Clock) -> SubscriptionPage:
    """A customer's subscriptions, newest first, one page at a time; no match is an empty page."""
    email = normalize_email(query.email)
    limit, offset = page_window(query.page_size, query.page_number)
    now = clock()
    with uow:
        found, total = uow.subscriptions.find_by_email(SubscriptionQuery(
            email=email, status=query.status, limit=limit, offset=offset,
        ))
        for subscription in found:
            subscription.settle(now)  # shown as it stands today; stored by the next change
    return SubscriptionPage(found, total, query.page_number, query.page_size)


def get_subscription(uow: UnitOfWork, subscription_id: str, clock: Clock, email: str | None = None) -> Subscription:
    """One subscription by id; when ``email`` is given it must be the customer's, else not found."""
    now = clock()
    with uow:
        subscription = uow.subscriptions.get(_subscription_id(subscription_id))
        if subscription is not None:
            subscription.settle(now)
    if subscription is None:
        raise SubscriptionNotFound()
    if email is not None and subscription.customer.email.lower() != normalize_email(email).lower():
        raise SubscriptionNotFound()
    return subscription


# ---------------------------------------------------------------------- actions


def cancel_subscription(
    uow: UnitOfWork, command: CancelSubscription, clock: Clock, caller: Caller
) -> SubscriptionActionResult:
    command = replace(command, subscription_id=_subscription_id(command.subscription_id), note=_note(command.note))

    def act(subscription: Subscription, now: datetime) -> SubscriptionDecision:
        return subscription.cancel(
            reason=command.reason, now=now, request_id=command.request_id.strip(), note=command.note,
            at_period_end=command.at_period_end,
        )

    return _act(uow, command, clock, caller, act)


def pause_subscription(
    uow: UnitOfWork, command: PauseSubscription, clock: Clock, caller: Caller
) -> SubscriptionActionResult:
    command = replace(command, subscription_id=_subscription_id(command.subscription_id))

    def act(subscription: Subscription, now: datetime) -> SubscriptionDecision:
        return subscription.pause(
            now=now, request_id=command.request_id.strip(), until=command.until, cycles=command.cycles
        )

    return _act(uow, command, clock, caller, act)


def resume_subscription(
    uow: UnitOfWork, command: ResumeSubscription, clock: Clock, caller: Caller
) -> SubscriptionActionResult:
    command = replace(command, subscription_id=_subscription_id(command.subscription_id))

    def act(subscription: Subscription, now: datetime) -> SubscriptionDecision:
        return subscription.resume(now=now, request_id=command.request_id.strip())

    return _act(uow, command, clock, caller, act)


def change_subscription_plan(
    uow: UnitOfWork, command: ChangeSubscriptionPlan, clock: Clock, caller: Caller
) -> SubscriptionActionResult:
    command = replace(command, subscription_id=_subscription_id(command.subscription_id))
    if command.items is not None:
        for item in command.items:
            for wire, value, limit in (("Sku", item.sku, "Sku"), ("Name", item.name, "LineName"),
                                       ("ImageUrl", item.image_url, "Url")):
                if value is not None and len(value.strip()) > MAX_LEN[limit]:
                    raise ValidationError(f"Item {wire} is longer than {MAX_LEN[limit]} characters.", wire)

    def act(subscription: Subscription, now: datetime) -> SubscriptionDecision:
        items = None
        if command.items is not None:
            items = [
                SubscriptionItem(i.sku.strip(), i.name.strip(), i.quantity, i.unit_price,
                                 (i.image_url or "").strip() or None)
                for i in command.items
            ]
        return subscription.change_plan(
            now=now, request_id=command.request_id.strip(), items=items, price=command.price,
            frequency=command.frequency,
        )

    return _act(uow, command, clock, caller, act)


def skip_next_order(uow: UnitOfWork, command: SkipNextOrder, clock: Clock, caller: Caller) -> SubscriptionActionResult:
    command = replace(command, subscription_id=_subscription_id(command.subscription_id))

    def act(subscription: Subscription, now: datetime) -> SubscriptionDecision:
        return subscription.skip_next_order(now=now, request_id=command.request_id.strip())

    return _act(uow, command, clock, caller, act)


def refund_subscription_charge(
    uow: UnitOfWork, command: RefundSubscriptionCharge, clock: Clock, caller: Caller
) -> SubscriptionActionResult:
    command = replace(
        command, subscription_id=_subscription_id(command.subscription_id),
        charge_id=_text(command.charge_id, "ChargeId"), note=_note(command.note),
    )

    def act(subscription: Subscription, now: datetime) -> SubscriptionDecision:
        return subscription.refund_charge(
            charge_id=command.charge_id, reason=command.reason, now=now, request_id=command.request_id.strip(),
            refund_id=new_refund_id(), amount=command.amount, note=command.note,
        )

    return _act(uow, command, clock, caller, act)


def record_charge(uow: UnitOfWork, command: RecordCharge, clock: Clock, caller: Caller) -> SubscriptionActionResult:
    """ERP side: a charge made by the billing system, with the order it produced."""
    order_number = (command.order_number or "").strip() or None
    if order_number is not None:
        order_number = _text(order_number, "OrderNumber")
    command = replace(
        command, subscription_id=_subscription_id(command.subscription_id),
        charge_id=_text(command.charge_id, "ChargeId"), order_number=order_number,
    )

    def act(subscription: Subscription, now: datetime) -> SubscriptionDecision:
        return subscription.record_charge(
            charge_id=command.charge_id, amount=command.amount, charged_at=command.charged_at, now=now,
            request_id=command.request_id.strip(), status=command.status, order_number=command.order_number,
        )

    return _act(uow, command, clock, caller, act)


def new_refund_id() -> str:
    return "SRF-" + uuid.uuid4().hex[:16].upper()


def _subscription_id(value: str) -> str:
    return _text(value, "SubscriptionId")


def _text(value: str, wire: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError(f"{wire} must not be empty.", wire)
    if len(value) > MAX_LEN[wire]:
        raise ValidationError(f"{wire} is longer than {MAX_LEN[wire]} characters.", wire)
    return value


def _note(note: str | None) -> str | None:
    """A note without surrounding whitespace; an empty one is no note."""
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_LEN["Note"]:
        raise ValidationError(f"Note is longer than {MAX_LEN['Note']} characters.", "Note")
    return note


def _act(
    uow: UnitOfWork,
    command: Any,
    clock: Clock,
    caller: Caller,
    act: Callable[[Subscription, datetime], SubscriptionDecision],
) -> SubscriptionActionResult:
    operation = operation_of(command)

    def execute(now: datetime) -> SubscriptionActionResult:
        subscription = uow.subscriptions.get(command.subscription_id, for_update=True)
        if subscription is None:
            raise SubscriptionNotFound()
        decision = act(subscription, now)
        uow.audit.add(AuditRecord(
            now, caller.client, caller.address, operation, None, command.request_id.strip(),
            f"{decision.outcome.value}/{decision.reason_code.value}", _audit_details(subscription),
            subscription_id=subscription.subscription_id,
        ))
        return SubscriptionActionResult(decision.outcome, decision.reason_code, decision.message, subscription,
                                        decision.refund, decision.charge)

    return act_once(uow, command, clock, caller, execute, _result_to_record, _result_from_record)


def _audit_details(subscription: Subscription) -> dict[str, Any] | None:
    """The events the action recorded, for the audit trail (None when there are none)."""
    if not subscription.events:
        return None
    return {"Events": [{"Type": event.name, **event.payload()} for event in subscription.events]}


#: How a subscription action's result is kept under its RequestId, and read back to be replayed:
#: the answers' parts by their wire names, the subscription in its stored form (rows kept before
#: this declaration have the same form).
STORED_ACTION_RESULT = Document("StoredSubscriptionActionResult", (
    Field("Outcome", forms.OUTCOME, required=True),
    Field("ReasonCode", forms.REASON_CODE, required=True),
    Field("Message", MESSAGE, required=True),
    Field("Refund", forms.REFUND),
    Field("Charge", forms.CHARGE),
    Field("Subscription", forms.STORED_SUBSCRIPTION, required=True),
), SubscriptionActionResult)


def _result_to_record(result: SubscriptionActionResult) -> dict[str, Any]:
    return records.dump(STORED_ACTION_RESULT, result)


def _result_from_record(record: dict[str, Any]) -> SubscriptionActionResult:
    result: SubscriptionActionResult = records.load(STORED_ACTION_RESULT, record, "",
                                                    record["Subscription"]["Currency"])
    return result


# ---------------------------------------------------------------------- data in (the ERP)


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
