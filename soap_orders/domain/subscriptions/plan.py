"""Changing a subscription's plan (items, price, frequency) from its next cycle on."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from .. import money
from ..errors import ValidationError
from ..subscription_events import SubscriptionPlanChanged
from .model import (
    Frequency,
    PlanChange,
    SubscriptionDecision,
    SubscriptionItem,
    SubscriptionOutcome,
    SubscriptionReasonCode,
    SubscriptionState,
    SubscriptionStatus,
    check_items,
)


class Planning(SubscriptionState):
    def change_plan(
        self,
        *,
        now: datetime,
        request_id: str,
        items: list[SubscriptionItem] | None = None,
        price: object | None = None,
        frequency: Frequency | None = None,
    ) -> SubscriptionDecision:
        """Change items, price and/or frequency from the next cycle on; the next order date is
        recalculated with the new frequency, counted from the start of the current period."""
        if items is None and price is None and frequency is None:
            raise ValidationError("Give at least one of Items, Price and Frequency.", "Items")
        new_items = [item.copy() for item in items] if items is not None else None
        if new_items is not None:
            check_items(new_items, self.currency)
        new_price = None if price is None else money.parse_amount(price, self.currency, field="Price")
        if new_price is not None and new_price < 0:
            raise ValidationError("Price must not be negative.", "Price")
        if frequency is not None:
            frequency.check()
        self.settle(now)
        refusal = self._refuse_unless_active(when_paused=None, past_due_ok=True)
        if refusal is not None:
            return refusal
        current = self.pending_change
        base_items = list(current.items) if current else self.items
        base_price = current.price if current else self.price
        base_frequency = current.frequency if current else self.frequency
        anchor, _ = self._schedule()
        plan_items = tuple(item.copy() for item in (new_items if new_items is not None else base_items))
        plan_price = money.quantize(new_price if new_price is not None else base_price, self.currency)
        plan_frequency = frequency or base_frequency
        unchanged = (
            [i.key() for i in plan_items] == [i.key() for i in self.items]
            and plan_price == self.price
            and plan_frequency == self.frequency
        )
        if unchanged and current is None:
            return self._reject(SubscriptionReasonCode.PLAN_UNCHANGED, "already has that plan")
        if plan_frequency != base_frequency:
            anchor = self.last_order_date or self.anchor_date or self.start_date
        change = PlanChange(plan_items, plan_price, plan_frequency, anchor, None, now)
        self.pending_change = change
        earliest = self._earliest(now.date())
        if self.status is SubscriptionStatus.PAUSED and self.paused_until is not None:
            earliest = max(earliest, self.paused_until)
        next_order = self._next_from(earliest, inclusive=True)
        self.next_order_date = next_order
        self.pending_change = replace(change, effective_date=next_order)
        self.updated_at = now
        self.events.append(SubscriptionPlanChanged(
            self.subscription_id, now, tuple((i.sku, i.quantity) for i in plan_items), plan_price, self.currency,
            plan_frequency.interval.value, plan_frequency.interval_count, next_order, request_id,
        ))
        when = f"from the order on {next_order}" if next_order else "from the next order"
        return self._decide(
            SubscriptionOutcome.PLAN_CHANGED, SubscriptionReasonCode.NONE,
            f"will change to the new plan ({money.format_amount(plan_price, self.currency)} "
            f"{plan_frequency.describe()}) {when}",
        )
