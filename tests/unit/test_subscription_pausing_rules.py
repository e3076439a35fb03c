"""Pausing, resuming and skipping a subscription (``subscriptions.pausing``): when the next order (and
so the next charge) comes, what is stored and told to the change feed, and the whole text of every
answer and refusal."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from soap_orders.domain.errors import ValidationError
from soap_orders.domain.recurrence import Interval
from soap_orders.domain.subscription_events import (
    SubscriptionOrderSkipped,
    SubscriptionPaused,
    SubscriptionResumed,
)
from soap_orders.domain.subscriptions import (
    CancelReason,
    Frequency,
    LifecycleAction,
)
from soap_orders.domain.subscriptions import (
    SubscriptionOutcome as O,
)
from soap_orders.domain.subscriptions import (
    SubscriptionReasonCode as R,
)
from soap_orders.domain.subscriptions import (
    SubscriptionStatus as S,
)
from tests.unit.subscription_factories import NOW, at, make_subscription

# ---------------------------------------------------------------------- pause


def test_a_pause_until_a_date_stores_who_paused_when_and_tells_the_change_feed():
    sub = make_subscription()  # monthly on the 31st (month ends), last order Jan 31, next Feb 28

    decision = sub.pause(now=NOW, request_id="p1", until=date(2026, 4, 15))

    assert (decision.outcome, decision.reason_code, decision.message) == (
        O.PAUSED, R.NONE, "Subscription SUB-1 is paused until 2026-04-15; the next order will be on 2026-04-30.")
    assert (sub.status, sub.paused_at, sub.paused_until, sub.paused_cycles) == (
        S.PAUSED, NOW, date(2026, 4, 15), None)
    assert (sub.next_order_date, sub.service_lifecycle, sub.updated_at) == (
        date(2026, 4, 30), LifecycleAction.PAUSED, NOW)
    assert sub.events == [SubscriptionPaused("SUB-1", NOW, date(2026, 4, 15), None, date(2026, 4, 30), "p1")]


def test_a_pause_for_cycles_leaves_out_that_many_orders_and_says_so():
    sub = make_subscription()

    decision = sub.pause(now=NOW, request_id="p1", cycles=1)  # the order of Feb 28 is not produced

    assert decision.message == ("Subscription SUB-1 is paused until 2026-03-31; "
                                "the next order will be on 2026-03-31.")
    assert (sub.paused_until, sub.paused_cycles, sub.next_order_date) == (date(2026, 3, 31), 1, date(2026, 3, 31))
    assert sub.events == [SubscriptionPaused("SUB-1", NOW, date(2026, 3, 31), 1, date(2026, 3, 31), "p1")]


def test_a_pause_ending_on_a_schedule_date_orders_on_that_date():
    sub = make_subscription()

    sub.pause(now=NOW, request_id="p", until=date(2026, 3, 31))

    assert sub.next_order_date == date(2026, 3, 31)


def test_a_pause_till_tomorrow_is_accepted():
    sub = make_subscription()

    decision = sub.pause(now=NOW, request_id="p", until=NOW.date() + timedelta(days=1))

    assert decision.outcome is O.PAUSED and sub.next_order_date == date(2026, 2, 28)


@pytest.mark.parametrize("kwargs, message, field", [
    ({}, "Give either PauseUntil or PauseCycles, not both and not neither.", "PauseUntil"),
    ({"until": date(2026, 3, 1), "cycles": 1}, "Give either PauseUntil or PauseCycles, not both and not neither.",
     "PauseUntil"),
    ({"until": date(2026, 2, 10)}, "PauseUntil must be a date after today.", "PauseUntil"),
    ({"until": date(2026, 2, 9)}, "PauseUntil must be a date after today.", "PauseUntil"),
    ({"cycles": 0}, "PauseCycles must be between 1 and 12.", "PauseCycles"),
    ({"cycles": 13}, "PauseCycles must be between 1 and 12.", "PauseCycles"),
    ({"cycles": True}, "PauseCycles must be between 1 and 12.", "PauseCycles"),
])
def test_a_pause_without_a_future_date_or_a_sensible_number_of_cycles_is_refused_by_field(kwargs, message, field):
    sub = make_subscription()
    with pytest.raises(ValidationError) as caught:
        sub.pause(now=NOW, request_id="p", **kwargs)
    assert (caught.value.message, caught.value.field) == (message, field)
    assert sub.status is S.ACTIVE and sub.next_order_date == date(2026, 2, 28) and sub.events == []


def test_a_pause_of_twelve_cycles_is_the_longest_allowed():
    weekly = make_subscription(frequency=Frequency(Interval.WEEK, 1), next_order_date=date(2026, 2, 14))

    decision = weekly.pause(now=NOW, request_id="p", cycles=12)  # Saturdays from Jan 31; Feb 14 is the next

    assert decision.outcome is O.PAUSED
    assert weekly.paused_until == date(2026, 5, 9) and weekly.next_order_date == date(2026, 5, 9)


def test_a_pause_may_last_a_year_and_not_a_day_more():
    longest = make_subscription()
    too_long = make_subscription()

    accepted = longest.pause(now=NOW, request_id="p", until=NOW.date() + timedelta(days=365))
    refused = too_long.pause(now=NOW, request_id="p", until=NOW.date() + timedelta(days=366))

    assert accepted.outcome is O.PAUSED and longest.next_order_date == date(2027, 2, 28)
    assert (refused.outcome, refused.reason_code, refused.message) == (
        O.REJECTED, R.PAUSE_TOO_LONG, "Subscription SUB-1 cannot be paused for more than 365 days.")
    assert too_long.status is S.ACTIVE and too_long.next_order_date == date(2026, 2, 28) and too_long.events == []


def test_a_pause_of_cycles_beyond_a_year_is_refused():
    yearly = make_subscription(frequency=Frequency(Interval.YEAR, 1), next_order_date=date(2027, 1, 31))

    decision = yearly.pause(now=NOW, request_id="p", cycles=1)  # the order of Jan 31 2027 is left out

    assert (decision.outcome, decision.reason_code, decision.message) == (
        O.REJECTED, R.PAUSE_TOO_LONG, "Subscription SUB-1 cannot be paused for more than 365 days.")
    assert yearly.status is S.ACTIVE
    assert yearly.next_order_date == date(2027, 1, 31) and yearly.events == []


def test_a_pause_for_cycles_counts_from_the_next_order_due():
    sub = make_subscription()
    sub.skip_next_order(now=NOW, request_id="s")  # Feb 28 is skipped; Mar 31 is next

    sub.pause(now=NOW, request_id="p", cycles=1)  # leaves out Mar 31

    assert (sub.paused_until, sub.next_order_date) == (date(2026, 4, 30), date(2026, 4, 30))


def test_a_pause_for_cycles_on_the_day_an_order_is_due_leaves_that_order_out():
    sub = make_subscription()
    due_day = at(date(2026, 2, 28), 6)

    sub.pause(now=due_day, request_id="p", cycles=1)

    assert (sub.paused_until, sub.next_order_date) == (date(2026, 3, 31), date(2026, 3, 31))


def test_a_pause_for_cycles_without_an_order_due_counts_from_the_first_schedule_date():
    sub = make_subscription(next_order_date=None)

    sub.pause(now=NOW, request_id="p", cycles=2)  # Feb 28 and Mar 31 are left out

    assert (sub.paused_until, sub.next_order_date) == (date(2026, 4, 30), date(2026, 4, 30))


def test_a_pause_for_cycles_of_a_due_date_already_past_counts_from_today():
    sub = make_subscription(next_order_date=date(2026, 2, 28))
    late = at(date(2026, 3, 5))  # the Feb 28 order was never produced; the next schedule date is Mar 31

    sub.pause(now=late, request_id="p", cycles=1)

    assert (sub.paused_until, sub.next_order_date) == (date(2026, 4, 30), date(2026, 4, 30))


def test_a_pause_for_cycles_never_lands_on_the_day_of_the_last_order():
    sub = make_subscription(last_order_date=date(2026, 2, 28), next_order_date=None,
                            frequency=Frequency(Interval.DAY, 1), start_date=date(2026, 2, 1))
    today = at(date(2026, 2, 28), 18)  # ordered this morning

    sub.pause(now=today, request_id="p", cycles=2)  # Mar 1 and Mar 2 are left out

    assert (sub.paused_until, sub.next_order_date) == (date(2026, 3, 3), date(2026, 3, 3))


def test_a_pause_steps_over_skipped_orders():
    sub = make_subscription()
    sub.skip_next_order(now=NOW, request_id="s1")  # Feb 28
    sub.skip_next_order(now=NOW, request_id="s2")  # Mar 31

    sub.pause(now=NOW, request_id="p", until=date(2026, 2, 20))

    assert sub.next_order_date == date(2026, 4, 30)


def test_a_pause_counts_cycles_on_the_new_plans_schedule():
    sub = make_subscription()
    sub.change_plan(now=NOW, request_id="c", frequency=Frequency(Interval.WEEK, 2))  # next: Feb 14

    sub.pause(now=NOW, request_id="p", cycles=2)  # Feb 14 and Feb 28 are left out

    assert (sub.paused_until, sub.next_order_date) == (date(2026, 3, 14), date(2026, 3, 14))
    assert sub.pending_change is not None and sub.pending_change.effective_date == date(2026, 3, 14)


def test_a_pause_moves_a_pending_price_change_to_the_order_after_it():
    sub = make_subscription()
    sub.change_plan(now=NOW, request_id="c", price="30.00")

    sub.pause(now=NOW, request_id="p", until=date(2026, 4, 15))

    assert sub.pending_change is not None and sub.pending_change.effective_date == date(2026, 4, 30)
    assert sub.pending_change.price == Decimal("30.00") and sub.price == Decimal("24.00")


def test_a_pause_that_ran_out_may_be_followed_by_another():
    sub = make_subscription()
    sub.pause(now=NOW, request_id="p1", until=date(2026, 3, 10))
    later = at(date(2026, 3, 10))

    decision = sub.pause(now=later, request_id="p2", until=date(2026, 5, 1))

    assert decision.outcome is O.PAUSED
    assert (sub.paused_at, sub.paused_until, sub.next_order_date) == (later, date(2026, 5, 1), date(2026, 5, 31))


def test_a_second_pause_is_refused_while_paused():
    sub = make_subscription()
    sub.pause(now=NOW, request_id="p1", until=date(2026, 3, 10))

    decision = sub.pause(now=NOW, request_id="p2", until=date(2026, 5, 1))

    assert (decision.outcome, decision.reason_code, decision.message) == (
        O.REJECTED, R.ALREADY_PAUSED, "Subscription SUB-1 is paused.")
    assert (sub.paused_until, sub.next_order_date, len(sub.events)) == (date(2026, 3, 10), date(2026, 3, 31), 1)


# ---------------------------------------------------------------------- resume


def test_a_resumption_clears_the_pause_and_tells_the_change_feed():
    sub = make_subscription()
    sub.pause(now=NOW, request_id="p", cycles=3)
    sub.change_plan(now=NOW, request_id="c", price="30.00")
    later = at(date(2026, 3, 5))

    decision = sub.resume(now=later, request_id="r1")

    assert (decision.outcome, decision.reason_code, decision.message) == (
        O.RESUMED, R.NONE, "Subscription SUB-1 has been resumed; the next order will be on 2026-03-31.")
    assert (sub.status, sub.paused_at, sub.paused_until, sub.paused_cycles) == (S.ACTIVE, None, None, None)
    assert (sub.next_order_date, sub.service_lifecycle, sub.updated_at) == (
        date(2026, 3, 31), LifecycleAction.RESUMED, later)
    assert sub.pending_change is not None and sub.pending_change.effective_date == date(2026, 3, 31)
    assert sub.events[-1] == SubscriptionResumed("SUB-1", later, date(2026, 3, 31), "r1")


def test_a_resumption_steps_over_skipped_orders():
    sub = make_subscription()
    sub.skip_next_order(now=NOW, request_id="s")  # Feb 28
    sub.pause(now=NOW, request_id="p", until=date(2026, 4, 1))

    sub.resume(now=at(date(2026, 2, 12)), request_id="r")

    assert sub.next_order_date == date(2026, 3, 31)


@pytest.mark.parametrize("state, code, message", [
    ("active", R.NOT_PAUSED, "Subscription SUB-1 is not paused."),
    ("cancelled", R.ALREADY_CANCELLED, "Subscription SUB-1 cannot be resumed: it was cancelled."),
])
def test_a_resumption_is_refused_with_its_reason_unless_paused(state, code, message):
    sub = make_subscription()
    if state == "cancelled":
        sub.pause(now=NOW, request_id="p", until=date(2026, 4, 1))
        sub.cancel(reason=CancelReason.OTHER, now=NOW, request_id="c")
    before = (sub.status, sub.next_order_date, len(sub.events))

    decision = sub.resume(now=NOW, request_id="r")

    assert (decision.outcome, decision.reason_code, decision.message) == (O.REJECTED, code, message)
    assert (sub.status, sub.next_order_date, len(sub.events)) == before


def test_a_resumption_after_the_pause_ran_out_is_refused_and_keeps_the_next_order():
    sub = make_subscription()
    sub.pause(now=NOW, request_id="p", until=date(2026, 3, 10))
    later = at(date(2026, 3, 20))

    decision = sub.resume(now=later, request_id="r")

    assert (decision.outcome, decision.reason_code) == (O.REJECTED, R.NOT_PAUSED)
    assert sub.status is S.ACTIVE and sub.next_order_date == date(2026, 3, 31)
    assert [type(e) for e in sub.events] == [SubscriptionPaused, SubscriptionResumed]


# ---------------------------------------------------------------------- skip


def test_a_skip_remembers_the_order_left_out_and_tells_the_change_feed():
    sub = make_subscription()
    sub.change_plan(now=NOW, request_id="c", price="30.00")

    decision = sub.skip_next_order(now=NOW, request_id="s1")

    assert (decision.outcome, decision.reason_code, decision.message) == (
        O.SKIPPED, R.NONE,
        "Subscription SUB-1 will skip the order of 2026-02-28; the next order will be on 2026-03-31.")
    assert [(s.order_date, s.skipped_at) for s in sub.skipped_orders] == [(date(2026, 2, 28), NOW)]
    assert (sub.status, sub.next_order_date, sub.updated_at) == (S.ACTIVE, date(2026, 3, 31), NOW)
    assert sub.pending_change is not None and sub.pending_change.effective_date == date(2026, 3, 31)
    assert sub.events[-1] == SubscriptionOrderSkipped("SUB-1", NOW, date(2026, 2, 28), date(2026, 3, 31), "s1")


def test_a_skip_after_the_pause_ran_out_is_accepted():
    sub = make_subscription()
    sub.pause(now=NOW, request_id="p", until=date(2026, 3, 10))

    decision = sub.skip_next_order(now=at(date(2026, 3, 10)), request_id="s")

    assert decision.outcome is O.SKIPPED and sub.next_order_date == date(2026, 4, 30)


@pytest.mark.parametrize("state, code, message", [
    ("paused", R.NOT_ACTIVE, "Subscription SUB-1 is paused."),
    ("none", R.NO_ORDER_SCHEDULED, "Subscription SUB-1 has no order scheduled to skip."),
])
def test_a_skip_is_refused_with_its_reason(state, code, message):
    sub = make_subscription(next_order_date=None if state == "none" else date(2026, 2, 28))
    if state == "paused":
        sub.pause(now=NOW, request_id="p", until=date(2026, 4, 1))
    before = (sub.next_order_date, len(sub.events))

    decision = sub.skip_next_order(now=NOW, request_id="s")

    assert (decision.outcome, decision.reason_code, decision.message) == (O.REJECTED, code, message)
    assert (sub.next_order_date, len(sub.events), sub.skipped_orders) == (*before, [])


@pytest.mark.parametrize("kwargs", [{"until": date(9999, 12, 1)}, {"cycles": 1}])
def test_a_pause_whose_next_order_would_fall_beyond_the_calendar_is_refused(kwargs):
    sub = make_subscription(frequency=Frequency(Interval.YEAR, 1), start_date=date(9999, 1, 31),
                            last_order_date=date(9999, 1, 31), next_order_date=None, charges=[],
                            orders=[])
    now = at(date(9999, 6, 1))

    decision = sub.pause(now=now, request_id="p", **kwargs)

    assert (decision.outcome, decision.reason_code, decision.message) == (
        O.REJECTED, R.PAUSE_TOO_LONG, "Subscription SUB-1 cannot be paused for that long.")
    assert sub.status is S.ACTIVE and sub.paused_until is None and sub.events == []


def test_a_pause_for_cycles_leaves_out_the_order_the_erp_moved_later_and_the_ones_after_it():
    sub = make_subscription(next_order_date=date(2026, 4, 30))  # the ERP moved the next order to Apr 30

    sub.pause(now=NOW, request_id="p", cycles=1)  # leaves out Apr 30, not Feb 28

    assert (sub.paused_until, sub.next_order_date) == (date(2026, 5, 31), date(2026, 5, 31))


def test_a_pause_for_cycles_leaves_out_an_order_the_erp_set_for_today():
    sub = make_subscription(next_order_date=NOW.date())  # Feb 10, off the schedule of month ends

    sub.pause(now=NOW, request_id="p", cycles=1)  # leaves out today's order; Feb 28 is the next

    assert (sub.paused_until, sub.next_order_date) == (date(2026, 2, 28), date(2026, 2, 28))
