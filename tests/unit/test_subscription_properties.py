"""Properties of every sequence of actions: no order date while paused or cancelled, no charge
recorded while paused or cancelled, and never more refunded than was charged."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soap_orders.domain.errors import ValidationError
from soap_orders.domain.orders import Reason
from soap_orders.domain.recurrence import Interval
from soap_orders.domain.subscriptions import (
    ENDED_STATUSES,
    CancelReason,
    ChargeStatus,
    Frequency,
    SubscriptionItem,
    SubscriptionOutcome,
    SubscriptionStatus,
)
from tests.examples import examples
from tests.unit.subscription_factories import at, make_subscription

FREQUENCIES = st.builds(Frequency, st.sampled_from(list(Interval)), st.integers(min_value=1, max_value=3))
AMOUNTS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("60.00"), places=2)

ACTIONS = st.one_of(
    st.tuples(st.just("wait"), st.integers(min_value=0, max_value=90)),
    st.tuples(st.just("cancel"), st.booleans()),
    st.tuples(st.just("pause_until"), st.integers(min_value=-5, max_value=400)),
    st.tuples(st.just("pause_cycles"), st.integers(min_value=0, max_value=13)),
    st.tuples(st.just("resume"), st.none()),
    st.tuples(st.just("skip"), st.none()),
    st.tuples(st.just("change_plan"), st.tuples(st.none() | FREQUENCIES, st.none() | AMOUNTS)),
    st.tuples(st.just("charge"), st.tuples(AMOUNTS, st.booleans())),
    st.tuples(st.just("refund"), st.tuples(st.integers(min_value=0, max_value=5), st.none() | AMOUNTS)),
)


def check_invariants(sub, today: date) -> None:
    if sub.status is SubscriptionStatus.PAUSED:
        assert sub.paused_until is not None
        assert sub.next_order_date is None or sub.next_order_date >= sub.paused_until
    if sub.status in ENDED_STATUSES or sub.cancel_at_period_end:
        assert sub.next_order_date is None
    for charge in sub.charges:
        assert Decimal(0) <= charge.refunded_amount <= charge.amount
        refunds = sum((r.amount for r in sub.refunds if r.charge_id == charge.charge_id), Decimal(0))
        assert refunds <= charge.refunded_amount  # the service never refunds more than it recorded
    assert sub.refunded_amount <= sub.charged_amount
    if sub.pending_change is not None:
        assert sub.status not in ENDED_STATUSES


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FREQUENCIES, st.lists(ACTIONS, max_size=30))
def test_no_sequence_of_actions_breaks_the_invariants(frequency, actions):
    sub = make_subscription(frequency=frequency)
    today = date(2026, 2, 10)
    for number, (kind, arg) in enumerate(actions, 1):
        now = at(today)
        status_before, paused_until = sub.status, sub.paused_until
        charges_before = len(sub.charges)
        try:
            if kind == "wait":
                today += timedelta(days=arg)
                sub.settle(at(today))
            elif kind == "cancel":
                sub.cancel(reason=CancelReason.OTHER, now=now, request_id=f"r{number}", at_period_end=arg)
            elif kind == "pause_until":
                sub.pause(now=now, request_id=f"r{number}", until=today + timedelta(days=arg))
            elif kind == "pause_cycles":
                sub.pause(now=now, request_id=f"r{number}", cycles=arg)
            elif kind == "resume":
                sub.resume(now=now, request_id=f"r{number}")
            elif kind == "skip":
                sub.skip_next_order(now=now, request_id=f"r{number}")
            elif kind == "change_plan":
                new_frequency, price = arg
                items = [SubscriptionItem("COF-9", "Other beans", 1, price)] if price is not None else None
                sub.change_plan(now=now, request_id=f"r{number}", frequency=new_frequency, price=price, items=items)
            elif kind == "charge":
                amount, paid = arg
                decision = sub.record_charge(
                    charge_id=f"CH-{number}", amount=amount, charged_at=now, now=now, request_id=f"r{number}",
                    status=ChargeStatus.PAID if paid else ChargeStatus.FAILED, order_number=f"SO-{number}",
                )
                if decision.outcome is SubscriptionOutcome.CHARGE_RECORDED:
                    # Never while paused or once ended (as it stood when the charge came in).
                    assert status_before not in ENDED_STATUSES
                    assert not (status_before is SubscriptionStatus.PAUSED and paused_until and paused_until > today)
                    if paid:  # a paid charge starts the next cycle; a failed one leaves the order due
                        assert sub.next_order_date is None or sub.next_order_date > today
                else:
                    assert len(sub.charges) == charges_before
            elif kind == "refund":
                index, amount = arg
                charge_id = sub.charges[index % len(sub.charges)].charge_id if sub.charges else "CH-X"
                sub.refund_charge(charge_id=charge_id, reason=Reason.OTHER, now=now, request_id=f"r{number}",
                                  refund_id=f"RF-{number}", amount=amount)
        except ValidationError:
            pass  # a bad request (e.g. a pause date in the past) changes nothing
        check_invariants(sub, today)
