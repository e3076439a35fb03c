"""A consistent subscription for unit tests: 2 bags of coffee for 24.00 EUR every month, anchored on
Jan 31 2026 (so its dates exercise month ends), next order Feb 28 2026, one paid charge."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from soap_orders.domain.orders import Address, Customer
from soap_orders.domain.recurrence import Interval
from soap_orders.domain.subscriptions import (
    Charge,
    Frequency,
    ProducedOrder,
    Subscription,
    SubscriptionItem,
)

CREATED_AT = datetime(2026, 1, 20, 9, 0, tzinfo=timezone.utc)
NOW = datetime(2026, 2, 10, 12, 0, tzinfo=timezone.utc)


def make_subscription(**overrides: Any) -> Subscription:
    fields: dict[str, Any] = {
        "subscription_id": "SUB-1",
        "name": "Coffee club",
        "customer": Customer("ann.lee@example.com", "Ann", "Lee"),
        "shipping_address": Address("Ann Lee", "1 Rue de Rivoli", None, "Paris", None, "75001", "FR"),
        "currency": "EUR",
        "price": Decimal("24.00"),
        "frequency": Frequency(Interval.MONTH, 1),
        "created_at": CREATED_AT,
        "start_date": date(2026, 1, 31),
        "next_order_date": date(2026, 2, 28),
        "last_order_date": date(2026, 1, 31),
        "items": [SubscriptionItem("COF-1", "Coffee beans 500 g", 2, Decimal("12.00"))],
        "charges": [Charge("CH-1", Decimal("24.00"), datetime(2026, 1, 31, 8, tzinfo=timezone.utc),
                           order_number="SO-1")],
        "orders": [ProducedOrder("SO-1", date(2026, 1, 31))],
    }
    fields.update(overrides)
    subscription = Subscription(**fields)
    subscription.check()
    return subscription


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)
