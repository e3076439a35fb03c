"""Returns: what a caller is told, what is stored and what the change feed records when a return is
opened, moved on, refunded or rejected, and which texts of a return are refused."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from soap_orders.domain.errors import ValidationError
from soap_orders.domain.events import RefundIssued, ReturnCreated, ReturnUpdated
from soap_orders.domain.orders import (
    Decision,
    Origin,
    Outcome,
    Reason,
    ReasonCode,
    RefundLineRequest,
    ReturnItem,
    ReturnReason,
    ReturnRefundStatus,
    ReturnStatus,
    ReturnUpdate,
    ShipmentStatus,
    WarehouseStatus,
)
from tests.unit.factories import (
    NOW,
    by_number,
    by_sku,
    make_order,
    mark_shipped,
    plain,
    snapshot,
)

WINDOW = timedelta(days=30)
DELIVERED_AT = NOW - timedelta(days=2)


def delivered(order=None, delivered_at=DELIVERED_AT):
    """``make_order()`` (or ``order``) shipped whole in one parcel that has arrived."""
    order = mark_shipped(order or make_order())
    order.shipments[0].status = ShipmentStatus.DELIVERED
    order.shipments[0].delivered_at = delivered_at
    return order


def open_return(order, *lines, now=NOW, window=WINDOW, return_id="RMA-1", note=None, **texts):
    return order.create_return(
        lines, reason=ReturnReason.SIZE, now=now, window=window, request_id="REQ-RET", return_id=return_id,
        note=note, **texts,
    )


def move(order, status, *, return_id="RMA-1", refund_id="RF-R1", note=None, now=NOW):
    return order.update_return(return_id, status, now=now, request_id="REQ-UPD", refund_id=refund_id, note=note)


# ---------------------------------------------------------------------- opening a return


def test_an_opened_return_is_stored_recorded_and_answered_whole():
    order = delivered()
    decision = open_return(
        order, by_number(2, 1), by_number(1, 1), by_sku("SKU-A", 1), note="too small",
        return_tracking_number=" 1Z999 ", carrier_code=" UPS Ground ", label_url="HTTPS://labels.example.com/1.pdf",
    )

    assert decision == Decision(
        Outcome.RETURN_CREATED, ReasonCode.NONE, "Return RMA-1 was created for order ORD-1001.", return_id="RMA-1"
    )
    [stored] = order.returns
    assert plain(stored) == {
        "return_id": "RMA-1", "status": ReturnStatus.LABEL_CREATED, "created_at": NOW, "reason": "SIZE",
        "return_tracking_number": "1Z999", "carrier_code": "UPS Ground",
        "label_url": "HTTPS://labels.example.com/1.pdf",
        "warehouse_status": WarehouseStatus.AWAITING_ARRIVAL, "refund_status": ReturnRefundStatus.NOT_STARTED,
        "items": [
            {"sku": "SKU-B", "quantity": 1, "line_number": 2},
            {"sku": "SKU-A", "quantity": 2, "line_number": 1},
        ],
        "refund_id": None, "origin": Origin.SERVICE, "settled_by": None,
    }
    assert [line.quantity_returned for line in order.lines] == [2, 1]
    assert order.updated_at == NOW
    assert order.events == [
        ReturnCreated(
            "ORD-1001", NOW, "REQ-RET", "RMA-1", "SIZE", "too small", ((1, 2), (2, 1)),
            "1Z999", "UPS Ground", "HTTPS://labels.example.com/1.pdf",
        )
    ]


def test_a_return_without_texts_is_requested_and_records_none_of_them():
    order = delivered()
    open_return(order, by_number(1, 1), return_tracking_number="  ", carrier_code="", label_url=None)

    stored = order.returns[0]
    assert (stored.status, stored.return_tracking_number, stored.carrier_code, stored.label_url) == (
        ReturnStatus.REQUESTED, None, None, None)
    assert order.events == [
        ReturnCreated("ORD-1001", NOW, "REQ-RET", "RMA-1", "SIZE", None, ((1, 1),), None, None, None)
    ]


def test_a_tracking_number_alone_does_not_make_a_label():
    order = delivered()
    open_return(order, by_number(1, 1), return_tracking_number="1Z999", carrier_code="UPS")
    assert order.returns[0].status is ReturnStatus.REQUESTED


def test_delivered_quantity_is_what_arrived_of_each_line():
    order = mark_shipped(make_order())
    order.shipments[0].items = [order.shipments[0].items[0]]  # the parcel carries only SKU-A
    order.shipments[0].status = ShipmentStatus.DELIVERED
    assert [order.delivered_quantity(line) for line in order.lines] == [2, 0]


def test_a_line_returned_in_full_can_be_returned_no_further_and_says_none_is_left():
    order = delivered()
    assert open_return(order, by_number(1, 2)).outcome is Outcome.RETURN_CREATED
    before = snapshot(order)

    decision = open_return(order, by_number(1, 1), return_id="RMA-2")

    assert decision == Decision(
        Outcome.REJECTED, ReasonCode.EXCEEDS_RETURNABLE,
        "Order ORD-1001 cannot get a return: line 1 has only 0 delivered item(s) left to return.",
    )
    assert snapshot(order) == before


def test_the_items_left_to_return_are_never_said_to_be_negative():
    order = delivered()
    order.line(line_number=1).quantity_returned = 3  # the ERP reported more returned than delivered

    decision = open_return(order, by_number(1, 1))

    assert decision.message == "Order ORD-1001 cannot get a return: line 1 has only 0 delivered item(s) left to return."


def test_requests_for_one_line_are_added_up_before_they_are_checked():
    order = delivered()
    before = snapshot(order)

    decision = open_return(order, by_number(1, 1), by_number(1, 1), by_sku("SKU-A", 1))

    assert (decision.reason_code, decision.message) == (
        ReasonCode.EXCEEDS_RETURNABLE,
        "Order ORD-1001 cannot get a return: line 1 has only 2 delivered item(s) left to return.",
    )
    assert snapshot(order) == before


def test_a_request_of_exactly_what_is_left_is_accepted():
    order = delivered()
    open_return(order, by_number(1, 1))
    assert open_return(order, by_number(1, 1), return_id="RMA-2").outcome is Outcome.RETURN_CREATED
    assert order.line(line_number=1).quantity_returned == 2


def test_a_refusal_for_one_line_keeps_every_line_of_the_request_unreturned():
    order = delivered()
    before = snapshot(order)

    decision = open_return(order, by_number(2, 1), by_number(1, 3))

    assert decision.reason_code is ReasonCode.EXCEEDS_RETURNABLE
    assert snapshot(order) == before


def test_an_order_of_which_nothing_has_arrived_is_refused_whole_message():
    order = mark_shipped(make_order())
    before = snapshot(order)

    decision = open_return(order, by_number(1, 1))

    assert decision == Decision(
        Outcome.REJECTED, ReasonCode.NOT_DELIVERED,
        "Order ORD-1001 cannot get a return: nothing of it has been delivered yet.",
    )
    assert snapshot(order) == before


def test_nothing_delivered_is_said_before_an_unknown_line():
    order = mark_shipped(make_order())
    decision = open_return(order, by_number(9, 1))
    assert decision.reason_code is ReasonCode.NOT_DELIVERED


def test_an_unknown_line_is_refused_whole_message():
    order = delivered()
    before = snapshot(order)

    decision = open_return(order, by_number(1, 1), by_number(9, 1))

    assert decision == Decision(
        Outcome.REJECTED, ReasonCode.UNKNOWN_LINE,
        "Order ORD-1001 cannot get a return: one of the items is not part of it.",
    )
    assert snapshot(order) == before


def test_an_unknown_line_is_said_before_the_return_window():
    order = delivered(delivered_at=NOW - timedelta(days=40))
    assert open_return(order, by_number(9, 1)).reason_code is ReasonCode.UNKNOWN_LINE


def test_a_line_that_has_not_arrived_is_refused_whole_message():
    order = mark_shipped(make_order())
    order.shipments[0].items = [order.shipments[0].items[0]]  # the parcel carries only SKU-A
    order.shipments[0].status = ShipmentStatus.DELIVERED
    order.shipments[0].delivered_at = DELIVERED_AT
    before = snapshot(order)

    decision = open_return(order, by_number(1, 1), by_number(2, 1))

    assert decision == Decision(
        Outcome.REJECTED, ReasonCode.NOT_DELIVERED,
        "Order ORD-1001 cannot get a return: line 2 has not been delivered.",
    )
    assert snapshot(order) == before


def test_a_return_after_the_window_is_refused_whole_message():
    order = delivered(delivered_at=NOW - timedelta(days=15, seconds=1))
    before = snapshot(order)

    decision = open_return(order, by_number(1, 1), window=timedelta(days=15))

    assert decision == Decision(
        Outcome.REJECTED, ReasonCode.OUTSIDE_RETURN_WINDOW,
        "Order ORD-1001 cannot get a return: items can be returned only within 15 days of delivery.",
    )
    assert snapshot(order) == before


def test_a_return_on_the_last_second_of_the_window_is_accepted():
    order = delivered(delivered_at=NOW - timedelta(days=15))
    assert open_return(order, by_number(1, 1), window=timedelta(days=15)).outcome is Outcome.RETURN_CREATED


def test_the_window_counts_from_the_departure_when_no_delivery_time_is_known():
    order = delivered(delivered_at=None)
    order.shipments[0].shipped_at = NOW - timedelta(days=31)
    assert open_return(order, by_number(1, 1)).reason_code is ReasonCode.OUTSIDE_RETURN_WINDOW
    order.shipments[0].shipped_at = NOW - timedelta(days=30)
    assert open_return(order, by_number(1, 1)).outcome is Outcome.RETURN_CREATED


def test_an_empty_request_is_refused():
    with pytest.raises(ValidationError) as caught:
        open_return(delivered())
    assert (str(caught.value), caught.value.field) == ("Give at least one line for a return.", "Lines")


@pytest.mark.parametrize("request_kwargs, message, field", [
    ({"quantity": 1}, "Each return line needs a LineNumber or a Sku.", "Line"),
    ({"quantity": 0, "line_number": 1}, "Return line Quantity must be at least 1.", "Quantity"),
])
def test_a_malformed_line_is_refused_whole_message(request_kwargs, message, field):
    order = delivered()
    with pytest.raises(ValidationError) as caught:
        open_return(order, RefundLineRequest(**request_kwargs))
    assert (str(caught.value), caught.value.field) == (message, field)
    assert order.returns == []


# ---------------------------------------------------------------------- the texts of a return


@pytest.mark.parametrize("wire, keyword", [
    ("ReturnTrackingNumber", "return_tracking_number"), ("CarrierCode", "carrier_code"),
])
def test_a_text_of_the_longest_length_is_kept_and_one_longer_refused(wire, keyword):
    order = delivered()
    open_return(order, by_number(1, 1), **{keyword: "A" * 64})
    assert getattr(order.returns[0], keyword) == "A" * 64

    with pytest.raises(ValidationError) as caught:
        open_return(order, by_number(1, 1), return_id="RMA-2", **{keyword: "A" * 65})
    assert (str(caught.value), caught.value.field) == (f"{wire} must be at most 64 characters.", wire)


def test_a_label_url_of_the_longest_length_is_kept_and_one_longer_refused():
    url = "https://labels.example.com/" + "a" * (2048 - 27)
    order = delivered()
    open_return(order, by_number(1, 1), label_url=url)
    assert order.returns[0].label_url == url

    with pytest.raises(ValidationError) as caught:
        open_return(order, by_number(1, 1), return_id="RMA-2", label_url=url + "a")
    assert (str(caught.value), caught.value.field) == ("LabelUrl must be at most 2048 characters.", "LabelUrl")


@pytest.mark.parametrize("character", [" ", "\t", "\x1f", "\x7f"])
@pytest.mark.parametrize("wire, keyword, prefix", [
    ("ReturnTrackingNumber", "return_tracking_number", "1Z"), ("LabelUrl", "label_url", "https://l.example/"),
])
def test_tracking_numbers_and_label_urls_refuse_spaces_and_control_characters(character, wire, keyword, prefix):
    with pytest.raises(ValidationError) as caught:
        open_return(delivered(), by_number(1, 1), **{keyword: prefix + character + "9"})
    assert (str(caught.value), caught.value.field) == (
        f"{wire} must not contain spaces or control characters.", wire)


@pytest.mark.parametrize("character", ["\t", "\x1f", "\x7f"])
def test_a_carrier_code_refuses_control_characters(character):
    with pytest.raises(ValidationError) as caught:
        open_return(delivered(), by_number(1, 1), carrier_code="UPS" + character + "X")
    assert (str(caught.value), caught.value.field) == (
        "CarrierCode must not contain control characters.", "CarrierCode")


def test_the_first_printable_characters_are_accepted():
    order = delivered()
    open_return(order, by_number(1, 1), return_tracking_number="!1Z~", carrier_code="A B!",
                label_url="http://l.example/!~")
    stored = order.returns[0]
    assert (stored.return_tracking_number, stored.carrier_code, stored.label_url) == (
        "!1Z~", "A B!", "http://l.example/!~")


@pytest.mark.parametrize("url", ["ftp://labels.example.com/1", "labels.example.com/http://", "https:/x"])
def test_a_label_url_must_be_http_or_https(url):
    order = delivered()
    before = snapshot(order)
    with pytest.raises(ValidationError) as caught:
        open_return(order, by_number(1, 1), label_url=url)
    assert (str(caught.value), caught.value.field) == ("LabelUrl must be an http:// or https:// URL.", "LabelUrl")
    assert snapshot(order) == before


def test_texts_are_checked_before_anything_else():
    order = mark_shipped(make_order())  # nothing delivered
    with pytest.raises(ValidationError):
        open_return(order, by_number(1, 1), return_tracking_number="1Z 9")


# ---------------------------------------------------------------------- moving a return on


@pytest.mark.parametrize("status, stored, warehouse", [
    (ReturnUpdate.RECEIVED, ReturnStatus.RECEIVED, WarehouseStatus.RECEIVED),
    (ReturnUpdate.REJECTED, ReturnStatus.REJECTED, WarehouseStatus.REJECTED),
])
def test_a_requested_return_moves_on_and_records_it(status, stored, warehouse):
    order = delivered()
    open_return(order, by_number(1, 1))
    order.events.clear()
    later = NOW + timedelta(hours=1)

    decision = move(order, status, note="at the dock", now=later)

    assert decision == Decision(
        Outcome.RETURN_UPDATED, ReasonCode.NONE, f"Return RMA-1 of order ORD-1001 is now {stored.value}.",
        return_id="RMA-1",
    )
    assert (order.returns[0].status, order.returns[0].warehouse_status) == (stored, warehouse)
    assert order.updated_at == later
    assert order.events == [
        ReturnUpdated("ORD-1001", later, "REQ-UPD", "RMA-1", "REQUESTED", stored.value, "at the dock", None)
    ]


def test_an_inspected_return_is_accepted_by_the_warehouse_and_not_yet_refunded():
    order = delivered()
    open_return(order, by_number(1, 1))
    move(order, ReturnUpdate.RECEIVED)

    decision = move(order, ReturnUpdate.INSPECTED)

    assert decision.message == "Return RMA-1 of order ORD-1001 is now INSPECTED."
    stored = order.returns[0]
    assert (stored.status, stored.warehouse_status, stored.refund_status, stored.refund_id, stored.settled_by) == (
        ReturnStatus.INSPECTED, WarehouseStatus.ACCEPTED, ReturnRefundStatus.NOT_STARTED, None, None)
    assert order.refunds == [] and order.events[-1].new_status == "INSPECTED"


def test_a_refunded_return_refunds_its_lines_and_says_how_much():
    order = delivered()
    open_return(order, by_number(1, 2), by_number(2, 1))
    move(order, ReturnUpdate.RECEIVED)
    order.events.clear()

    decision = move(order, ReturnUpdate.REFUNDED, note="all fine")

    assert (decision.outcome, decision.reason_code, decision.return_id) == (
        Outcome.RETURN_UPDATED, ReasonCode.NONE, "RMA-1")
    assert decision.message == (
        "Return RMA-1 of order ORD-1001 is now REFUNDED. A refund of 35.50 EUR has been issued.")
    assert decision.refund is order.refunds[-1]
    assert (decision.refund.refund_id, decision.refund.amount, decision.refund.reason) == (
        "RF-R1", Decimal("35.50"), Reason.RETURN)
    stored = order.returns[0]
    assert (stored.status, stored.refund_id, stored.warehouse_status, stored.refund_status, stored.settled_by) == (
        ReturnStatus.REFUNDED, "RF-R1", WarehouseStatus.ACCEPTED, ReturnRefundStatus.REFUNDED, Origin.SERVICE)
    assert [(line.quantity_refunded, line.quantity_returned) for line in order.lines] == [(2, 2), (1, 1)]
    [issued, updated] = order.events
    assert issued == RefundIssued(
        "ORD-1001", NOW, "RF-R1", Decimal("35.50"), "EUR", "RETURN", "all fine", "REQ-UPD", ((1, 2), (2, 1)))
    assert updated == ReturnUpdated("ORD-1001", NOW, "REQ-UPD", "RMA-1", "RECEIVED", "REFUNDED", "all fine", "RF-R1")


def test_items_of_one_line_in_a_return_are_refunded_together():
    order = delivered()
    open_return(order, by_sku("SKU-A", 2))
    # A return imported from the ERP may list one line in two items, without line numbers.
    order.returns[0].items = [ReturnItem("SKU-A", 1), ReturnItem("SKU-A", 1, 1)]
    move(order, ReturnUpdate.RECEIVED)

    decision = move(order, ReturnUpdate.REFUNDED)

    assert decision.refund.amount == Decimal("20.00")
    assert order.line(line_number=1).quantity_refunded == 2
    [issued] = [event for event in order.events if isinstance(event, RefundIssued)]
    assert issued.lines == ((1, 2),)


def test_a_return_of_an_item_the_order_does_not_have_is_not_refunded():
    order = delivered()
    open_return(order, by_number(1, 1))
    order.returns[0].items[0].line_number = None
    order.returns[0].items[0].sku = "SKU-GONE"
    move(order, ReturnUpdate.RECEIVED)
    before = snapshot(order)

    decision = move(order, ReturnUpdate.REFUNDED)

    assert decision == Decision(
        Outcome.REJECTED, ReasonCode.UNKNOWN_LINE,
        "Order ORD-1001 cannot have that return refunded: an item of the return is not part of it.",
    )
    assert snapshot(order) == before


def test_a_refund_refused_by_the_refund_rule_names_the_return_and_changes_nothing():
    order = delivered()
    open_return(order, by_number(2, 1))
    order.refund(reason=Reason.DAMAGED, now=NOW, request_id="R", refund_id="RF-0", lines=(by_number(2, 1),))
    move(order, ReturnUpdate.RECEIVED)
    before = snapshot(order)

    decision = move(order, ReturnUpdate.REFUNDED)

    assert (decision.outcome, decision.reason_code, decision.return_id, decision.refund) == (
        Outcome.REJECTED, ReasonCode.EXCEEDS_LINE_QUANTITY, "RMA-1", None)
    assert decision.message.startswith("Order ORD-1001 cannot be refunded: ")
    assert snapshot(order) == before


def test_a_rejected_return_gives_back_what_it_held_and_never_below_zero():
    order = delivered()
    open_return(order, by_number(1, 2), by_number(2, 1))
    order.line(line_number=2).quantity_returned = 0  # the ERP since reported none of line 2 returned

    decision = move(order, ReturnUpdate.REJECTED)

    assert decision.message == "Return RMA-1 of order ORD-1001 is now REJECTED."
    assert [line.quantity_returned for line in order.lines] == [0, 0]
    stored = order.returns[0]
    assert (stored.status, stored.warehouse_status, stored.refund_status, stored.settled_by, stored.refund_id) == (
        ReturnStatus.REJECTED, WarehouseStatus.REJECTED, ReturnRefundStatus.DECLINED, Origin.SERVICE, None)
    assert order.refunds == []


def test_rejecting_a_return_gives_back_only_its_own_items():
    order = delivered()
    open_return(order, by_number(1, 1))
    open_return(order, by_number(1, 1), return_id="RMA-2")

    move(order, ReturnUpdate.REJECTED, return_id="RMA-2")

    assert order.line(line_number=1).quantity_returned == 1


def test_rejecting_a_return_of_an_item_the_order_does_not_have_still_rejects_it():
    order = delivered()
    open_return(order, by_number(1, 1))
    order.returns[0].items[0].line_number = None
    order.returns[0].items[0].sku = "SKU-GONE"

    decision = move(order, ReturnUpdate.REJECTED)

    assert decision.outcome is Outcome.RETURN_UPDATED
    assert order.returns[0].status is ReturnStatus.REJECTED
    assert order.line(line_number=1).quantity_returned == 1


def test_an_unknown_return_is_refused_whole_message():
    order = delivered()
    open_return(order, by_number(1, 1))
    before = snapshot(order)

    decision = move(order, ReturnUpdate.RECEIVED, return_id="RMA-9")

    assert decision == Decision(
        Outcome.REJECTED, ReasonCode.UNKNOWN_RETURN,
        "Order ORD-1001 cannot have that return updated: it has no return with that ReturnId.",
    )
    assert snapshot(order) == before


def test_the_right_return_of_several_is_moved_on():
    order = delivered()
    open_return(order, by_number(1, 1))
    open_return(order, by_number(2, 1), return_id="RMA-2")

    move(order, ReturnUpdate.RECEIVED, return_id="RMA-2")

    assert [r.status for r in order.returns] == [ReturnStatus.REQUESTED, ReturnStatus.RECEIVED]


def test_an_invalid_transition_is_refused_whole_message():
    order = delivered()
    open_return(order, by_number(1, 1))
    before = snapshot(order)

    decision = move(order, ReturnUpdate.INSPECTED)

    assert decision == Decision(
        Outcome.REJECTED, ReasonCode.INVALID_TRANSITION,
        "Return RMA-1 of order ORD-1001 is REQUESTED and cannot become INSPECTED.", return_id="RMA-1",
    )
    assert snapshot(order) == before


def test_a_settled_return_cannot_move_at_all():
    order = delivered()
    open_return(order, by_number(1, 1))
    move(order, ReturnUpdate.RECEIVED)
    move(order, ReturnUpdate.REFUNDED)
    before = snapshot(order)

    decision = move(order, ReturnUpdate.REJECTED, refund_id="RF-R2")

    assert decision.message == "Return RMA-1 of order ORD-1001 is REFUNDED and cannot become REJECTED."
    assert snapshot(order) == before
