"""The subscription operations: finding and reading subscriptions, the customer's actions on them,
and the ERP's feed (documents and charges)."""

from __future__ import annotations

from dataclasses import dataclass

from ..documents import Field
from ..documents import orders as d
from ..documents import subscriptions as s
from ..domain.clients import Scope
from ..domain.subscriptions import Subscription
from ..ingest import subscriptions as upserts
from ..service import subscriptions as use_cases
from .base import Call, Operation, action

SUBSCRIPTION_ID = Field("SubscriptionId", s.SUBSCRIPTION_ID, required=True)
REQUEST_ID = Field("RequestId", d.REQUEST_ID, required=True)
OUTCOME = Field("Outcome", s.OUTCOME, required=True)
REASON_CODE = Field("ReasonCode", s.REASON_CODE, required=True)
MESSAGE = Field("Message", d.MESSAGE, required=True)
SUBSCRIPTION = Field("Subscription", s.SUBSCRIPTION, required=True)
ACTION_ANSWER = (OUTCOME, REASON_CODE, MESSAGE, SUBSCRIPTION)


@dataclass(frozen=True)
class GetSubscription:
    subscription_id: str
    email: str | None = None


@dataclass(frozen=True)
class SubscriptionAnswer:
    subscription: Subscription


def _find(call: Call, query: use_cases.FindSubscriptionsByEmail) -> use_cases.SubscriptionPage:
    return use_cases.find_subscriptions_by_email(call.uow(), query, call.clock)


def _get(call: Call, query: GetSubscription) -> SubscriptionAnswer:
    return SubscriptionAnswer(use_cases.get_subscription(call.uow(), query.subscription_id, call.clock, query.email))


def _upsert(call: Call, command: upserts.UpsertSubscriptions) -> upserts.UpsertAnswer:
    results = upserts.upsert_subscriptions(call.uow(), command.subscriptions, call.clock, call.caller,
                                             command.request_id)
    return upserts.UpsertAnswer(results)


FIND_SUBSCRIPTIONS_BY_EMAIL = Operation(
    scope=Scope.READ,
    request=(
        Field("Email", d.EMAIL, required=True),
        Field("Status", s.SUBSCRIPTION_STATUS),
        Field("PageSize", d.PAGE_SIZE, default=20),
        Field("PageNumber", d.PAGE_NUMBER, default=1),
    ),
    command=use_cases.FindSubscriptionsByEmail,
    answer=(
        Field("Subscriptions", s.SUBSCRIPTIONS, required=True),
        Field("TotalCount", d.COUNT, required=True),
        Field("CurrentPage", d.PAGE_NUMBER, attr="page_number", required=True),
        Field("ItemsPerPage", d.PAGE_SIZE, attr="page_size", required=True),
        Field("HasMore", d.BOOLEAN, required=True),
    ),
    run=_find,
    doc="""A customer's subscriptions by email (trimmed, case-insensitive), newest first, one page at a
    time; Status narrows the search. No match is an empty Subscriptions list, not a fault.""",
)

GET_SUBSCRIPTION = Operation(
    scope=Scope.READ,
    also=(Scope.ERP,),
    request=(SUBSCRIPTION_ID, Field("Email", d.EMAIL)),
    command=GetSubscription,
    answer=(SUBSCRIPTION,),
    run=_get,
    doc="""One subscription by its id. When Email is given it must be the customer's; otherwise the
    answer is the same Client.SubscriptionNotFound fault as for an unknown id. An ERP client (scope
    erp) may read the subscriptions it feeds, with what the service did on them.""",
)

CANCEL_SUBSCRIPTION = Operation(
    scope=Scope.ACT,
    request=(
        SUBSCRIPTION_ID,
        REQUEST_ID,
        Field("Reason", s.CANCEL_REASON, required=True),
        Field("Note", d.NOTE),
        Field("AtPeriodEnd", d.BOOLEAN, default=False),
    ),
    command=use_cases.CancelSubscription,
    answer=ACTION_ANSWER,
    run=action(use_cases.cancel_subscription),
    doc="""Cancel a subscription at once, or with AtPeriodEnd true on its next order date (no further
    order or charge either way). Outcome is CANCELLED, CANCELLATION_SCHEDULED, ALREADY_CANCELLED or
    REJECTED (ReasonCode CANCELLATION_SCHEDULED, NOT_ACTIVE). The same RequestId replays the first
    result.""",
)

PAUSE_SUBSCRIPTION = Operation(
    scope=Scope.ACT,
    request=(
        SUBSCRIPTION_ID,
        REQUEST_ID,
        Field("PauseUntil", d.DATE, attr="until"),
        Field("PauseCycles", s.PAUSE_CYCLES, attr="cycles"),
    ),
    command=use_cases.PauseSubscription,
    answer=ACTION_ANSWER,
    run=action(use_cases.pause_subscription),
    doc="""Pause until a date (PauseUntil, within 365 days) or for a number of cycles (PauseCycles, 1 to 12),
    exactly one of the two: no
    order and no charge while paused; NextOrderDate says when the next order will be. Outcome is
    PAUSED or REJECTED (ReasonCode ALREADY_PAUSED, ALREADY_CANCELLED, CANCELLATION_SCHEDULED,
    NOT_ACTIVE, PAUSE_TOO_LONG). The same RequestId replays the first result.""",
)

RESUME_SUBSCRIPTION = Operation(
    scope=Scope.ACT,
    request=(SUBSCRIPTION_ID, REQUEST_ID),
    command=use_cases.ResumeSubscription,
    answer=ACTION_ANSWER,
    run=action(use_cases.resume_subscription),
    doc="""Resume a paused subscription now; the next order date is the first date of its schedule
    from today. Outcome is RESUMED or REJECTED (ReasonCode NOT_PAUSED, ALREADY_CANCELLED). The
    same RequestId replays the first result.""",
)

CHANGE_SUBSCRIPTION_PLAN = Operation(
    scope=Scope.ACT,
    request=(
        SUBSCRIPTION_ID,
        REQUEST_ID,
        Field("Items", s.ITEMS),
        Field("Price", d.AMOUNT),
        Field("Frequency", s.FREQUENCY),
    ),
    command=use_cases.ChangeSubscriptionPlan,
    answer=ACTION_ANSWER,
    run=action(use_cases.change_subscription_plan),
    doc="""Change any of the items, the price and the frequency, effective from the next cycle; what is
    left out stays. The next order date is recalculated for a new frequency. Outcome is
    PLAN_CHANGED or REJECTED (ReasonCode PLAN_UNCHANGED, ALREADY_CANCELLED, CANCELLATION_SCHEDULED,
    NOT_ACTIVE). The same RequestId replays the first result.""",
)

SKIP_NEXT_ORDER = Operation(
    scope=Scope.ACT,
    request=(SUBSCRIPTION_ID, REQUEST_ID),
    command=use_cases.SkipNextOrder,
    answer=ACTION_ANSWER,
    run=action(use_cases.skip_next_order),
    doc="""Skip the next order (and its charge); NextOrderDate moves to the date after it. Outcome is
    SKIPPED or REJECTED (ReasonCode NO_ORDER_SCHEDULED, ALREADY_CANCELLED, CANCELLATION_SCHEDULED,
    NOT_ACTIVE). The same RequestId replays the first result.""",
)

REFUND_SUBSCRIPTION_CHARGE = Operation(
    scope=Scope.ACT,
    request=(
        SUBSCRIPTION_ID,
        REQUEST_ID,
        Field("ChargeId", s.CHARGE_ID, required=True),
        Field("Reason", d.REASON, required=True),
        Field("Amount", d.POSITIVE_AMOUNT),
        Field("Note", d.NOTE),
    ),
    command=use_cases.RefundSubscriptionCharge,
    answer=(OUTCOME, REASON_CODE, MESSAGE, Field("Refund", s.REFUND), SUBSCRIPTION),
    run=action(use_cases.refund_subscription_charge),
    doc="""Refund a past charge: Amount of it, or everything still refundable of it when Amount is left
    out; never more than was charged minus what was refunded. Outcome is REFUNDED or REJECTED
    (ReasonCode UNKNOWN_CHARGE, CHARGE_NOT_PAID, NOTHING_REFUNDABLE, EXCEEDS_REFUNDABLE). The same
    RequestId replays the first result.""",
)

UPSERT_SUBSCRIPTIONS = Operation(
    scope=Scope.ERP,
    request=(
        REQUEST_ID,
        Field("Subscriptions", s.UPSERT_DOCUMENTS, required=True, raw=True),
    ),
    command=upserts.UpsertSubscriptions,
    answer=(
        Field("Results", s.UPSERT_RESULTS, required=True),
        *d.UPSERT_COUNTS,
    ),
    run=_upsert,
    doc="""For the ERP: create or update 1 to 100 subscription documents. Each document has its own
    Result, answered as UpsertOrders answers (Index, SubscriptionId, Outcome CREATED, UPDATED,
    UNCHANGED or REJECTED, a ReasonCode, a Message and the Field a refusal is about), with the
    counts; a rejected one never blocks the others. An update never erases what was done through
    the service (a cancellation, a pause, skips, refunds, a pending plan change, recorded charges).
    The same RequestId replays the first result.""",
)

RECORD_CHARGE = Operation(
    scope=Scope.ERP,
    request=(
        SUBSCRIPTION_ID,
        REQUEST_ID,
        Field("ChargeId", s.CHARGE_ID, required=True),
        Field("Amount", d.POSITIVE_AMOUNT, required=True),
        Field("ChargedAt", d.TIMESTAMP, required=True),
        Field("Status", s.CHARGE_STATUS),
        Field("OrderNumber", d.ORDER_NUMBER),
    ),
    command=use_cases.RecordCharge,
    answer=(OUTCOME, REASON_CODE, MESSAGE, Field("Charge", s.CHARGE), SUBSCRIPTION),
    run=action(use_cases.record_charge),
    doc="""For the billing system: a charge it made for the cycle due (Status PAID, with the OrderNumber
    of the order it produced; the next order date moves on) or failed to make (FAILED: the
    subscription is PAST_DUE). Outcome is CHARGE_RECORDED or REJECTED (ReasonCode DUPLICATE_CHARGE,
    NOT_ACTIVE, ALREADY_CANCELLED, CANCELLATION_SCHEDULED). The same RequestId replays the first
    result.""",
)

OPERATIONS = (
    FIND_SUBSCRIPTIONS_BY_EMAIL,
    GET_SUBSCRIPTION,
    CANCEL_SUBSCRIPTION,
    PAUSE_SUBSCRIPTION,
    RESUME_SUBSCRIPTION,
    CHANGE_SUBSCRIPTION_PLAN,
    SKIP_NEXT_ORDER,
    REFUND_SUBSCRIPTION_CHARGE,
    UPSERT_SUBSCRIPTIONS,
    RECORD_CHARGE,
)
