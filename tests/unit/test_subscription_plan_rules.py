"""Changing a subscription's plan (``subscriptions.plan``): the date a new frequency counts from before
the first order, a pause date left on a subscription that is not paused, and the answer when the new
plan's first order would fall beyond the calendar."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from soap_orders.domain.recurrence import Interval
from soap_orders.domain.subscription_events import SubscriptionPlanChanged
from soap_orders.domain.subscriptions import (
    Frequency,
    SubscriptionOutcome,
    SubscriptionReasonCode,
    SubscriptionStatus,
)
from tests.unit.subscription_factories import NOW, at, make_subscription


def test_before_the_first_order_a_new_frequency_counts_from_the_schedules_anchor_not_the_start():
    # Started Thursday Jan 1, but the ERP anchors the schedule on Saturday Jan 10; no order yet.
    sub = make_subscription(start_date=date(2026, 1, 1), anchor_date=date(2026, 1, 10), last_order_date=None,
                            next_order_date=date(2026, 2, 10), charges=[], orders=[])
    thursday = at(date(2026, 2, 5))

    decision = sub.change_plan(now=thursday, request_id="c", frequency=Frequency(Interval.WEEK, 1))

    # Saturdays from Jan 10: Feb 7 (counted from the start date it would be today, Thursday Feb 5)
    assert sub.next_order_date == date(2026, 2, 7)
    change = sub.pending_change
    assert change is not None and (change.anchor_date, change.effective_date) == (date(2026, 1, 10),
                                                                                  date(2026, 2, 7))
    assert decision.message == ("Subscription SUB-1 will change to the new plan (24.00 EUR every week) "
                                "from the order on 2026-02-07.")


def test_a_pause_end_left_on_an_active_subscription_does_not_hold_back_the_new_plan():
    # The ERP ended a pause early: the subscription is ACTIVE, its document still says PausedUntil Mar 20.
    sub = make_subscription(paused_until=date(2026, 3, 20))
    assert sub.status is SubscriptionStatus.ACTIVE

    decision = sub.change_plan(now=NOW, request_id="c", frequency=Frequency(Interval.WEEK, 1))

    # weekly from the last order (Saturday Jan 31): the first Saturday from today (Tue Feb 10)
    assert sub.next_order_date == date(2026, 2, 14)
    assert sub.pending_change is not None and sub.pending_change.effective_date == date(2026, 2, 14)
    assert decision.message.endswith("from the order on 2026-02-14.")


def test_a_past_due_subscription_with_a_pause_end_on_it_changes_plan_from_its_next_scheduled_order():
    sub = make_subscription(status=SubscriptionStatus.PAST_DUE, paused_until=date(2026, 5, 1))

    sub.change_plan(now=NOW, request_id="c", price="20.00")

    assert sub.next_order_date == date(2026, 2, 28)  # the month end, not after May 1


def test_a_new_plan_whose_first_order_would_fall_beyond_the_calendar_says_from_the_next_order():
    sub = make_subscription(start_date=date(9999, 1, 31), last_order_date=date(9999, 1, 31),
                            next_order_date=date(9999, 2, 28), charges=[], orders=[])
    now = at(date(9999, 2, 10))

    decision = sub.change_plan(now=now, request_id="c", frequency=Frequency(Interval.YEAR, 1))

    assert (decision.outcome, decision.reason_code, decision.message) == (
        SubscriptionOutcome.PLAN_CHANGED, SubscriptionReasonCode.NONE,
        "Subscription SUB-1 will change to the new plan (24.00 EUR every year) from the next order.")
    assert sub.next_order_date is None
    assert sub.pending_change is not None and sub.pending_change.effective_date is None
    assert sub.events[-1] == SubscriptionPlanChanged("SUB-1", now, (("COF-1", 2),), Decimal("24.00"), "EUR", "YEAR",
                                                     1, None, "c")
