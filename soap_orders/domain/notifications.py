"""Proactive notifications: which changes of an order the consumer's flows hear about, and what
each one says.

``flow_events(before, after)`` compares an order as it was (the order itself, or what
``notified(order)`` kept of it before the change: far cheaper than a copy) with the same order after
a change and yields one ``FlowEvent`` per thing a customer should be told about: a shipment that became DELAYED
or DELIVERED, a line the ERP reported out of stock, a return whose status moved. Each event has an
``external_id`` derived from what happened (order, subject, event type, new state and the time of
the change), so the same change always gives the same id and a later change of the same shipment a
different one. ``FlowEvent.content()`` is what is queued: the request body of the Flow Execution
API without the flow's id, which the relay adds when it sends (``addressed``), so that what is
queued never depends on where the flow ids are configured.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from typing import Any, TypeVar

from .errors import ValidationError
from .orders import Order, OrderLine, Return, Shipment, ShipmentStatus


class FlowEventType(str, enum.Enum):
    """The four use cases of the consumer's Flow Execution API, one flow each."""

    SHIPMENT_DELAYED = "shipment_delayed"
    ITEM_OUT_OF_STOCK = "item_out_of_stock"
    DELIVERED = "delivered"
    RETURN_UPDATED = "return_updated"


@dataclass(frozen=True)
class FlowEvent:
    """One notification for one flow; ``extra`` goes into ``inputs`` beside ``shipment_data``."""

    event_type: FlowEventType
    order_number: str
    external_id: str
    shipment_data: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)

    def content(self) -> dict[str, Any]:
        """The JSON body without its flow: ``external_id`` and ``inputs`` (what the outbox keeps)."""
        inputs: dict[str, Any] = {
            "external_id": self.external_id,
            "shipment_data": json.loads(json.dumps(self.shipment_data)),
        }
        inputs.update(self.extra)
        return {"external_id": self.external_id, "inputs": inputs}

    def body(self, flow_id: str) -> dict[str, Any]:
        """The JSON body for the flow ``flow_id``, as the Flow Execution API documents it."""
        return addressed(self.content(), flow_id)


def addressed(content: dict[str, Any], flow_id: str) -> dict[str, Any]:
    """The body that posts ``content`` (``FlowEvent.content()``, as queued) to the flow ``flow_id``:
    ``action_id`` first, then the content. An ``action_id`` already in the content (rows queued by
    an earlier release carried one) gives way to ``flow_id``: the flow is the sender's to name."""
    return {"action_id": flow_id, **{key: value for key, value in content.items() if key != "action_id"}}


@dataclass(frozen=True)
class Notified:
    """What notifications compare of an order: each shipment's status, each line's SKU and
    out-of-stock flag, each return's state. Taken before a change, in place of a copy of the order."""

    shipments: Mapping[str, ShipmentStatus]
    lines: Mapping[int, tuple[str, bool]]
    returns: Mapping[str, tuple[str, str, str]]


def notified(order: Order) -> Notified:
    """What ``flow_events`` needs to know of ``order`` as it is now, to compare after a change:
    ``before = notified(order); order.record_...; flow_events(before, order)``."""
    return Notified(
        {s.shipment_id: s.status for s in order.shipments},
        {line.line_number: (line.sku, line.out_of_stock) for line in order.lines},
        {r.return_id: _return_state(r) for r in order.returns},
    )


def flow_events(before: Order | Notified, after: Order) -> list[FlowEvent]:
    """The notifications that the change from ``before`` to ``after`` (one order) calls for.

    A shipment, line or return that is new in ``after`` counts as changed from nothing. Events come
    in a stable order: shipments, then lines, then returns, each in the order of ``after``."""
    return list(_events(before if isinstance(before, Notified) else notified(before), after))


def _events(before: Notified, after: Order) -> Iterator[FlowEvent]:
    for shipment in after.shipments:
        old_status = before.shipments.get(shipment.shipment_id)
        for status, kind in ((ShipmentStatus.DELAYED, FlowEventType.SHIPMENT_DELAYED),
                             (ShipmentStatus.DELIVERED, FlowEventType.DELIVERED)):
            if shipment.status is status and old_status is not status:
                yield _shipment_event(kind, after, shipment)
    for line in after.lines:
        old_line = before.lines.get(line.line_number)
        if line.out_of_stock and (old_line is None or not old_line[1] or old_line[0] != line.sku):
            yield _out_of_stock_event(after, line)
    for ret in after.returns:
        if before.returns.get(ret.return_id) != _return_state(ret):
            yield _return_event(after, ret)


def _shipment_event(kind: FlowEventType, order: Order, shipment: Shipment) -> FlowEvent:
    extra: dict[str, Any] = {"event_type": kind.value, "status": shipment.status.value}
    if shipment.expected_delivery_date is not None:
        extra["expected_delivery_date"] = shipment.expected_delivery_date.isoformat()
    if shipment.delivered_at is not None:
        extra["delivered_at"] = _timestamp(shipment.delivered_at)
    state = [shipment.status.value, extra.get("expected_delivery_date"), extra.get("delivered_at")]
    return FlowEvent(
        kind,
        order.order_number,
        external_id(order, kind, shipment.shipment_id, state),
        _shipment_data(order.order_number, shipment.shipment_id, shipment.tracking_number, shipment.carrier_code,
                       [(item.sku, item.quantity) for item in shipment.items]),
        extra,
    )


def _out_of_stock_event(order: Order, line: OrderLine) -> FlowEvent:
    kind = FlowEventType.ITEM_OUT_OF_STOCK
    # The parcel the item was meant to travel in, when the ERP has already planned one.
    parcel = next((s for s in order.shipments if any(item.sku == line.sku for item in s.items)), None)
    extra: dict[str, Any] = {
        "event_type": kind.value, "status": "OUT_OF_STOCK", "line_number": line.line_number, "name": line.name,
    }
    if order.expected_delivery_date is not None:
        extra["expected_delivery_date"] = order.expected_delivery_date.isoformat()
    return FlowEvent(
        kind,
        order.order_number,
        external_id(order, kind, f"line:{line.line_number}", [line.sku]),
        _shipment_data(order.order_number, parcel.shipment_id if parcel else None,
                       parcel.tracking_number if parcel else None, parcel.carrier_code if parcel else None,
                       [(line.sku, line.quantity)]),
        extra,
    )


def _return_event(order: Order, ret: Return) -> FlowEvent:
    kind = FlowEventType.RETURN_UPDATED
    status, warehouse, refund = _return_state(ret)
    extra: dict[str, Any] = {
        "event_type": kind.value, "return_id": ret.return_id, "status": status,
        "warehouse_status": warehouse, "refund_status": refund,
    }
    return FlowEvent(
        kind,
        order.order_number,
        external_id(order, kind, f"return:{ret.return_id}", [status, warehouse, refund]),
        # The return parcel is the shipment here: its id, tracking number, carrier and items.
        _shipment_data(order.order_number, ret.return_id, ret.return_tracking_number, ret.carrier_code,
                       [(item.sku, item.quantity) for item in ret.items]),
        extra,
    )


def _return_state(ret: Return) -> tuple[str, str, str]:
    return ret.status.value, ret.warehouse_status.value, ret.refund_status.value


def _shipment_data(order_id: str, shipment_id: str | None, tracking_number: str | None, carrier_code: str | None,
                   items: list[tuple[str, int]]) -> dict[str, Any]:
    """The ``shipment_data`` object: every documented field present; unknown text is empty."""
    return {
        "order_id": order_id,
        "shipment_id": shipment_id or "",
        "tracking_number": tracking_number or "",
        "carrier_code": carrier_code or "",
        "items": [{"sku": sku, "quantity": quantity} for sku, quantity in items],
    }


def external_id(order: Order, kind: FlowEventType, subject: str, state: list[Any]) -> str:
    """``<event type>-<32 hex digits>``: a digest of the order, the subject (shipment, line or
    return), the event type, its new state and the time of the change (the order's ``updated_at``)."""
    changed_at = _timestamp(order.updated_at) if order.updated_at is not None else None
    material = json.dumps([order.order_number, subject, kind.value, state, changed_at], separators=(",", ":"))
    return f"{kind.value}-{hashlib.sha256(material.encode()).hexdigest()[:32]}"


def _timestamp(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


T = TypeVar("T")


def snapshot(order: T) -> T:
    """A detached copy of an order (or any of its parts) as plain dataclasses, to compare with
    after an in-place change: ``before = snapshot(order); order.record_...; flow_events(before, order)``."""
    return _copy(order)


def _copy(value: Any) -> Any:
    if isinstance(value, list):
        return [_copy(item) for item in value]
    if is_dataclass(value) and not isinstance(value, type):
        kind = type(value)
        return kind(**{f.name: _copy(getattr(value, f.name)) for f in fields(value) if f.init})
    return value  # strings, numbers, enumerations, dates: immutable, shared


def sample_event(order: Order, kind: FlowEventType, sent_at: datetime) -> FlowEvent:
    """An event of type ``kind`` about ``order`` as it stands, to check a flow end to end: built
    from its first shipment (or line, or return), marked ``"test": true`` in its inputs, with an
    external id of its own (``test-...``, different at every ``sent_at``)."""
    if kind in (FlowEventType.SHIPMENT_DELAYED, FlowEventType.DELIVERED):
        if not order.shipments:
            raise ValidationError("The order has no shipment to build this test event from.", "Order")
        event = _shipment_event(kind, order, order.shipments[0])
    elif kind is FlowEventType.ITEM_OUT_OF_STOCK:
        if not order.lines:
            raise ValidationError("The order has no line to build this test event from.", "Order")
        event = _out_of_stock_event(order, order.lines[0])
    else:
        if not order.returns:
            raise ValidationError("The order has no return to build this test event from.", "Order")
        event = _return_event(order, order.returns[0])
    material = f"{event.external_id}|{_timestamp(sent_at)}"
    test_id = f"test-{kind.value}-{hashlib.sha256(material.encode()).hexdigest()[:24]}"
    return FlowEvent(kind, order.order_number, test_id, event.shipment_data, {**event.extra, "test": True})
