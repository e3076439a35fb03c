"""Cancelling a subscription: at once, or at the end of the current period."""

from __future__ import annotations

from datetime import datetime

from ..subscription_events import (
    SubscriptionCancellationScheduled,
    SubscriptionCancelled,
)
from .model import (
    CancelReason,
    LifecycleAction,
    SubscriptionDecision,
    SubscriptionOutcome,
    SubscriptionReasonCode,
    SubscriptionState,
    SubscriptionStatus,
)


class Cancelling(SubscriptionState):
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
