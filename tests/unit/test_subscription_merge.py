"""An ERP document merged into a stored subscription: the ERP's data is taken, the service's kept."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from soap_orders.domain.orders import Customer, Reason
from soap_orders.domain.subscriptions import (
    CancelReason,
    Charge,
    ChargeStatus,
    MergeRefused,
    ProducedOrder,
    SubscriptionItem,
)
from soap_orders.domain.subscriptions import (
    SubscriptionStatus as S,
)
from tests.unit.subscription_factories import NOW, at, make_subscription

LATER = at(date(2026, 2, 12))


def erp(**overrides):
    """The ERP's copy: it knows nothing of what was done through the service."""
    return make_subscription(**overrides)


def test_erp_fields_are_taken():
    stored = make_subscription()
    stored.merge(erp(name="Coffee club plus", customer=Customer("ann@example.com", "Ann"), price=Decimal("26.00"),
                     items=[SubscriptionItem("COF-1", "Coffee beans 500 g", 2, Decimal("13.00"))]), LATER)
    assert stored.name == "Coffee club plus" and stored.customer.email == "ann@example.com"
    assert stored.price == Decimal("26.00") and stored.items[0].unit_price == Decimal("13.00")
    assert stored.updated_at == LATER


def test_a_service_cancellation_survives_and_a_contradicting_status_is_refused():
    stored = make_subscription()
    stored.cancel(reason=CancelReason.MOVING, now=NOW, request_id="c")
    with pytest.raises(MergeRefused) as caught:
        stored.merge(erp(name="Renamed"), LATER)
    assert caught.value.field == "Status" and stored.name == "Coffee club"  # nothing changed
    stored.merge(erp(status=S.EXPIRED, next_order_date=None, name="Renamed"), LATER)
    assert stored.status is S.CANCELLED and stored.cancel_reason is CancelReason.MOVING and stored.name == "Renamed"


def test_a_service_pause_survives_a_stale_active_document():
    stored = make_subscription()
    stored.pause(now=NOW, request_id="p", until=date(2026, 4, 15))
    stored.merge(erp(), LATER)  # says ACTIVE, next order Feb 28
    assert stored.status is S.PAUSED and stored.paused_until == date(2026, 4, 15)
    assert stored.next_order_date == date(2026, 4, 30)


def test_a_service_resumption_survives_a_stale_paused_document():
    stored = make_subscription()
    stored.pause(now=NOW, request_id="p", until=date(2026, 4, 15))
    stored.resume(now=NOW, request_id="r")
    stored.merge(erp(status=S.PAUSED, paused_until=date(2026, 4, 15), next_order_date=date(2026, 4, 30)), LATER)
    assert stored.status is S.ACTIVE and stored.paused_until is None


def test_the_erp_may_end_a_paused_subscription_and_may_say_past_due():
    paused = make_subscription()
    paused.pause(now=NOW, request_id="p", until=date(2026, 4, 15))
    paused.merge(erp(status=S.EXPIRED, next_order_date=None), LATER)
    assert paused.status is S.EXPIRED and paused.paused_until is None and paused.next_order_date is None
    resumed = make_subscription()
    resumed.pause(now=NOW, request_id="p", until=date(2026, 4, 15))
    resumed.resume(now=NOW, request_id="r")
    resumed.merge(erp(status=S.PAST_DUE), LATER)
    assert resumed.status is S.PAST_DUE


def test_skips_and_a_scheduled_cancellation_survive():
    skipped = make_subscription()
    skipped.skip_next_order(now=NOW, request_id="s")
    skipped.merge(erp(), LATER)  # still says Feb 28
    assert skipped.next_order_date == date(2026, 3, 31)
    ending = make_subscription()
    ending.cancel(reason=CancelReason.OTHER, now=NOW, request_id="c", at_period_end=True)
    ending.merge(erp(), LATER)
    assert ending.cancel_at_period_end and ending.next_order_date is None and ending.status is S.ACTIVE


def test_refunds_survive_and_a_charge_below_its_refunds_is_refused():
    stored = make_subscription()
    stored.refund_charge(charge_id="CH-1", reason=Reason.DAMAGED, now=NOW, request_id="f", refund_id="RF-1",
                         amount="10.00")
    stored.merge(erp(), LATER)  # the ERP reports CH-1 with nothing refunded
    charge = stored.charge("CH-1")
    assert charge.refunded_amount == Decimal("10.00") and charge.status is ChargeStatus.PARTIALLY_REFUNDED
    assert [r.refund_id for r in stored.refunds] == ["RF-1"]
    lower = erp(charges=[Charge("CH-1", Decimal("5.00"), NOW, order_number="SO-1")])
    with pytest.raises(MergeRefused) as caught:
        stored.merge(lower, LATER)
    assert caught.value.field == "Amount" and "Charges[1]" in caught.value.message
    assert stored.charge("CH-1").amount == Decimal("24.00")


def test_charges_and_orders_the_erp_leaves_out_are_kept():
    stored = make_subscription()
    stored.record_charge(charge_id="CH-2", amount="24.00", charged_at=at(date(2026, 2, 28)),
                         now=at(date(2026, 2, 28)), request_id="x", order_number="SO-2")
    stored.merge(erp(), at(date(2026, 3, 1)))
    assert [c.charge_id for c in stored.charges] == ["CH-1", "CH-2"]
    assert stored.order_numbers == ["SO-1", "SO-2"]


def test_currency_cannot_change_once_charged():
    stored = make_subscription()
    with pytest.raises(MergeRefused) as caught:
        stored.merge(erp(currency="USD"), LATER)
    assert caught.value.field == "Currency"


def test_a_pending_plan_change_survives_until_the_erp_carries_it():
    stored = make_subscription()
    stored.change_plan(now=NOW, request_id="c", price="30.00")
    stored.merge(erp(), LATER)
    assert stored.pending_change is not None and stored.pending_change.price == Decimal("30.00")
    stored.merge(erp(price=Decimal("30.00")), LATER)
    assert stored.pending_change is None and stored.price == Decimal("30.00")


def test_the_erps_charges_are_taken_new_ones_and_what_it_corrected():
    stored = make_subscription()
    corrected_at = at(date(2026, 1, 31), 9)
    stored.merge(erp(charges=[
        Charge("CH-1", Decimal("24.00"), corrected_at, refunded_amount=Decimal("4.00"), order_number="SO-1B"),
        Charge("CH-2", Decimal("24.00"), at(date(2026, 2, 28)), ChargeStatus.FAILED),
        Charge("CH-3", Decimal("26.00"), at(date(2026, 3, 31)), order_number="SO-3"),
    ]), LATER)
    first, failed, paid = stored.charges
    assert (first.charge_id, first.charged_at, first.refunded_amount, first.status, first.order_number) == (
        "CH-1", corrected_at, Decimal("4.00"), ChargeStatus.PARTIALLY_REFUNDED, "SO-1B")
    assert (failed.charge_id, failed.status, failed.refunded_amount, failed.order_number) == (
        "CH-2", ChargeStatus.FAILED, Decimal(0), None)
    assert (paid.charge_id, paid.amount, paid.status, paid.order_number) == ("CH-3", Decimal("26.00"),
                                                                             ChargeStatus.PAID, "SO-3")
    assert stored.charged_amount == Decimal("50.00") and stored.refunded_amount == Decimal("4.00")


def test_a_charge_keeps_its_order_number_when_the_erp_leaves_it_out():
    stored = make_subscription()
    stored.merge(erp(charges=[Charge("CH-1", Decimal("24.00"), at(date(2026, 1, 31), 8))]), LATER)
    assert stored.charge("CH-1").order_number == "SO-1"


def test_a_refunded_charge_cannot_become_failed_and_nothing_changes():
    stored = make_subscription()
    stored.refund_charge(charge_id="CH-1", reason=Reason.DAMAGED, now=NOW, request_id="f", refund_id="RF-1",
                         amount="10.00")
    failed = erp(name="Renamed", charges=[Charge("CH-1", Decimal("24.00"), NOW, ChargeStatus.FAILED)])
    with pytest.raises(MergeRefused) as caught:
        stored.merge(failed, LATER)
    assert caught.value.field == "Status"
    assert caught.value.message == "Charges[1].Status cannot be FAILED: the charge was refunded."
    charge = stored.charge("CH-1")
    assert charge.status is ChargeStatus.PARTIALLY_REFUNDED and stored.name == "Coffee club"


def test_a_charge_may_come_down_to_exactly_what_was_refunded_of_it():
    stored = make_subscription()
    stored.refund_charge(charge_id="CH-1", reason=Reason.DAMAGED, now=NOW, request_id="f", refund_id="RF-1",
                         amount="10.00")
    stored.merge(erp(charges=[Charge("CH-1", Decimal("10.00"), NOW, order_number="SO-1")]), LATER)
    charge = stored.charge("CH-1")
    assert (charge.amount, charge.refunded_amount, charge.status) == (
        Decimal("10.00"), Decimal("10.00"), ChargeStatus.REFUNDED)
    assert charge.refundable_amount == 0


def test_refusals_say_which_rule_the_document_breaks():
    charged = make_subscription()
    with pytest.raises(MergeRefused) as caught:
        charged.merge(erp(currency="USD"), LATER)
    assert caught.value.message == "Currency cannot change once the subscription has charges."
    cancelled = make_subscription()
    cancelled.cancel(reason=CancelReason.MOVING, now=NOW, request_id="c")
    with pytest.raises(MergeRefused) as caught:
        cancelled.merge(erp(), LATER)
    assert caught.value.message == "Status contradicts the cancellation made through the service."


def test_a_stored_charge_is_updated_in_place_so_it_stays_the_same_stored_row():
    stored = make_subscription()
    original = stored.charge("CH-1")
    stored.merge(erp(charges=[Charge("CH-1", Decimal("24.00"), at(date(2026, 1, 31), 9), order_number="SO-1")]),
                 LATER)
    assert stored.charge("CH-1") is original and original.charged_at == at(date(2026, 1, 31), 9)


def test_orders_the_erp_reports_are_added_with_their_dates():
    stored = make_subscription()
    stored.merge(erp(orders=[ProducedOrder("SO-1", date(2026, 1, 31)), ProducedOrder("SO-2", date(2026, 2, 28))]),
                 LATER)
    assert [(o.order_number, o.order_date) for o in stored.orders] == [
        ("SO-1", date(2026, 1, 31)), ("SO-2", date(2026, 2, 28))]


def test_the_latest_refund_time_is_kept():
    stored = make_subscription()
    stored.merge(erp(refunded_at=NOW), LATER)
    assert stored.refunded_at == NOW
    stored.merge(erp(refunded_at=at(date(2026, 2, 1))), LATER)  # an older copy
    assert stored.refunded_at == NOW
    stored.merge(erp(refunded_at=LATER), LATER)
    assert stored.refunded_at == LATER


def test_the_erps_cancellation_details_are_taken_when_the_service_did_not_act():
    stored = make_subscription()
    stored.merge(erp(status=S.CANCELLED, cancelled_at=NOW, cancel_reason=CancelReason.MOVING, cancel_note="Abroad",
                     next_order_date=None), LATER)
    assert (stored.status, stored.cancelled_at, stored.cancel_reason, stored.cancel_note, stored.next_order_date) == (
        S.CANCELLED, NOW, CancelReason.MOVING, "Abroad", None)
    # A later copy without the reason and note keeps the ones already known...
    stored.merge(erp(status=S.CANCELLED, cancelled_at=NOW, next_order_date=None), LATER)
    assert (stored.cancel_reason, stored.cancel_note) == (CancelReason.MOVING, "Abroad")
    # ...one with other ones takes them...
    stored.merge(erp(status=S.CANCELLED, cancelled_at=NOW, cancel_reason=CancelReason.TOO_EXPENSIVE,
                     cancel_note="Cheaper elsewhere", next_order_date=None), LATER)
    assert (stored.cancel_reason, stored.cancel_note) == (CancelReason.TOO_EXPENSIVE, "Cheaper elsewhere")
    # ...and a reactivated one drops them.
    stored.merge(erp(), LATER)
    assert (stored.status, stored.cancelled_at, stored.cancel_reason, stored.cancel_note) == (
        S.ACTIVE, None, None, None)
    assert stored.next_order_date == date(2026, 2, 28)


def test_the_erps_scheduled_cancellation_is_taken_when_the_service_did_not_act():
    stored = make_subscription()
    stored.merge(erp(cancel_at_period_end=True, cancel_effective_date=date(2026, 2, 28), next_order_date=None), LATER)
    assert (stored.cancel_at_period_end, stored.cancel_effective_date, stored.next_order_date) == (
        True, date(2026, 2, 28), None)


def test_once_the_erp_ended_a_subscription_the_service_paused_its_later_copies_are_taken():
    stored = make_subscription()
    stored.pause(now=NOW, request_id="p", until=date(2026, 4, 15))
    stored.merge(erp(status=S.EXPIRED, next_order_date=None), LATER)
    stored.merge(erp(status=S.CANCELLED, cancelled_at=LATER, cancel_reason=CancelReason.OTHER, next_order_date=None),
                 LATER)
    assert (stored.status, stored.cancelled_at, stored.cancel_reason) == (S.CANCELLED, LATER, CancelReason.OTHER)


def test_a_pause_moves_the_next_order_to_the_first_date_on_or_after_its_end():
    # Paused through the service until Mar 31 (a scheduled date); a stale copy still says Feb 28.
    on_a_date = make_subscription()
    on_a_date.pause(now=NOW, request_id="p", until=date(2026, 3, 31))
    on_a_date.merge(erp(), LATER)
    assert on_a_date.next_order_date == date(2026, 3, 31)
    # The ERP's pause with no next order date at all: the first scheduled date after the pause.
    no_date = make_subscription()
    no_date.merge(erp(status=S.PAUSED, paused_at=NOW, paused_until=date(2026, 3, 15), next_order_date=None), LATER)
    assert no_date.next_order_date == date(2026, 3, 31)


@pytest.mark.parametrize("next_order", [date(2026, 3, 15), date(2026, 4, 30)])
def test_an_erp_next_order_date_on_or_after_its_pause_end_is_kept(next_order):
    stored = make_subscription()
    stored.merge(erp(status=S.PAUSED, paused_at=NOW, paused_until=date(2026, 3, 15), next_order_date=next_order),
                 LATER)
    assert stored.next_order_date == next_order


def test_an_old_pause_end_on_an_active_copy_does_not_move_the_next_order():
    stored = make_subscription()
    stored.merge(erp(paused_until=date(2026, 3, 15)), LATER)
    assert stored.status is S.ACTIVE and stored.next_order_date == date(2026, 2, 28)


def test_a_pending_plan_change_follows_the_next_order_date_the_merge_settles_on():
    stored = make_subscription()
    stored.change_plan(now=NOW, request_id="c", price="30.00")
    stored.skip_next_order(now=NOW, request_id="s")
    stored.merge(erp(), LATER)  # still says Feb 28, which was skipped
    assert stored.next_order_date == date(2026, 3, 31)
    assert stored.pending_change.effective_date == date(2026, 3, 31)
