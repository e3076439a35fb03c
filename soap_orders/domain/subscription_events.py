"""Events a subscription records when it changes. They go to the same change feed as order events
(the ``order_events`` log, with the subscription's id as their subject), in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .events import own_data


@dataclass(frozen=True)
class SubscriptionEvent:
    subscription_id: str
    occurred_at: datetime

    @property
    def name(self) -> str:
        return type(self).__name__

    def payload(self) -> dict[str, Any]:
        """The event's own data as JSON-ready values (decimals, dates and times as strings)."""
        return own_data(self, "subscription_id", "occurred_at")


@dataclass(frozen=True)
class SubscriptionCancelled(SubscriptionEvent):
    """Cancelled now: at a caller's request, or because a cancellation scheduled for the end of the
    period took effect (``scheduled`` true, ``request_id`` None)."""

    reason: str
    note: str | None
    request_id: str | None
    scheduled: bool


@dataclass(frozen=True)
class SubscriptionCancellationScheduled(SubscriptionEvent):
    reason: str
    note: str | None
    request_id: str
    effective_date: date


@dataclass(frozen=True)
class SubscriptionPaused(SubscriptionEvent):
    paused_until: date
    cycles: int | None
    next_order_date: date
    request_id: str


@dataclass(frozen=True)
class SubscriptionResumed(SubscriptionEvent):
    """Resumed by a caller, or because the pause ran out (``request_id`` None)."""

    next_order_date: date | None
    request_id: str | None


@dataclass(frozen=True)
class SubscriptionPlanChanged(SubscriptionEvent):
    items: tuple[tuple[str, int], ...]  # (sku, quantity)
    price: Decimal
    currency: str
    interval: str
    interval_count: int
    effective_date: date | None
    request_id: str


@dataclass(frozen=True)
class SubscriptionPlanChangeApplied(SubscriptionEvent):
    """A plan change took effect at the start of the cycle it was made for."""

    price: Decimal
    currency: str
    interval: str
    interval_count: int


@dataclass(frozen=True)
class SubscriptionOrderSkipped(SubscriptionEvent):
    skipped_date: date
    next_order_date: date | None
    request_id: str


@dataclass(frozen=True)
class SubscriptionChargeRefunded(SubscriptionEvent):
    refund_id: str
    charge_id: str
    amount: Decimal
    currency: str
    reason: str
    note: str | None
    request_id: str


@dataclass(frozen=True)
class SubscriptionChargeRecorded(SubscriptionEvent):
    charge_id: str
    amount: Decimal
    currency: str
    status: str
    charged_at: datetime
    order_number: str | None
    next_order_date: date | None
    request_id: str | None


@dataclass(frozen=True)
class SubscriptionUpserted(SubscriptionEvent):
    """The ERP created or updated the subscription (``result`` CREATED or UPDATED)."""

    result: str
    status: str
    request_id: str | None


@dataclass(frozen=True)
class CustomerForgotten(SubscriptionEvent):
    """The customer's personal data on the subscription was replaced by ``pseudonym`` at their
    request; the feed names it like the order event of the same name, with the subscription as subject."""

    request_id: str
    pseudonym: str
