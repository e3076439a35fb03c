"""Use cases on subscriptions: find, read, cancel, pause, resume, change plan, skip, refund a charge,
and record a charge the billing system made. The ERP's batches of documents are
``ingest.subscriptions``.

Each use case is one unit of work. Every change is idempotent by RequestId (see
:mod:`.idempotency`), writes its domain events to the change feed and an audit record, all in the
transaction of the change. Time-driven transitions (a pause that ran out, a cancellation at the end
of the period, a plan change whose cycle began) are applied whenever a subscription is read or acted on.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..documents import Document, Field, records
from ..documents import subscriptions as forms
from ..documents.orders import MESSAGE
from ..domain import limits
from ..domain.errors import SubscriptionNotFound, ValidationError
from ..domain.orders import Reason
from ..domain.paging import has_more, page_window
from ..domain.subscriptions import (
    CancelReason,
    Charge,
    ChargeStatus,
    Frequency,
    Subscription,
    SubscriptionDecision,
    SubscriptionItem,
    SubscriptionOutcome,
    SubscriptionReasonCode,
    SubscriptionRefund,
    SubscriptionStatus,
)
from .idempotency import Caller, act_once, operation_of
from .orders import normalize_email
from .ports import AuditRecord, Clock, SubscriptionQuery, UnitOfWork

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
