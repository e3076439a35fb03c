"""flow_events: which changes of an order become notifications, with what body and external id."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from soap_orders.domain.errors import ValidationError
from soap_orders.domain.notifications import (
    FlowEventType,
    flow_events,
    sample_event,
    snapshot,
)
from soap_orders.domain.orders import (
    Return,
    ReturnItem,
    ReturnRefundStatus,
    ReturnStatus,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
    WarehouseStatus,
)
from tests.unit.factories import NOW, make_order, mark_shipped

LATER = NOW + timedelta(days=1)


def shipped_order():  # type: ignore[no-untyped-def]
    order = mark_shipped(make_order(updated_at=NOW))
    order.shipments[0].expected_delivery_date = date(2026, 1, 15)
    return order


def changed(order, **fields):  # type: ignore[no-untyped-def]
    """A later version of ``order`` (a detached copy) with ``fields`` set and a new updated_at."""
    after = snapshot(order)
    after.updated_at = fields.pop("updated_at", LATER)
    for name, value in fields.items():
        setattr(after, name, value)
    return after


def test_a_shipment_becoming_delayed_is_one_event_with_the_documented_body() -> None:
    before = shipped_order()
    after = changed(before)
    after.shipments[0].status = ShipmentStatus.DELAYED
    after.shipments[0].expected_delivery_date = date(2026, 1, 18)

    [event] = flow_events(before, after)

    assert event.event_type is FlowEventType.SHIPMENT_DELAYED
    assert event.order_number == "ORD-1001"
    body = event.body("flow-delay-1")
    assert body == {
        "action_id": "flow-delay-1",
        "external_id": event.external_id,
        "inputs": {
            "external_id": event.external_id,
            "shipment_data": {
                "order_id": "ORD-1001",
                "shipment_id": "SH-1",
                "tracking_number": "00340434",
                "carrier_code": "DHL",
                "items": [{"sku": "SKU-A", "quantity": 2}, {"sku": "SKU-B", "quantity": 1}],
            },
            "event_type": "shipment_delayed",
            "status": "DELAYED",
            "expected_delivery_date": "2026-01-18",
        },
    }
    assert event.external_id.startswith("shipment_delayed-")
    assert len(event.external_id) == len("shipment_delayed-") + 32


def test_the_same_change_always_has_the_same_external_id() -> None:
    before = shipped_order()
    after = changed(before)
    after.shipments[0].status = ShipmentStatus.DELAYED

    first = flow_events(before, after)
    again = flow_events(snapshot(before), snapshot(after))

    assert [e.external_id for e in first] == [e.external_id for e in again]
    assert [e.body("f") for e in first] == [e.body("f") for e in again]


def test_a_later_delay_of_the_same_shipment_has_another_external_id() -> None:
    before = shipped_order()
    delayed = changed(before)
    delayed.shipments[0].status = ShipmentStatus.DELAYED
    moving = changed(delayed, updated_at=LATER + timedelta(days=1))
    moving.shipments[0].status = ShipmentStatus.IN_TRANSIT
    delayed_again = changed(moving, updated_at=LATER + timedelta(days=2))
    delayed_again.shipments[0].status = ShipmentStatus.DELAYED

    [first] = flow_events(before, delayed)
    assert flow_events(delayed, moving) == []
    [second] = flow_events(moving, delayed_again)

    assert first.external_id != second.external_id
    assert first.event_type is second.event_type is FlowEventType.SHIPMENT_DELAYED


def test_staying_delayed_or_delivered_is_not_a_new_event() -> None:
    before = shipped_order()
    before.shipments[0].status = ShipmentStatus.DELAYED
    after = changed(before)
    after.shipments[0].expected_delivery_date = date(2026, 1, 20)

    assert flow_events(before, after) == []
    before.shipments[0].status = after.shipments[0].status = ShipmentStatus.DELIVERED
    assert flow_events(before, after) == []


def test_a_delivered_shipment_carries_its_delivery_time() -> None:
    before = shipped_order()
    after = changed(before)
    after.shipments[0].status = ShipmentStatus.DELIVERED
    after.shipments[0].delivered_at = datetime(2026, 1, 14, 11, 5, tzinfo=timezone.utc)

    [event] = flow_events(before, after)

    assert event.event_type is FlowEventType.DELIVERED
    inputs = event.body("flow-d")["inputs"]
    assert inputs["status"] == "DELIVERED"
    assert inputs["delivered_at"] == "2026-01-14T11:05:00Z"
    assert inputs["shipment_data"]["shipment_id"] == "SH-1"


def test_a_new_shipment_that_is_already_delivered_counts() -> None:
    before = make_order(updated_at=NOW)
    after = changed(mark_shipped(snapshot(before)))
    after.shipments[0].status = ShipmentStatus.DELIVERED

    assert [e.event_type for e in flow_events(before, after)] == [FlowEventType.DELIVERED]


def test_missing_tracking_details_are_empty_strings_not_absent() -> None:
    before = shipped_order()
    before.shipments[0].tracking_number = None
    before.shipments[0].carrier_code = None
    after = changed(before)
    after.shipments[0].status = ShipmentStatus.DELAYED

    data = flow_events(before, after)[0].body("f")["inputs"]["shipment_data"]

    assert data["tracking_number"] == "" and data["carrier_code"] == ""


def test_a_line_reported_out_of_stock_is_an_event_once() -> None:
    before = make_order(updated_at=NOW)
    after = changed(before)
    after.lines[1].out_of_stock = True

    [event] = flow_events(before, after)

    assert event.event_type is FlowEventType.ITEM_OUT_OF_STOCK
    inputs = event.body("flow-oos")["inputs"]
    assert inputs["shipment_data"] == {
        "order_id": "ORD-1001", "shipment_id": "", "tracking_number": "", "carrier_code": "",
        "items": [{"sku": "SKU-B", "quantity": 1}],
    }
    assert inputs["line_number"] == 2 and inputs["status"] == "OUT_OF_STOCK"
    assert flow_events(after, changed(after, updated_at=LATER + timedelta(hours=1))) == []


def test_an_out_of_stock_item_names_the_parcel_it_was_planned_in() -> None:
    before = shipped_order()
    after = changed(before)
    after.lines[0].out_of_stock = True

    data = flow_events(before, after)[0].body("f")["inputs"]["shipment_data"]

    assert (data["shipment_id"], data["tracking_number"], data["carrier_code"]) == ("SH-1", "00340434", "DHL")
    assert data["items"] == [{"sku": "SKU-A", "quantity": 2}]


def test_a_return_whose_status_moves_is_an_event_with_its_id() -> None:
    before = shipped_order()
    before.returns.append(Return("RMA-1", ReturnStatus.IN_TRANSIT, NOW, return_tracking_number="RT-9",
                                 carrier_code="ups", items=[ReturnItem("SKU-A", 1)]))
    after = changed(before)
    after.returns[0].status = ReturnStatus.RECEIVED
    after.returns[0].warehouse_status = WarehouseStatus.INSPECTING

    [event] = flow_events(before, after)

    assert event.event_type is FlowEventType.RETURN_UPDATED
    inputs = event.body("flow-r")["inputs"]
    assert inputs["return_id"] == "RMA-1"
    assert (inputs["status"], inputs["warehouse_status"], inputs["refund_status"]) == (
        "RECEIVED", "INSPECTING", "NOT_STARTED")
    assert inputs["shipment_data"] == {
        "order_id": "ORD-1001", "shipment_id": "RMA-1", "tracking_number": "RT-9", "carrier_code": "ups",
        "items": [{"sku": "SKU-A", "quantity": 1}],
    }


def test_a_new_return_and_a_refund_status_change_are_events() -> None:
    before = shipped_order()
    after = changed(before)
    after.returns.append(Return("RMA-2", ReturnStatus.REQUESTED, LATER))
    [created] = flow_events(before, after)
    later = changed(after, updated_at=LATER + timedelta(days=3))
    later.returns[0].refund_status = ReturnRefundStatus.REFUNDED
    [refunded] = flow_events(after, later)

    assert created.event_type is refunded.event_type is FlowEventType.RETURN_UPDATED
    assert created.external_id != refunded.external_id
    assert refunded.extra["refund_status"] == "REFUNDED"


def test_unrelated_changes_are_no_events() -> None:
    before = shipped_order()
    after = changed(before)
    after.shipments[0].status = ShipmentStatus.OUT_FOR_DELIVERY
    after.shipments[0].tracking_number = "NEW-TRACK"
    after.lines[0].quantity_refunded = 1

    assert flow_events(before, after) == []


def test_several_changes_come_in_a_stable_order() -> None:
    before = shipped_order()
    before.shipments.append(snapshot(before.shipments[0]))
    before.shipments[1].shipment_id = "SH-2"
    before.returns.append(Return("RMA-1", ReturnStatus.REQUESTED, NOW))
    after = changed(before)
    after.returns[0].status = ReturnStatus.LABEL_CREATED
    after.lines[0].out_of_stock = True
    after.shipments[1].status = ShipmentStatus.DELIVERED
    after.shipments[0].status = ShipmentStatus.DELAYED

    kinds = [e.event_type for e in flow_events(before, after)]

    assert kinds == [FlowEventType.SHIPMENT_DELAYED, FlowEventType.DELIVERED, FlowEventType.ITEM_OUT_OF_STOCK,
                     FlowEventType.RETURN_UPDATED]
    assert len({e.external_id for e in flow_events(before, after)}) == 4


def test_snapshot_is_detached_from_later_changes() -> None:
    order = shipped_order()
    before = snapshot(order)

    order.shipments[0].status = ShipmentStatus.DELAYED
    order.lines[0].out_of_stock = True

    assert before.shipments[0].status is ShipmentStatus.IN_TRANSIT
    assert before.lines[0].out_of_stock is False
    assert [e.event_type for e in flow_events(before, order)] == [
        FlowEventType.SHIPMENT_DELAYED, FlowEventType.ITEM_OUT_OF_STOCK]


def test_the_body_is_a_copy_that_callers_cannot_corrupt() -> None:
    before = shipped_order()
    after = changed(before)
    after.shipments[0].status = ShipmentStatus.DELAYED
    [event] = flow_events(before, after)

    event.body("f")["inputs"]["shipment_data"]["items"].clear()

    assert len(event.body("f")["inputs"]["shipment_data"]["items"]) == 2


def test_the_out_of_stock_flag_is_read_from_records_and_written_only_when_set() -> None:
    import pytest

    from soap_orders.documents.records import (
        RecordError,
        order_from_record,
        order_to_record,
    )
    from tests.records import order_record

    record = order_record("OOS-1")
    record["Lines"][1]["OutOfStock"] = True
    order = order_from_record(record)
    assert [line.out_of_stock for line in order.lines] == [False, True]
    dumped = order_to_record(order)
    assert "OutOfStock" not in dumped["Lines"][0] and dumped["Lines"][1]["OutOfStock"] is True
    record["Lines"][1]["OutOfStock"] = "maybe"
    with pytest.raises(RecordError) as raised:
        order_from_record(record)
    assert raised.value.message == "Lines[2].OutOfStock: must be true or false"


# ---------------------------------------------------------------------- sample events (`notifications test`)


def _with_return(order):  # type: ignore[no-untyped-def]
    order.returns.append(Return("RMA-1", ReturnStatus.RECEIVED, NOW, "Too small", items=[ReturnItem("SKU-A", 1)],
                                warehouse_status=WarehouseStatus.RECEIVED))
    return order


@pytest.mark.parametrize("kind", list(FlowEventType))
def test_a_sample_event_is_the_real_event_marked_as_a_test_with_an_id_of_its_own(kind: FlowEventType) -> None:
    before = shipped_order()
    after = changed(before)
    if kind is FlowEventType.SHIPMENT_DELAYED:
        after.shipments[0].status = ShipmentStatus.DELAYED
    elif kind is FlowEventType.DELIVERED:
        after.shipments[0].status, after.shipments[0].delivered_at = ShipmentStatus.DELIVERED, LATER
    elif kind is FlowEventType.ITEM_OUT_OF_STOCK:
        after.lines[0].out_of_stock = True
    else:
        _with_return(after)
    [real] = flow_events(before, after)

    sample = sample_event(after, kind, NOW)

    assert (sample.event_type, sample.order_number) == (kind, "ORD-1001") == (real.event_type, real.order_number)
    assert sample.shipment_data == real.shipment_data
    assert sample.extra == {**real.extra, "test": True}
    prefix = f"test-{kind.value}-"
    assert sample.external_id.startswith(prefix) and len(sample.external_id) == len(prefix) + 24
    assert sample.external_id != real.external_id
    assert sample_event(after, kind, NOW).external_id == sample.external_id
    assert sample_event(after, kind, LATER).external_id != sample.external_id
    body = sample.body("flow-1")
    assert body["action_id"] == "flow-1" and body["inputs"]["test"] is True
    assert body["external_id"] == body["inputs"]["external_id"] == sample.external_id


@pytest.mark.parametrize(("kind", "emptied"), [
    (FlowEventType.SHIPMENT_DELAYED, "shipments"), (FlowEventType.DELIVERED, "shipments"),
    (FlowEventType.ITEM_OUT_OF_STOCK, "lines"), (FlowEventType.RETURN_UPDATED, "returns"),
])
def test_a_sample_event_needs_what_it_is_built_from(kind: FlowEventType, emptied: str) -> None:
    order = _with_return(shipped_order())
    setattr(order, emptied, [])
    with pytest.raises(ValidationError) as caught:
        sample_event(order, kind, NOW)
    assert caught.value.field == "Order" and emptied[:-1] in caught.value.message


# ---------------------------------------------------------------------- what each body says, and ids that never collide


def test_an_out_of_stock_line_is_told_with_the_documented_body() -> None:
    before = make_order(updated_at=NOW, expected_delivery_date=date(2026, 1, 16))
    after = changed(before)
    after.lines[1].out_of_stock = True

    [event] = flow_events(before, after)

    assert event.body("flow-oos") == {
        "action_id": "flow-oos",
        "external_id": event.external_id,
        "inputs": {
            "external_id": event.external_id,
            "shipment_data": {"order_id": "ORD-1001", "shipment_id": "", "tracking_number": "", "carrier_code": "",
                              "items": [{"sku": "SKU-B", "quantity": 1}]},
            "event_type": "item_out_of_stock",
            "status": "OUT_OF_STOCK",
            "line_number": 2,
            "name": "Item 2",
            "expected_delivery_date": "2026-01-16",
        },
    }
    assert event.external_id.startswith("item_out_of_stock-")
    assert len(event.external_id) == len("item_out_of_stock-") + 32


def test_a_return_update_is_told_with_the_documented_body() -> None:
    before = shipped_order()
    after = changed(before)
    after.returns.append(Return("RMA-1", ReturnStatus.RECEIVED, NOW, return_tracking_number="RT-9", carrier_code="ups",
                                items=[ReturnItem("SKU-A", 1)], warehouse_status=WarehouseStatus.INSPECTING))

    [event] = flow_events(before, after)

    assert event.body("flow-r")["inputs"] == {
        "external_id": event.external_id,
        "shipment_data": {"order_id": "ORD-1001", "shipment_id": "RMA-1", "tracking_number": "RT-9",
                          "carrier_code": "ups", "items": [{"sku": "SKU-A", "quantity": 1}]},
        "event_type": "return_updated",
        "return_id": "RMA-1",
        "status": "RECEIVED",
        "warehouse_status": "INSPECTING",
        "refund_status": "NOT_STARTED",
    }


def test_an_out_of_stock_item_names_the_parcel_that_holds_its_sku_not_the_first_one() -> None:
    before = make_order(updated_at=NOW)
    before.shipments = [Shipment("SH-1", ShipmentStatus.LABEL_CREATED, tracking_number="T-1", items=[ShipmentItem("SKU-B", 1)]),
                        Shipment("SH-2", ShipmentStatus.LABEL_CREATED, tracking_number="T-2", items=[ShipmentItem("SKU-A", 2)])]
    after = changed(before)
    after.lines[0].out_of_stock = True

    [event] = flow_events(before, after)

    data = event.body("f")["inputs"]["shipment_data"]
    assert (data["shipment_id"], data["tracking_number"]) == ("SH-2", "T-2")
    assert data["items"] == [{"sku": "SKU-A", "quantity": 2}]


def test_an_unchanged_return_is_not_told_again_when_something_else_changes() -> None:
    before = _with_return(shipped_order())
    after = changed(before)
    after.shipments[0].status = ShipmentStatus.DELAYED

    assert [e.event_type for e in flow_events(before, after)] == [FlowEventType.SHIPMENT_DELAYED]


def test_things_told_in_one_change_never_share_an_external_id() -> None:
    # The flow drops an event whose external id it has seen: two parcels, two returns, two lines of
    # the same SKU changing at once are each told.
    before = shipped_order()
    before.shipments.append(snapshot(before.shipments[0]))
    before.shipments[1].shipment_id = "SH-2"
    before.lines[1].sku = "SKU-A"
    for return_id in ("RMA-1", "RMA-2"):
        before.returns.append(Return(return_id, ReturnStatus.REQUESTED, NOW, items=[ReturnItem("SKU-A", 1)]))
    after = changed(before)
    for shipment in after.shipments:
        shipment.status = ShipmentStatus.DELAYED
    for line in after.lines:
        line.out_of_stock = True
    for ret in after.returns:
        ret.status = ReturnStatus.LABEL_CREATED

    events = flow_events(before, after)

    assert [e.event_type for e in events] == [FlowEventType.SHIPMENT_DELAYED] * 2 + [
        FlowEventType.ITEM_OUT_OF_STOCK] * 2 + [FlowEventType.RETURN_UPDATED] * 2
    assert len({e.external_id for e in events}) == 6


def _told(before, after):  # type: ignore[no-untyped-def]
    [event] = flow_events(before, after)
    return event.external_id


def test_a_new_state_is_a_new_external_id_even_when_the_erp_keeps_the_same_updated_at() -> None:
    # UpdatedAt is the ERP's; one that never moves it must not make a second delay look like the first.
    order = shipped_order()
    same = {"updated_at": NOW}

    delayed = changed(order, **same)
    delayed.shipments[0].status, delayed.shipments[0].expected_delivery_date = ShipmentStatus.DELAYED, date(2026, 1, 18)
    moving = changed(delayed, **same)
    moving.shipments[0].status = ShipmentStatus.IN_TRANSIT
    delayed_again = changed(moving, **same)
    delayed_again.shipments[0].status = ShipmentStatus.DELAYED
    delayed_again.shipments[0].expected_delivery_date = date(2026, 1, 25)
    assert _told(order, delayed) != _told(moving, delayed_again)

    delivered = changed(order, **same)
    delivered.shipments[0].status, delivered.shipments[0].delivered_at = ShipmentStatus.DELIVERED, LATER
    corrected = changed(delivered, **same)
    corrected.shipments[0].status, corrected.shipments[0].delivered_at = ShipmentStatus.OUT_FOR_DELIVERY, None
    delivered_again = changed(corrected, **same)
    delivered_again.shipments[0].status = ShipmentStatus.DELIVERED
    delivered_again.shipments[0].delivered_at = LATER + timedelta(hours=3)
    assert _told(order, delivered) != _told(corrected, delivered_again)

    out = changed(order, **same)
    out.lines[0].out_of_stock = True
    replaced = changed(out, **same)
    replaced.lines[0].sku = "SKU-C"
    assert _told(order, out) != _told(out, replaced)

    received = changed(_with_return(snapshot(order)), **same)
    refunded = changed(received, **same)
    refunded.returns[0].refund_status = ReturnRefundStatus.REFUNDED
    assert _told(order, received) != _told(received, refunded)


def test_an_order_without_a_time_of_change_is_still_told_with_a_stable_id() -> None:
    before = mark_shipped(make_order())
    after = changed(before, updated_at=None)
    after.shipments[0].status = ShipmentStatus.DELAYED

    [event] = flow_events(before, after)

    assert event.event_type is FlowEventType.SHIPMENT_DELAYED
    assert [e.external_id for e in flow_events(snapshot(before), snapshot(after))] == [event.external_id]


@pytest.mark.parametrize(("kind", "missing"), [
    (FlowEventType.DELIVERED, "shipment"), (FlowEventType.ITEM_OUT_OF_STOCK, "line"),
    (FlowEventType.RETURN_UPDATED, "return"),
])
def test_a_sample_event_says_what_the_order_lacks(kind: FlowEventType, missing: str) -> None:
    order = make_order()
    order.lines = []
    with pytest.raises(ValidationError) as caught:
        sample_event(order, kind, NOW)
    assert caught.value.message == f"The order has no {missing} to build this test event from."
