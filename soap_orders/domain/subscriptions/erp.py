"""The ERP's copy of a subscription: taking what the ERP owns, keeping what was done through the service."""

from __future__ import annotations

from datetime import datetime

from ..errors import ValidationError
from .model import (
    ENDED_STATUSES,
    Charge,
    ChargeStatus,
    LifecycleAction,
    PlanChange,
    ProducedOrder,
    SubscriptionState,
    SubscriptionStatus,
)


class MergeRefused(ValidationError):
    """An incoming document contradicts what was done through the service; nothing is changed."""



class ErpCopy(SubscriptionState):
    def merge(self, incoming: SubscriptionState, now: datetime) -> None:
        """Take what the ERP owns from ``incoming`` (same id, already checked) and keep what was done
        through the service: cancellation, pause, resumption, scheduled cancellation, skips, refunds,
        a pending plan change, recorded charges and the orders they produced. Raises
        :class:`MergeRefused`, having changed nothing, when ``incoming`` contradicts it."""
        if incoming.currency != self.currency and (self.refunds or self.charges):
            raise MergeRefused("Currency cannot change once the subscription has charges.", "Currency")
        lifecycle = self.service_lifecycle
        if lifecycle is LifecycleAction.CANCELLED and incoming.status not in ENDED_STATUSES:
            raise MergeRefused("Status contradicts the cancellation made through the service.", "Status")
        merged_charges = self._merged_charges(incoming)
        # Nothing has changed so far; from here on the merge cannot fail.
        for name in ("name", "customer", "shipping_address", "currency", "price", "frequency", "created_at",
                     "start_date", "anchor_date", "last_order_date"):
            setattr(self, name, getattr(incoming, name))
        if [i.key() for i in incoming.items] != [i.key() for i in self.items]:
            self.items = [item.copy() for item in incoming.items]
        stored = {charge.charge_id: charge for charge in self.charges}
        charges: list[Charge] = []
        for charge in merged_charges:  # update stored charges in place: a charge keeps its identity
            kept = stored.get(charge.charge_id, charge)
            for name in ("amount", "charged_at", "status", "refunded_amount", "order_number"):
                setattr(kept, name, getattr(charge, name))
            charges.append(kept)
        self.charges = charges
        known = set(self.order_numbers)
        for order in incoming.orders:
            if order.order_number not in known:
                self.orders.append(ProducedOrder(order.order_number, order.order_date))
                known.add(order.order_number)
        if incoming.refunded_at and (self.refunded_at is None or incoming.refunded_at > self.refunded_at):
            self.refunded_at = incoming.refunded_at
        if lifecycle is None:
            self._take_lifecycle(incoming)
        elif self.status in ENDED_STATUSES:
            pass  # cancelled through the service, and the ERP agrees that it has ended
        elif incoming.status in ENDED_STATUSES:
            self._take_lifecycle(incoming)  # the ERP ended it
            self.service_lifecycle = None
        elif self.status is SubscriptionStatus.PAUSED or incoming.status is SubscriptionStatus.PAUSED:
            pass  # the service's pause stands, and so does its resumption against a stale PAUSED
        else:
            self.status = incoming.status  # ACTIVE or PAST_DUE: the billing system's to say
        if self.status in ENDED_STATUSES:
            self.pending_change = None
        pending = self.pending_change
        if pending is not None and self._plan_matches(pending):
            self.pending_change = None  # the ERP's document already carries the new plan
        self.next_order_date = incoming.next_order_date
        self._normalise_next_order_date()
        self.updated_at = now

    def _take_lifecycle(self, incoming: SubscriptionState) -> None:
        self.status = incoming.status
        self.paused_at, self.paused_until, self.paused_cycles = (
            incoming.paused_at, incoming.paused_until, incoming.paused_cycles
        )
        self.cancel_at_period_end = incoming.cancel_at_period_end
        self.cancel_effective_date = incoming.cancel_effective_date
        self.cancelled_at = incoming.cancelled_at
        self.cancel_reason = incoming.cancel_reason or (self.cancel_reason if incoming.cancelled_at else None)
        self.cancel_note = incoming.cancel_note or (self.cancel_note if incoming.cancelled_at else None)

    def _merged_charges(self, incoming: SubscriptionState) -> list[Charge]:
        stored = {c.charge_id: c for c in self.charges}
        merged: list[Charge] = []
        seen: set[str] = set()
        for position, new in enumerate(incoming.charges, 1):
            old = stored.get(new.charge_id)
            charge = Charge(new.charge_id, new.amount, new.charged_at, new.status, new.refunded_amount,
                            new.order_number)
            if old is not None:
                charge.refunded_amount = max(old.refunded_amount, new.refunded_amount)
                if charge.refunded_amount and charge.status is ChargeStatus.FAILED:
                    raise MergeRefused(
                        f"Charges[{position}].Status cannot be FAILED: the charge was refunded.", "Status"
                    )
                if charge.amount < charge.refunded_amount:
                    raise MergeRefused(
                        f"Charges[{position}].Amount is below what was refunded of it.", "Amount"
                    )
                charge.order_number = charge.order_number or old.order_number
            charge.settle_status()
            merged.append(charge)
            seen.add(charge.charge_id)
        for old in self.charges:  # charges the ERP left out are kept: they happened
            if old.charge_id not in seen:
                merged.append(old)
        return merged

    def _plan_matches(self, plan: PlanChange) -> bool:
        return (
            [i.key() for i in plan.items] == [i.key() for i in self.items]
            and plan.price == self.price
            and plan.frequency == self.frequency
        )

    def _normalise_next_order_date(self) -> None:
        """Make the next order date agree with ended, paused, scheduled-to-end and skipped states."""
        if self.status in ENDED_STATUSES or self.cancel_at_period_end:
            self.next_order_date = None
            return
        day = self.next_order_date
        pause_ends = self.paused_until if self.status is SubscriptionStatus.PAUSED else None
        if pause_ends is not None and (day is None or day < pause_ends):
            day = self._next_from(pause_ends, inclusive=True)
        skipped = {s.order_date for s in self.skipped_orders}
        if day is not None and day in skipped:
            day = self._next_from(day, inclusive=False)
        self.next_order_date = day
        self._move_pending_to(day)
