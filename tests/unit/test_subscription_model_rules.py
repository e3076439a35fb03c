"""A subscription's own rules (``subscriptions.model``): what an ERP document's items and frequency
may be, refused by field with the whole message; a partly refunded charge; what time passing stores,
tells the change feed and answers (a pause that ran out, a cancellation at the end of the period, a
plan change whose cycle began); the whole text of the refusals every action shares."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from soap_orders.domain.errors import ValidationError
from soap_orders.domain.orders import Customer
from soap_orders.domain.recurrence import Interval
from soap_orders.domain.subscription_events import (
    SubscriptionCancelled,
    SubscriptionPlanChangeApplied,
    SubscriptionResumed,
)
from soap_orders.domain.subscriptions import (
    CancelReason,
    Charge,
    ChargeStatus,
    Frequency,
    LifecycleAction,
    ProducedOrder,
    SubscriptionItem,
)
from soap_orders.domain.subscriptions import SubscriptionOutcome as O
from soap_orders.domain.subscriptions import SubscriptionReasonCode as R
from soap_orders.domain.subscriptions import SubscriptionStatus as S
from tests.unit.subscription_factories import NOW, at, make_subscription


def _item(sku: str = "COF-1", name: str = "Coffee beans 500 g", quantity: object = 2,
          unit_price: str = "12.00") -> SubscriptionItem:
    return SubscriptionItem(sku, name, quantity, Decimal(unit_price))  # type: ignore[arg-type]


def _refusal(**overrides: object) -> tuple[str, str | None]:
    with pytest.raises(ValidationError) as refused:
        make_subscription(**overrides)
    return refused.value.message, refused.value.field


# ---------------------------------------------------------------------- what a document may hold


def test_an_interval_count_of_365_is_taken_and_366_or_0_refused_by_field():
    assert make_subscription(frequency=Frequency(Interval.DAY, 365)).frequency.interval_count == 365
    for count in (366, 0):
        assert _refusal(frequency=Frequency(Interval.DAY, count)) == (
            "IntervalCount must be between 1 and 365.", "IntervalCount")


def test_a_plan_change_to_an_interval_count_beyond_365_is_refused_by_field():
    sub = make_subscription()
    with pytest.raises(ValidationError) as refused:
        sub.change_plan(now=NOW, request_id="c", frequency=Frequency(Interval.WEEK, 366))
    assert (refused.value.message, refused.value.field) == ("IntervalCount must be between 1 and 365.",
                                                            "IntervalCount")
    assert sub.pending_change is None


def test_a_subscription_without_items_or_with_more_than_100_is_refused_by_field():
    assert _refusal(items=[]) == ("A subscription needs at least one item.", "Items")
    hundred = [_item(f"SKU-{n}", quantity=1, unit_price="0.24") for n in range(100)]
    assert len(make_subscription(items=hundred).items) == 100
    assert _refusal(items=[*hundred, _item("SKU-100", quantity=1)]) == (
        "A subscription has at most 100 items.", "Items")


def test_each_item_of_a_subscription_is_checked_and_refused_by_field():
    assert _refusal(items=[_item("COF-1"), _item("COF-1", quantity=1)]) == (
        "Each Sku may appear once in a subscription's items.", "Sku")
    assert _refusal(items=[_item("   ")]) == ("Item Sku must not be empty.", "Sku")
    assert _refusal(items=[_item("")]) == ("Item Sku must not be empty.", "Sku")
    assert _refusal(items=[_item(name="  ")]) == ("Item Name must not be empty.", "Name")
    assert _refusal(items=[_item(name="")]) == ("Item Name must not be empty.", "Name")
    for quantity in (0, -1, True, "2"):
        assert _refusal(items=[_item(quantity=quantity)]) == ("Item Quantity must be at least 1.", "Quantity")
    assert _refusal(items=[_item(unit_price="-0.01")]) == ("Item UnitPrice must not be negative.", "UnitPrice")
    assert make_subscription(items=[_item(quantity=1, unit_price="0.00")]).items[0].unit_price == Decimal("0.00")


def test_an_items_image_is_kept_by_a_plan_change_until_and_after_it_applies():
    sub = make_subscription()
    image = "https://shop.example.com/img/decaf.png"
    sub.change_plan(now=NOW, request_id="c",
                    items=[SubscriptionItem("COF-2", "Decaf", 1, Decimal("30.00"), image)])
    assert sub.pending_change is not None and sub.pending_change.items[0].image_url == image

    sub.settle(at(date(2026, 2, 28)))

    assert [(i.sku, i.image_url) for i in sub.items] == [("COF-2", image)]


# ---------------------------------------------------------------------- charges


def test_a_charge_refunded_by_less_than_one_unit_is_partly_refunded():
    charge = Charge("CH-1", Decimal("24.00"), datetime(2026, 1, 31, 8, tzinfo=timezone.utc),
                    refunded_amount=Decimal("0.50"), order_number="SO-1")
    sub = make_subscription(charges=[charge])
    assert sub.charges[0].status is ChargeStatus.PARTIALLY_REFUNDED
    assert sub.charges[0].refundable_amount == Decimal("23.50")


# ---------------------------------------------------------------------- time passing


def test_a_pause_that_runs_out_resumes_the_subscription_and_tells_the_change_feed():
    sub = make_subscription()
    sub.pause(now=NOW, request_id="p", until=date(2026, 3, 10))
    sub.events.clear()
    later = at(date(2026, 3, 12))

    sub.settle(later)

    assert (sub.status, sub.paused_at, sub.paused_until, sub.paused_cycles) == (S.ACTIVE, None, None, None)
    assert (sub.service_lifecycle, sub.updated_at, sub.next_order_date) == (
        LifecycleAction.RESUMED, later, date(2026, 3, 31))
    assert sub.events == [SubscriptionResumed("SUB-1", later, date(2026, 3, 31), None)]


def test_a_cancellation_at_the_end_of_the_period_takes_effect_on_its_day_and_tells_the_change_feed():
    sub = make_subscription()
    sub.cancel(now=NOW, request_id="x", at_period_end=True, reason=CancelReason.MOVING, note="Moving abroad")
    sub.events.clear()
    day = at(date(2026, 2, 28), hour=1)

    sub.settle(day)

    assert (sub.status, sub.cancel_at_period_end, sub.next_order_date, sub.pending_change) == (
        S.CANCELLED, False, None, None)
    assert (sub.cancelled_at, sub.service_lifecycle, sub.updated_at) == (
        datetime(2026, 2, 28, tzinfo=timezone.utc), LifecycleAction.CANCELLED, day)
    assert sub.events == [SubscriptionCancelled("SUB-1", day, "MOVING", "Moving abroad", None, True)]


def test_a_scheduled_cancellation_the_erp_sent_without_a_reason_is_told_as_other():
    sub = make_subscription(cancel_at_period_end=True, cancel_effective_date=date(2026, 2, 28),
                            next_order_date=None)
    day = at(date(2026, 3, 1))

    sub.settle(day)

    assert sub.status is S.CANCELLED
    assert sub.events == [SubscriptionCancelled("SUB-1", day, "OTHER", None, None, True)]


def test_a_plan_change_applies_when_its_cycle_begins_and_tells_the_change_feed():
    sub = make_subscription()
    sub.change_plan(now=NOW, request_id="c", price="30.00", frequency=Frequency(Interval.WEEK, 2))
    sub.events.clear()
    day = at(date(2026, 2, 14), hour=3)

    sub.settle(day)

    assert (sub.price, sub.frequency, sub.anchor_date, sub.pending_change, sub.updated_at) == (
        Decimal("30.00"), Frequency(Interval.WEEK, 2), date(2026, 1, 31), None, day)
    assert sub.events == [SubscriptionPlanChangeApplied("SUB-1", day, Decimal("30.00"), "EUR", "WEEK", 2)]


def test_the_schedule_counts_from_the_anchor_the_erp_set_not_from_the_start():
    # Started Jan 1; the ERP anchors the monthly schedule on Jan 10 (next order Feb 10).
    sub = make_subscription(start_date=date(2026, 1, 1), anchor_date=date(2026, 1, 10), last_order_date=None,
                            next_order_date=date(2026, 2, 10), charges=[], orders=[])

    decision = sub.skip_next_order(now=at(date(2026, 2, 5)), request_id="s")

    assert sub.next_order_date == date(2026, 3, 10)
    assert decision.message == ("Subscription SUB-1 will skip the order of 2026-02-10; "
                                "the next order will be on 2026-03-10.")


# ---------------------------------------------------------------------- shared refusals


def test_the_refusals_every_action_shares_are_whole():
    cancelled = make_subscription(status=S.CANCELLED, cancelled_at=NOW, next_order_date=None)
    scheduled = make_subscription(cancel_at_period_end=True, cancel_effective_date=date(2026, 2, 28),
                                  next_order_date=None)
    expired = make_subscription(status=S.EXPIRED, next_order_date=None)
    past_due = make_subscription(status=S.PAST_DUE)
    answers = [
        cancelled.skip_next_order(now=NOW, request_id="s"),
        scheduled.skip_next_order(now=NOW, request_id="s"),
        expired.change_plan(now=NOW, request_id="c", price="20.00"),
        past_due.skip_next_order(now=NOW, request_id="s"),
    ]
    assert [(a.outcome, a.reason_code, a.message) for a in answers] == [
        (O.REJECTED, R.ALREADY_CANCELLED, "Subscription SUB-1 was cancelled."),
        (O.REJECTED, R.CANCELLATION_SCHEDULED, "Subscription SUB-1 is set to end on 2026-02-28."),
        (O.REJECTED, R.NOT_ACTIVE, "Subscription SUB-1 has ended."),
        (O.REJECTED, R.NOT_ACTIVE, "Subscription SUB-1 is past due; its payment must be settled first."),
    ]


def test_an_unreadable_price_or_unit_price_is_refused_by_field():
    with pytest.raises(ValidationError) as price:
        make_subscription(price=Decimal("24.005"))
    assert price.value.field == "Price"
    with pytest.raises(ValidationError) as unit_price:
        make_subscription(items=[_item(unit_price="12.005")])
    assert unit_price.value.field == "UnitPrice"


def test_a_subscription_documents_own_data_are_checked_and_refused_by_field():
    paid = datetime(2026, 1, 31, 8, tzinfo=timezone.utc)
    refusals = [
        ({"subscription_id": "  "}, "SubscriptionId must not be empty.", "SubscriptionId"),
        ({"customer": Customer("", "Ann", "Lee")}, "Customer Email is not an email address.", "Email"),
        ({"customer": Customer("ann.lee.example.com", "Ann", "Lee")}, "Customer Email is not an email address.",
         "Email"),
        ({"price": Decimal("-0.01")}, "Price must not be negative.", "Price"),
        ({"orders": [ProducedOrder("SO-1"), ProducedOrder("SO-1")]},
         "OrderNumber values must be unique within a subscription's orders.", "OrderNumber"),
        ({"charges": [Charge("CH-1", Decimal("24.00"), paid), Charge("CH-1", Decimal("24.00"), paid)]},
         "ChargeId values must be unique within a subscription.", "ChargeId"),
        ({"charges": [Charge("CH-1", Decimal("24.00"), paid, refunded_amount=Decimal("24.01"))]},
         "A charge's RefundedAmount must be between 0 and its Amount.", "RefundedAmount"),
        ({"charges": [Charge("CH-1", Decimal("24.00"), paid, refunded_amount=Decimal("-0.01"))]},
         "A charge's RefundedAmount must be between 0 and its Amount.", "RefundedAmount"),
        ({"charges": [Charge("CH-1", Decimal("24.00"), paid, ChargeStatus.FAILED, Decimal("1.00"))]},
         "A failed charge cannot have a RefundedAmount.", "RefundedAmount"),
        ({"status": S.EXPIRED}, "NextOrderDate must be empty once a subscription has ended.", "NextOrderDate"),
        ({"status": S.CANCELLED, "next_order_date": None}, "CancelledAt is required when Status is CANCELLED.",
         "CancelledAt"),
        ({"status": S.PAUSED}, "PausedUntil is required when Status is PAUSED.", "PausedUntil"),
        ({"status": S.PAUSED, "paused_until": date(2026, 3, 1)}, "NextOrderDate must not fall within the pause.",
         "NextOrderDate"),
        ({"paused_cycles": 0}, "PausedCycles must be between 1 and 12.", "PausedCycles"),
        ({"paused_cycles": 13}, "PausedCycles must be between 1 and 12.", "PausedCycles"),
        ({"cancel_at_period_end": True, "cancel_effective_date": date(2026, 2, 28)},
         "NextOrderDate must be empty when the subscription ends with its period.", "NextOrderDate"),
    ]
    for overrides, message, field in refusals:
        assert _refusal(**overrides) == (message, field), overrides
    # the edges that are taken
    taken = [
        {"charges": [Charge("CH-1", Decimal("24.00"), paid, refunded_amount=Decimal("24.00"))]},
        {"status": S.PAUSED, "paused_until": date(2026, 2, 28), "paused_cycles": 12},
        {"paused_cycles": 1},
    ]
    for overrides in taken:
        make_subscription(**overrides)


def test_a_charge_of_nothing_or_an_unreadable_refunded_amount_is_refused_naming_the_charge_field():
    paid = datetime(2026, 1, 31, 8, tzinfo=timezone.utc)
    assert _refusal(charges=[Charge("CH-1", Decimal("0.00"), paid)]) == (
        "Charge Amount must be greater than zero.", "Charge Amount")
    with pytest.raises(ValidationError) as unreadable:
        make_subscription(charges=[Charge("CH-1", Decimal("24.00"), paid, refunded_amount=Decimal("0.005"))])
    assert unreadable.value.field == "Charge RefundedAmount"


def test_a_document_without_an_anchor_date_is_anchored_on_its_start_date():
    sub = make_subscription(start_date=date(2026, 1, 31))
    assert sub.anchor_date == date(2026, 1, 31)
