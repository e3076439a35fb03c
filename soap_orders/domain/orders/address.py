"""Changing where an order is sent, while nothing has shipped."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from .. import addresses
from ..events import ShippingAddressChanged
from .model import (
    Address,
    Decision,
    OrderState,
    OrderStatus,
    Origin,
    Outcome,
    ReasonCode,
)


class Addressing(OrderState):
    """Change the shipping address."""

    def change_shipping_address(self, address: Address, *, now: datetime, request_id: str) -> Decision:
        """Send the order somewhere else, while nothing has shipped."""
        new = addresses.validated(address)
        if self.status is OrderStatus.CANCELLED:
            return self._refuse("have its address changed", ReasonCode.ALREADY_CANCELLED, "it was cancelled")
        if self.has_shipped:
            return self._refuse("have its address changed", ReasonCode.ALREADY_SHIPPED, "it has already shipped")
        old = self.shipping_address
        self.shipping_address = new
        self.address_origin = Origin.SERVICE
        self.address_changed_at = self.updated_at = now
        self.events.append(
            ShippingAddressChanged(
                self.order_number, now, request_id, None if old is None else asdict(old), asdict(new)
            )
        )
        return Decision(
            Outcome.ADDRESS_CHANGED, ReasonCode.NONE, f"The shipping address of order {self.order_number} was changed."
        )
