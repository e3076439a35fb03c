"""Recording a parcel of an order (the ERP's or the warehouse's word), and what it does to the lines."""

from __future__ import annotations

from datetime import datetime

from ..errors import ValidationError
from ..events import ShipmentRecorded
from .fulfilment import (
    apply_fulfilment,
    derive_fulfilment,
    untracked_shipments,
)
from .model import (
    SHIPMENT_TEXT_LIMITS,
    Decision,
    OrderLine,
    OrderState,
    OrderStatus,
    Outcome,
    ReasonCode,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
)


class Shipping(OrderState):
    """Record shipments."""

    def record_shipment(self, shipment: Shipment, *, now: datetime, request_id: str) -> Decision:
        """Create a shipment, or update the one with the same ShipmentId, as the ERP reports it.

        A new shipment's quantities (an updated one's increase) never exceed what is unshipped on
        the line (bought minus shipped minus cancelled); items of a cancelled line or order cannot
        ship and an unknown SKU is refused. The items of every recorded shipment count as shipped.
        The lines and the order then follow from the parcels by the one rule of
        :func:`derive_fulfilment` (a line SHIPPED when all its items not cancelled have shipped,
        DELIVERED when the parcels carrying them are; the order PARTIALLY_SHIPPED, SHIPPED, DELIVERED).
        Fields left out of an update keep their values, and empty Items keep the items."""
        incoming = _checked_shipment(shipment)
        found = next((s for s in self.shipments if s.shipment_id == incoming.shipment_id), None)
        if found is None and not incoming.items:
            raise ValidationError("A new shipment needs at least one item.", "Items")
        if self.status is OrderStatus.CANCELLED:
            return self._refuse("ship", ReasonCode.ALREADY_CANCELLED, "it was cancelled")
        old_quantities = found.quantities if found is not None else {}
        new_quantities = incoming.quantities if incoming.items else old_quantities
        for sku in sorted(new_quantities):
            lines = [line for line in self.lines if line.sku == sku]
            if not lines:
                return self._refuse("ship", ReasonCode.UNKNOWN_LINE, "one of the items is not part of it")
            more = new_quantities[sku] - old_quantities.get(sku, 0)
            if more <= 0:
                continue
            unshipped = sum(self._unshipped(line) for line in lines)
            if unshipped == 0 and all(line.quantity_cancelled >= line.quantity for line in lines):
                return self._refuse("ship", ReasonCode.LINE_CANCELLED, f"the items of SKU {sku} were cancelled")
            if more > unshipped:
                return self._refuse(
                    "ship", ReasonCode.EXCEEDS_UNSHIPPED,
                    f"SKU {sku} has only {unshipped} item(s) left to ship",
                )
        untracked = untracked_shipments(self)
        old_status = None if found is None else found.status
        if found is None:
            found = incoming
            self.shipments.append(found)
        else:
            for name in ("carrier_name", "carrier_code", "tracking_number", "tracking_url", "shipped_at",
                         "expected_delivery_date", "delivered_at"):
                value = getattr(incoming, name)
                if value is not None:
                    setattr(found, name, value)
            found.status = incoming.status
            if incoming.items:
                found.items = incoming.items
        if found.shipped_at is None and found.has_left:
            found.shipped_at = now
        if found.status is ShipmentStatus.DELIVERED and found.delivered_at is None:
            found.delivered_at = now
        old_order_status = self.status
        apply_fulfilment(self, derive_fulfilment(self, untracked))
        self.updated_at = now
        self.events.append(
            ShipmentRecorded(
                self.order_number, now, request_id, found.shipment_id,
                None if old_status is None else old_status.value, found.status.value,
                tuple(sorted(found.quantities.items())), found.tracking_number, found.carrier_code,
                old_order_status.value, self.status.value,
            )
        )
        verb = "recorded" if old_status is None else "updated"
        return Decision(
            Outcome.SHIPMENT_RECORDED, ReasonCode.NONE,
            f"Shipment {found.shipment_id} of order {self.order_number} was {verb}: it is {found.status.value} "
            f"and the order is {self.status.value}.",
        )

    def _unshipped(self, line: OrderLine) -> int:
        """Items of ``line`` neither shipped nor cancelled."""
        return max(line.quantity - self.shipped_quantity(line) - line.quantity_cancelled, 0)


def _checked_shipment(shipment: Shipment) -> Shipment:
    """The shipment with its texts stripped and checked, and its items by SKU with positive quantities."""
    texts = {}
    for wire, name in (("ShipmentId", "shipment_id"), ("CarrierName", "carrier_name"),
                       ("CarrierCode", "carrier_code"), ("TrackingNumber", "tracking_number"),
                       ("TrackingUrl", "tracking_url")):
        value = (getattr(shipment, name) or "").strip() or None
        if value is not None:
            if len(value) > SHIPMENT_TEXT_LIMITS[wire]:
                raise ValidationError(f"{wire} must be at most {SHIPMENT_TEXT_LIMITS[wire]} characters.", wire)
            if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
                raise ValidationError(f"{wire} must not contain control characters.", wire)
        texts[name] = value
    if texts["shipment_id"] is None:
        raise ValidationError("ShipmentId must not be empty.", "ShipmentId")
    url = texts["tracking_url"]
    if url is not None and not url.lower().startswith(("https://", "http://")):
        raise ValidationError("TrackingUrl must be an http:// or https:// URL.", "TrackingUrl")
    items = []
    for item in shipment.items:
        sku = (item.sku or "").strip()
        if not sku:
            raise ValidationError("Each shipment item needs a Sku.", "Sku")
        if item.quantity < 1:
            raise ValidationError("Shipment item Quantity must be at least 1.", "Quantity")
        items.append(ShipmentItem(sku, item.quantity))
    return Shipment(
        texts["shipment_id"], ShipmentStatus(shipment.status), texts["carrier_name"], texts["carrier_code"],
        texts["tracking_number"], texts["tracking_url"], shipment.shipped_at, shipment.expected_delivery_date,
        shipment.delivered_at, items,
    )
