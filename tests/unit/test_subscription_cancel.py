"""Cancelling a subscription (``subscriptions.cancelling``): what is stored, the event recorded
and the message the caller reads, at once and at the end of the period."""

from __future__ import annotations

from datetime import date

from soap_orders.domain.subscription_events import (
    SubscriptionCancellationScheduled,
    SubscriptionCancelled,
)
from soap_orders.domain.subscriptions import (
    CancelReason,
    SubscriptionOutcome,
    SubscriptionReasonCode,
    SubscriptionStatus,
)
from tests.unit.subscription_factories import NOW, at, make_subscription


def test_cancel_at_once_ends_today_and_records_who_asked_and_why():
    sub = make_subscription()
    decision = sub.cancel(reason=CancelReason.TOO_EXPENSIVE, now=NOW, request_id="r1", note="Found cheaper")
    assert decision.outcome is SubscriptionOutcome.CANCELLED
    assert (sub.cancel_effective_date, sub.cancel_at_period_end) == (NOW.date(), False)
    assert sub.events == [SubscriptionCancelled("SUB-1", NOW, "TOO_EXPENSIVE", "Found cheaper", "r1", False)]


def test_cancel_at_period_end_records_when_it_will_end_and_says_so():
    sub = make_subscription()
    decision = sub.cancel(reason=CancelReason.NO_LONGER_NEEDED, now=NOW, request_id="r1", note="Enough coffee",
                          at_period_end=True)
    assert decision.message == "Subscription SUB-1 will end on 2026-02-28; no further orders will be placed."
    assert sub.events == [SubscriptionCancellationScheduled("SUB-1", NOW, "NO_LONGER_NEEDED", "Enough coffee", "r1",
                                                            date(2026, 2, 28))]
    again = sub.cancel(reason=CancelReason.OTHER, now=NOW, request_id="r2", at_period_end=True)
    assert (again.outcome, again.reason_code) == (SubscriptionOutcome.REJECTED,
                                                  SubscriptionReasonCode.CANCELLATION_SCHEDULED)
    assert again.message == "Subscription SUB-1 is already set to end on 2026-02-28."


def test_cancel_at_period_end_on_the_day_the_next_order_is_due_cancels_at_once():
    sub = make_subscription()
    day = at(date(2026, 2, 28), 6)
    decision = sub.cancel(reason=CancelReason.MOVING, now=day, request_id="r1", at_period_end=True)
    assert decision.outcome is SubscriptionOutcome.CANCELLED
    assert (sub.status, sub.cancel_effective_date, sub.cancel_at_period_end) == (
        SubscriptionStatus.CANCELLED, date(2026, 2, 28), False)


def test_a_subscription_already_cancelled_or_ended_says_so():
    sub = make_subscription()
    sub.cancel(reason=CancelReason.MOVING, now=NOW, request_id="r1")
    again = sub.cancel(reason=CancelReason.OTHER, now=NOW, request_id="r2")
    assert again.message == "Subscription SUB-1 was already cancelled."

    ended = make_subscription(status=SubscriptionStatus.EXPIRED, next_order_date=None)
    decision = ended.cancel(reason=CancelReason.OTHER, now=NOW, request_id="r3")
    assert (decision.outcome, decision.reason_code) == (SubscriptionOutcome.REJECTED, SubscriptionReasonCode.NOT_ACTIVE)
    assert decision.message == "Subscription SUB-1 cannot be cancelled: it has already ended."
    assert ended.status is SubscriptionStatus.EXPIRED and ended.events == []
