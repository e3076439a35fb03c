"""Cancelling a whole order while nothing has shipped."""

from __future__ import annotations

from datetime import datetime

from .. import money
from ..events import OrderCancelled
from .model import (
    Decision,
    FinancialStatus,
    LineStatus,
    OrderState,
    OrderStatus,
    Origin,
    Outcome,
    Reason,
    ReasonCode,
)


class Cancelling(OrderState):
    """Cancel the order: refund what was paid, void what was not."""

    def cancel(
        self, *, reason: Reason, now: datetime, request_id: str, refund_id: str, note: str | None = None
    ) -> Decision:
        """Cancel the order while nothing has shipped; refund what was paid, void what was not."""
        if self.status is OrderStatus.CANCELLED:
            return Decision(
                Outcome.ALREADY_CANCELLED,
                ReasonCode.ALREADY_CANCELLED,
                f"Order {self.order_number} was already cancelled.",
            )
        if self.has_shipped:
            return Decision(
                Outcome.REJECTED,
                ReasonCode.ALREADY_SHIPPED,
                f"Order {self.order_number} can no longer be cancelled because it has shipped.",
            )
        refund = None
        refundable = self.refundable_amount
        if refundable > 0:
            refund = self._add_refund(refund_id, refundable, reason, now, note)
        elif self.financial_status in (FinancialStatus.PENDING, FinancialStatus.AUTHORIZED):
            self.financial_status = FinancialStatus.VOIDED
        self.status = OrderStatus.CANCELLED
        for line in self.lines:
            line.status = LineStatus.CANCELLED
            line.quantity_cancelled = line.quantity - line.quantity_shipped
            line.quantity_cancelled_by_service = line.quantity_cancelled
        self.cancelled_at = self.updated_at = now
        self.cancel_reason = reason
        self.cancel_origin = Origin.SERVICE
        self.events.append(
            OrderCancelled(
                self.order_number, now, reason.value, note, request_id,
                refund.refund_id if refund else None, refund.amount if refund else None,
            )
        )
        message = f"Order {self.order_number} has been cancelled."
        if refund is not None:
            message += f" A refund of {money.format_amount(refund.amount, self.currency)} has been issued."
        return Decision(Outcome.CANCELLED, ReasonCode.NONE, message, refund)
