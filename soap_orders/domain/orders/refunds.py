"""Refunding an amount, some lines, or the whole refundable balance of an order."""

from __future__ import annotations

from datetime import datetime

from .. import money
from ..errors import ValidationError
from .model import (
    CAPTURED_STATUSES,
    Decision,
    OrderState,
    Outcome,
    Reason,
    ReasonCode,
    RefundLineRequest,
)


class Refunding(OrderState):
    """Refund what was paid."""

    def refund(
        self,
        *,
        reason: Reason,
        now: datetime,
        request_id: str,
        refund_id: str,
        amount: object | None = None,
        lines: tuple[RefundLineRequest, ...] = (),
        note: str | None = None,
    ) -> Decision:
        """Refund an amount, some lines, or (given neither) the whole refundable balance."""
        if amount is not None and lines:
            raise ValidationError("Give either Amount or Lines, not both.", "Amount")
        requested = None if amount is None else money.positive_amount(amount, self.currency)
        if self.financial_status not in CAPTURED_STATUSES:
            return self._reject(ReasonCode.NOT_PAID, "nothing has been charged for it yet")
        refundable = self.refundable_amount
        if refundable <= 0:
            return self._reject(ReasonCode.NOTHING_REFUNDABLE, "it has already been refunded in full")
        line_quantities: dict[int, int] = {}
        if lines:
            for wanted in lines:
                line = self._resolve_line(wanted)
                if line is None:
                    return self._reject(ReasonCode.UNKNOWN_LINE, "one of the items is not part of it")
                line_quantities[line.line_number] = line_quantities.get(line.line_number, 0) + wanted.quantity
            for number, quantity in line_quantities.items():
                line = self.line(line_number=number)
                assert line is not None
                if quantity > line.refundable_quantity:
                    return self._reject(
                        ReasonCode.EXCEEDS_LINE_QUANTITY,
                        f"line {number} has only {line.refundable_quantity} item(s) left to refund",
                    )
            requested = self._lines_refund_amount(line_quantities)
            if requested <= 0:
                return self._reject(ReasonCode.NOTHING_REFUNDABLE, "those items were free of charge")
        elif requested is None:
            requested = refundable
        if requested > refundable:
            return self._reject(
                ReasonCode.EXCEEDS_REFUNDABLE,
                f"at most {money.format_amount(refundable, self.currency)} can be refunded",
            )
        refund = self._issue_refund(line_quantities, requested, reason, now, request_id, refund_id, note)
        return Decision(
            Outcome.REFUNDED,
            ReasonCode.NONE,
            f"A refund of {money.format_amount(refund.amount, self.currency)} has been issued "
            f"for order {self.order_number}.",
            refund,
        )
