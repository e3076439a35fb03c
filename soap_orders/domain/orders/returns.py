"""Returns: what was delivered may come back within the return window, and a return moves through its statuses."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from .. import money
from ..errors import ValidationError
from ..events import (
    ReturnCreated,
    ReturnUpdated,
)
from .fulfilment import derive_fulfilment
from .model import (
    RETURN_TEXT_LIMITS,
    RETURN_TRANSITIONS,
    Decision,
    OrderLine,
    Origin,
    Outcome,
    Reason,
    ReasonCode,
    RefundLineRequest,
    Return,
    ReturnItem,
    ReturnReason,
    ReturnRefundStatus,
    ReturnStatus,
    ReturnUpdate,
    WarehouseStatus,
)
from .refunds import Refunding


class Returning(Refunding):
    """Create and update returns; a return marked refunded is refunded by the rule of :mod:`.refunds`."""

    def delivered_quantity(self, line: OrderLine) -> int:
        """Items of ``line`` known to have arrived, by the rule of :func:`derive_fulfilment`: what
        DELIVERED parcels carried to it, and its items shipped without a parcel once the line or the
        order says delivered."""
        return derive_fulfilment(self).lines[line.line_number].delivered


    def create_return(
        self,
        wanted: tuple[RefundLineRequest, ...],
        *,
        reason: ReturnReason,
        now: datetime,
        window: timedelta,
        request_id: str,
        return_id: str,
        return_tracking_number: str | None = None,
        carrier_code: str | None = None,
        label_url: str | None = None,
        note: str | None = None,
    ) -> Decision:
        """Open a return (RMA) for delivered items within the return window.

        Per line, open and completed returns together never exceed what was delivered."""
        texts = _return_texts(return_tracking_number, carrier_code, label_url)
        quantities, refusal = self._requested_lines(wanted, "return", "a return")
        if not any(self.delivered_quantity(line) for line in self.lines):
            return self._refuse("get a return", ReasonCode.NOT_DELIVERED, "nothing of it has been delivered yet")
        if refusal is not None:
            return refusal
        if now - self.return_window_start > window:
            return self._refuse(
                "get a return", ReasonCode.OUTSIDE_RETURN_WINDOW,
                f"items can be returned only within {window.days} days of delivery",
            )
        for number, quantity in quantities.items():
            line = self.line(line_number=number)
            assert line is not None
            delivered = self.delivered_quantity(line)
            if delivered == 0:
                return self._refuse("get a return", ReasonCode.NOT_DELIVERED, f"line {number} has not been delivered")
            left = delivered - line.quantity_returned
            if quantity > left:
                return self._refuse(
                    "get a return", ReasonCode.EXCEEDS_RETURNABLE,
                    f"line {number} has only {max(left, 0)} delivered item(s) left to return",
                )
        items = []
        for number, quantity in quantities.items():
            line = self.line(line_number=number)
            assert line is not None
            line.quantity_returned += quantity
            items.append(ReturnItem(line.sku, quantity, number))
        tracking, carrier, label = texts
        status = ReturnStatus.LABEL_CREATED if label else ReturnStatus.REQUESTED
        self.returns.append(
            Return(return_id, status, now, reason.value, tracking, carrier, label, items=items, origin=Origin.SERVICE)
        )
        self.updated_at = now
        self.events.append(
            ReturnCreated(
                self.order_number, now, request_id, return_id, reason.value, note,
                tuple(sorted(quantities.items())), tracking, carrier, label,
            )
        )
        return Decision(
            Outcome.RETURN_CREATED, ReasonCode.NONE,
            f"Return {return_id} was created for order {self.order_number}.", return_id=return_id,
        )

    def update_return(
        self,
        return_id: str,
        status: ReturnUpdate,
        *,
        now: datetime,
        request_id: str,
        refund_id: str,
        note: str | None = None,
    ) -> Decision:
        """Move a return on: received, inspected, refunded (its lines, as a line refund is) or rejected."""
        found = next((r for r in self.returns if r.return_id == return_id), None)
        if found is None:
            return self._refuse(
                "have that return updated", ReasonCode.UNKNOWN_RETURN, "it has no return with that ReturnId"
            )
        if status not in RETURN_TRANSITIONS.get(found.status, frozenset()):
            return Decision(
                Outcome.REJECTED, ReasonCode.INVALID_TRANSITION,
                f"Return {return_id} of order {self.order_number} is {found.status.value} "
                f"and cannot become {status.value}.",
                return_id=return_id,
            )
        old = found.status
        refund = None
        if status is ReturnUpdate.REFUNDED:
            quantities: dict[int, int] = {}
            for item in found.items:
                line = self._return_line(item)
                if line is None:
                    return self._refuse(
                        "have that return refunded", ReasonCode.UNKNOWN_LINE, "an item of the return is not part of it"
                    )
                quantities[line.line_number] = quantities.get(line.line_number, 0) + item.quantity
            decision = self.refund(
                reason=Reason.RETURN, now=now, request_id=request_id, refund_id=refund_id, note=note,
                lines=tuple(RefundLineRequest(q, line_number=n) for n, q in quantities.items()),
            )
            if decision.outcome is not Outcome.REFUNDED:
                return replace(decision, return_id=return_id)
            refund = decision.refund
            assert refund is not None
            found.status, found.refund_id = ReturnStatus.REFUNDED, refund.refund_id
            found.warehouse_status, found.refund_status = WarehouseStatus.ACCEPTED, ReturnRefundStatus.REFUNDED
            found.settled_by = Origin.SERVICE
        elif status is ReturnUpdate.REJECTED:
            for item in found.items:
                line = self._return_line(item)
                if line is not None:
                    line.quantity_returned = max(line.quantity_returned - item.quantity, 0)
            found.status = ReturnStatus.REJECTED
            found.warehouse_status, found.refund_status = WarehouseStatus.REJECTED, ReturnRefundStatus.DECLINED
            found.settled_by = Origin.SERVICE
        elif status is ReturnUpdate.RECEIVED:
            found.status, found.warehouse_status = ReturnStatus.RECEIVED, WarehouseStatus.RECEIVED
        else:
            found.status, found.warehouse_status = ReturnStatus.INSPECTED, WarehouseStatus.ACCEPTED
        self.updated_at = now
        self.events.append(
            ReturnUpdated(
                self.order_number, now, request_id, return_id, old.value, found.status.value, note,
                refund.refund_id if refund else None,
            )
        )
        message = f"Return {return_id} of order {self.order_number} is now {found.status.value}."
        if refund is not None:
            message += f" A refund of {money.format_amount(refund.amount, self.currency)} has been issued."
        return Decision(Outcome.RETURN_UPDATED, ReasonCode.NONE, message, refund, return_id=return_id)


    def _return_line(self, item: ReturnItem) -> OrderLine | None:
        if item.line_number is not None:
            return self.line(line_number=item.line_number)
        return self.line(sku=item.sku)


def _return_texts(
    tracking_number: str | None, carrier_code: str | None, label_url: str | None
) -> tuple[str | None, str | None, str | None]:
    """The caller's return tracking number, carrier code and label URL, stripped and checked."""
    values = []
    given = (("ReturnTrackingNumber", tracking_number), ("CarrierCode", carrier_code), ("LabelUrl", label_url))
    for wire, raw in given:
        value = (raw or "").strip() or None
        if value is not None:
            if len(value) > RETURN_TEXT_LIMITS[wire]:
                raise ValidationError(f"{wire} must be at most {RETURN_TEXT_LIMITS[wire]} characters.", wire)
            if any(ord(ch) < 33 or ord(ch) == 127 for ch in value) and wire != "CarrierCode":
                raise ValidationError(f"{wire} must not contain spaces or control characters.", wire)
            if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
                raise ValidationError(f"{wire} must not contain control characters.", wire)
        values.append(value)
    label = values[2]
    if label is not None and not label.lower().startswith(("https://", "http://")):
        raise ValidationError("LabelUrl must be an http:// or https:// URL.", "LabelUrl")
    return values[0], values[1], values[2]
