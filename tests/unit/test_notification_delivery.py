"""What is queued carries no flow id and the relay names the flow; which pending events are held
(no running relay has their flow id); what an operator is warned of, and when."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soap_orders.domain.notifications import addressed, flow_events, notified, snapshot
from soap_orders.domain.orders import (
    Order,
    Return,
    ReturnItem,
    ReturnRefundStatus,
    ReturnStatus,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
    WarehouseStatus,
)
from soap_orders.service.notifications import delivery_warnings, duration
from soap_orders.service.ports import OutboxStats, PendingEvents, RelayRecord
from soap_orders.service.relay import Routing
from tests.examples import examples
from tests.unit.factories import NOW as ORDER_TIME
from tests.unit.factories import make_line, make_order, mark_shipped

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)
WAIT = timedelta(minutes=10)


def relay(*flow_types: str, skip: tuple[str, ...] = (), delivered: datetime | None = None) -> RelayRecord:
    return RelayRecord("r" * 32, "host-a", 4242, NOW - timedelta(hours=1), NOW, NOW + timedelta(minutes=1),
                       flow_types, skip, delivered)


def waiting(event_type: str, count: int, minutes: float) -> PendingEvents:
    return PendingEvents(event_type, count, NOW - timedelta(minutes=minutes))


def stats(*pending: PendingEvents, relays: tuple[RelayRecord, ...] = (),
          last_delivery: datetime | None = None) -> OutboxStats:
    oldest = min((p.oldest for p in pending), default=None)
    return OutboxStats({"PENDING": sum(p.count for p in pending)}, oldest, pending, last_delivery, relays)


# ---------------------------------------------------------------------- what is queued, what is sent


def test_the_queued_content_has_no_flow_and_the_body_adds_it_first() -> None:
    before = mark_shipped(make_order(updated_at=ORDER_TIME))
    after = snapshot(before)
    after.shipments[0].status = ShipmentStatus.DELAYED
    [event] = flow_events(before, after)

    content = event.content()

    assert set(content) == {"external_id", "inputs"}
    body = addressed(content, "flow-9")
    assert list(body) == ["action_id", "external_id", "inputs"]
    assert body == event.body("flow-9") == {"action_id": "flow-9", **content}


def test_a_flow_id_queued_by_an_earlier_release_gives_way_to_the_relays() -> None:
    old = {"action_id": "flow-the-server-had", "external_id": "x-1", "inputs": {"external_id": "x-1"}}
    assert addressed(old, "flow-the-relay-has") == {
        "action_id": "flow-the-relay-has", "external_id": "x-1", "inputs": {"external_id": "x-1"}}
    assert old["action_id"] == "flow-the-server-had"  # the stored payload is not changed


def test_a_type_cannot_be_both_sent_and_skipped() -> None:
    with pytest.raises(ValueError, match="both sent and skipped: delivered"):
        Routing({"delivered": "f-1", "return_updated": "f-2"}, frozenset({"delivered"}))
    assert Routing({"delivered": "f-1"}, frozenset({"return_updated"})).skip == {"return_updated"}


def test_held_events_are_the_pending_types_no_running_relay_sends_or_skips() -> None:
    seen = stats(waiting("delivered", 2, 1), waiting("item_out_of_stock", 1, 1), waiting("shipment_delayed", 3, 1),
                 relays=(relay("shipment_delayed"), relay("return_updated", skip=("item_out_of_stock",))))
    assert seen.handled_types() == {"shipment_delayed", "return_updated", "item_out_of_stock"}
    assert seen.held() == (waiting("delivered", 2, 1),)
    assert stats(waiting("delivered", 2, 1)).held() == (waiting("delivered", 2, 1),)  # no relay at all


# ---------------------------------------------------------------------- warnings


def test_nothing_to_say_when_nothing_waits_or_nothing_waited_long() -> None:
    assert delivery_warnings(stats(), NOW, WAIT) == []
    assert delivery_warnings(stats(waiting("delivered", 5, 9.9)), NOW, WAIT) == []  # just queued, no relay yet


def test_no_relay_running_is_said_once_with_the_count_age_and_last_delivery() -> None:
    seen = stats(waiting("delivered", 2, 30), waiting("shipment_delayed", 1, 5), last_delivery=NOW - timedelta(days=3))
    assert delivery_warnings(seen, NOW, WAIT) == [
        "3 notification(s) are waiting, the oldest for 30 min, and no relay is running (last delivery: 3 days ago). "
        "Run `soap-orders relay` with the flow ids (SOAP_ORDERS_DG_FLOW_*) in its environment."]
    assert "(last delivery: never)" in delivery_warnings(stats(waiting("delivered", 1, 11)), NOW, WAIT)[0]


def test_a_type_no_running_relay_has_a_flow_id_for_is_named_with_what_to_do() -> None:
    seen = stats(waiting("item_out_of_stock", 4, 120), waiting("shipment_delayed", 1, 60),
                 relays=(relay("shipment_delayed", delivered=NOW - timedelta(seconds=5)),),
                 last_delivery=NOW - timedelta(seconds=5))
    assert delivery_warnings(seen, NOW, WAIT) == [
        "4 item_out_of_stock notification(s) are held, the oldest for 2 h: no running relay has a flow id for "
        "them. Set SOAP_ORDERS_DG_FLOW_ITEM_OUT_OF_STOCK for the relay, or skip them (SOAP_ORDERS_DG_SKIP, or "
        "`soap-orders outbox skip --type item-out-of-stock`)."]  # the relay delivers: the delay is no warning


def test_relays_running_but_none_delivering_for_a_while_is_a_warning() -> None:
    stuck = stats(waiting("shipment_delayed", 7, 45), relays=(relay("shipment_delayed"),),
                  last_delivery=NOW - timedelta(minutes=40))
    assert delivery_warnings(stuck, NOW, WAIT) == [
        "7 notification(s) are waiting, the oldest for 45 min, and no relay has delivered one for a while "
        "(last delivery: 40 min ago). See `soap-orders outbox list --state pending` for the last answers (is "
        "the consumer's API reachable?)."]
    recent = stats(waiting("shipment_delayed", 7, 45), relays=(relay("shipment_delayed"),),
                   last_delivery=NOW - timedelta(minutes=9))
    assert delivery_warnings(recent, NOW, WAIT) == []
    never = stats(waiting("shipment_delayed", 1, 10), relays=(relay("shipment_delayed"),))
    assert "(last delivery: never)" in delivery_warnings(never, NOW, WAIT)[0]


def test_a_zero_wait_warns_of_anything_waiting() -> None:
    assert len(delivery_warnings(stats(waiting("delivered", 1, 0)), NOW, timedelta(0))) == 1


@pytest.mark.parametrize(("seconds", "said"), [
    (-3, "0 s"), (0, "0 s"), (119, "119 s"), (120, "2 min"), (7199, "119 min"), (7200, "2 h"),
    (172_799, "47 h"), (172_800, "2 days"),
])
def test_durations_are_said_in_the_unit_an_operator_reads(seconds: int, said: str) -> None:
    assert duration(timedelta(seconds=seconds)) == said


# ---------------------------------------------------------------------- what is kept before a change

CHANGES = st.lists(
    st.one_of(
        st.tuples(st.just("shipment"), st.sampled_from(["SH-1", "SH-2", "SH-3"]), st.sampled_from(list(ShipmentStatus))),
        st.tuples(st.just("stock"), st.integers(1, 3), st.booleans(), st.sampled_from(["SKU-A", "SKU-B", "SKU-C"])),
        st.tuples(st.just("return"), st.sampled_from(["RMA-1", "RMA-2"]), st.sampled_from(list(ReturnStatus)),
                  st.sampled_from(list(WarehouseStatus)), st.sampled_from(list(ReturnRefundStatus))),
    ),
    max_size=8,
)


def apply(order: Order, change: tuple[object, ...]) -> None:
    kind, *values = change
    if kind == "shipment":
        shipment_id, status = values
        found = next((s for s in order.shipments if s.shipment_id == shipment_id), None)
        if found is None:
            order.shipments.append(Shipment(str(shipment_id), status, items=[ShipmentItem("SKU-A", 1)]))  # type: ignore[arg-type]
        else:
            found.status = status  # type: ignore[assignment]
    elif kind == "stock":
        number, out_of_stock, sku = values
        line = next((line for line in order.lines if line.line_number == number), None)
        if line is not None:
            line.out_of_stock, line.sku = out_of_stock, sku  # type: ignore[assignment]
    else:
        return_id, status, warehouse, refund = values
        found_return = next((r for r in order.returns if r.return_id == return_id), None)
        if found_return is None:
            order.returns.append(Return(str(return_id), status, ORDER_TIME, items=[ReturnItem("SKU-A", 1)]))  # type: ignore[arg-type]
            found_return = order.returns[-1]
        found_return.status, found_return.warehouse_status, found_return.refund_status = status, warehouse, refund  # type: ignore[assignment]


@settings(max_examples=examples(200), deadline=None)
@given(CHANGES, CHANGES)
def test_what_notified_keeps_is_detached_from_the_change_and_gives_the_events_a_whole_copy_gives(
    history: list, change: list  # type: ignore[type-arg]
) -> None:
    """Use cases keep ``notified(order)``, not a copy, before changing the order in place."""
    order = mark_shipped(make_order(updated_at=ORDER_TIME))
    order.lines.append(make_line(3, "SKU-C", 1))
    for step in history:
        apply(order, step)
    copy, kept = snapshot(order), notified(order)

    for step in change:
        apply(order, step)
    order.updated_at = ORDER_TIME + timedelta(hours=1)

    assert flow_events(kept, order) == flow_events(copy, order)
