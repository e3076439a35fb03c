"""A subscription's data, its invariants, time passing, and the helpers its rules share.

The rules that act on a subscription live beside this module, one module per family of actions
(:mod:`.cancelling`, :mod:`.pausing`, :mod:`.plan`, :mod:`.charges`, :mod:`.erp`); the package joins
them into :class:`~soap_orders.domain.subscriptions.Subscription`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from .. import money
from ..errors import ValidationError
from ..orders import Address, Customer, Reason
from ..recurrence import Interval, OutOfCalendar, first_after, first_on_or_after
from ..subscription_events import (
    SubscriptionCancelled,
    SubscriptionEvent,
    SubscriptionPlanChangeApplied,
    SubscriptionResumed,
)
from ..upserts import MAX_BATCH

#: The longest pause, counted from the day it is asked for.
MAX_PAUSE_DAYS = 365
#: The most cycles one pause may cover.
MAX_PAUSE_CYCLES = 12
#: The largest ``IntervalCount``.
MAX_INTERVAL_COUNT = 365
#: The most items a plan may have.
MAX_ITEMS = 100
#: The most documents one ERP batch may carry.
MAX_UPSERT_BATCH = MAX_BATCH
#: How far ahead of the server's clock a reported charge time may be (clock skew).
CHARGE_CLOCK_SKEW = timedelta(minutes=5)


class SubscriptionStatus(str, enum.Enum):
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    PAST_DUE = "PAST_DUE"


ENDED_STATUSES = frozenset({SubscriptionStatus.CANCELLED, SubscriptionStatus.EXPIRED})


class CancelReason(str, enum.Enum):
    """Why a subscription is cancelled."""

    TOO_EXPENSIVE = "TOO_EXPENSIVE"
    NO_LONGER_NEEDED = "NO_LONGER_NEEDED"
    TOO_MUCH_PRODUCT = "TOO_MUCH_PRODUCT"
    QUALITY = "QUALITY"
    DELIVERY_PROBLEMS = "DELIVERY_PROBLEMS"
    SWITCHED_PROVIDER = "SWITCHED_PROVIDER"
    MOVING = "MOVING"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    CUSTOMER = "CUSTOMER"
    FRAUD = "FRAUD"
    OTHER = "OTHER"


class ChargeStatus(str, enum.Enum):
    PAID = "PAID"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"
    FAILED = "FAILED"


class SubscriptionOutcome(str, enum.Enum):
    CANCELLED = "CANCELLED"
    CANCELLATION_SCHEDULED = "CANCELLATION_SCHEDULED"
    ALREADY_CANCELLED = "ALREADY_CANCELLED"
    PAUSED = "PAUSED"
    RESUMED = "RESUMED"
    PLAN_CHANGED = "PLAN_CHANGED"
    SKIPPED = "SKIPPED"
    REFUNDED = "REFUNDED"
    CHARGE_RECORDED = "CHARGE_RECORDED"
    REJECTED = "REJECTED"


class SubscriptionReasonCode(str, enum.Enum):
    NONE = "NONE"
    ALREADY_CANCELLED = "ALREADY_CANCELLED"
    CANCELLATION_SCHEDULED = "CANCELLATION_SCHEDULED"
    NOT_ACTIVE = "NOT_ACTIVE"
    NOT_PAUSED = "NOT_PAUSED"
    ALREADY_PAUSED = "ALREADY_PAUSED"
    PAUSE_TOO_LONG = "PAUSE_TOO_LONG"
    NO_ORDER_SCHEDULED = "NO_ORDER_SCHEDULED"
    PLAN_UNCHANGED = "PLAN_UNCHANGED"
    UNKNOWN_CHARGE = "UNKNOWN_CHARGE"
    CHARGE_NOT_PAID = "CHARGE_NOT_PAID"
    NOTHING_REFUNDABLE = "NOTHING_REFUNDABLE"
    EXCEEDS_REFUNDABLE = "EXCEEDS_REFUNDABLE"
    DUPLICATE_CHARGE = "DUPLICATE_CHARGE"


class LifecycleAction(str, enum.Enum):
    """The last change of status made through the service; an ERP upsert does not undo it."""

    CANCELLED = "CANCELLED"
    CANCEL_SCHEDULED = "CANCEL_SCHEDULED"
    PAUSED = "PAUSED"
    RESUMED = "RESUMED"


@dataclass(frozen=True)
class Frequency:
    interval: Interval
    interval_count: int = 1

    def check(self) -> None:
        if isinstance(self.interval_count, bool) or not 1 <= self.interval_count <= MAX_INTERVAL_COUNT:
            raise ValidationError(f"IntervalCount must be between 1 and {MAX_INTERVAL_COUNT}.", "IntervalCount")

    def describe(self) -> str:
        unit = self.interval.value.lower()
        return f"every {unit}" if self.interval_count == 1 else f"every {self.interval_count} {unit}s"


@dataclass(eq=False)
class SubscriptionItem:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    image_url: str | None = None

    def copy(self) -> SubscriptionItem:
        return SubscriptionItem(self.sku, self.name, self.quantity, self.unit_price, self.image_url)

    def key(self) -> tuple[str, str, int, Decimal, str | None]:
        return (self.sku, self.name, self.quantity, self.unit_price, self.image_url)


@dataclass(frozen=True)
class PlanChange:
    """A new plan, taking effect with the order on ``effective_date`` (the next cycle)."""

    items: tuple[SubscriptionItem, ...]
    price: Decimal
    frequency: Frequency
    #: The date the new plan's schedule counts from.
    anchor_date: date
    effective_date: date | None
    requested_at: datetime


@dataclass(eq=False)
class Charge:
    """A payment the billing system took (or failed to take) for one cycle."""

    charge_id: str
    amount: Decimal
    charged_at: datetime
    status: ChargeStatus = ChargeStatus.PAID
    refunded_amount: Decimal = Decimal(0)
    order_number: str | None = None

    @property
    def refundable_amount(self) -> Decimal:
        if self.status is ChargeStatus.FAILED:
            return Decimal(0)
        return max(self.amount - self.refunded_amount, Decimal(0))

    def settle_status(self) -> None:
        """PAID, PARTIALLY_REFUNDED or REFUNDED from the refunded amount (a failed charge stays failed)."""
        if self.status is ChargeStatus.FAILED:
            return
        if self.refunded_amount <= 0:
            self.status = ChargeStatus.PAID
        elif self.refunded_amount < self.amount:
            self.status = ChargeStatus.PARTIALLY_REFUNDED
        else:
            self.status = ChargeStatus.REFUNDED


@dataclass(eq=False)
class SubscriptionRefund:
    refund_id: str
    charge_id: str
    amount: Decimal
    reason: Reason
    created_at: datetime
    note: str | None = None


@dataclass(eq=False)
class SkippedOrder:
    order_date: date
    skipped_at: datetime


@dataclass(eq=False)
class ProducedOrder:
    order_number: str
    order_date: date | None = None


@dataclass(frozen=True)
class SubscriptionDecision:
    """The result of asking a subscription to do something."""

    outcome: SubscriptionOutcome
    reason_code: SubscriptionReasonCode
    message: str
    refund: SubscriptionRefund | None = None
    charge: Charge | None = None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


@dataclass(eq=False)
class SubscriptionState:
    """What a subscription holds; the actions on it are added by the modules of this package."""

    subscription_id: str
    name: str
    customer: Customer
    currency: str
    price: Decimal
    frequency: Frequency
    created_at: datetime
    start_date: date
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE
    shipping_address: Address | None = None
    #: The date the schedule counts from (the start date unless the frequency changed since).
    anchor_date: date | None = None
    next_order_date: date | None = None
    last_order_date: date | None = None
    updated_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: CancelReason | None = None
    cancel_note: str | None = None
    cancel_at_period_end: bool = False
    #: When a cancellation takes (or took) effect.
    cancel_effective_date: date | None = None
    refunded_at: datetime | None = None
    paused_at: datetime | None = None
    paused_until: date | None = None
    paused_cycles: int | None = None
    pending_change: PlanChange | None = None
    service_lifecycle: LifecycleAction | None = None
    items: list[SubscriptionItem] = field(default_factory=list)
    charges: list[Charge] = field(default_factory=list)
    refunds: list[SubscriptionRefund] = field(default_factory=list)
    skipped_orders: list[SkippedOrder] = field(default_factory=list)
    orders: list[ProducedOrder] = field(default_factory=list)
    #: When the customer's personal data was forgotten (see ``domain.privacy``): an ERP document
    #: then never brings it back.
    forgotten_at: datetime | None = None

    # ------------------------------------------------------------------ derived

    @property
    def events(self) -> list[SubscriptionEvent]:
        """Events recorded since the subscription was loaded (not persisted on it)."""
        events: list[SubscriptionEvent] = self.__dict__.setdefault("_events", [])
        return events

    @property
    def order_numbers(self) -> list[str]:
        return [order.order_number for order in self.orders]

    @property
    def charged_amount(self) -> Decimal:
        return sum((c.amount for c in self.charges if c.status is not ChargeStatus.FAILED), Decimal(0))

    @property
    def refunded_amount(self) -> Decimal:
        return sum((c.refunded_amount for c in self.charges if c.status is not ChargeStatus.FAILED), Decimal(0))

    def charge(self, charge_id: str) -> Charge | None:
        for charge in self.charges:
            if charge.charge_id == charge_id:
                return charge
        return None

    # ------------------------------------------------------------------ invariants

    def check(self) -> None:
        """Raise ValidationError when the subscription's own data disagree with each other."""
        money.decimal_places(self.currency)
        if not self.subscription_id.strip():
            raise ValidationError("SubscriptionId must not be empty.", "SubscriptionId")
        if not self.customer.email or "@" not in self.customer.email:
            raise ValidationError("Customer Email is not an email address.", "Email")
        self.price = money.parse_amount(self.price, self.currency, field="Price")
        if self.price < 0:
            raise ValidationError("Price must not be negative.", "Price")
        self.frequency.check()
        if self.anchor_date is None:
            self.anchor_date = self.start_date
        check_items(self.items, self.currency)
        numbers = self.order_numbers
        if len(set(numbers)) != len(numbers):
            raise ValidationError("OrderNumber values must be unique within a subscription's orders.", "OrderNumber")
        ids = [c.charge_id for c in self.charges]
        if len(set(ids)) != len(ids):
            raise ValidationError("ChargeId values must be unique within a subscription.", "ChargeId")
        for charge in self.charges:
            charge.amount = money.positive_amount(charge.amount, self.currency, field="Charge Amount")
            charge.refunded_amount = money.parse_amount(
                charge.refunded_amount, self.currency, field="Charge RefundedAmount"
            )
            if not 0 <= charge.refunded_amount <= charge.amount:
                raise ValidationError("A charge's RefundedAmount must be between 0 and its Amount.", "RefundedAmount")
            if charge.status is ChargeStatus.FAILED and charge.refunded_amount:
                raise ValidationError("A failed charge cannot have a RefundedAmount.", "RefundedAmount")
            charge.settle_status()
        if self.status in ENDED_STATUSES and self.next_order_date is not None:
            raise ValidationError("NextOrderDate must be empty once a subscription has ended.", "NextOrderDate")
        if self.status is SubscriptionStatus.CANCELLED and self.cancelled_at is None:
            raise ValidationError("CancelledAt is required when Status is CANCELLED.", "CancelledAt")
        if self.status is SubscriptionStatus.PAUSED:
            if self.paused_until is None:
                raise ValidationError("PausedUntil is required when Status is PAUSED.", "PausedUntil")
            if self.next_order_date is not None and self.next_order_date < self.paused_until:
                raise ValidationError("NextOrderDate must not fall within the pause.", "NextOrderDate")
        if self.paused_cycles is not None and not 1 <= self.paused_cycles <= MAX_PAUSE_CYCLES:
            raise ValidationError(f"PausedCycles must be between 1 and {MAX_PAUSE_CYCLES}.", "PausedCycles")
        if self.cancel_at_period_end and self.next_order_date is not None:
            raise ValidationError("NextOrderDate must be empty when the subscription ends with its period.",
                                  "NextOrderDate")

    # ------------------------------------------------------------------ time passing

    def settle(self, now: datetime) -> None:
        """Apply what has come due by ``now``: a pause that ran out, a cancellation scheduled for the
        end of the period, a plan change whose cycle has begun."""
        today = now.date()
        if (
            self.status is SubscriptionStatus.PAUSED
            and self.paused_until is not None
            and self.paused_until <= today
        ):
            self.status = SubscriptionStatus.ACTIVE
            self.paused_at = self.paused_until = self.paused_cycles = None
            self.service_lifecycle = LifecycleAction.RESUMED
            self.updated_at = now
            self.events.append(SubscriptionResumed(self.subscription_id, now, self.next_order_date, None))
        if (
            self.cancel_at_period_end
            and self.cancel_effective_date is not None
            and self.cancel_effective_date <= today
            and self.status not in ENDED_STATUSES
        ):
            self.status = SubscriptionStatus.CANCELLED
            self.cancelled_at = _start_of(self.cancel_effective_date)
            self.cancel_at_period_end = False
            self.next_order_date = None
            self.pending_change = None
            self.service_lifecycle = LifecycleAction.CANCELLED
            self.updated_at = now
            self.events.append(SubscriptionCancelled(
                self.subscription_id, now, _value(self.cancel_reason), self.cancel_note, None, True
            ))
        pending = self.pending_change
        if pending is not None and pending.effective_date is not None and pending.effective_date <= today:
            self._apply_pending(now)

    # ------------------------------------------------------------------ helpers of the rules

    def _earliest(self, today: date) -> date:
        """The earliest day a new order may fall on: today, but never the day of the last order."""
        if self.last_order_date is not None and self.last_order_date >= today:
            return self.last_order_date + timedelta(days=1)
        return today

    def _schedule(self) -> tuple[date, Frequency]:
        """The anchor and frequency that future order dates follow (the pending plan's, if any)."""
        if self.pending_change is not None:
            return self.pending_change.anchor_date, self.pending_change.frequency
        return self.anchor_date or self.start_date, self.frequency

    @staticmethod
    def _first(anchor: date, frequency: Frequency, day: date, *, inclusive: bool) -> date | None:
        try:
            if inclusive:
                return first_on_or_after(anchor, frequency.interval, frequency.interval_count, day)
            return first_after(anchor, frequency.interval, frequency.interval_count, day)
        except OutOfCalendar:
            return None

    def _next_from(self, day: date, *, inclusive: bool) -> date | None:
        """The first scheduled date on or after (or strictly after) ``day`` that was not skipped."""
        anchor, frequency = self._schedule()
        skipped = {s.order_date for s in self.skipped_orders}
        found = self._first(anchor, frequency, day, inclusive=inclusive)
        while found is not None and found in skipped:
            found = self._first(anchor, frequency, found, inclusive=False)
        return found

    def _move_pending_to(self, day: date | None) -> None:
        if self.pending_change is not None:
            self.pending_change = replace(self.pending_change, effective_date=day)

    def _apply_pending(self, now: datetime) -> None:
        plan = self.pending_change
        assert plan is not None
        self.items = [item.copy() for item in plan.items]
        self.price, self.frequency, self.anchor_date = plan.price, plan.frequency, plan.anchor_date
        self.pending_change = None
        self.updated_at = now
        self.events.append(SubscriptionPlanChangeApplied(
            self.subscription_id, now, money.quantize(plan.price, self.currency), self.currency,
            plan.frequency.interval.value,
            plan.frequency.interval_count,
        ))

    def _refuse_unless_active(
        self, *, when_paused: SubscriptionReasonCode | None, past_due_ok: bool = False
    ) -> SubscriptionDecision | None:
        """A rejection when the subscription is not in a state to act on, else None.
        ``when_paused`` is the ReasonCode for a paused subscription (None: paused is fine)."""
        if self.status is SubscriptionStatus.CANCELLED:
            return self._reject(SubscriptionReasonCode.ALREADY_CANCELLED, "was cancelled")
        if self.cancel_at_period_end:
            return self._reject(
                SubscriptionReasonCode.CANCELLATION_SCHEDULED, f"is set to end on {self.cancel_effective_date}"
            )
        if self.status is SubscriptionStatus.PAUSED and when_paused is not None:
            return self._reject(when_paused, "is paused")
        if self.status is SubscriptionStatus.EXPIRED:
            return self._reject(SubscriptionReasonCode.NOT_ACTIVE, "has ended")
        if self.status is SubscriptionStatus.PAST_DUE and not past_due_ok:
            return self._reject(SubscriptionReasonCode.NOT_ACTIVE, "is past due; its payment must be settled first")
        return None

    def _reject(self, code: SubscriptionReasonCode, why: str) -> SubscriptionDecision:
        return self._decide(SubscriptionOutcome.REJECTED, code, why)

    def _decide(
        self, outcome: SubscriptionOutcome, code: SubscriptionReasonCode, what: str, charge: Charge | None = None
    ) -> SubscriptionDecision:
        return SubscriptionDecision(outcome, code, f"Subscription {self.subscription_id} {what}.", charge=charge)


def _value(reason: CancelReason | None) -> str:
    return reason.value if reason is not None else CancelReason.OTHER.value


def check_items(items: list[SubscriptionItem], currency: str) -> None:
    if not items:
        raise ValidationError("A subscription needs at least one item.", "Items")
    if len(items) > MAX_ITEMS:
        raise ValidationError(f"A subscription has at most {MAX_ITEMS} items.", "Items")
    skus = [item.sku for item in items]
    if len(set(skus)) != len(skus):
        raise ValidationError("Each Sku may appear once in a subscription's items.", "Sku")
    for item in items:
        if not item.sku or not item.sku.strip():
            raise ValidationError("Item Sku must not be empty.", "Sku")
        if not item.name or not item.name.strip():
            raise ValidationError("Item Name must not be empty.", "Name")
        if isinstance(item.quantity, bool) or not isinstance(item.quantity, int) or item.quantity < 1:
            raise ValidationError("Item Quantity must be at least 1.", "Quantity")
        item.unit_price = money.parse_amount(item.unit_price, currency, field="UnitPrice")
        if item.unit_price < 0:
            raise ValidationError("Item UnitPrice must not be negative.", "UnitPrice")
