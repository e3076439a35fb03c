"""Subscriptions: recurring orders of a plan (items, price, frequency), and the rules for acting on them.

A subscription produces an order, and the billing system a charge, on each date of its schedule
(``NextOrderDate``). Callers cancel (at once or at the end of the current period), pause (until a
date or for a number of cycles), resume, change the plan (from the next cycle), skip the next
order and refund charges; the ERP feeds subscriptions in and reports the charges it made.

:mod:`.model` holds the data and its invariants; each family of actions has its module
(:mod:`.cancelling`, :mod:`.pausing`, :mod:`.plan`, :mod:`.charges`, :mod:`.erp`), and
:class:`Subscription` joins them. Standard library only, like the rest of the domain. Dates follow
:mod:`..recurrence`.
"""

from __future__ import annotations

from .cancelling import Cancelling
from .charges import Charging
from .erp import ErpCopy, MergeRefused
from .model import (
    CHARGE_CLOCK_SKEW,
    ENDED_STATUSES,
    MAX_INTERVAL_COUNT,
    MAX_ITEMS,
    MAX_PAUSE_CYCLES,
    MAX_PAUSE_DAYS,
    MAX_UPSERT_BATCH,
    Address,
    CancelReason,
    Charge,
    ChargeStatus,
    Customer,
    Frequency,
    Interval,
    LifecycleAction,
    PlanChange,
    ProducedOrder,
    Reason,
    SkippedOrder,
    SubscriptionDecision,
    SubscriptionItem,
    SubscriptionOutcome,
    SubscriptionReasonCode,
    SubscriptionRefund,
    SubscriptionStatus,
)
from .pausing import Pausing
from .plan import Planning

__all__ = [
    "CHARGE_CLOCK_SKEW", "ENDED_STATUSES", "MAX_INTERVAL_COUNT", "MAX_ITEMS", "MAX_PAUSE_CYCLES", "MAX_PAUSE_DAYS",
    "MAX_UPSERT_BATCH", "Address", "CancelReason", "Charge", "ChargeStatus", "Customer", "Frequency", "Interval",
    "LifecycleAction", "MergeRefused", "PlanChange", "ProducedOrder", "Reason", "SkippedOrder", "Subscription",
    "SubscriptionDecision", "SubscriptionItem", "SubscriptionOutcome", "SubscriptionReasonCode",
    "SubscriptionRefund", "SubscriptionStatus",
]


class Subscription(Cancelling, Pausing, Planning, Charging, ErpCopy):
    """A subscription: its data (:class:`.model.SubscriptionState`) and every action on it."""
