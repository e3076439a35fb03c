"""Subscriptions: recurring orders of a plan (items, price, frequency), and the rules for acting on them.

A subscription produces an order, and the billing system a charge, on each date of its schedule
(``NextOrderDate``). Callers cancel (at once or at the end of the current period), pause (until a
date or for a number of cycles), resume, change the plan (from the next cycle), skip the next
order and refund charges; the ERP feeds subscriptions in and reports the charges it made.

Standard library only, like the rest of the domain. Dates follow :mod:`.recurrence`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from . import money
from .errors import ValidationError
from .orders import Address, Customer, Reason
from .recurrence import Interval, OutOfCalendar, first_after, first_on_or_after
from .subscription_events import (
    SubscriptionCancellationScheduled,
    SubscriptionCancelled,
    SubscriptionChargeRecorded,
    SubscriptionChargeRefunded,
    SubscriptionEvent,
    SubscriptionOrderSkipped,
    SubscriptionPaused,
    SubscriptionPlanChangeApplied,
    SubscriptionPlanChanged,
    SubscriptionResumed,
)
from .upserts import MAX_BATCH

__all__ = [
    "Address", "CancelReason", "Charge", "ChargeStatus", "Customer", "Frequency", "Interval", "LifecycleAction",
    "MergeRefused", "PlanChange", "ProducedOrder", "Reason", "SkippedOrder", "Subscription", "SubscriptionDecision",
    "SubscriptionItem", "SubscriptionOutcome", "SubscriptionReasonCode", "SubscriptionRefund", "SubscriptionStatus",
]

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


class MergeRefused(ValidationError):
    """An incoming document contradicts what was done through the service; nothing is changed."""


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
class Subscription:
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

    def remaining_paused_cycles(self, today: date) -> int | None:
        """For a pause of N cycles: how many of its cycles have not yet passed."""
        if self.status is not SubscriptionStatus.PAUSED or self.paused_cycles is None or self.paused_until is None:
            return None
        anchor, frequency = self._schedule()
        count = 0
        day = self._first(anchor, frequency, today, inclusive=True)
        while day is not None and day < self.paused_until and count < self.paused_cycles:
            count += 1
            day = self._first(anchor, frequency, day, inclusive=False)
        return count

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
        _check_items(self.items, self.currency)
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

    # ------------------------------------------------------------------ rules

    def cancel(
        self, *, reason: CancelReason, now: datetime, request_id: str, note: str | None = None,
        at_period_end: bool = False,
    ) -> SubscriptionDecision:
        """Cancel at once, or at the end of the current period (the date the next order was due)."""
        self.settle(now)
        if self.status is SubscriptionStatus.CANCELLED:
            return self._decide(SubscriptionOutcome.ALREADY_CANCELLED, SubscriptionReasonCode.ALREADY_CANCELLED,
                                "was already cancelled")
        if self.status is SubscriptionStatus.EXPIRED:
            return self._reject(SubscriptionReasonCode.NOT_ACTIVE, "cannot be cancelled: it has already ended")
        if self.cancel_at_period_end and at_period_end:
            return self._reject(
                SubscriptionReasonCode.CANCELLATION_SCHEDULED,
                f"is already set to end on {self.cancel_effective_date}",
            )
        self.cancel_reason, self.cancel_note, self.updated_at = reason, note, now
        period_end = None if self.cancel_at_period_end else self.next_order_date
        if (
            at_period_end
            and self.status is SubscriptionStatus.ACTIVE
            and period_end is not None
            and period_end > now.date()
        ):
            self.cancel_at_period_end = True
            self.cancel_effective_date = period_end
            self.next_order_date = None
            self.pending_change = None
            self.service_lifecycle = LifecycleAction.CANCEL_SCHEDULED
            self.events.append(SubscriptionCancellationScheduled(
                self.subscription_id, now, reason.value, note, request_id, period_end
            ))
            return self._decide(
                SubscriptionOutcome.CANCELLATION_SCHEDULED, SubscriptionReasonCode.NONE,
                f"will end on {period_end}; no further orders will be placed",
            )
        self.status = SubscriptionStatus.CANCELLED
        self.cancelled_at = now
        self.cancel_effective_date = now.date()
        self.cancel_at_period_end = False
        self.next_order_date = None
        self.paused_at = self.paused_until = self.paused_cycles = None
        self.pending_change = None
        self.service_lifecycle = LifecycleAction.CANCELLED
        self.events.append(SubscriptionCancelled(self.subscription_id, now, reason.value, note, request_id, False))
        return self._decide(SubscriptionOutcome.CANCELLED, SubscriptionReasonCode.NONE, "has been cancelled")

    def pause(
        self, *, now: datetime, request_id: str, until: date | None = None, cycles: int | None = None
    ) -> SubscriptionDecision:
        """Pause until a date, or for the next ``cycles`` orders. No order or charge while paused;
        ``next_order_date`` says when the next one will be."""
        today = now.date()
        if (until is None) == (cycles is None):
            raise ValidationError("Give either PauseUntil or PauseCycles, not both and not neither.", "PauseUntil")
        if until is not None and until <= today:
            raise ValidationError("PauseUntil must be a date after today.", "PauseUntil")
        if cycles is not None and (isinstance(cycles, bool) or not 1 <= cycles <= MAX_PAUSE_CYCLES):
            raise ValidationError(f"PauseCycles must be between 1 and {MAX_PAUSE_CYCLES}.", "PauseCycles")
        self.settle(now)
        refusal = self._refuse_unless_active(when_paused=SubscriptionReasonCode.ALREADY_PAUSED)
        if refusal is not None:
            return refusal
        anchor, frequency = self._schedule()
        if cycles is not None:
            earliest = self._earliest(today)
            due = self.next_order_date
            day = due if due is not None and due >= earliest else self._next_from(earliest, inclusive=True)
            for _ in range(cycles):
                day = self._first(anchor, frequency, day, inclusive=False) if day is not None else None
            if day is None:
                return self._reject(SubscriptionReasonCode.PAUSE_TOO_LONG, "cannot be paused for that long")
            until = day
        assert until is not None
        if (until - today).days > MAX_PAUSE_DAYS:
            return self._reject(
                SubscriptionReasonCode.PAUSE_TOO_LONG,
                f"cannot be paused for more than {MAX_PAUSE_DAYS} days",
            )
        next_order = self._next_from(until, inclusive=True)
        if next_order is None:
            return self._reject(SubscriptionReasonCode.PAUSE_TOO_LONG, "cannot be paused for that long")
        self.status = SubscriptionStatus.PAUSED
        self.paused_at, self.paused_until, self.paused_cycles = now, until, cycles
        self.next_order_date = next_order
        self._move_pending_to(next_order)
        self.service_lifecycle = LifecycleAction.PAUSED
        self.updated_at = now
        self.events.append(SubscriptionPaused(self.subscription_id, now, until, cycles, next_order, request_id))
        return self._decide(
            SubscriptionOutcome.PAUSED, SubscriptionReasonCode.NONE,
            f"is paused until {until}; the next order will be on {next_order}",
        )

    def resume(self, *, now: datetime, request_id: str) -> SubscriptionDecision:
        """End a pause now; the next order is the first date of the schedule after today."""
        self.settle(now)
        if self.status is SubscriptionStatus.CANCELLED:
            return self._reject(SubscriptionReasonCode.ALREADY_CANCELLED, "cannot be resumed: it was cancelled")
        if self.status is not SubscriptionStatus.PAUSED:
            return self._reject(SubscriptionReasonCode.NOT_PAUSED, "is not paused")
        self.status = SubscriptionStatus.ACTIVE
        self.paused_at = self.paused_until = self.paused_cycles = None
        self.next_order_date = self._next_from(self._earliest(now.date()), inclusive=True)
        self._move_pending_to(self.next_order_date)
        self.service_lifecycle = LifecycleAction.RESUMED
        self.updated_at = now
        self.events.append(SubscriptionResumed(self.subscription_id, now, self.next_order_date, request_id))
        return self._decide(
            SubscriptionOutcome.RESUMED, SubscriptionReasonCode.NONE,
            f"has been resumed; the next order will be on {self.next_order_date}",
        )

    def change_plan(
        self,
        *,
        now: datetime,
        request_id: str,
        items: list[SubscriptionItem] | None = None,
        price: object | None = None,
        frequency: Frequency | None = None,
    ) -> SubscriptionDecision:
        """Change items, price and/or frequency from the next cycle on; the next order date is
        recalculated with the new frequency, counted from the start of the current period."""
        if items is None and price is None and frequency is None:
            raise ValidationError("Give at least one of Items, Price and Frequency.", "Items")
        new_items = [item.copy() for item in items] if items is not None else None
        if new_items is not None:
            _check_items(new_items, self.currency)
        new_price = None if price is None else money.parse_amount(price, self.currency, field="Price")
        if new_price is not None and new_price < 0:
            raise ValidationError("Price must not be negative.", "Price")
        if frequency is not None:
            frequency.check()
        self.settle(now)
        refusal = self._refuse_unless_active(when_paused=None, past_due_ok=True)
        if refusal is not None:
            return refusal
        current = self.pending_change
        base_items = list(current.items) if current else self.items
        base_price = current.price if current else self.price
        base_frequency = current.frequency if current else self.frequency
        anchor, _ = self._schedule()
        plan_items = tuple(item.copy() for item in (new_items if new_items is not None else base_items))
        plan_price = money.quantize(new_price if new_price is not None else base_price, self.currency)
        plan_frequency = frequency or base_frequency
        unchanged = (
            [i.key() for i in plan_items] == [i.key() for i in self.items]
            and plan_price == self.price
            and plan_frequency == self.frequency
        )
        if unchanged and current is None:
            return self._reject(SubscriptionReasonCode.PLAN_UNCHANGED, "already has that plan")
        if plan_frequency != base_frequency:
            anchor = self.last_order_date or self.anchor_date or self.start_date
        change = PlanChange(plan_items, plan_price, plan_frequency, anchor, None, now)
        self.pending_change = change
        earliest = self._earliest(now.date())
        if self.status is SubscriptionStatus.PAUSED and self.paused_until is not None:
            earliest = max(earliest, self.paused_until)
        next_order = self._next_from(earliest, inclusive=True)
        self.next_order_date = next_order
        self.pending_change = replace(change, effective_date=next_order)
        self.updated_at = now
        self.events.append(SubscriptionPlanChanged(
            self.subscription_id, now, tuple((i.sku, i.quantity) for i in plan_items), plan_price, self.currency,
            plan_frequency.interval.value, plan_frequency.interval_count, next_order, request_id,
        ))
        when = f"from the order on {next_order}" if next_order else "from the next order"
        return self._decide(
            SubscriptionOutcome.PLAN_CHANGED, SubscriptionReasonCode.NONE,
            f"will change to the new plan ({money.format_amount(plan_price, self.currency)} "
            f"{plan_frequency.describe()}) {when}",
        )

    def skip_next_order(self, *, now: datetime, request_id: str) -> SubscriptionDecision:
        """Skip the next scheduled order; the one after it becomes the next."""
        self.settle(now)
        refusal = self._refuse_unless_active(when_paused=SubscriptionReasonCode.NOT_ACTIVE)
        if refusal is not None:
            return refusal
        skipped = self.next_order_date
        if skipped is None:
            return self._reject(SubscriptionReasonCode.NO_ORDER_SCHEDULED, "has no order scheduled to skip")
        self.skipped_orders.append(SkippedOrder(skipped, now))
        self.next_order_date = self._next_from(skipped, inclusive=False)
        self._move_pending_to(self.next_order_date)
        self.updated_at = now
        self.events.append(SubscriptionOrderSkipped(self.subscription_id, now, skipped, self.next_order_date,
                                                    request_id))
        return self._decide(
            SubscriptionOutcome.SKIPPED, SubscriptionReasonCode.NONE,
            f"will skip the order of {skipped}; the next order will be on {self.next_order_date}",
        )

    def refund_charge(
        self, *, charge_id: str, reason: Reason, now: datetime, request_id: str, refund_id: str,
        amount: object | None = None, note: str | None = None,
    ) -> SubscriptionDecision:
        """Refund a past charge, in full (no amount) or in part; never more than charged minus refunded."""
        requested = None if amount is None else money.positive_amount(amount, self.currency)
        self.settle(now)
        charge = self.charge(charge_id)
        if charge is None:
            return self._reject(SubscriptionReasonCode.UNKNOWN_CHARGE, "has no such charge")
        if charge.status is ChargeStatus.FAILED:
            return self._reject(SubscriptionReasonCode.CHARGE_NOT_PAID, "cannot refund a charge that failed")
        refundable = money.quantize(charge.refundable_amount, self.currency)  # stored amounts may carry more places
        if refundable <= 0:
            return self._reject(SubscriptionReasonCode.NOTHING_REFUNDABLE, "has already refunded that charge in full")
        if requested is None:
            requested = refundable
        if requested > refundable:
            return self._reject(
                SubscriptionReasonCode.EXCEEDS_REFUNDABLE,
                f"can refund at most {money.format_amount(refundable, self.currency)} of that charge",
            )
        charge.refunded_amount = money.quantize(charge.refunded_amount + requested, self.currency)
        charge.settle_status()
        refund = SubscriptionRefund(refund_id, charge.charge_id, requested, reason, now, note)
        self.refunds.append(refund)
        self.refunded_at = self.updated_at = now
        self.events.append(SubscriptionChargeRefunded(
            self.subscription_id, now, refund_id, charge.charge_id, requested, self.currency, reason.value, note,
            request_id,
        ))
        return SubscriptionDecision(
            SubscriptionOutcome.REFUNDED, SubscriptionReasonCode.NONE,
            f"A refund of {money.format_amount(requested, self.currency)} has been issued "
            f"for subscription {self.subscription_id}.",
            refund=refund,
        )

    def record_charge(
        self, *, charge_id: str, amount: object, charged_at: datetime, now: datetime, request_id: str | None,
        status: ChargeStatus = ChargeStatus.PAID, order_number: str | None = None,
    ) -> SubscriptionDecision:
        """Record a charge the billing system made for the cycle due on ``next_order_date``, with the
        order it produced. A paid charge starts the next cycle; a failed one makes the subscription
        PAST_DUE. Refused while paused or once cancelled."""
        value = money.positive_amount(amount, self.currency)
        if status not in (ChargeStatus.PAID, ChargeStatus.FAILED):
            raise ValidationError("A recorded charge's Status must be PAID or FAILED.", "Status")
        if charged_at.tzinfo is None:
            raise ValidationError("ChargedAt must carry a time zone.", "ChargedAt")
        if charged_at > now + CHARGE_CLOCK_SKEW:
            raise ValidationError("ChargedAt must not be in the future.", "ChargedAt")
        if status is ChargeStatus.PAID and not order_number:
            raise ValidationError("OrderNumber is required for a paid charge.", "OrderNumber")
        self.settle(now)
        if self.charge(charge_id) is not None:
            return self._reject(SubscriptionReasonCode.DUPLICATE_CHARGE, "already has a charge with that id")
        refusal = self._refuse_unless_active(when_paused=SubscriptionReasonCode.NOT_ACTIVE, past_due_ok=True)
        if refusal is not None:
            return refusal
        charge = Charge(charge_id, value, charged_at, status, Decimal(0), order_number)
        self.charges.append(charge)
        self.updated_at = now
        if status is ChargeStatus.FAILED:
            self.status = SubscriptionStatus.PAST_DUE
            message = "could not be charged; it is past due"
        else:
            if self.pending_change is not None:
                self._apply_pending(now)
            day = charged_at.date()
            due = self.next_order_date or day
            self.last_order_date = day
            assert order_number is not None
            if order_number not in self.order_numbers:
                self.orders.append(ProducedOrder(order_number, day))
            self.next_order_date = self._next_from(max(due, day), inclusive=False)
            self.status = SubscriptionStatus.ACTIVE
            message = f"has been charged {money.format_amount(value, self.currency)}"
        self.events.append(SubscriptionChargeRecorded(
            self.subscription_id, now, charge_id, value, self.currency, status.value, charged_at, order_number,
            self.next_order_date, request_id,
        ))
        return self._decide(SubscriptionOutcome.CHARGE_RECORDED, SubscriptionReasonCode.NONE, message, charge=charge)

    # ------------------------------------------------------------------ the ERP's copy

    def merge(self, incoming: Subscription, now: datetime) -> None:
        """Take what the ERP owns from ``incoming`` (same id, already checked) and keep what was done
        through the service: cancellation, pause, resumption, scheduled cancellation, skips, refunds,
        a pending plan change, recorded charges and the orders they produced. Raises
        :class:`MergeRefused`, having changed nothing, when ``incoming`` contradicts it."""
        if incoming.currency != self.currency and (self.refunds or self.charges):
            raise MergeRefused("Currency cannot change once the subscription has charges.", "Currency")
        lifecycle = self.service_lifecycle
        if lifecycle is LifecycleAction.CANCELLED and incoming.status not in ENDED_STATUSES:
            raise MergeRefused("Status contradicts the cancellation made through the service.", "Status")
        merged_charges = self._merged_charges(incoming)
        # Nothing has changed so far; from here on the merge cannot fail.
        for name in ("name", "customer", "shipping_address", "currency", "price", "frequency", "created_at",
                     "start_date", "anchor_date", "last_order_date"):
            setattr(self, name, getattr(incoming, name))
        if [i.key() for i in incoming.items] != [i.key() for i in self.items]:
            self.items = [item.copy() for item in incoming.items]
        stored = {charge.charge_id: charge for charge in self.charges}
        charges: list[Charge] = []
        for charge in merged_charges:  # update stored charges in place: a charge keeps its identity
            kept = stored.get(charge.charge_id, charge)
            for name in ("amount", "charged_at", "status", "refunded_amount", "order_number"):
                setattr(kept, name, getattr(charge, name))
            charges.append(kept)
        self.charges = charges
        known = set(self.order_numbers)
        for order in incoming.orders:
            if order.order_number not in known:
                self.orders.append(ProducedOrder(order.order_number, order.order_date))
                known.add(order.order_number)
        if incoming.refunded_at and (self.refunded_at is None or incoming.refunded_at > self.refunded_at):
            self.refunded_at = incoming.refunded_at
        if lifecycle is None:
            self._take_lifecycle(incoming)
        elif self.status in ENDED_STATUSES:
            pass  # cancelled through the service, and the ERP agrees that it has ended
        elif incoming.status in ENDED_STATUSES:
            self._take_lifecycle(incoming)  # the ERP ended it
            self.service_lifecycle = None
        elif self.status is SubscriptionStatus.PAUSED or incoming.status is SubscriptionStatus.PAUSED:
            pass  # the service's pause stands, and so does its resumption against a stale PAUSED
        else:
            self.status = incoming.status  # ACTIVE or PAST_DUE: the billing system's to say
        if self.status in ENDED_STATUSES:
            self.pending_change = None
        pending = self.pending_change
        if pending is not None and self._plan_matches(pending):
            self.pending_change = None  # the ERP's document already carries the new plan
        self.next_order_date = incoming.next_order_date
        self._normalise_next_order_date()
        self.updated_at = now

    def _take_lifecycle(self, incoming: Subscription) -> None:
        self.status = incoming.status
        self.paused_at, self.paused_until, self.paused_cycles = (
            incoming.paused_at, incoming.paused_until, incoming.paused_cycles
        )
        self.cancel_at_period_end = incoming.cancel_at_period_end
        self.cancel_effective_date = incoming.cancel_effective_date
        self.cancelled_at = incoming.cancelled_at
        self.cancel_reason = incoming.cancel_reason or (self.cancel_reason if incoming.cancelled_at else None)
        self.cancel_note = incoming.cancel_note or (self.cancel_note if incoming.cancelled_at else None)

    def _merged_charges(self, incoming: Subscription) -> list[Charge]:
        stored = {c.charge_id: c for c in self.charges}
        merged: list[Charge] = []
        seen: set[str] = set()
        for position, new in enumerate(incoming.charges, 1):
            old = stored.get(new.charge_id)
            charge = Charge(new.charge_id, new.amount, new.charged_at, new.status, new.refunded_amount,
                            new.order_number)
            if old is not None:
                charge.refunded_amount = max(old.refunded_amount, new.refunded_amount)
                if charge.refunded_amount and charge.status is ChargeStatus.FAILED:
                    raise MergeRefused(
                        f"Charges[{position}].Status cannot be FAILED: the charge was refunded.", "Status"
                    )
                if charge.amount < charge.refunded_amount:
                    raise MergeRefused(
                        f"Charges[{position}].Amount is below what was refunded of it.", "Amount"
                    )
                charge.order_number = charge.order_number or old.order_number
            charge.settle_status()
            merged.append(charge)
            seen.add(charge.charge_id)
        for old in self.charges:  # charges the ERP left out are kept: they happened
            if old.charge_id not in seen:
                merged.append(old)
        return merged

    def _plan_matches(self, plan: PlanChange) -> bool:
        return (
            [i.key() for i in plan.items] == [i.key() for i in self.items]
            and plan.price == self.price
            and plan.frequency == self.frequency
        )

    def _normalise_next_order_date(self) -> None:
        """Make the next order date agree with ended, paused, scheduled-to-end and skipped states."""
        if self.status in ENDED_STATUSES or self.cancel_at_period_end:
            self.next_order_date = None
            return
        day = self.next_order_date
        pause_ends = self.paused_until if self.status is SubscriptionStatus.PAUSED else None
        if pause_ends is not None and (day is None or day < pause_ends):
            day = self._next_from(pause_ends, inclusive=True)
        skipped = {s.order_date for s in self.skipped_orders}
        if day is not None and day in skipped:
            day = self._next_from(day, inclusive=False)
        self.next_order_date = day
        self._move_pending_to(day)

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


def _check_items(items: list[SubscriptionItem], currency: str) -> None:
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
