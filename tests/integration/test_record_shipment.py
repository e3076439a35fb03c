"""RecordShipment over the real store (SQLite file and PostgreSQL): stored, followed by the order's
status, evented, audited, idempotent, and announcing DELAYED/DELIVERED in the same transaction."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from soap_orders.adapters.orm import order_events
from soap_orders.domain.errors import (
    IdempotencyConflict,
    OrderNotFound,
    ValidationError,
)
from soap_orders.domain.orders import (
    LineStatus,
    OrderStatus,
    Outcome,
    ReasonCode,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
)
from soap_orders.service import order_actions as actions
from soap_orders.service.orders import Caller
from tests.records import order_record, store

ERP = Caller("erp-test", "10.1.2.3")
MARCH_10 = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)


def clock() -> datetime:
    return MARCH_10


def parcel(*items: tuple[str, int], status: ShipmentStatus = ShipmentStatus.IN_TRANSIT, **fields) -> Shipment:
    return Shipment(fields.pop("shipment_id", "SH-1"), status, items=[ShipmentItem(s, q) for s, q in items], **fields)


def record(deps, number, request_id, shipment):
    command = actions.RecordShipment(number, request_id, shipment)
    return actions.record_shipment(deps.uow(), command, clock, ERP)


def shipment_events(deps, number):
    with deps.engine.connect() as connection:
        return [row.payload for row in connection.execute(
            select(order_events.c.payload)
            .where(order_events.c.order_number == number, order_events.c.event_type == "ShipmentRecorded")
            .order_by(order_events.c.id))]


def test_a_shipment_is_created_then_delivered_with_events_audit_and_notifications(deps):
    [number] = store(deps, order_record())
    first = record(deps, number, "REQ-S1", parcel(
        ("MUG-RED", 2), carrier_name="DHL", carrier_code="dhl", tracking_number="JD01",
        tracking_url="https://t.example/JD01", expected_delivery_date=date(2026, 3, 12)))
    assert (first.outcome, first.reason_code) == (Outcome.SHIPMENT_RECORDED, ReasonCode.NONE)
    assert first.order.status is OrderStatus.PARTIALLY_SHIPPED
    delivered = record(deps, number, "REQ-S2", parcel(("MUG-RED", 2), ("TEA-001", 1), status=ShipmentStatus.DELIVERED))
    assert delivered.outcome is Outcome.SHIPMENT_RECORDED
    with deps.uow() as uow:
        order = uow.orders.get(number)
        assert order is not None
        assert order.status is OrderStatus.DELIVERED
        assert [line.status for line in order.lines] == [LineStatus.DELIVERED, LineStatus.DELIVERED]
        assert [line.quantity_shipped for line in order.lines] == [2, 1]
        [shipment] = order.shipments
        assert (shipment.tracking_number, shipment.carrier_name, shipment.delivered_at) == ("JD01", "DHL", MARCH_10)
        outbox = uow.outbox.entries(None, 100)
        trail = [(r.operation, r.request_id, r.outcome) for r in uow.audit.for_order(number)]
    assert [(p["old_status"], p["new_status"]) for p in shipment_events(deps, number)] == [
        (None, "IN_TRANSIT"), ("IN_TRANSIT", "DELIVERED")]
    assert [e.event_type for e in outbox if e.order_number == number] == ["delivered"]
    assert trail[-2:] == [("RecordShipment", "REQ-S1", "SHIPMENT_RECORDED/NONE"),
                          ("RecordShipment", "REQ-S2", "SHIPMENT_RECORDED/NONE")]


def test_a_replay_answers_the_first_result_and_changes_nothing(deps):
    [number] = store(deps, order_record())
    first = record(deps, number, "REQ-R", parcel(("TEA-001", 1), status=ShipmentStatus.DELAYED))
    again = record(deps, number, "REQ-R", parcel(("TEA-001", 1), status=ShipmentStatus.DELAYED))
    assert (again.outcome, again.message) == (first.outcome, first.message)
    assert len(shipment_events(deps, number)) == 1
    with deps.uow() as uow:
        assert [e.event_type for e in uow.outbox.entries(None, 100)] == ["shipment_delayed"]
    with pytest.raises(IdempotencyConflict):
        record(deps, number, "REQ-R", parcel(("TEA-001", 1), status=ShipmentStatus.DELIVERED))


@pytest.mark.parametrize(("items", "code"), [
    ((("MUG-RED", 3),), ReasonCode.EXCEEDS_UNSHIPPED),
    ((("NOPE", 1),), ReasonCode.UNKNOWN_LINE),
])
def test_rejections_are_audited_and_store_nothing(deps, items, code):
    [number] = store(deps, order_record())
    result = record(deps, number, "REQ-X", parcel(*items))
    assert (result.outcome, result.reason_code) == (Outcome.REJECTED, code)
    with deps.uow() as uow:
        order = uow.orders.get(number)
        assert order is not None and order.shipments == []
        assert uow.audit.for_order(number)[-1].outcome == f"REJECTED/{code.value}"
    assert shipment_events(deps, number) == []


def test_a_cancelled_order_cannot_ship(deps):
    [number] = store(deps, order_record(Status="CANCELLED", CancelledAt="2026-03-02T10:00:00Z",
                                        CancelReason="CUSTOMER"))
    result = record(deps, number, "REQ-C", parcel(("MUG-RED", 1)))
    assert (result.outcome, result.reason_code) == (Outcome.REJECTED, ReasonCode.ALREADY_CANCELLED)


def test_unknown_order_and_bad_shipment(deps):
    with pytest.raises(OrderNotFound):
        record(deps, "NO-SUCH-ORDER", "REQ-N", parcel(("MUG-RED", 1)))
    [number] = store(deps, order_record())
    with pytest.raises(ValidationError):
        record(deps, number, "REQ-V", parcel(("MUG-RED", 1), tracking_url="javascript:alert(1)"))
    with deps.engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(order_events)
                                   .where(order_events.c.event_type == "ShipmentRecorded")).scalar_one()
    assert count == 0
