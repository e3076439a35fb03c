"""The subscription document and its parts, and the parts of the subscription operations.

``STORED_SUBSCRIPTION`` is the whole subscription as a replayed result keeps it, with the parts only
the service sets (refunds, skipped orders, a pending plan change, the last status change made
through the service) as internal fields; ``SUBSCRIPTION`` is what callers see and what the ERP
sends, without them. An ERP document that carries an internal part is refused.
"""

from __future__ import annotations

from typing import Any

from ..domain import limits, money
from ..domain import subscriptions as model
from ..domain.errors import DomainError
from ..domain.recurrence import Interval
from . import records
from .fields import Choice, Document, Field, Integer, ListOf, Text
from .orders import (
    ADDRESS,
    AMOUNT,
    BOOLEAN,
    CURRENCY,
    CUSTOMER,
    DATE,
    IDENTIFIER,
    NOTE,
    ORDER_NUMBER,
    QUANTITY,
    REASON,
    SKU,
    TEXT255,
    TIMESTAMP,
    URL,
    upsert_result,
)
from .records import RecordError

# ---------------------------------------------------------------------- simple kinds

SUBSCRIPTION_ID = Text("SubscriptionId", limits.SUBSCRIPTION_ID)
SUBSCRIPTION_NAME = Text("SubscriptionName", limits.SUBSCRIPTION_NAME)
CHARGE_ID = Text("ChargeId", limits.CHARGE_ID)
INTERVAL_COUNT = Integer("IntervalCount", 1, model.MAX_INTERVAL_COUNT)
PAUSE_CYCLES = Integer("PauseCycles", 1, model.MAX_PAUSE_CYCLES)

SUBSCRIPTION_STATUS = Choice(model.SubscriptionStatus)
CANCEL_REASON = Choice(model.CancelReason)
CHARGE_STATUS = Choice(model.ChargeStatus)
INTERVAL = Choice(Interval)
OUTCOME = Choice(model.SubscriptionOutcome)
REASON_CODE = Choice(model.SubscriptionReasonCode)
LIFECYCLE_ACTION = Choice(model.LifecycleAction)

# ---------------------------------------------------------------------- the subscription's parts

FREQUENCY = Document("Frequency", (
    Field("Interval", INTERVAL, required=True),
    Field("IntervalCount", INTERVAL_COUNT, default=1),
), model.Frequency, doc="How often the subscription produces an order: every IntervalCount days, weeks, months or years.")

ITEM_FIELDS = (
    Field("Sku", SKU, required=True),
    Field("Name", TEXT255, required=True),
    Field("Quantity", QUANTITY, required=True),
    Field("UnitPrice", AMOUNT, required=True),
    Field("ImageUrl", URL),
)
ITEM = Document("SubscriptionItem", ITEM_FIELDS, model.SubscriptionItem)
ITEMS = ListOf("SubscriptionItems", "Item", ITEM, min_occurs=1, max_occurs=model.MAX_ITEMS)

CHARGE = Document("Charge", (
    Field("ChargeId", CHARGE_ID, required=True),
    Field("Amount", AMOUNT, required=True),
    Field("RefundedAmount", AMOUNT, default=0),
    Field("Status", CHARGE_STATUS, default=model.ChargeStatus.PAID),
    Field("ChargedAt", TIMESTAMP, required=True),
    Field("OrderNumber", ORDER_NUMBER),
), model.Charge, doc="A payment the billing system took (or failed to take) for one cycle, and the order it produced.")

PRODUCED_ORDER = Document("SubscriptionOrder", (
    Field("OrderNumber", ORDER_NUMBER, required=True),
    Field("OrderDate", DATE),
), model.ProducedOrder, doc="An order the subscription produced.")

REFUND = Document("SubscriptionRefund", (
    Field("RefundId", IDENTIFIER, required=True),
    Field("ChargeId", CHARGE_ID, required=True),
    Field("Amount", AMOUNT, required=True),
    Field("Reason", REASON, required=True),
    Field("CreatedAt", TIMESTAMP, required=True),
    Field("Note", NOTE),
), model.SubscriptionRefund, doc="A refund of (part of) a charge.")

SKIPPED_ORDER = Document("SkippedOrder", (
    Field("OrderDate", DATE, required=True),
    Field("SkippedAt", TIMESTAMP, required=True),
), model.SkippedOrder)


def _plan_change(**values: Any) -> model.PlanChange:
    return model.PlanChange(
        items=tuple(values["items"]), price=values["price"], frequency=values["frequency"],
        anchor_date=values["anchor_date"], effective_date=values.get("effective_date"),
        requested_at=values["requested_at"],
    )


PENDING_CHANGE = Document("PendingChange", (
    Field("Price", AMOUNT, required=True),
    Field("Frequency", FREQUENCY, required=True),
    Field("Items", ITEMS, required=True),
    Field("AnchorDate", DATE, required=True),
    Field("EffectiveDate", DATE),
    Field("RequestedAt", TIMESTAMP, required=True),
), _plan_change)

# ---------------------------------------------------------------------- the subscription document

# The document is both an answer and the ERP's input: what the service computes or defaults is
# optional in the schema (and always written in answers).

STORED_SUBSCRIPTION = Document("StoredSubscription", (
    Field("SubscriptionId", SUBSCRIPTION_ID, required=True),
    Field("Name", SUBSCRIPTION_NAME, required=True),
    Field("Status", SUBSCRIPTION_STATUS, required=True, default=model.SubscriptionStatus.ACTIVE),
    Field("CreatedAt", TIMESTAMP, required=True),
    Field("StartDate", DATE, required=True),
    Field("UpdatedAt", TIMESTAMP),
    Field("CancelledAt", TIMESTAMP),
    Field("CancelReason", CANCEL_REASON),
    Field("CancelNote", NOTE),
    # True while a cancellation waits for the end of the current period (CancelAt).
    Field("CancelAtPeriodEnd", BOOLEAN),
    Field("CancelAt", DATE, attr="cancel_effective_date"),
    Field("RefundedAt", TIMESTAMP),
    Field("PausedAt", TIMESTAMP),
    Field("PausedUntil", DATE),
    Field("PausedCycles", PAUSE_CYCLES),
    Field("Customer", CUSTOMER, required=True),
    Field("ShippingAddress", ADDRESS),
    Field("Items", ITEMS, required=True),
    Field("Frequency", FREQUENCY, required=True),
    Field("Price", AMOUNT, required=True),
    Field("Currency", CURRENCY, required=True),
    Field("AnchorDate", DATE),
    Field("NextOrderDate", DATE),
    Field("LastOrderDate", DATE),
    Field("ChargedAmount", AMOUNT, derived=True),
    Field("RefundedAmount", AMOUNT, derived=True),
    Field("Charges", ListOf("Charges", "Charge", CHARGE)),
    Field("Orders", ListOf("SubscriptionOrders", "Order", PRODUCED_ORDER)),
    Field("Refunds", ListOf("SubscriptionRefunds", "Refund", REFUND), required=True, internal=True),
    Field("SkippedOrders", ListOf("SkippedOrders", "SkippedOrder", SKIPPED_ORDER), required=True, internal=True),
    Field("PendingChange", PENDING_CHANGE, internal=True),
    Field("ServiceLifecycle", LIFECYCLE_ACTION, internal=True),
), model.Subscription)

SUBSCRIPTION = STORED_SUBSCRIPTION.published(
    "Subscription",
    "A customer's subscription: its plan (items, price, frequency), schedule, charges and the orders it produced.",
)
SUBSCRIPTIONS = ListOf("Subscriptions", "Subscription", SUBSCRIPTION, max_occurs=limits.MAX_PAGE_SIZE)
#: What the ERP sends: each document is checked on its own and has its own result.
UPSERT_DOCUMENTS = ListOf("SubscriptionDocuments", "Subscription", SUBSCRIPTION, min_occurs=1,
                          max_occurs=model.MAX_UPSERT_BATCH)

# ---------------------------------------------------------------------- operation parts

#: As UpsertOrders' results (``orders.upsert_result``), naming subscriptions.
UPSERT_RESULT = upsert_result("SubscriptionUpsertResult", Field("SubscriptionId", SUBSCRIPTION_ID))
UPSERT_RESULTS = ListOf("SubscriptionUpsertResults", "Result", UPSERT_RESULT, max_occurs=model.MAX_UPSERT_BATCH)


# ---------------------------------------------------------------------- the plain-data form


def subscription_from_record(record: Any, *, stored: bool = False) -> model.Subscription:
    """Build a subscription from its plain-data form, checking every field and its invariants.

    ``stored`` accepts the internal parts too (a replayed result); an ERP document may not carry
    them. Errors name the field, never its value."""
    if not isinstance(record, dict):
        raise RecordError("", "a subscription record must be an object")
    if not stored:
        for name in STORED_SUBSCRIPTION.internal_names:
            if name in record:
                raise RecordError(name, "is set by the service and cannot be sent")
    currency = record.get("Currency")
    if not isinstance(currency, str) or currency.strip() not in money.ISO_4217:
        raise RecordError("Currency", "must be an ISO 4217 currency code such as EUR")
    document = STORED_SUBSCRIPTION if stored else SUBSCRIPTION
    subscription: model.Subscription = records.load(document, record, "", currency.strip())
    try:
        subscription.check()
    except DomainError as exc:
        error = RecordError("", exc.message)  # the domain's sentence names the field already
        error.path = getattr(exc, "field", None) or ""
        raise error from None
    return subscription


def subscription_to_record(subscription: model.Subscription, *, stored: bool = False) -> dict[str, Any]:
    """The document form; ``stored`` adds the internal parts for a faithful replay."""
    return records.dump(STORED_SUBSCRIPTION if stored else SUBSCRIPTION, subscription)


def claimed_id(record: Any) -> str | None:
    """The id a rejected document claims, when it is a plausible one (never echoed otherwise)."""
    return records.claimed(SUBSCRIPTION_ID, record.get("SubscriptionId") if isinstance(record, dict) else None)
