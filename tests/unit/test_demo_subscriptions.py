"""Demo subscriptions: every status, consistent documents, reproducible from the seed."""

from __future__ import annotations

from datetime import date

from soap_orders.demo.subscriptions import DEMO_NOW, demo_subscriptions
from soap_orders.documents.subscriptions import (
    subscription_from_record,
    subscription_to_record,
)
from soap_orders.domain.orders import Address, Customer
from soap_orders.domain.subscriptions import ChargeStatus, SubscriptionStatus

CUSTOMERS = [Customer(f"customer{i}@example.com", f"First{i}", f"Last{i}") for i in range(12)]
CUSTOMERS_WITH_ADDRESSES = [(c, Address(c.first_name, "1 High Street", None, "Leeds", None, "LS1 1AA", "GB"))
                            for c in CUSTOMERS]


def test_every_status_is_represented_and_every_document_is_consistent():
    subs = demo_subscriptions(7, CUSTOMERS)
    assert {s.status for s in subs} == set(SubscriptionStatus)
    assert any(s.cancel_at_period_end for s in subs)
    assert any(s.paused_cycles for s in subs) and any(s.status is SubscriptionStatus.PAUSED and not s.paused_cycles
                                                      for s in subs)
    assert any(s.pending_change for s in subs)
    assert any(c.status in (ChargeStatus.REFUNDED, ChargeStatus.PARTIALLY_REFUNDED) for s in subs for c in s.charges)
    for sub in subs:
        assert sub.events == []
        assert len(sub.charges) >= 2 and sub.created_at < DEMO_NOW
        if sub.status is SubscriptionStatus.PAST_DUE:
            assert sub.charges[-1].status is ChargeStatus.FAILED
        if sub.status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAUSED) and not sub.cancel_at_period_end:
            assert sub.next_order_date is not None and sub.next_order_date >= date(2026, 1, 1)
        # The stored form round-trips and passes the checks an imported document must pass.
        again = subscription_from_record(subscription_to_record(sub, stored=True), stored=True)
        assert subscription_to_record(again, stored=True) == subscription_to_record(sub, stored=True)


def test_the_same_seed_gives_the_same_subscriptions():
    def records(seed):
        return [subscription_to_record(s, stored=True) for s in demo_subscriptions(seed, CUSTOMERS_WITH_ADDRESSES)]

    assert records(3) == records(3)
    assert records(3) != records(4)
    assert records(3)[0]["ShippingAddress"]["City"] == "Leeds"


def test_other_currencies_keep_their_decimal_places():
    subs = demo_subscriptions(1, CUSTOMERS[:5], currency="JPY")
    assert all(s.price == s.price.to_integral_value() for s in subs)
