"""Pausing, resuming and skipping: when the next order of a subscription comes."""

from __future__ import annotations

from datetime import date, datetime

from ..errors import ValidationError
from ..subscription_events import (
    SubscriptionOrderSkipped,
    SubscriptionPaused,
    SubscriptionResumed,
)
from .model import (
    MAX_PAUSE_CYCLES,
    MAX_PAUSE_DAYS,
    LifecycleAction,
    SkippedOrder,
    SubscriptionDecision,
    SubscriptionOutcome,
    SubscriptionReasonCode,
    SubscriptionState,
    SubscriptionStatus,
)


class Pausing(SubscriptionState):
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
