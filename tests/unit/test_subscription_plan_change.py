"""Changing a subscription's plan (``subscriptions.plan``): a second change before the next order
builds on the first; the event and message say the whole new plan; bad input is refused by field."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from soap_orders.domain.errors import ValidationError
from soap_orders.domain.subscription_events import SubscriptionPlanChanged
from soap_orders.domain.subscriptions import (
    Frequency,
    Interval,
    SubscriptionItem,
    SubscriptionOutcome,
    SubscriptionStatus,
)
from tests.unit.subscription_factories import NOW, make_subscription


def test_a_second_change_before_the_next_order_keeps_what_the_first_changed():
    sub = make_subscription()  # 2 x COF-1 at 24.00 EUR every month; last order Jan 31, next Feb 28
    sub.change_plan(now=NOW, request_id="c1", items=[SubscriptionItem("COF-2", "Decaf", 1, Decimal("30.00"))],
                    price="30.00")

    decision = sub.change_plan(now=NOW, request_id="c2", frequency=Frequency(Interval.WEEK, 2))

    assert decision.outcome is SubscriptionOutcome.PLAN_CHANGED
    assert decision.message == ("Subscription SUB-1 will change to the new plan (30.00 EUR every 2 weeks) "
                                "from the order on 2026-02-14.")
    change = sub.pending_change
    assert change is not None
    assert ([(i.sku, i.quantity) for i in change.items], change.price, change.frequency) == (
        [("COF-2", 1)], Decimal("30.00"), Frequency(Interval.WEEK, 2))
    assert sub.events[-1] == SubscriptionPlanChanged("SUB-1", NOW, (("COF-2", 1),), Decimal("30.00"), "EUR", "WEEK",
                                                     2, date(2026, 2, 14), "c2")
    assert sub.next_order_date == date(2026, 2, 14)  # Jan 31 + 2 weeks
    # and the current cycle is still the old plan's
    assert (sub.price, [i.sku for i in sub.items]) == (Decimal("24.00"), ["COF-1"])


def test_a_price_change_after_a_frequency_change_keeps_the_new_frequency():
    sub = make_subscription()
    sub.change_plan(now=NOW, request_id="c1", frequency=Frequency(Interval.WEEK, 2))
    later = NOW.replace(hour=13)

    sub.change_plan(now=later, request_id="c2", price="20.00")

    change = sub.pending_change
    assert change is not None and (change.price, change.frequency) == (Decimal("20.00"), Frequency(Interval.WEEK, 2))
    assert sub.next_order_date == date(2026, 2, 14) and sub.updated_at == later


def test_a_plan_change_without_anything_to_change_or_with_a_negative_price_is_refused_by_field():
    sub = make_subscription()
    with pytest.raises(ValidationError) as nothing:
        sub.change_plan(now=NOW, request_id="c")
    assert (nothing.value.message, nothing.value.field) == ("Give at least one of Items, Price and Frequency.",
                                                            "Items")
    with pytest.raises(ValidationError) as negative:
        sub.change_plan(now=NOW, request_id="c", price="-1.00")
    assert (negative.value.message, negative.value.field) == ("Price must not be negative.", "Price")
    with pytest.raises(ValidationError) as unreadable:
        sub.change_plan(now=NOW, request_id="c", price="1.005")
    assert unreadable.value.field == "Price"
    same = sub.change_plan(now=NOW, request_id="c", price="24.00")
    assert same.message == "Subscription SUB-1 already has that plan."


def test_a_new_frequency_whose_schedule_falls_on_today_places_its_first_order_today():
    sub = make_subscription()  # Saturdays from Jan 31 is a weekly schedule; Feb 14 is one of them
    morning = datetime(2026, 2, 14, 6, tzinfo=timezone.utc)

    decision = sub.change_plan(now=morning, request_id="c", frequency=Frequency(Interval.WEEK, 1))

    assert sub.next_order_date == date(2026, 2, 14)
    assert decision.message.endswith("from the order on 2026-02-14.")


def test_a_past_due_subscription_may_still_change_its_plan():
    """A failed charge does not stop the customer choosing a cheaper plan for the next cycle."""
    sub = make_subscription(status=SubscriptionStatus.PAST_DUE)
    decision = sub.change_plan(now=NOW, request_id="c", price="20.00")
    assert decision.outcome is SubscriptionOutcome.PLAN_CHANGED
    assert sub.pending_change is not None and sub.pending_change.price == Decimal("20.00")


def test_a_new_frequency_counts_from_the_last_order_not_from_the_start():
    sub = make_subscription(start_date=date(2026, 1, 3))  # started Jan 3; last order Jan 31
    sub.change_plan(now=NOW, request_id="c", frequency=Frequency(Interval.WEEK, 3))
    assert sub.next_order_date == date(2026, 2, 21)  # Jan 31 + 3 weeks (from Jan 3 it would be Feb 14)
