"""Reproducible demo subscriptions, built through the domain's own rules.

``demo_subscriptions(seed, customers)`` gives each customer one or two subscriptions and, across
them, every status: ACTIVE (some with a skipped order, a pending plan change or a refunded charge),
PAUSED (until a date, or for a number of cycles), CANCELLED, ACTIVE with a cancellation at the end
of the period, PAST_DUE (a failed charge) and EXPIRED. Past cycles are charged with
``Subscription.record_charge``; pauses, cancellations, skips, plan changes and refunds are made by
the methods a caller's request would use. The same seed and customers give the same subscriptions.

The subscriptions come back with no recorded events: demo data is history, not news for the
change feed.
"""

from __future__ import annotations

import calendar
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from ..domain import money
from ..domain.orders import Address, Customer, Reason
from ..domain.recurrence import Interval, first_after, occurrence
from ..domain.subscriptions import (
    CancelReason,
    ChargeStatus,
    Frequency,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
)

#: "Now" for the demo subscriptions unless told otherwise (the demo orders' anchor).
DEMO_NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)

#: The statuses handed out in turn, so that any five or more subscriptions cover every status.
SCENARIOS = ("active", "paused", "cancelled", "past_due", "expired", "ending", "paused_cycles", "active_changed")


@dataclass(frozen=True)
class _Plan:
    name: str
    sku: str
    item: str
    unit_price: Decimal  # in EUR; other currencies scale it
    quantity: int
    frequency: Frequency


PLANS = (
    _Plan("Coffee club", "SUB-COF-500", "Coffee beans 500 g", Decimal("12.00"), 2, Frequency(Interval.MONTH, 1)),
    _Plan("Tea of the month", "SUB-TEA-100", "Loose leaf tea 100 g", Decimal("9.50"), 1, Frequency(Interval.MONTH, 1)),
    _Plan("Razor blades", "SUB-RZR-8", "Razor blades, pack of 8", Decimal("14.00"), 1, Frequency(Interval.MONTH, 2)),
    _Plan("Pet food", "SUB-PET-2KG", "Dry dog food 2 kg", Decimal("18.90"), 1, Frequency(Interval.WEEK, 2)),
    _Plan("Fresh flowers", "SUB-FLW-M", "Seasonal bouquet, medium", Decimal("29.00"), 1, Frequency(Interval.WEEK, 1)),
    _Plan("Vitamins", "SUB-VIT-90", "Multivitamin, 90 tablets", Decimal("21.00"), 1, Frequency(Interval.MONTH, 3)),
    _Plan("Magazine", "SUB-MAG-Y", "Yearly magazine bundle", Decimal("59.00"), 1, Frequency(Interval.YEAR, 1)),
)

_RATES = {"JPY": Decimal(160), "GBP": Decimal("0.85"), "USD": Decimal("1.10")}


def demo_subscriptions(
    seed: int,
    customers: Sequence[Customer | tuple[Customer, Address | None]],
    *,
    now: datetime = DEMO_NOW,
    currency: str = "EUR",
) -> list[Subscription]:
    """One or two subscriptions per customer (a customer may come with a shipping address), every
    status represented once there are at least five customers."""
    rng = random.Random(seed)
    made: list[Subscription] = []
    number = 0
    for entry in customers:
        customer, address = entry if isinstance(entry, tuple) else (entry, None)
        for _ in range(1 + (rng.random() < 0.35)):
            scenario = SCENARIOS[number % len(SCENARIOS)]
            number += 1
            made.append(_build(rng, number, scenario, customer, address, now, currency))
    return made


def _build(
    rng: random.Random, number: int, scenario: str, customer: Customer, address: Address | None, now: datetime,
    currency: str,
) -> Subscription:
    plan = rng.choice(PLANS)
    unit_price = _in_currency(plan.unit_price, currency)
    price = money.quantize(unit_price * plan.quantity, currency)
    frequency = plan.frequency
    cycles_before = rng.randint(2, 6)
    # Start far enough back for the charged cycles, on a day that may be a month end.
    start = occurrence(now.date(), frequency.interval, frequency.interval_count, -cycles_before)
    start -= timedelta(days=rng.randint(0, 2))
    if rng.random() < 0.3 and frequency.interval is Interval.MONTH:  # month ends: the 31st, then Feb 28, ...
        start = start.replace(day=calendar.monthrange(start.year, start.month)[1])
    created = datetime.combine(start, time(rng.randint(7, 21), rng.randint(0, 59)), tzinfo=timezone.utc)
    created -= timedelta(days=rng.randint(0, 5))
    sid = f"SUB-{200000 + number}"
    subscription = Subscription(
        subscription_id=sid,
        name=plan.name,
        customer=customer,
        shipping_address=address,
        currency=currency,
        price=price,
        frequency=frequency,
        created_at=created,
        start_date=start,
        next_order_date=start,
        items=[SubscriptionItem(plan.sku, plan.item, plan.quantity, unit_price,
                                f"https://img.example.com/{plan.sku.lower()}.jpg")],
    )
    subscription.check()
    _charge_history(subscription, number, now, failing_last=scenario == "past_due")
    request = f"demo-{sid}"
    at = now - timedelta(hours=rng.randint(1, 48))
    if scenario == "paused":
        subscription.pause(now=at, request_id=request, until=at.date() + timedelta(days=rng.randint(20, 90)))
    elif scenario == "paused_cycles":
        subscription.pause(now=at, request_id=request, cycles=rng.randint(1, 3))
    elif scenario == "cancelled":
        subscription.cancel(reason=rng.choice(list(CancelReason)), now=at, request_id=request,
                            note=rng.choice([None, "Asked by chat", "Moving abroad"]))
        _refund_last(subscription, at, request)
    elif scenario == "ending":
        subscription.cancel(reason=CancelReason.NO_LONGER_NEEDED, now=at, request_id=request, at_period_end=True)
    elif scenario == "expired":
        _expire(subscription, at)
    elif scenario == "active":
        if rng.random() < 0.5:
            subscription.skip_next_order(now=at, request_id=request)
        if rng.random() < 0.4:
            subscription.refund_charge(charge_id=subscription.charges[-1].charge_id, reason=Reason.DAMAGED, now=at,
                                       request_id=request + "-refund", refund_id=f"SRF-{sid}-1",
                                       amount=money.quantize(price / 2, currency))
    elif scenario == "active_changed":
        subscription.change_plan(now=at, request_id=request, price=money.quantize(price * Decimal("1.1"), currency),
                                 items=[SubscriptionItem(plan.sku, plan.item, plan.quantity + 1, unit_price)])
    subscription.events.clear()
    return subscription


def _charge_history(subscription: Subscription, number: int, now: datetime, *, failing_last: bool) -> None:
    """Charge every cycle due before ``now`` through ``record_charge``; optionally the last one fails."""
    cycle = 0
    while subscription.next_order_date is not None and subscription.next_order_date < now.date():
        cycle += 1
        due = subscription.next_order_date
        charged_at = datetime.combine(due, time(6, 0), tzinfo=timezone.utc)
        following = first_after(subscription.anchor_date or due, subscription.frequency.interval,
                                subscription.frequency.interval_count, due)
        if failing_last and cycle > 1 and following >= now.date():
            subscription.record_charge(charge_id=f"CH-{number}-{cycle}", amount=subscription.price,
                                       charged_at=charged_at, now=charged_at, request_id=None,
                                       status=ChargeStatus.FAILED)
            return
        subscription.record_charge(charge_id=f"CH-{number}-{cycle}", amount=subscription.price, charged_at=charged_at,
                                   now=charged_at, request_id=None, order_number=f"SO-S{number:05d}{cycle:02d}")


def _refund_last(subscription: Subscription, at: datetime, request: str) -> None:
    if subscription.charges:
        subscription.refund_charge(charge_id=subscription.charges[-1].charge_id, reason=Reason.CUSTOMER, now=at,
                                   request_id=request + "-refund", refund_id=f"SRF-{subscription.subscription_id}-1")


def _expire(subscription: Subscription, at: datetime) -> None:
    """A fixed-term subscription the ERP reports as run out: EXPIRED is the billing system's word,
    so it arrives the way an ERP document would, merged over the stored one."""
    ended = Subscription(
        subscription_id=subscription.subscription_id, name=subscription.name, customer=subscription.customer,
        shipping_address=subscription.shipping_address, currency=subscription.currency, price=subscription.price,
        frequency=subscription.frequency, created_at=subscription.created_at, start_date=subscription.start_date,
        status=SubscriptionStatus.EXPIRED, last_order_date=subscription.last_order_date,
        items=[item.copy() for item in subscription.items],
    )
    ended.check()
    subscription.merge(ended, at)


def _in_currency(amount: Decimal, currency: str) -> Decimal:
    return money.quantize(amount * _RATES.get(currency, Decimal(1)), currency)



def store_demo_subscriptions(deps: Any, seed: int, order_records: Iterable[dict[str, Any]],
                             customers: int = 12) -> list[Subscription]:
    """Store demo subscriptions for the first ``customers`` customers of the demo orders (with their
    shipping addresses), dated from the service's clock; those already stored are left alone.
    Returns the subscriptions stored now."""
    from ..documents import records
    from ..documents.orders import ADDRESS, CUSTOMER

    chosen: dict[str, tuple[Customer, Address | None]] = {}
    for record in order_records:
        email = record["Customer"]["Email"].lower()
        if email not in chosen:
            address = record.get("ShippingAddress")
            chosen[email] = (records.load(CUSTOMER, record["Customer"]),
                             records.load(ADDRESS, address) if address else None)
        if len(chosen) >= customers:
            break
    made = demo_subscriptions(seed, list(chosen.values()), now=deps.clock())
    with deps.uow() as uow:
        existing = uow.subscriptions.get_many([s.subscription_id for s in made])
        new = [s for s in made if s.subscription_id not in existing]
        for subscription in new:
            uow.subscriptions.add(subscription)
        uow.commit()
    return new


def suggestion(subscriptions: Sequence[Subscription]) -> list[str]:
    """What to try: one subscription of each status."""
    seen: dict[SubscriptionStatus, Subscription] = {}
    for subscription in subscriptions:
        seen.setdefault(subscription.status, subscription)
    return [f"  subscription {s.subscription_id} ({status.value}) of {s.customer.email}"
            for status, s in seen.items()]
