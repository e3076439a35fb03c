"""The rules of a subscription: cancel, pause, resume, change plan, skip, refund, record a charge."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from soap_orders.domain.errors import ValidationError
from soap_orders.domain.orders import Reason
from soap_orders.domain.recurrence import Interval
from soap_orders.domain.subscriptions import (
    CHARGE_CLOCK_SKEW,
    CancelReason,
    Charge,
    ChargeStatus,
    Frequency,
    LifecycleAction,
    SubscriptionItem,
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


def names(subscription) -> list[str]:
    return [event.name for event in subscription.events]


# ---------------------------------------------------------------------- cancel


def test_cancel_at_once_ends_the_schedule_and_records_why():
    sub = make_subscription()
    decision = sub.cancel(reason=CancelReason.TOO_EXPENSIVE, now=NOW, request_id="r1", note="Found cheaper")
    assert (decision.outcome, decision.reason_code) == (O.CANCELLED, R.NONE)
    assert decision.message == "Subscription SUB-1 has been cancelled."
    assert sub.status is S.CANCELLED and sub.cancelled_at == NOW and sub.next_order_date is None
    assert sub.cancel_reason is CancelReason.TOO_EXPENSIVE and sub.cancel_note == "Found cheaper"
    assert names(sub) == ["SubscriptionCancelled"]
    assert sub.events[0].payload() == {"reason": "TOO_EXPENSIVE", "note": "Found cheaper", "request_id": "r1",
                                       "scheduled": False}


def test_cancel_twice_is_already_cancelled_and_changes_nothing():
    sub = make_subscription()
    sub.cancel(reason=CancelReason.MOVING, now=NOW, request_id="r1")
    decision = sub.cancel(reason=CancelReason.OTHER, now=NOW, request_id="r2")
    assert (decision.outcome, decision.reason_code) == (O.ALREADY_CANCELLED, R.ALREADY_CANCELLED)
    assert sub.cancel_reason is CancelReason.MOVING and len(sub.events) == 1


def test_cancel_at_period_end_keeps_it_active_until_the_next_order_date_without_another_order():
    sub = make_subscription()
    decision = sub.cancel(reason=CancelReason.NO_LONGER_NEEDED, now=NOW, request_id="r1", at_period_end=True)
    assert (decision.outcome, decision.reason_code) == (O.CANCELLATION_SCHEDULED, R.NONE)
    assert "2026-02-28" in decision.message
    assert sub.status is S.ACTIVE and sub.cancel_at_period_end and sub.cancel_effective_date == date(2026, 2, 28)
    assert sub.next_order_date is None
    again = sub.cancel(reason=CancelReason.OTHER, now=NOW, request_id="r2", at_period_end=True)
    assert (again.outcome, again.reason_code) == (O.REJECTED, R.CANCELLATION_SCHEDULED)
    # On the period's end date it is cancelled by itself.
    sub.settle(at(date(2026, 2, 28)))
    assert sub.status is S.CANCELLED and sub.cancelled_at == datetime(2026, 2, 28, tzinfo=timezone.utc)
    assert names(sub) == ["SubscriptionCancellationScheduled", "SubscriptionCancelled"]
    assert sub.events[-1].payload()["scheduled"] is True


def test_a_scheduled_cancellation_can_be_made_immediate():
    sub = make_subscription()
    sub.cancel(reason=CancelReason.MOVING, now=NOW, request_id="r1", at_period_end=True)
    decision = sub.cancel(reason=CancelReason.MOVING, now=NOW, request_id="r2")
    assert decision.outcome is O.CANCELLED and sub.status is S.CANCELLED and not sub.cancel_at_period_end


def test_cancel_at_period_end_of_a_paused_subscription_cancels_at_once():
    sub = make_subscription()
    sub.pause(now=NOW, request_id="p", until=date(2026, 4, 1))
    decision = sub.cancel(reason=CancelReason.MOVING, now=NOW, request_id="c", at_period_end=True)
    assert decision.outcome is O.CANCELLED and sub.paused_until is None and sub.next_order_date is None


def test_an_expired_subscription_cannot_be_cancelled():
    sub = make_subscription(status=S.EXPIRED, next_order_date=None)
    decision = sub.cancel(reason=CancelReason.OTHER, now=NOW, request_id="r")
    assert (decision.outcome, decision.reason_code) == (O.REJECTED, R.NOT_ACTIVE)
    assert sub.events == []


# ---------------------------------------------------------------------- pause and resume


def test_pause_until_a_date_moves_the_next_order_to_the_first_schedule_date_from_then():
    sub = make_subscription()
    decision = sub.pause(now=NOW, request_id="p", until=date(2026, 4, 15))
    assert (decision.outcome, decision.reason_code) == (O.PAUSED, R.NONE)
    assert sub.status is S.PAUSED and sub.paused_until == date(2026, 4, 15)
    assert sub.next_order_date == date(2026, 4, 30)  # anchored on the 31st: April's last day
    assert decision.message == "Subscription SUB-1 is paused until 2026-04-15; the next order will be on 2026-04-30."


def test_pause_for_cycles_leaves_out_that_many_orders():
    sub = make_subscription()
    sub.pause(now=NOW, request_id="p", cycles=2)  # Feb 28 and Mar 31 are not produced
    assert sub.paused_until == date(2026, 4, 30) and sub.next_order_date == date(2026, 4, 30)
    assert sub.paused_cycles == 2


def test_a_pause_ends_by_itself_on_its_date():
    sub = make_subscription()
    sub.pause(now=NOW, request_id="p", until=date(2026, 3, 10))
    sub.settle(at(date(2026, 3, 9)))
    assert sub.status is S.PAUSED
    sub.settle(at(date(2026, 3, 10)))
    assert sub.status is S.ACTIVE and sub.paused_until is None and sub.next_order_date == date(2026, 3, 31)
    assert names(sub)[-1] == "SubscriptionResumed" and sub.events[-1].payload()["request_id"] is None


@pytest.mark.parametrize("kwargs, field", [
    ({}, "PauseUntil"),
    ({"until": date(2026, 3, 1), "cycles": 1}, "PauseUntil"),
    ({"until": NOW.date()}, "PauseUntil"),
    ({"cycles": 0}, "PauseCycles"),
    ({"cycles": 13}, "PauseCycles"),
])
def test_pause_needs_a_future_date_or_a_sensible_number_of_cycles(kwargs, field):
    sub = make_subscription()
    with pytest.raises(ValidationError) as caught:
        sub.pause(now=NOW, request_id="p", **kwargs)
    assert caught.value.field == field and sub.status is S.ACTIVE


def test_pause_longer_than_a_year_is_rejected():
    sub = make_subscription()
    decision = sub.pause(now=NOW, request_id="p", until=date(2027, 3, 1))
    assert (decision.outcome, decision.reason_code) == (O.REJECTED, R.PAUSE_TOO_LONG)
    yearly = make_subscription(frequency=Frequency(Interval.YEAR, 1), next_order_date=date(2027, 1, 31))
    assert yearly.pause(now=NOW, request_id="p", cycles=2).reason_code is R.PAUSE_TOO_LONG
    assert sub.status is S.ACTIVE and yearly.status is S.ACTIVE


@pytest.mark.parametrize("state, code", [
    ("paused", R.ALREADY_PAUSED), ("cancelled", R.ALREADY_CANCELLED), ("scheduled", R.CANCELLATION_SCHEDULED),
    ("expired", R.NOT_ACTIVE), ("past_due", R.NOT_ACTIVE),
])
def test_pause_is_refused_unless_active(state, code):
    sub = _in_state(state)
    decision = sub.pause(now=NOW, request_id="p2", until=date(2026, 3, 20))
    assert (decision.outcome, decision.reason_code) == (O.REJECTED, code)


def test_resume_recalculates_the_next_order_from_today():
    sub = make_subscription()
    sub.pause(now=NOW, request_id="p", until=date(2026, 6, 1))
    decision = sub.resume(now=at(date(2026, 3, 5)), request_id="r")
    assert (decision.outcome, decision.reason_code) == (O.RESUMED, R.NONE)
    assert sub.status is S.ACTIVE and sub.next_order_date == date(2026, 3, 31)
    assert sub.service_lifecycle is LifecycleAction.RESUMED


def test_resume_on_a_schedule_date_orders_that_day_unless_it_was_the_last_order():
    sub = make_subscription()
    sub.pause(now=NOW, request_id="p", until=date(2026, 6, 1))
    sub.resume(now=at(date(2026, 3, 31)), request_id="r")
    assert sub.next_order_date == date(2026, 3, 31)
    fresh = make_subscription(last_order_date=date(2026, 3, 31), next_order_date=date(2026, 4, 30))
    fresh.pause(now=at(date(2026, 3, 31)), request_id="p", until=date(2026, 6, 1))
    fresh.resume(now=at(date(2026, 3, 31), 18), request_id="r")
    assert fresh.next_order_date == date(2026, 4, 30)


@pytest.mark.parametrize("state, code", [
    ("active", R.NOT_PAUSED), ("cancelled", R.ALREADY_CANCELLED), ("expired", R.NOT_PAUSED),
])
def test_resume_is_refused_unless_paused(state, code):
    decision = _in_state(state).resume(now=NOW, request_id="r")
    assert (decision.outcome, decision.reason_code) == (O.REJECTED, code)


# ---------------------------------------------------------------------- plan change


def test_plan_change_takes_effect_from_the_next_cycle():
    sub = make_subscription()
    items = [SubscriptionItem("COF-2", "Decaf 1 kg", 1, Decimal("30.00"))]
    decision = sub.change_plan(now=NOW, request_id="c", items=items, price="30.00")
    assert (decision.outcome, decision.reason_code) == (O.PLAN_CHANGED, R.NONE)
    assert "from the order on 2026-02-28" in decision.message
    # The current cycle keeps the old plan.
    assert sub.price == Decimal("24.00") and sub.items[0].sku == "COF-1"
    assert sub.pending_change is not None and sub.pending_change.effective_date == date(2026, 2, 28)
    # The charge for the next cycle starts it with the new plan.
    sub.record_charge(charge_id="CH-2", amount="30.00", charged_at=at(date(2026, 2, 28), 6),
                      now=at(date(2026, 2, 28), 7), request_id="x", order_number="SO-2")
    assert sub.price == Decimal("30.00") and [i.sku for i in sub.items] == ["COF-2"] and sub.pending_change is None
    assert "SubscriptionPlanChangeApplied" in names(sub)


def test_frequency_change_recalculates_the_next_order_date_from_the_current_period():
    sub = make_subscription()  # last order Jan 31, next Feb 28 monthly
    sub.change_plan(now=NOW, request_id="c", frequency=Frequency(Interval.WEEK, 2))
    assert sub.next_order_date == date(2026, 2, 14)  # Jan 31 + 2 weeks
    assert sub.frequency == Frequency(Interval.MONTH, 1)  # still the current cycle's
    sub.settle(at(date(2026, 2, 14)))
    assert sub.frequency == Frequency(Interval.WEEK, 2) and sub.pending_change is None


def test_plan_change_while_paused_starts_after_the_pause():
    sub = make_subscription()
    sub.pause(now=NOW, request_id="p", until=date(2026, 4, 10))
    sub.change_plan(now=NOW, request_id="c", frequency=Frequency(Interval.WEEK, 1))
    assert sub.status is S.PAUSED and sub.next_order_date == date(2026, 4, 11)  # Saturdays from Jan 31
    assert sub.next_order_date >= sub.paused_until


def test_the_same_plan_is_rejected_and_bad_plans_are_refused():
    sub = make_subscription()
    same = sub.change_plan(now=NOW, request_id="c", price="24.00")
    assert (same.outcome, same.reason_code) == (O.REJECTED, R.PLAN_UNCHANGED)
    with pytest.raises(ValidationError):
        sub.change_plan(now=NOW, request_id="c")
    with pytest.raises(ValidationError):
        sub.change_plan(now=NOW, request_id="c", items=[])
    with pytest.raises(ValidationError):
        sub.change_plan(now=NOW, request_id="c", price="-1")
    with pytest.raises(ValidationError):
        sub.change_plan(now=NOW, request_id="c", price="1.234")
    with pytest.raises(ValidationError):
        sub.change_plan(now=NOW, request_id="c", frequency=Frequency(Interval.DAY, 0))
    assert sub.pending_change is None and sub.events == []


@pytest.mark.parametrize("state, code", [
    ("cancelled", R.ALREADY_CANCELLED), ("scheduled", R.CANCELLATION_SCHEDULED), ("expired", R.NOT_ACTIVE),
])
def test_plan_change_is_refused_once_ending(state, code):
    decision = _in_state(state).change_plan(now=NOW, request_id="c", price="20.00")
    assert (decision.outcome, decision.reason_code) == (O.REJECTED, code)


# ---------------------------------------------------------------------- skip


def test_skip_moves_to_the_following_schedule_date_and_remembers_the_skip():
    sub = make_subscription()
    decision = sub.skip_next_order(now=NOW, request_id="s")
    assert (decision.outcome, decision.reason_code) == (O.SKIPPED, R.NONE)
    assert sub.next_order_date == date(2026, 3, 31)
    assert [s.order_date for s in sub.skipped_orders] == [date(2026, 2, 28)]
    sub.skip_next_order(now=NOW, request_id="s2")
    assert sub.next_order_date == date(2026, 4, 30)


@pytest.mark.parametrize("state, code", [
    ("paused", R.NOT_ACTIVE), ("cancelled", R.ALREADY_CANCELLED), ("scheduled", R.CANCELLATION_SCHEDULED),
    ("expired", R.NOT_ACTIVE), ("past_due", R.NOT_ACTIVE),
])
def test_skip_is_refused_unless_active(state, code):
    decision = _in_state(state).skip_next_order(now=NOW, request_id="s")
    assert (decision.outcome, decision.reason_code) == (O.REJECTED, code)


def test_skip_without_a_scheduled_order():
    decision = make_subscription(next_order_date=None).skip_next_order(now=NOW, request_id="s")
    assert decision.reason_code is R.NO_ORDER_SCHEDULED


# ---------------------------------------------------------------------- refunds


def test_partial_then_full_refund_of_a_charge():
    sub = make_subscription()
    first = sub.refund_charge(charge_id="CH-1", reason=Reason.DAMAGED, now=NOW, request_id="f1", refund_id="RF-1",
                              amount="4.00")
    assert (first.outcome, first.reason_code) == (O.REFUNDED, R.NONE) and first.refund.amount == Decimal("4.00")
    assert sub.charge("CH-1").status is ChargeStatus.PARTIALLY_REFUNDED and sub.refunded_at == NOW
    too_much = sub.refund_charge(charge_id="CH-1", reason=Reason.DAMAGED, now=NOW, request_id="f2",
                                 refund_id="RF-2", amount="20.01")
    assert (too_much.outcome, too_much.reason_code) == (O.REJECTED, R.EXCEEDS_REFUNDABLE)
    assert "20.00 EUR" in too_much.message
    rest = sub.refund_charge(charge_id="CH-1", reason=Reason.DAMAGED, now=NOW, request_id="f3", refund_id="RF-3")
    assert rest.refund.amount == Decimal("20.00") and sub.charge("CH-1").status is ChargeStatus.REFUNDED
    nothing = sub.refund_charge(charge_id="CH-1", reason=Reason.DAMAGED, now=NOW, request_id="f4", refund_id="RF-4")
    assert nothing.reason_code is R.NOTHING_REFUNDABLE
    assert [r.refund_id for r in sub.refunds] == ["RF-1", "RF-3"]
    assert names(sub) == ["SubscriptionChargeRefunded", "SubscriptionChargeRefunded"]


def test_refund_of_an_unknown_or_failed_charge():
    sub = make_subscription()
    unknown = sub.refund_charge(charge_id="CH-X", reason=Reason.OTHER, now=NOW, request_id="f", refund_id="RF")
    assert (unknown.outcome, unknown.reason_code) == (O.REJECTED, R.UNKNOWN_CHARGE)
    assert unknown.message == "Subscription SUB-1 has no such charge."
    sub.record_charge(charge_id="CH-F", amount="24.00", charged_at=NOW, now=NOW, request_id="x",
                      status=ChargeStatus.FAILED)
    failed = sub.refund_charge(charge_id="CH-F", reason=Reason.OTHER, now=NOW, request_id="f", refund_id="RF")
    assert failed.reason_code is R.CHARGE_NOT_PAID


def test_a_cancelled_subscription_can_still_refund_its_charges():
    sub = _in_state("cancelled")
    decision = sub.refund_charge(charge_id="CH-1", reason=Reason.CUSTOMER, now=NOW, request_id="f", refund_id="RF")
    assert decision.outcome is O.REFUNDED


@pytest.mark.parametrize("amount", ["0", "-1", "1.001", "abc"])
def test_refund_amount_must_be_positive_with_the_currency_places(amount):
    with pytest.raises(ValidationError):
        make_subscription().refund_charge(charge_id="CH-1", reason=Reason.OTHER, now=NOW, request_id="f",
                                          refund_id="RF", amount=amount)


# ---------------------------------------------------------------------- charges


def test_a_paid_charge_starts_the_next_cycle():
    sub = make_subscription()
    decision = sub.record_charge(charge_id="CH-2", amount="24.00", charged_at=at(date(2026, 2, 28), 6),
                                 now=at(date(2026, 2, 28), 7), request_id="x", order_number="SO-2")
    assert (decision.outcome, decision.reason_code) == (O.CHARGE_RECORDED, R.NONE)
    assert sub.last_order_date == date(2026, 2, 28) and sub.next_order_date == date(2026, 3, 31)
    assert sub.order_numbers == ["SO-1", "SO-2"] and decision.charge.charge_id == "CH-2"


def test_a_failed_charge_makes_it_past_due_and_a_later_paid_one_active_again():
    sub = make_subscription()
    sub.record_charge(charge_id="CH-2", amount="24.00", charged_at=at(date(2026, 2, 28)),
                      now=at(date(2026, 2, 28)), request_id="x", status=ChargeStatus.FAILED)
    assert sub.status is S.PAST_DUE and sub.next_order_date == date(2026, 2, 28)
    sub.record_charge(charge_id="CH-3", amount="24.00", charged_at=at(date(2026, 3, 2)),
                      now=at(date(2026, 3, 2)), request_id="y", order_number="SO-2")
    assert sub.status is S.ACTIVE and sub.next_order_date == date(2026, 3, 31)


@pytest.mark.parametrize("state, code", [
    ("paused", R.NOT_ACTIVE), ("cancelled", R.ALREADY_CANCELLED), ("scheduled", R.CANCELLATION_SCHEDULED),
    ("expired", R.NOT_ACTIVE),
])
def test_charges_are_refused_while_paused_or_once_ending(state, code):
    sub = _in_state(state)
    decision = sub.record_charge(charge_id="CH-9", amount="24.00", charged_at=NOW, now=NOW, request_id="x",
                                 order_number="SO-9")
    assert (decision.outcome, decision.reason_code) == (O.REJECTED, code)
    assert sub.charge("CH-9") is None


def test_a_charge_id_is_recorded_once():
    sub = make_subscription()
    decision = sub.record_charge(charge_id="CH-1", amount="24.00", charged_at=NOW, now=NOW, request_id="x",
                                 order_number="SO-2")
    assert decision.reason_code is R.DUPLICATE_CHARGE


@pytest.mark.parametrize("kwargs, field", [
    ({"order_number": None}, "OrderNumber"),
    ({"charged_at": datetime(2026, 2, 11, 12, tzinfo=timezone.utc)}, "ChargedAt"),
    ({"charged_at": datetime(2026, 2, 10, 12)}, "ChargedAt"),
    ({"status": ChargeStatus.REFUNDED}, "Status"),
])
def test_bad_charges_are_refused(kwargs, field):
    args = {"charge_id": "CH-2", "amount": "24.00", "charged_at": NOW, "now": NOW, "request_id": "x",
            "order_number": "SO-2", **kwargs}
    with pytest.raises(ValidationError) as caught:
        make_subscription().record_charge(**args)
    assert caught.value.field == field


def test_a_paid_charge_is_stored_with_its_order_and_told_to_the_change_feed():
    sub = make_subscription()
    sub.events.clear()
    charged_at, now = at(date(2026, 2, 28), 6), at(date(2026, 2, 28), 7)
    decision = sub.record_charge(charge_id="CH-2", amount="24.00", charged_at=charged_at, now=now,
                                 request_id="rq-2", order_number="SO-2")
    assert decision.message == "Subscription SUB-1 has been charged 24.00 EUR."
    stored = sub.charge("CH-2")
    assert (stored.amount, stored.charged_at, stored.status, stored.refunded_amount, stored.order_number) == (
        Decimal("24.00"), charged_at, ChargeStatus.PAID, Decimal(0), "SO-2")
    assert sub.orders[-1].order_number == "SO-2" and sub.orders[-1].order_date == date(2026, 2, 28)
    assert sub.updated_at == now
    [event] = sub.events
    assert (event.name, event.subscription_id, event.occurred_at) == ("SubscriptionChargeRecorded", "SUB-1", now)
    assert event.payload() == {
        "charge_id": "CH-2", "amount": "24.00", "currency": "EUR", "status": "PAID",
        "charged_at": "2026-02-28T06:00:00+00:00", "order_number": "SO-2", "next_order_date": "2026-03-31",
        "request_id": "rq-2",
    }


def test_a_failed_charge_is_told_to_the_change_feed_and_answered_as_past_due():
    sub = make_subscription()
    sub.events.clear()
    decision = sub.record_charge(charge_id="CH-F", amount="24.00", charged_at=at(date(2026, 2, 28), 6),
                                 now=at(date(2026, 2, 28), 7), request_id="rq-f", status=ChargeStatus.FAILED)
    assert decision.message == "Subscription SUB-1 could not be charged; it is past due."
    assert sub.charge("CH-F").status is ChargeStatus.FAILED and sub.updated_at == at(date(2026, 2, 28), 7)
    assert sub.order_numbers == ["SO-1"]
    [event] = sub.events
    assert event.payload() == {
        "charge_id": "CH-F", "amount": "24.00", "currency": "EUR", "status": "FAILED",
        "charged_at": "2026-02-28T06:00:00+00:00", "order_number": None, "next_order_date": "2026-02-28",
        "request_id": "rq-f",
    }


def test_a_charge_made_before_its_due_date_pays_for_that_cycle():
    # Billing may charge a few days early: the Feb 28 cycle is paid, the next order is Mar 31.
    sub = make_subscription()
    sub.record_charge(charge_id="CH-2", amount="24.00", charged_at=at(date(2026, 2, 25), 6),
                      now=at(date(2026, 2, 25), 7), request_id="x", order_number="SO-2")
    assert sub.next_order_date == date(2026, 3, 31) and sub.last_order_date == date(2026, 2, 25)
    assert sub.orders[-1].order_date == date(2026, 2, 25)


def test_a_charge_for_a_subscription_with_no_next_order_date_schedules_the_one_after_it():
    sub = make_subscription(next_order_date=None)
    sub.record_charge(charge_id="CH-2", amount="24.00", charged_at=at(date(2026, 2, 10), 6), now=NOW,
                      request_id="x", order_number="SO-2")
    assert sub.next_order_date == date(2026, 2, 28) and sub.last_order_date == date(2026, 2, 10)
    assert sub.events[-1].payload()["next_order_date"] == "2026-02-28"


def test_an_early_charge_that_starts_a_changed_plan_stamps_the_change_with_the_charge_time():
    # The plan change takes effect on Feb 28; billing charges that cycle on Feb 25.
    sub = make_subscription()
    sub.change_plan(now=NOW, request_id="c", items=[SubscriptionItem("COF-2", "Decaf 1 kg", 1, Decimal("30.00"))],
                    price="30.00")
    sub.events.clear()
    now = at(date(2026, 2, 25), 7)
    sub.record_charge(charge_id="CH-2", amount="30.00", charged_at=at(date(2026, 2, 25), 6), now=now,
                      request_id="x", order_number="SO-2")
    assert sub.price == Decimal("30.00") and sub.pending_change is None
    assert names(sub) == ["SubscriptionPlanChangeApplied", "SubscriptionChargeRecorded"]
    assert sub.events[0].occurred_at == now and sub.updated_at == now


@pytest.mark.parametrize("late_by_microseconds, accepted", [(0, True), (1, False)])
def test_a_charge_time_ahead_of_the_clock_is_accepted_up_to_the_allowed_skew(late_by_microseconds, accepted):
    sub = make_subscription()
    charged_at = NOW + CHARGE_CLOCK_SKEW + timedelta(microseconds=late_by_microseconds)
    args = {"charge_id": "CH-2", "amount": "24.00", "charged_at": charged_at, "now": NOW, "request_id": "x",
            "order_number": "SO-2"}
    if accepted:
        assert sub.record_charge(**args).outcome is O.CHARGE_RECORDED
        assert sub.charge("CH-2").charged_at == charged_at
    else:
        with pytest.raises(ValidationError) as caught:
            sub.record_charge(**args)
        assert (caught.value.field, str(caught.value)) == ("ChargedAt", "ChargedAt must not be in the future.")
        assert sub.charge("CH-2") is None


@pytest.mark.parametrize("case, field, message", [
    ("no order", "OrderNumber", "OrderNumber is required for a paid charge."),
    ("no time zone", "ChargedAt", "ChargedAt must carry a time zone."),
    ("refunded", "Status", "A recorded charge's Status must be PAID or FAILED."),
])
def test_bad_charges_are_refused_with_a_message_naming_the_rule(case, field, message):
    args = {"charge_id": "CH-2", "amount": "24.00", "charged_at": NOW, "now": NOW, "request_id": "x",
            "order_number": "SO-2"}
    if case == "no order":
        args["order_number"] = None
    elif case == "no time zone":
        args["charged_at"] = datetime(2026, 2, 10, 11)
    else:
        args["status"] = ChargeStatus.REFUNDED
    with pytest.raises(ValidationError) as caught:
        make_subscription().record_charge(**args)
    assert (caught.value.field, str(caught.value)) == (field, message)


def test_a_repeated_charge_id_is_answered_with_why():
    sub = make_subscription()
    decision = sub.record_charge(charge_id="CH-1", amount="24.00", charged_at=NOW, now=NOW, request_id="x",
                                 order_number="SO-2")
    assert decision.message == "Subscription SUB-1 already has a charge with that id."


# ---------------------------------------------------------------------- invariants of documents


@pytest.mark.parametrize("overrides, field", [
    ({"status": S.CANCELLED}, "NextOrderDate"),
    ({"status": S.CANCELLED, "next_order_date": None}, "CancelledAt"),
    ({"status": S.PAUSED}, "PausedUntil"),
    ({"status": S.PAUSED, "paused_until": date(2026, 3, 15)}, "NextOrderDate"),
    ({"items": []}, "Items"),
    ({"price": Decimal(-1)}, "Price"),
    ({"currency": "XYZ"}, "Currency"),
])
def test_check_refuses_inconsistent_documents(overrides, field):
    with pytest.raises(ValidationError) as caught:
        make_subscription(**overrides)
    assert caught.value.field == field


def _charge(refunded: str, status: ChargeStatus = ChargeStatus.PAID) -> list[Charge]:
    return [Charge("CH-1", Decimal("24.00"), at(date(2026, 1, 31), 8), status, Decimal(refunded), "SO-1")]


def _item(quantity: object = 2, unit_price: str = "12.00") -> list[SubscriptionItem]:
    return [SubscriptionItem("COF-1", "Coffee beans 500 g", quantity, Decimal(unit_price))]  # type: ignore[arg-type]


def built(overrides: dict[str, object]) -> dict[str, object]:
    """The overrides with their charges and items made now: made while the tests are collected, they
    would lose their state once a database test in the same run maps the domain's classes."""
    return {name: value() if callable(value) else value for name, value in overrides.items()}


@pytest.mark.parametrize("overrides, field", [
    ({"charges": lambda: _charge("24.01")}, "RefundedAmount"),
    ({"charges": lambda: _charge("-0.01")}, "RefundedAmount"),
    ({"charges": lambda: _charge("1.00", ChargeStatus.FAILED)}, "RefundedAmount"),
    ({"items": lambda: _item(quantity=0)}, "Quantity"),
    ({"items": lambda: _item(quantity=True)}, "Quantity"),
    ({"items": lambda: _item(quantity=1.5)}, "Quantity"),
    ({"items": lambda: _item(unit_price="-0.01")}, "UnitPrice"),
    ({"price": Decimal("-0.01")}, "Price"),
], ids=["refund-above-amount", "negative-refund", "refund-of-failed-charge", "no-items", "bool-quantity",
        "fractional-quantity", "negative-unit-price", "negative-price"])
def test_money_and_quantity_bounds_of_a_document_are_refused_just_beyond_the_edge(overrides, field):
    with pytest.raises(ValidationError) as caught:
        make_subscription(**built(overrides))
    assert caught.value.field == field


@pytest.mark.parametrize("overrides", [
    {"charges": lambda: _charge("24.00")}, {"charges": lambda: _charge("0.00")}, {"charges": lambda: _charge("0.00", ChargeStatus.FAILED)},
    {"items": lambda: _item(quantity=1)}, {"items": lambda: _item(unit_price="0.00")}, {"price": Decimal("0.00")},
], ids=["refunded-in-full", "nothing-refunded", "failed-unrefunded", "one-item", "free-item", "free-plan"])
def test_money_and_quantity_bounds_of_a_document_are_accepted_at_the_edge(overrides):
    overrides = built(overrides)
    subscription = make_subscription(**overrides)
    for name, value in overrides.items():
        assert getattr(subscription, name) == value


def test_a_plan_change_takes_a_free_price_and_refuses_one_below_it():
    sub = make_subscription()
    with pytest.raises(ValidationError) as caught:
        sub.change_plan(now=NOW, request_id="c", price="-0.01")
    assert caught.value.field == "Price" and sub.pending_change is None
    with pytest.raises(ValidationError) as caught:
        sub.change_plan(now=NOW, request_id="c", items=_item(quantity=0))
    assert caught.value.field == "Quantity" and sub.pending_change is None
    free = sub.change_plan(now=NOW, request_id="c", price="0.00")
    assert free.outcome is O.PLAN_CHANGED
    assert sub.pending_change is not None and sub.pending_change.price == Decimal("0.00")


# ---------------------------------------------------------------------- helpers


def _in_state(state: str):
    sub = make_subscription()
    if state == "paused":
        sub.pause(now=NOW, request_id="p", until=date(2026, 3, 15))
    elif state == "cancelled":
        sub.cancel(reason=CancelReason.OTHER, now=NOW, request_id="c")
    elif state == "scheduled":
        sub.cancel(reason=CancelReason.OTHER, now=NOW, request_id="c", at_period_end=True)
    elif state == "expired":
        sub = make_subscription(status=S.EXPIRED, next_order_date=None)
    elif state == "past_due":
        sub = make_subscription(status=S.PAST_DUE)
    sub.events.clear()
    return sub


def test_a_refund_is_recorded_with_its_amount_and_told_to_the_change_feed():
    sub = make_subscription()
    decision = sub.refund_charge(charge_id="CH-1", reason=Reason.DAMAGED, now=NOW, request_id="rq-9", refund_id="RF-9",
                                 amount="10.00", note="Crushed box")
    assert decision.message == "A refund of 10.00 EUR has been issued for subscription SUB-1."
    assert (decision.refund.refund_id, decision.refund.charge_id, decision.refund.amount, decision.refund.note) == (
        "RF-9", "CH-1", Decimal("10.00"), "Crushed box")
    [event] = sub.events
    assert (event.subscription_id, event.occurred_at, event.refund_id, event.charge_id, event.amount, event.currency,
            event.reason, event.note, event.request_id) == (
        "SUB-1", NOW, "RF-9", "CH-1", Decimal("10.00"), "EUR", "DAMAGED", "Crushed box", "rq-9")


@pytest.mark.parametrize("left", ["0.01", "0.50", "1.00"])
def test_the_last_cents_of_a_charge_can_still_be_refunded(left):
    sub = make_subscription()  # CH-1 is 24.00
    sub.refund_charge(charge_id="CH-1", reason=Reason.DAMAGED, now=NOW, request_id="f1", refund_id="RF-1",
                      amount=str(Decimal("24.00") - Decimal(left)))
    rest = sub.refund_charge(charge_id="CH-1", reason=Reason.DAMAGED, now=NOW, request_id="f2", refund_id="RF-2")
    assert (rest.outcome, rest.refund.amount) == (O.REFUNDED, Decimal(left))
    assert sub.charge("CH-1").status is ChargeStatus.REFUNDED


def test_refusals_of_a_refund_say_why():
    sub = make_subscription()
    sub.record_charge(charge_id="CH-F", amount="24.00", charged_at=NOW, now=NOW, request_id="x",
                      status=ChargeStatus.FAILED)
    failed = sub.refund_charge(charge_id="CH-F", reason=Reason.OTHER, now=NOW, request_id="f", refund_id="RF")
    assert failed.message == "Subscription SUB-1 cannot refund a charge that failed."
    sub.refund_charge(charge_id="CH-1", reason=Reason.OTHER, now=NOW, request_id="f1", refund_id="RF-1")
    again = sub.refund_charge(charge_id="CH-1", reason=Reason.OTHER, now=NOW, request_id="f2", refund_id="RF-2")
    assert again.message == "Subscription SUB-1 has already refunded that charge in full."
