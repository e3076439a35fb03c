"""The rules behind the order actions: address change, line cancellation, replacement, returns."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from soap_orders.documents.orders import ADDRESS
from soap_orders.domain import addresses
from soap_orders.domain.errors import ValidationError
from soap_orders.domain.events import (
    OrderCancelled,
    OrderLinesCancelled,
    RefundIssued,
    ReplacementIssued,
    ReplacementOrderCreated,
    ReturnCreated,
    ReturnUpdated,
    ShippingAddressChanged,
)
from soap_orders.domain.orders import (
    Address,
    FinancialStatus,
    LineStatus,
    OrderStatus,
    OrderType,
    Outcome,
    Reason,
    ReasonCode,
    ReplacementReason,
    ReturnReason,
    ReturnRefundStatus,
    ReturnStatus,
    ReturnUpdate,
    ShipmentStatus,
    WarehouseStatus,
)
from tests.unit.factories import (
    NOW,
    add_shipment,
    by_number,
    by_sku,
    make_line,
    make_order,
    mark_shipped,
    snapshot,
)

WINDOW = timedelta(days=30)


def paris(**overrides):
    values = {"name": "Ann Lee", "line1": "1 Rue de Rivoli", "city": "Paris", "postal_code": "75001",
              "country_code": "FR"}
    values.update(overrides)
    return Address(**values)


def change(order, address):
    return order.change_shipping_address(address, now=NOW, request_id="REQ-ADDR")


def cancel_lines(order, *lines, **overrides):
    arguments = {"reason": Reason.CUSTOMER, "now": NOW, "request_id": "REQ-LINES", "refund_id": "RF-L1"}
    arguments.update(overrides)
    return order.cancel_lines(lines, **arguments)


def replace_items(order, *lines, number="ORD-1001-R1", reason=ReplacementReason.DAMAGED):
    return order.issue_replacement(lines, reason=reason, now=NOW, request_id="REQ-REPL", replacement_number=number)


def open_return(order, *lines, now=NOW, window=WINDOW, return_id="RMA-1", **texts):
    return order.create_return(lines, reason=ReturnReason.SIZE, now=now, window=window, request_id="REQ-RET",
                               return_id=return_id, **texts)


def move(order, status, return_id="RMA-1", refund_id="RF-R1"):
    return order.update_return(return_id, status, now=NOW, request_id="REQ-UPD", refund_id=refund_id)


def delivered(order=None, delivered_at=NOW - timedelta(days=2)):
    order = mark_shipped(order or make_order())
    order.status = OrderStatus.DELIVERED
    order.shipments[0].status = ShipmentStatus.DELIVERED
    order.shipments[0].delivered_at = delivered_at
    return order


# ---------------------------------------------------------------------- addresses


def test_a_complete_address_is_normalised():
    address = addresses.validated(paris(city="  Paris ", country_code="fr", line2="  "))
    assert (address.city, address.country_code, address.line2) == ("Paris", "FR", None)


@pytest.mark.parametrize("field, wire", [("name", "Name"), ("line1", "Line1"), ("city", "City"),
                                         ("country_code", "CountryCode")])
def test_required_address_fields(field, wire):
    with pytest.raises(ValidationError) as caught:
        addresses.validated(paris(**{field: " "}))
    assert caught.value.field == wire and "required" in caught.value.message


@pytest.mark.parametrize("code", ["XX", "UK", "FRA", "F", "1A"])
def test_country_codes_must_be_iso_3166_alpha2(code):
    with pytest.raises(ValidationError) as caught:
        addresses.validated(paris(country_code=code))
    assert caught.value.field == "CountryCode" and code not in caught.value.message


def test_postal_code_is_required_where_the_country_uses_one_only():
    with pytest.raises(ValidationError) as caught:
        addresses.validated(paris(postal_code=None))
    assert caught.value.field == "PostalCode"
    assert addresses.validated(paris(country_code="AE", postal_code=None, city="Dubai")).postal_code is None
    assert addresses.validated(paris(country_code="HK", postal_code=None)).country_code == "HK"


@pytest.mark.parametrize("field, limit", sorted(addresses.MAX_LEN.items()))
def test_address_lengths(field, limit):
    if field == "country_code":
        return
    assert getattr(addresses.validated(paris(**{field: "x" * limit})), field) == "x" * limit
    with pytest.raises(ValidationError) as caught:
        addresses.validated(paris(**{field: "x" * (limit + 1)}))
    assert caught.value.field == addresses.WIRE_NAMES[field]


def test_address_limits_are_the_stored_limits():
    published = {field.attribute: field.kind.max_len for field in ADDRESS.fields}
    assert published == addresses.MAX_LEN


def test_control_characters_are_refused():
    with pytest.raises(ValidationError) as caught:
        addresses.validated(paris(line1="1 Rue\x00"))
    assert caught.value.field == "Line1"


def test_country_table_has_every_assigned_code_and_no_others():
    assert len(addresses.ISO_3166_ALPHA2) == 249
    assert {"GB", "FR", "US", "DE", "SS", "XK"} & addresses.ISO_3166_ALPHA2 == {"GB", "FR", "US", "DE", "SS"}
    assert addresses.WITHOUT_POSTAL_CODE <= addresses.ISO_3166_ALPHA2


# ---------------------------------------------------------------------- change of address


def test_address_change_before_shipping_keeps_the_old_address_in_the_event():
    order = make_order(shipping_address=paris())
    decision = change(order, paris(line1="2 Rue de Rivoli", country_code="fr"))
    assert (decision.outcome, decision.reason_code) == (Outcome.ADDRESS_CHANGED, ReasonCode.NONE)
    assert order.shipping_address is not None and order.shipping_address.line1 == "2 Rue de Rivoli"
    assert order.address_changed_at == NOW and order.updated_at == NOW
    [event] = order.events
    assert isinstance(event, ShippingAddressChanged)
    assert event.old_address is not None and event.old_address["line1"] == "1 Rue de Rivoli"
    assert event.new_address["line1"] == "2 Rue de Rivoli" and event.new_address["country_code"] == "FR"


def test_address_change_of_an_order_without_an_address():
    order = make_order()
    assert change(order, paris()).outcome is Outcome.ADDRESS_CHANGED
    assert order.events[0].old_address is None


@pytest.mark.parametrize("ship", [mark_shipped, lambda o: add_shipment(o, shipped_at=NOW)])
def test_address_change_after_shipping_is_rejected_and_changes_nothing(ship):
    order = make_order(shipping_address=paris())
    ship(order)
    before = snapshot(order)
    decision = change(order, paris(line1="elsewhere"))
    assert (decision.outcome, decision.reason_code) == (Outcome.REJECTED, ReasonCode.ALREADY_SHIPPED)
    assert snapshot(order) == before


def test_address_change_of_a_cancelled_order_is_rejected():
    order = make_order(status=OrderStatus.CANCELLED)
    assert change(order, paris()).reason_code is ReasonCode.ALREADY_CANCELLED


def test_an_invalid_address_is_an_error_whatever_the_order_state():
    with pytest.raises(ValidationError):
        change(mark_shipped(make_order()), paris(country_code="ZZ"))


# ---------------------------------------------------------------------- line cancellation


def test_cancelling_part_of_a_line_refunds_its_value():
    order = make_order()  # 2 x 10.00 + 1 x 15.50 + shipping 4.50, paid 40.00
    decision = cancel_lines(order, by_number(1, 1))
    assert decision.outcome is Outcome.LINES_CANCELLED and decision.refund is not None
    assert decision.refund.amount == Decimal("10.00")
    line = order.line(line_number=1)
    assert (line.quantity_cancelled, line.quantity_refunded, line.status) == (1, 1, LineStatus.PROCESSING)
    assert order.status is OrderStatus.PROCESSING and order.financial_status is FinancialStatus.PARTIALLY_REFUNDED
    assert [type(e) for e in order.events] == [RefundIssued, OrderLinesCancelled]
    assert order.events[1].lines == ((1, 1),) and order.events[1].refund_id == "RF-L1"
    assert [r.done for r in decision.lines] == [True]


def test_cancelling_a_whole_line_by_sku_marks_it_cancelled():
    order = make_order()
    cancel_lines(order, by_sku("SKU-B", 1))
    assert order.line(line_number=2).status is LineStatus.CANCELLED


def test_line_refund_uses_the_same_rule_as_a_line_refund():
    """Discount and tax shares: the value a line refund would give."""
    twin = make_order(lines=[make_line(1, "A", 4, "20.00"), make_line(2, "B", 1, "20.00")],
                      discount_total="10.00", tax_total="18.00", shipping_total="5.00")
    order = make_order(lines=[make_line(1, "A", 4, "20.00"), make_line(2, "B", 1, "20.00")],
                       discount_total="10.00", tax_total="18.00", shipping_total="5.00")
    refunded = twin.refund(reason=Reason.CUSTOMER, now=NOW, request_id="R", refund_id="RF", lines=(by_number(1, 3),))
    cancelled = cancel_lines(order, by_number(1, 3))
    assert cancelled.refund.amount == refunded.refund.amount == Decimal("64.80")


def test_cancelling_the_last_open_item_cancels_the_order_and_refunds_everything_left():
    order = make_order()
    cancel_lines(order, by_number(1, 2))
    decision = cancel_lines(order, by_number(2, 1), refund_id="RF-L2")
    assert decision.refund.amount == Decimal("20.00")  # 15.50 and the shipping
    assert order.status is OrderStatus.CANCELLED and order.financial_status is FinancialStatus.REFUNDED
    assert order.refunded_amount == Decimal("40.00") and order.cancelled_at == NOW
    assert all(line.status is LineStatus.CANCELLED for line in order.lines)
    assert isinstance(order.events[-1], OrderCancelled) and order.events[-2].order_cancelled


def test_cancelling_lines_of_an_authorised_order_releases_instead_of_refunding():
    order = make_order(financial_status=FinancialStatus.AUTHORIZED)
    decision = cancel_lines(order, by_number(1, 1))
    assert decision.refund is None and decision.released_amount == Decimal("10.00")
    assert order.refunds == [] and order.financial_status is FinancialStatus.AUTHORIZED
    decision = cancel_lines(order, by_number(1, 1), by_number(2, 1))
    assert decision.released_amount == Decimal("40.00")
    assert order.financial_status is FinancialStatus.VOIDED and order.status is OrderStatus.CANCELLED


def test_shipped_quantities_are_refused_per_line_while_the_rest_is_cancelled():
    order = make_order()
    order.status = OrderStatus.PARTIALLY_SHIPPED
    order.line(line_number=1).quantity_shipped = 1
    decision = cancel_lines(order, by_number(1, 2), by_number(2, 1), by_number(7, 1))
    assert decision.outcome is Outcome.LINES_CANCELLED
    assert [r.reason_code for r in decision.lines] == [ReasonCode.ALREADY_SHIPPED, ReasonCode.NONE,
                                                       ReasonCode.UNKNOWN_LINE]
    assert "only 1 item(s) not shipped" in decision.lines[0].message
    assert order.line(line_number=1).quantity_cancelled == 0
    assert order.status is OrderStatus.PARTIALLY_SHIPPED


def test_cancelling_the_rest_of_a_partially_shipped_order_makes_it_shipped_not_cancelled():
    order = make_order()
    order.status = OrderStatus.PARTIALLY_SHIPPED
    order.line(line_number=1).quantity_shipped = 2
    decision = cancel_lines(order, by_number(2, 1))
    assert decision.refund.amount == Decimal("15.50")  # the shipping was used
    assert order.status is OrderStatus.SHIPPED and order.financial_status is FinancialStatus.PARTIALLY_REFUNDED


def test_when_no_line_can_be_cancelled_the_request_is_rejected_and_nothing_changes():
    order = mark_shipped(make_order())
    before = snapshot(order)
    decision = cancel_lines(order, by_number(1, 1), by_number(2, 1))
    assert (decision.outcome, decision.reason_code) == (Outcome.REJECTED, ReasonCode.ALREADY_SHIPPED)
    assert len(decision.lines) == 2 and snapshot(order) == before


def test_more_than_bought_is_refused_as_exceeding_the_line():
    order = make_order()
    decision = cancel_lines(order, by_number(1, 3))
    assert decision.reason_code is ReasonCode.EXCEEDS_LINE_QUANTITY


def test_the_same_line_twice_counts_both_quantities():
    order = make_order()
    decision = cancel_lines(order, by_number(1, 1), by_sku("SKU-A", 2))
    assert [r.reason_code for r in decision.lines] == [ReasonCode.NONE, ReasonCode.EXCEEDS_LINE_QUANTITY]
    assert order.line(line_number=1).quantity_cancelled == 1


def test_a_cancelled_line_cannot_be_cancelled_again():
    order = make_order()
    cancel_lines(order, by_number(2, 1))
    decision = cancel_lines(order, by_number(2, 1))
    assert decision.reason_code is ReasonCode.ALREADY_CANCELLED


def test_line_cancellation_of_a_cancelled_order_is_rejected():
    order = make_order(status=OrderStatus.CANCELLED)
    assert cancel_lines(order, by_number(1, 1)).reason_code is ReasonCode.ALREADY_CANCELLED


def test_units_already_refunded_are_not_refunded_again():
    order = make_order()
    order.refund(reason=Reason.DAMAGED, now=NOW, request_id="R", refund_id="RF-0", lines=(by_number(1, 1),))
    decision = cancel_lines(order, by_number(1, 2), refund_id="RF-1")
    assert decision.refund.amount == Decimal("10.00") and order.line(line_number=1).quantity_refunded == 2


@pytest.mark.parametrize("bad", [(), (by_number(1, 0),), (by_number(None, 1),)])
def test_malformed_line_requests_are_errors(bad):
    with pytest.raises(ValidationError):
        make_order().cancel_lines(bad, reason=Reason.CUSTOMER, now=NOW, request_id="R", refund_id="RF")


# ---------------------------------------------------------------------- replacements


def test_a_replacement_is_a_free_order_linked_both_ways():
    order = mark_shipped(make_order(shipping_address=paris()))
    decision = replace_items(order, by_number(1, 1), by_sku("SKU-B", 1))
    new = decision.replacement
    assert decision.outcome is Outcome.REPLACEMENT_ISSUED and new is not None
    assert new.order_number == "ORD-1001-R1" and new.replaces_order_number == "ORD-1001"
    assert order.replacement_order_numbers == ["ORD-1001-R1"]
    assert new.order_type is OrderType.REPLACEMENT and new.total == new.subtotal == Decimal("0.00")
    assert [(line.sku, line.quantity, line.unit_price) for line in new.lines] == [
        ("SKU-A", 1, Decimal("0.00")), ("SKU-B", 1, Decimal("0.00"))]
    assert new.shipping_address == order.shipping_address and new.shipping_address is not order.shipping_address
    new.check()
    assert [line.quantity_replaced for line in order.lines] == [1, 1]
    assert isinstance(order.events[0], ReplacementIssued) and isinstance(new.events[0], ReplacementOrderCreated)
    assert order.refunds == [] and order.financial_status is FinancialStatus.PAID


def test_replacements_never_exceed_what_shipped_across_all_of_them():
    order = mark_shipped(make_order())
    assert replace_items(order, by_number(1, 1)).outcome is Outcome.REPLACEMENT_ISSUED
    decision = replace_items(order, by_number(1, 2), number="ORD-1001-R2")
    assert (decision.outcome, decision.reason_code) == (Outcome.REJECTED, ReasonCode.EXCEEDS_REPLACEABLE)
    assert "only 1 shipped item(s)" in decision.message
    assert replace_items(order, by_number(1, 1), number="ORD-1001-R2").outcome is Outcome.REPLACEMENT_ISSUED
    assert order.replacement_order_numbers == ["ORD-1001-R1", "ORD-1001-R2"]


def test_unshipped_orders_get_no_replacement():
    order = make_order()
    before = snapshot(order)
    assert replace_items(order, by_number(1, 1)).reason_code is ReasonCode.NOT_SHIPPED
    assert snapshot(order) == before


def test_only_shipped_items_of_a_partly_shipped_order_are_replaceable():
    order = make_order(status=OrderStatus.PARTIALLY_SHIPPED)
    order.line(line_number=1).quantity_shipped = 1
    assert replace_items(order, by_number(2, 1)).reason_code is ReasonCode.EXCEEDS_REPLACEABLE
    assert replace_items(order, by_number(9, 1)).reason_code is ReasonCode.UNKNOWN_LINE


def test_a_shipped_line_status_counts_as_shipped_when_quantities_were_not_sent():
    order = make_order(status=OrderStatus.SHIPPED)
    order.line(line_number=1).status = LineStatus.SHIPPED
    assert replace_items(order, by_number(1, 2)).outcome is Outcome.REPLACEMENT_ISSUED


# ---------------------------------------------------------------------- returns


def test_a_return_of_delivered_items():
    order = delivered()
    decision = open_return(order, by_number(1, 1), return_tracking_number="1Z999", carrier_code="ups",
                           label_url="https://labels.example.com/1.pdf")
    assert (decision.outcome, decision.return_id) == (Outcome.RETURN_CREATED, "RMA-1")
    [ret] = order.returns
    assert (ret.status, ret.reason, ret.return_tracking_number, ret.warehouse_status, ret.refund_status) == (
        ReturnStatus.LABEL_CREATED, "SIZE", "1Z999", WarehouseStatus.AWAITING_ARRIVAL, ReturnRefundStatus.NOT_STARTED)
    assert [(i.sku, i.quantity, i.line_number) for i in ret.items] == [("SKU-A", 1, 1)]
    assert order.line(line_number=1).quantity_returned == 1
    assert isinstance(order.events[0], ReturnCreated) and order.events[0].lines == ((1, 1),)


def test_a_return_without_a_label_is_requested():
    order = delivered()
    open_return(order, by_number(2, 1))
    assert order.returns[0].status is ReturnStatus.REQUESTED


def test_returns_never_exceed_delivered_minus_returned():
    order = delivered()
    open_return(order, by_number(1, 1))
    decision = open_return(order, by_number(1, 2), return_id="RMA-2")
    assert decision.reason_code is ReasonCode.EXCEEDS_RETURNABLE and len(order.returns) == 1
    assert open_return(order, by_number(1, 1), return_id="RMA-2").outcome is Outcome.RETURN_CREATED


def test_an_undelivered_order_gets_no_return():
    order = mark_shipped(make_order())
    assert open_return(order, by_number(1, 1)).reason_code is ReasonCode.NOT_DELIVERED


def test_only_lines_on_a_delivered_parcel_are_returnable():
    order = mark_shipped(make_order())
    order.shipments[0].items = [order.shipments[0].items[0]]  # only SKU-A arrived
    order.shipments[0].status = ShipmentStatus.DELIVERED
    order.shipments[0].delivered_at = NOW
    assert open_return(order, by_number(2, 1)).reason_code is ReasonCode.NOT_DELIVERED
    assert open_return(order, by_number(1, 2)).outcome is Outcome.RETURN_CREATED


@pytest.mark.parametrize("days, outcome", [(30, Outcome.RETURN_CREATED), (31, Outcome.REJECTED)])
def test_the_return_window_counts_from_delivery(days, outcome):
    order = delivered(delivered_at=NOW - timedelta(days=days))
    decision = open_return(order, by_number(1, 1))
    assert decision.outcome is outcome
    if outcome is Outcome.REJECTED:
        assert decision.reason_code is ReasonCode.OUTSIDE_RETURN_WINDOW and "30 days" in decision.message


def test_the_return_window_is_exact_to_the_second():
    order = delivered(delivered_at=NOW - WINDOW - timedelta(seconds=1))
    assert open_return(order, by_number(1, 1)).reason_code is ReasonCode.OUTSIDE_RETURN_WINDOW


@pytest.mark.parametrize("texts, field", [
    ({"label_url": "ftp://labels/1"}, "LabelUrl"),
    ({"label_url": "https://x/" + "a" * 2040}, "LabelUrl"),
    ({"return_tracking_number": "1Z 999"}, "ReturnTrackingNumber"),
    ({"return_tracking_number": "1" * 65}, "ReturnTrackingNumber"),
    ({"carrier_code": "c" * 65}, "CarrierCode"),
])
def test_return_texts_are_checked(texts, field):
    with pytest.raises(ValidationError) as caught:
        open_return(delivered(), by_number(1, 1), **texts)
    assert caught.value.field == field


def test_a_return_moves_through_received_inspected_refunded():
    order = delivered()
    open_return(order, by_number(1, 1), by_number(2, 1))
    assert move(order, ReturnUpdate.RECEIVED).outcome is Outcome.RETURN_UPDATED
    assert order.returns[0].warehouse_status is WarehouseStatus.RECEIVED
    assert move(order, ReturnUpdate.INSPECTED).outcome is Outcome.RETURN_UPDATED
    decision = move(order, ReturnUpdate.REFUNDED)
    assert decision.outcome is Outcome.RETURN_UPDATED and decision.refund.amount == Decimal("25.50")
    ret = order.returns[0]
    assert (ret.status, ret.refund_status, ret.refund_id) == (ReturnStatus.REFUNDED, ReturnRefundStatus.REFUNDED,
                                                              "RF-R1")
    assert order.refunds[-1].reason is Reason.RETURN
    assert [line.quantity_refunded for line in order.lines] == [1, 1]
    updates = [e for e in order.events if isinstance(e, ReturnUpdated)]
    assert [(e.old_status, e.new_status) for e in updates] == [
        ("REQUESTED", "RECEIVED"), ("RECEIVED", "INSPECTED"), ("INSPECTED", "REFUNDED")]
    assert updates[-1].refund_id == "RF-R1"


@pytest.mark.parametrize("path", [
    [ReturnUpdate.REFUNDED],
    [ReturnUpdate.INSPECTED],
    [ReturnUpdate.RECEIVED, ReturnUpdate.RECEIVED],
    [ReturnUpdate.REJECTED, ReturnUpdate.RECEIVED],
    [ReturnUpdate.RECEIVED, ReturnUpdate.REFUNDED, ReturnUpdate.REJECTED],
])
def test_invalid_return_transitions_are_rejected(path):
    order = delivered()
    open_return(order, by_number(1, 1))
    *before, last = path
    for step in before:
        assert move(order, step).outcome is Outcome.RETURN_UPDATED
    kept = snapshot(order)
    decision = move(order, last, refund_id="RF-R2")
    assert (decision.outcome, decision.reason_code) == (Outcome.REJECTED, ReasonCode.INVALID_TRANSITION)
    assert snapshot(order) == kept


def test_a_rejected_return_gives_its_quantity_back():
    order = delivered()
    open_return(order, by_number(1, 2))
    move(order, ReturnUpdate.RECEIVED)
    assert move(order, ReturnUpdate.REJECTED).outcome is Outcome.RETURN_UPDATED
    ret = order.returns[0]
    assert (ret.status, ret.warehouse_status, ret.refund_status) == (
        ReturnStatus.REJECTED, WarehouseStatus.REJECTED, ReturnRefundStatus.DECLINED)
    assert order.line(line_number=1).quantity_returned == 0
    assert open_return(order, by_number(1, 2), return_id="RMA-2").outcome is Outcome.RETURN_CREATED


def test_an_unknown_return_is_rejected():
    assert move(delivered(), ReturnUpdate.RECEIVED, return_id="RMA-X").reason_code is ReasonCode.UNKNOWN_RETURN


def test_refunding_a_return_whose_lines_were_refunded_already_is_refused_by_the_refund_rule():
    order = delivered()
    open_return(order, by_number(2, 1))
    order.refund(reason=Reason.DAMAGED, now=NOW, request_id="R", refund_id="RF-0", lines=(by_number(2, 1),))
    move(order, ReturnUpdate.RECEIVED)
    decision = move(order, ReturnUpdate.REFUNDED)
    assert (decision.outcome, decision.reason_code) == (Outcome.REJECTED, ReasonCode.EXCEEDS_LINE_QUANTITY)
    assert order.returns[0].status is ReturnStatus.RECEIVED and decision.return_id == "RMA-1"


def test_an_imported_return_without_line_numbers_is_refunded_by_sku():
    order = delivered()
    open_return(order, by_sku("SKU-B", 1))
    order.returns[0].items[0].line_number = None
    move(order, ReturnUpdate.RECEIVED)
    assert move(order, ReturnUpdate.REFUNDED).refund.amount == Decimal("15.50")
