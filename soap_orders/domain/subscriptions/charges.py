"""Charges of a subscription: recording what the billing system charged, refunding it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from .. import money
from ..errors import ValidationError
from ..orders import Reason
from ..subscription_events import SubscriptionChargeRecorded, SubscriptionChargeRefunded
from .model import (
    CHARGE_CLOCK_SKEW,
    Charge,
    ChargeStatus,
    ProducedOrder,
    SubscriptionDecision,
    SubscriptionOutcome,
    SubscriptionReasonCode,
    SubscriptionRefund,
    SubscriptionState,
    SubscriptionStatus,
)


class Charging(SubscriptionState):
    def refund_charge(
        self, *, charge_id: str, reason: Reason, now: datetime, request_id: str, refund_id: str,
        amount: object | None = None, note: str | None = None,
    ) -> SubscriptionDecision:
        """Refund a past charge, in full (no amount) or in part; never more than charged minus refunded."""
        requested = None if amount is None else money.positive_amount(amount, self.currency)
        self.settle(now)
        charge = self.charge(charge_id)
        if charge is None:
            return self._reject(SubscriptionReasonCode.UNKNOWN_CHARGE, "has no such charge")
        if charge.status is ChargeStatus.FAILED:
            return self._reject(SubscriptionReasonCode.CHARGE_NOT_PAID, "cannot refund a charge that failed")
        refundable = money.quantize(charge.refundable_amount, self.currency)  # stored amounts may carry more places
        if refundable <= 0:
            return self._reject(SubscriptionReasonCode.NOTHING_REFUNDABLE, "has already refunded that charge in full")
        if requested is None:
            requested = refundable
        if requested > refundable:
            return self._reject(
                SubscriptionReasonCode.EXCEEDS_REFUNDABLE,
                f"can refund at most {money.format_amount(refundable, self.currency)} of that charge",
            )
        charge.refunded_amount = money.quantize(charge.refunded_amount + requested, self.currency)
        charge.settle_status()
        refund = SubscriptionRefund(refund_id, charge.charge_id, requested, reason, now, note)
        self.refunds.append(refund)
        self.refunded_at = self.updated_at = now
        self.events.append(SubscriptionChargeRefunded(
            self.subscription_id, now, refund_id, charge.charge_id, requested, self.currency, reason.value, note,
            request_id,
        ))
        return SubscriptionDecision(
            SubscriptionOutcome.REFUNDED, SubscriptionReasonCode.NONE,
            f"A refund of {money.format_amount(requested, self.currency)} has been issued "
            f"for subscription {self.subscription_id}.",
            refund=refund,
        )

    def record_charge(
        self, *, charge_id: str, amount: object, charged_at: datetime, now: datetime, request_id: str | None,
        status: ChargeStatus = ChargeStatus.PAID, order_number: str | None = None,
    ) -> SubscriptionDecision:
        """Record a charge the billing system made for the cycle due on ``next_order_date``, with the
        order it produced. A paid charge starts the next cycle; a failed one makes the subscription
        PAST_DUE. Refused while paused or once cancelled."""
        value = money.positive_amount(amount, self.currency)
        if status not in (ChargeStatus.PAID, ChargeStatus.FAILED):
            raise ValidationError("A recorded charge's Status must be PAID or FAILED.", "Status")
        if charged_at.tzinfo is None:
            raise ValidationError("ChargedAt must carry a time zone.", "ChargedAt")
        if charged_at > now + CHARGE_CLOCK_SKEW:
            raise ValidationError("ChargedAt must not be in the future.", "ChargedAt")
        if status is ChargeStatus.PAID and not order_number:
            raise ValidationError("OrderNumber is required for a paid charge.", "OrderNumber")
        self.settle(now)
        if self.charge(charge_id) is not None:
            return self._reject(SubscriptionReasonCode.DUPLICATE_CHARGE, "already has a charge with that id")
        refusal = self._refuse_unless_active(when_paused=SubscriptionReasonCode.NOT_ACTIVE, past_due_ok=True)
        if refusal is not None:
            return refusal
        charge = Charge(charge_id, value, charged_at, status, Decimal(0), order_number)
        self.charges.append(charge)
        self.updated_at = now
        if status is ChargeStatus.FAILED:
            self.status = SubscriptionStatus.PAST_DUE
            message = "could not be charged; it is past due"
        else:
            if self.pending_change is not None:
                self._apply_pending(now)
            day = charged_at.date()
            due = self.next_order_date or day
            self.last_order_date = day
            assert order_number is not None
            if order_number not in self.order_numbers:
                self.orders.append(ProducedOrder(order_number, day))
            self.next_order_date = self._next_from(max(due, day), inclusive=False)
            self.status = SubscriptionStatus.ACTIVE
            message = f"has been charged {money.format_amount(value, self.currency)}"
        self.events.append(SubscriptionChargeRecorded(
            self.subscription_id, now, charge_id, value, self.currency, status.value, charged_at, order_number,
            self.next_order_date, request_id,
        ))
        return self._decide(SubscriptionOutcome.CHARGE_RECORDED, SubscriptionReasonCode.NONE, message, charge=charge)
