"""Acting on lines: cancelling what has not shipped, and issuing replacements."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from decimal import Decimal

from .. import money
from ..errors import ValidationError
from ..events import (
    OrderCancelled,
    OrderLinesCancelled,
    ReplacementIssued,
    ReplacementOrderCreated,
)
from .fulfilment import (
    apply_fulfilment,
    derive_fulfilment,
    untracked_shipments,
)
from .model import (
    CAPTURED_STATUSES,
    Address,
    Customer,
    Decision,
    FinancialStatus,
    LineResult,
    LineStatus,
    OrderLine,
    OrderState,
    OrderStatus,
    OrderType,
    Origin,
    Outcome,
    Reason,
    ReasonCode,
    RefundLineRequest,
    ReplacementReason,
)


class LineActions(OrderState):
    """Cancel lines and issue replacements."""

    def cancel_lines(
        self,
        wanted: tuple[RefundLineRequest, ...],
        *,
        reason: Reason,
        now: datetime,
        request_id: str,
        refund_id: str,
        note: str | None = None,
    ) -> Decision:
        """Cancel quantities of lines not yet shipped; each requested line is cancelled whole or refused.

        What was paid for them is refunded as a line refund is; what was only authorised is released.
        Cancelling the last open item of an order that has not shipped cancels the order, and refunds
        everything still refundable (shipping included)."""
        if not wanted:
            raise ValidationError("Give at least one line to cancel.", "Lines")
        resolved = [(request, self._resolve_line(request, "cancel")) for request in wanted]
        if self.status is OrderStatus.CANCELLED:
            return self._refuse("be cancelled", ReasonCode.ALREADY_CANCELLED, "it was already cancelled")
        results: list[LineResult] = []
        quantities: dict[int, int] = {}
        for request, line in resolved:
            code, why = ReasonCode.NONE, ""
            if line is None:
                code, why = ReasonCode.UNKNOWN_LINE, "is not part of the order"
            else:
                already = quantities.get(line.line_number, 0)
                total = already + request.quantity
                if total <= line.open_quantity:
                    quantities[line.line_number] = total
                elif total <= line.quantity - line.quantity_cancelled:
                    left = line.open_quantity - already
                    code, why = ReasonCode.ALREADY_SHIPPED, f"has only {left} item(s) not shipped"
                elif line.quantity_cancelled == line.quantity:
                    code, why = ReasonCode.ALREADY_CANCELLED, "was already cancelled"
                else:
                    left = max(line.open_quantity - already, 0)
                    code, why = ReasonCode.EXCEEDS_LINE_QUANTITY, f"has only {left} item(s) left to cancel"
            label = f"line {line.line_number}" if line is not None else "the line"
            message = f"Not cancelled: {label} {why}." if why else f"Cancelled {request.quantity} item(s) of {label}."
            results.append(LineResult(request.quantity, request.line_number, request.sku, code, message))
        if not quantities:
            first = next(r for r in results if not r.done)
            return Decision(
                Outcome.REJECTED, first.reason_code,
                f"No line of order {self.order_number} could be cancelled.", lines=tuple(results),
            )
        untracked = untracked_shipments(self)
        for number, quantity in quantities.items():
            line = self.line(line_number=number)
            assert line is not None
            line.quantity_cancelled += quantity
            line.quantity_cancelled_by_service += quantity
            if line.quantity_cancelled == line.quantity:
                line.status = LineStatus.CANCELLED
        closes = all(line.open_quantity == 0 for line in self.lines)
        cancels_order = closes and not self.has_shipped
        refund = None
        released = None
        if self.financial_status in CAPTURED_STATUSES:
            units = {
                n: min(q, self.line(line_number=n).refundable_quantity)  # type: ignore[union-attr]
                for n, q in quantities.items()
            }
            units = {n: q for n, q in units.items() if q > 0}
            amount = self.refundable_amount if cancels_order else self._lines_refund_amount(units)
            if amount > 0:
                refund = self._issue_refund(units, amount, reason, now, request_id, refund_id, note)
        elif self.financial_status in (FinancialStatus.PENDING, FinancialStatus.AUTHORIZED):
            released = self.total if cancels_order else min(self._lines_value(quantities), self.total)
            if cancels_order:
                self.financial_status = FinancialStatus.VOIDED
        if cancels_order:
            self.status = OrderStatus.CANCELLED
            self.cancelled_at = now
            self.cancel_reason = reason
            self.cancel_origin = Origin.SERVICE
        else:
            # What is left open may all have shipped (or arrived): the lines and the order follow.
            apply_fulfilment(self, derive_fulfilment(self, untracked))
        self.updated_at = now
        self.events.append(
            OrderLinesCancelled(
                self.order_number, now, request_id, reason.value, note, tuple(sorted(quantities.items())),
                refund.refund_id if refund else None, released, cancels_order,
            )
        )
        if cancels_order:
            self.events.append(OrderCancelled(self.order_number, now, reason.value, note, request_id, None, None))
        message = f"Items of order {self.order_number} were cancelled."
        if cancels_order:
            message = f"Order {self.order_number} has been cancelled: no item was left to send."
        if refund is not None:
            message += f" A refund of {money.format_amount(refund.amount, self.currency)} has been issued."
        if any(not r.done for r in results):
            message += " Some lines could not be cancelled."
        return Decision(
            Outcome.LINES_CANCELLED, ReasonCode.NONE, message, refund, lines=tuple(results), released_amount=released
        )

    def issue_replacement(
        self,
        wanted: tuple[RefundLineRequest, ...],
        *,
        reason: ReplacementReason,
        now: datetime,
        request_id: str,
        replacement_number: str,
        note: str | None = None,
    ) -> Decision:
        """Send shipped items again in a new order that charges nothing, linked both ways.

        Per line, all replacements together never exceed what was shipped."""
        quantities, refusal = self._requested_lines(wanted, "replacement", "a replacement")
        if not any(self.shipped_quantity(line) for line in self.lines):
            return self._refuse("get a replacement", ReasonCode.NOT_SHIPPED, "nothing of it has shipped yet")
        if refusal is not None:
            return refusal
        for number, quantity in quantities.items():
            line = self.line(line_number=number)
            assert line is not None
            left = self.shipped_quantity(line) - line.quantity_replaced
            if quantity > left:
                return self._refuse(
                    "get a replacement", ReasonCode.EXCEEDS_REPLACEABLE,
                    f"line {number} has only {max(left, 0)} shipped item(s) left to replace",
                )
        zero = money.quantize(Decimal(0), self.currency)
        new_lines = []
        for position, (number, quantity) in enumerate(quantities.items(), 1):
            line = self.line(line_number=number)
            assert line is not None
            line.quantity_replaced += quantity
            new_lines.append(OrderLine(position, line.sku, line.name, quantity, zero, line.image_url))
        address = self.shipping_address
        # The class this one is part of, imported here: a replacement is a whole order.
        from . import Order

        replacement = Order(
            order_number=replacement_number,
            customer=Customer(**asdict(self.customer)),
            currency=self.currency,
            created_at=now,
            subtotal=zero,
            total=zero,
            shipping_total=zero,
            tax_total=zero,
            discount_total=zero,
            order_type=OrderType.REPLACEMENT,
            channel=self.channel,
            status=OrderStatus.PENDING,
            financial_status=FinancialStatus.PAID,
            shipping_address=None if address is None else Address(**asdict(address)),
            updated_at=now,
            lines=new_lines,
            replaces_order_number=self.order_number,
        )
        replacement.events.append(
            ReplacementOrderCreated(replacement_number, now, request_id, self.order_number, reason.value)
        )
        self.replacement_order_numbers = [*self.replacement_order_numbers, replacement_number]
        self.updated_at = now
        self.events.append(
            ReplacementIssued(
                self.order_number, now, request_id, replacement_number, reason.value, note,
                tuple(sorted(quantities.items())),
            )
        )
        return Decision(
            Outcome.REPLACEMENT_ISSUED, ReasonCode.NONE,
            f"Replacement order {replacement_number} was created for order {self.order_number}.",
            replacement=replacement,
        )
