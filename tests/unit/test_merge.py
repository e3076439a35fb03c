"""Merging an ERP document into a stored order: the ERP's part is updated, the service's never erased."""

from __future__ import annotations

import copy
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from soap_orders.domain.events import OrderUpserted
from soap_orders.domain.merge import (
    UpsertOutcome,
    UpsertReasonCode,
    accept_new,
    merge_into,
)
from soap_orders.domain.orders import (
    Address,
    Customer,
    FinancialStatus,
    LineStatus,
    Order,
    OrderStatus,
    Origin,
    Reason,
    RefundStatus,
    ReplacementReason,
    Return,
    ReturnItem,
    ReturnReason,
    ReturnStatus,
    ReturnUpdate,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
)
from tests.examples import examples
from tests.unit.factories import (
    CREATED_AT,
    NOW,
    add_shipment,
    by_number,
    cancel,
    default_lines,
    make_line,
    make_order,
    make_refund,
    mark_shipped,
    plain,
    refund,
)

LATER = NOW + timedelta(days=1)


def document(**overrides: Any) -> Order:
    """The ERP's document of ORD-1001 as first imported (a fresh object each time: merging consumes it)."""
    return make_order(**overrides)


def refunded_in_full() -> Order:
    order = document()
    assert refund(order).outcome.value == "REFUNDED"
    return order


def state(order: Order) -> Any:
    """Everything stored about an order (entities compare by identity, so compare their fields)."""
    return plain(order)


def rejected(stored: Order, incoming: Order, code: UpsertReasonCode, field: str, problem: str | None = None) -> None:
    """The merge refuses ``incoming`` for ``field`` (saying ``problem`` of it, when given) and
    leaves ``stored`` as it was."""
    before, events = state(stored), list(stored.events)
    result = merge_into(stored, incoming, now=LATER)
    assert (result.outcome, result.reason_code, result.field) == (UpsertOutcome.REJECTED, code, field)
    assert result.message.startswith(field + ":")
    if problem is not None:
        assert result.message == f"{field}: {problem}; the order was not changed."
    assert state(stored) == before
    assert stored.events == events


# ---------------------------------------------------------------------- accepted documents


def test_the_same_document_again_after_a_service_refund_changes_nothing() -> None:
    stored = refunded_in_full()
    stored.events.clear()
    before = state(stored)

    result = merge_into(stored, document(), now=LATER)

    assert (result.outcome, result.reason_code, result.changed) == (UpsertOutcome.UNCHANGED, UpsertReasonCode.NONE, ())
    assert state(stored) == before
    assert stored.refundable_amount == 0
    assert stored.financial_status is FinancialStatus.REFUNDED
    assert stored.events == []


def test_erp_fields_are_updated_and_the_service_refund_survives() -> None:
    stored = refunded_in_full()
    stored.events.clear()
    incoming = document(status=OrderStatus.ON_HOLD, customer=Customer("ada@example.com", "Ada", "King"))

    result = merge_into(stored, incoming, now=LATER, request_id="erp-1")

    assert result.outcome is UpsertOutcome.UPDATED
    assert set(result.changed) == {"Status", "Customer"}
    assert stored.status is OrderStatus.ON_HOLD and stored.customer.last_name == "King"
    assert [(r.refund_id, r.amount, r.origin) for r in stored.refunds] == [("RF-NEW-1", Decimal("40.00"), Origin.SERVICE)]
    assert stored.refundable_amount == 0 and stored.financial_status is FinancialStatus.REFUNDED
    assert stored.updated_at == LATER
    assert stored.events == [OrderUpserted("ORD-1001", LATER, "UPDATED", "erp-1", result.changed)]


def test_line_facts_the_erp_owns_follow_the_document() -> None:
    stored = document()
    lines = default_lines()
    lines[0].out_of_stock = True
    lines[1].name = "Renamed"

    assert merge_into(stored, document(lines=lines), now=LATER).changed == ("Lines",)
    assert [(line.out_of_stock, line.name) for line in stored.lines] == [(True, "Item 1"), (False, "Renamed")]


def test_a_partial_service_refund_makes_a_paid_document_partially_refunded() -> None:
    stored = document()
    refund(stored, amount="10.00")

    result = merge_into(stored, document(shipping_total="5.00"), now=LATER)

    assert result.outcome is UpsertOutcome.UPDATED
    assert stored.financial_status is FinancialStatus.PARTIALLY_REFUNDED
    assert stored.refundable_amount == Decimal("30.50")


def test_line_refund_quantities_are_never_lowered_by_a_document() -> None:
    stored = document()
    refund(stored, lines=(by_number(1, 1),))

    result = merge_into(stored, document(), now=LATER)

    assert result.outcome is UpsertOutcome.UNCHANGED
    line = stored.line(line_number=1)
    assert line is not None and (line.quantity_refunded, line.quantity_refunded_by_service) == (1, 1)


def test_erp_refunds_are_added_updated_by_id_and_kept_when_left_out() -> None:
    stored = document(refunds=[make_refund("5.00", RefundStatus.PENDING, "ERP-1")])
    refund(stored, amount="10.00")
    incoming = document(refunds=[make_refund("5.00", RefundStatus.COMPLETED, "ERP-1"), make_refund("2.00", refund_id="ERP-2")])

    assert merge_into(stored, incoming, now=LATER).outcome is UpsertOutcome.UPDATED
    assert [(r.refund_id, r.status, r.origin) for r in stored.refunds] == [
        ("ERP-1", RefundStatus.COMPLETED, Origin.ERP),
        ("RF-NEW-1", RefundStatus.PENDING, Origin.SERVICE),
        ("ERP-2", RefundStatus.COMPLETED, Origin.ERP),
    ]
    assert stored.refunded_amount == Decimal("17.00")

    assert merge_into(stored, document(), now=LATER).outcome is UpsertOutcome.UNCHANGED
    assert [r.refund_id for r in stored.refunds] == ["ERP-1", "RF-NEW-1", "ERP-2"]


def test_a_service_refund_reported_back_may_be_settled_but_not_rewritten() -> None:
    stored = document()
    refund(stored, amount="10.00")
    settled = make_refund("10.00", RefundStatus.COMPLETED, "RF-NEW-1")

    assert merge_into(stored, document(refunds=[settled]), now=LATER).outcome is UpsertOutcome.UPDATED
    assert stored.refunds[0].status is RefundStatus.COMPLETED
    assert stored.refunds[0].reason is Reason.DAMAGED  # the service's reason, not the document's


def test_a_cancelled_order_stays_cancelled_when_the_erp_has_not_caught_up() -> None:
    stored = document(financial_status=FinancialStatus.AUTHORIZED)
    cancel(stored)
    stored.events.clear()
    before = state(stored)

    result = merge_into(stored, document(financial_status=FinancialStatus.AUTHORIZED), now=LATER)

    assert result.outcome is UpsertOutcome.UNCHANGED
    assert state(stored) == before
    assert stored.status is OrderStatus.CANCELLED and stored.financial_status is FinancialStatus.VOIDED
    assert all(line.status is LineStatus.CANCELLED and line.quantity_cancelled == line.quantity for line in stored.lines)


def test_a_cancelled_order_takes_other_erp_changes() -> None:
    stored = document()
    cancel(stored)

    result = merge_into(stored, document(customer=Customer("ada@example.com", "Ada", "King")), now=LATER)

    assert (result.reason_code, result.changed) == (UpsertReasonCode.NONE, ("Customer",))
    assert (stored.status, stored.cancelled_at, stored.cancel_reason) == (OrderStatus.CANCELLED, NOW, Reason.CUSTOMER)


def test_the_erp_cancelling_the_order_is_stored_with_its_time_and_reason() -> None:
    stored = document()
    incoming = document(status=OrderStatus.CANCELLED, cancelled_at=NOW, cancel_reason=Reason.CUSTOMER)

    result = merge_into(stored, incoming, now=LATER)

    assert (result.outcome, result.changed) == (UpsertOutcome.UPDATED, ("Status", "CancelledAt", "CancelReason"))
    assert (stored.status, stored.cancelled_at, stored.cancel_reason, stored.cancel_origin) == (
        OrderStatus.CANCELLED, NOW, Reason.CUSTOMER, Origin.ERP)


def test_a_service_refund_of_less_than_one_unit_makes_a_paid_order_partially_refunded() -> None:
    stored = document()
    assert refund(stored, amount="0.50").outcome.value == "REFUNDED"

    result = merge_into(stored, document(), now=LATER)  # the ERP still says PAID

    assert result.outcome is UpsertOutcome.UNCHANGED
    assert stored.financial_status is FinancialStatus.PARTIALLY_REFUNDED


def test_the_erps_word_that_the_order_is_refunded_in_full_stands_beside_a_partial_service_refund() -> None:
    stored = document()
    assert refund(stored, amount="10.00").outcome.value == "REFUNDED"

    result = merge_into(stored, document(financial_status=FinancialStatus.REFUNDED), now=LATER)

    assert result.changed == ("FinancialStatus",)
    assert stored.financial_status is FinancialStatus.REFUNDED


def test_an_empty_shipping_address_is_no_address() -> None:
    stored = document(shipping_address=None)
    assert merge_into(stored, document(shipping_address=Address()), now=LATER).outcome is UpsertOutcome.UNCHANGED


def test_a_complete_address_changed_by_the_erp_is_stored() -> None:
    def full(street: str) -> Address:
        return Address("Ada", street, "Flat 2", "London", "Greater London", "N1 1AA", "GB", "+44 20 7946 0000")

    stored = document(shipping_address=full("1 Old Road"))
    result = merge_into(stored, document(shipping_address=full("2 New Street")), now=LATER)
    assert result.changed == ("ShippingAddress",)
    assert stored.shipping_address is not None and stored.shipping_address.line1 == "2 New Street"


#: (the stored order, a document changing one part of it, the wire names the answer and the
#: OrderUpserted event give for what changed, in that order).
_ONE_CHANGE: dict[str, tuple[Any, Any, tuple[str, ...]]] = {
    "a line dropped": (document, lambda: document(lines=default_lines()[:1]), ("Subtotal", "Total", "Lines")),
    "a line added": (document, lambda: document(lines=[*default_lines(), make_line(3, "SKU-C", 1, "1.00")]),
                     ("Subtotal", "Total", "Lines")),
    "a quantity": (document,
                   lambda: document(lines=[make_line(1, "SKU-A", 3, "10.00"), make_line(2, "SKU-B", 1, "15.50")]),
                   ("Subtotal", "Total", "Lines")),
    "a refund of the ERP's": (document, lambda: document(refunds=[make_refund("5.00", refund_id="ERP-1")]),
                              ("Refunds",)),
    "an ERP refund raised": (lambda: document(refunds=[make_refund("5.00", refund_id="ERP-1")]),
                             lambda: document(refunds=[make_refund("6.00", refund_id="ERP-1")]), ("Refunds",)),
    "the financial status": (document, lambda: document(financial_status=FinancialStatus.PARTIALLY_REFUNDED),
                             ("FinancialStatus",)),
    "a first parcel": (document, lambda: mark_shipped(document()), ("Status", "Lines", "Shipments")),
    "a return of the ERP's": (lambda: delivered_document(), lambda: erp_return_document(),
                              ("ExpectedDeliveryDate", "Lines", "Returns")),
    "a return's status": (lambda: erp_return_document(ReturnStatus.REQUESTED), lambda: erp_return_document(),
                          ("Returns",)),
    "the time of the ERP's last change": (document, lambda: document(updated_at=NOW), ("UpdatedAt",)),
}


def test_an_update_is_stamped_with_the_time_the_erp_gives_else_the_time_it_was_merged() -> None:
    stored = document()
    merge_into(stored, document(updated_at=NOW), now=LATER)
    assert stored.updated_at == NOW
    merge_into(stored, document(updated_at=NOW, customer=Customer("ada@example.com", "Ada", "King")), now=LATER)
    assert stored.updated_at == NOW
    merge_into(stored, document(customer=Customer("ada@example.com", "Ada", "Byron")), now=LATER)
    assert stored.updated_at == LATER


def test_an_invalid_document_for_a_stored_order_is_refused_with_what_is_wrong() -> None:
    stored = document()
    before = state(stored)
    result = merge_into(stored, document(total="1.00"), now=LATER)
    assert (result.outcome, result.reason_code, result.field, result.message) == (
        UpsertOutcome.REJECTED, UpsertReasonCode.INVALID_DOCUMENT, "Total",
        "Total must equal Subtotal + ShippingTotal + TaxTotal - DiscountTotal.")
    assert state(stored) == before


@pytest.mark.parametrize("change", list(_ONE_CHANGE))
def test_the_answer_names_exactly_the_parts_a_document_changed(change: str) -> None:
    make_stored, make, names = _ONE_CHANGE[change]
    stored = make_stored()
    stored.events.clear()
    result = merge_into(stored, make(), now=LATER, request_id="r-1")
    assert (result.outcome, result.reason_code, result.changed) == (UpsertOutcome.UPDATED, UpsertReasonCode.NONE,
                                                                    names)
    assert result.message == "The order was updated."
    assert stored.events == [OrderUpserted("ORD-1001", LATER, "UPDATED", "r-1", names)]


def test_an_address_changed_through_the_service_is_kept() -> None:
    stored = document(shipping_address=Address("Ada", "1 Old Road", city="London", country_code="GB"))
    stored.shipping_address = Address("Ada", "2 New Street", city="Leeds", country_code="GB")
    stored.address_origin = Origin.SERVICE
    incoming = document(shipping_address=Address("Ada", "1 Old Road", city="London", country_code="GB"))

    assert merge_into(stored, incoming, now=LATER).outcome is UpsertOutcome.UNCHANGED
    assert stored.shipping_address is not None and stored.shipping_address.line1 == "2 New Street"


def test_an_erp_address_follows_the_document() -> None:
    stored = document(shipping_address=Address("Ada", "1 Old Road", city="London", country_code="GB"))
    incoming = document(shipping_address=Address("Ada", "3 Moved Lane", city="York", country_code="GB"))

    assert merge_into(stored, incoming, now=LATER).changed == ("ShippingAddress",)
    assert stored.shipping_address is not None and stored.shipping_address.city == "York"


def test_lines_follow_the_document_when_the_service_did_not_touch_them() -> None:
    stored = document()
    refund(stored, lines=(by_number(1, 1),))
    lines = [make_line(1, "SKU-A", 2, "10.00", status=LineStatus.PROCESSING), make_line(3, "SKU-C", 1, "3.00")]

    result = merge_into(stored, document(lines=lines), now=LATER)

    assert result.outcome is UpsertOutcome.UPDATED and "Lines" in result.changed
    assert [(line.line_number, line.quantity_refunded) for line in stored.lines] == [(1, 1), (3, 0)]


def test_shipments_and_returns_are_upserted_by_id_and_service_returns_kept() -> None:
    stored = document()
    add_shipment(stored, ShipmentStatus.LABEL_CREATED)
    stored.returns.append(Return("RT-S", ReturnStatus.REQUESTED, NOW, "Too small", items=[ReturnItem("SKU-A", 1)],
                                 origin=Origin.SERVICE))
    incoming = document()
    add_shipment(incoming, ShipmentStatus.IN_TRANSIT, NOW)
    incoming.returns.append(Return("RT-S", ReturnStatus.RECEIVED, CREATED_AT, "Other", items=[ReturnItem("SKU-B", 1)]))

    result = merge_into(stored, incoming, now=LATER)

    # The parcel carries every item: the lines and the order follow it (they are SHIPPED now).
    assert set(result.changed) == {"Shipments", "Returns", "Lines", "Status"}
    assert result.reason_code is UpsertReasonCode.STATE_DERIVED
    assert [line.status for line in stored.lines] == [LineStatus.SHIPPED, LineStatus.SHIPPED]
    assert stored.shipments[0].status is ShipmentStatus.IN_TRANSIT
    made = stored.returns[0]
    assert (made.status, made.created_at, made.reason, made.origin) == (ReturnStatus.RECEIVED, NOW, "Too small", Origin.SERVICE)
    assert [(i.sku, i.quantity) for i in made.items] == [("SKU-A", 1)]
    assert merge_into(stored, document(), now=LATER).outcome is UpsertOutcome.UNCHANGED
    assert len(stored.shipments) == 1 and len(stored.returns) == 1


def test_a_document_cannot_claim_service_origin() -> None:
    incoming = document(refunds=[make_refund("5.00", refund_id="X-1")], status=OrderStatus.CANCELLED)
    incoming.refunds[0].origin = Origin.SERVICE
    incoming.address_origin = Origin.SERVICE

    result = accept_new(incoming, now=NOW)

    assert result.outcome is UpsertOutcome.CREATED
    assert (incoming.refunds[0].origin, incoming.address_origin, incoming.cancel_origin) == (
        Origin.ERP, Origin.ERP, Origin.ERP)
    assert incoming.events == [OrderUpserted("ORD-1001", NOW, "CREATED", None, ())]


def test_a_new_document_that_breaks_its_own_rules_is_refused() -> None:
    incoming = document(total="99.99")

    result = accept_new(incoming, now=NOW)

    assert (result.outcome, result.reason_code, result.field) == (
        UpsertOutcome.REJECTED, UpsertReasonCode.INVALID_DOCUMENT, "Total")
    assert incoming.events == []


# ---------------------------------------------------------------------- a new order


def test_a_new_order_is_stamped_with_the_time_it_was_accepted_unless_it_says_when_it_changed() -> None:
    fresh = document()
    assert fresh.updated_at is None
    result = accept_new(fresh, now=LATER, request_id="r-new")
    assert (result.outcome, result.reason_code, result.message) == (
        UpsertOutcome.CREATED, UpsertReasonCode.NONE, "The order was created.")
    assert fresh.updated_at == LATER
    assert fresh.events == [OrderUpserted("ORD-1001", LATER, "CREATED", "r-new", ())]
    dated = document(updated_at=NOW)
    accept_new(dated, now=LATER)
    assert dated.updated_at == NOW


def test_a_new_order_whose_parcels_say_more_is_created_with_what_they_say_and_the_fields_named() -> None:
    fresh = document()
    add_shipment(fresh, ShipmentStatus.IN_TRANSIT, NOW)
    result = accept_new(fresh, now=LATER)
    assert (result.outcome, result.reason_code, result.field) == (
        UpsertOutcome.CREATED, UpsertReasonCode.STATE_DERIVED, "Lines[1].QuantityShipped")
    assert result.message == ("The order was created; derived from its parcels: Lines[1].QuantityShipped, "
                              "Lines[1].Status, Lines[2].QuantityShipped, Lines[2].Status, Status.")
    assert fresh.status is OrderStatus.SHIPPED


def test_an_invalid_new_order_is_refused_with_what_is_wrong() -> None:
    result = accept_new(document(order_number=" "), now=LATER)
    assert (result.outcome, result.reason_code, result.field, result.message) == (
        UpsertOutcome.REJECTED, UpsertReasonCode.INVALID_DOCUMENT, "OrderNumber", "OrderNumber must not be empty.")


# ---------------------------------------------------------------------- contradictions


def test_removing_a_line_refunded_through_the_service_is_refused() -> None:
    stored = document()
    refund(stored, lines=(by_number(2, 1),))
    rejected(stored, document(lines=default_lines()[:1]), UpsertReasonCode.LINE_REFUNDED, "Lines",
             "line 2 was refunded through the service and must stay")


def test_lowering_a_refunded_line_below_its_refund_is_refused() -> None:
    stored = document()
    refund(stored, lines=(by_number(1, 2),))
    lines = [make_line(1, "SKU-A", 1, "10.00"), make_line(2, "SKU-B", 1, "15.50")]
    rejected(stored, document(lines=lines), UpsertReasonCode.LINE_REFUNDED, "Lines[1].Quantity",
             "is below the quantity refunded through the service")


def test_lowering_a_line_below_what_the_service_cancelled_of_it_is_refused() -> None:
    stored = document(financial_status=FinancialStatus.AUTHORIZED)
    decision = stored.cancel_lines((by_number(1, 2),), reason=Reason.CUSTOMER, now=NOW, request_id="r-lines",
                                   refund_id="RF-L")
    assert decision.outcome.value != "REJECTED", decision.message
    lines = [make_line(1, "SKU-A", 1, "10.00"), make_line(2, "SKU-B", 1, "15.50")]
    rejected(stored, document(lines=lines, financial_status=FinancialStatus.AUTHORIZED),
             UpsertReasonCode.LINE_CANCELLED, "Lines[1].Quantity", "is below the quantity cancelled through the service")


def _line_1_cancelled_through_the_service() -> Order:
    stored = document(financial_status=FinancialStatus.AUTHORIZED)
    decision = stored.cancel_lines((by_number(1, 2),), reason=Reason.CUSTOMER, now=NOW, request_id="r-lines",
                                   refund_id="RF-L")
    assert decision.outcome.value != "REJECTED", decision.message
    stored.events.clear()
    return stored


def test_a_document_shipping_items_of_a_line_the_service_cancelled_is_refused() -> None:
    incoming = document(financial_status=FinancialStatus.AUTHORIZED)
    incoming.lines[0].quantity_shipped = 1
    rejected(_line_1_cancelled_through_the_service(), incoming, UpsertReasonCode.CANCELLED_ORDER_SHIPPED,
             "Lines[1].QuantityShipped", "includes items cancelled through the service")


def test_a_parcel_of_a_line_the_service_cancelled_is_refused_though_the_document_cancels_nothing() -> None:
    incoming = document(financial_status=FinancialStatus.AUTHORIZED)
    incoming.shipments.append(Shipment("SH-1", ShipmentStatus.IN_TRANSIT, shipped_at=NOW,
                                       items=[ShipmentItem("SKU-A", 1)]))
    rejected(_line_1_cancelled_through_the_service(), incoming, UpsertReasonCode.EXCEEDS_ORDERED,
             "Shipments[1].Items[1].Quantity")


def test_a_document_not_caught_up_with_a_line_the_service_cancelled_changes_only_what_it_changes() -> None:
    stored = _line_1_cancelled_through_the_service()
    incoming = document(financial_status=FinancialStatus.AUTHORIZED, customer=Customer("ada@example.com", "Ada", "King"))

    result = merge_into(stored, incoming, now=LATER)

    assert (result.outcome, result.reason_code, result.changed) == (
        UpsertOutcome.UPDATED, UpsertReasonCode.NONE, ("Customer",))
    line = stored.line(line_number=1)
    assert line is not None and (line.status, line.quantity_cancelled) == (LineStatus.CANCELLED, 2)


def test_a_line_the_service_cancelled_and_the_erp_then_raised_is_open_again_for_the_new_items() -> None:
    stored = _line_1_cancelled_through_the_service()
    lines = [make_line(1, "SKU-A", 3, "10.00", status=LineStatus.PROCESSING),
             make_line(2, "SKU-B", 1, "15.50", status=LineStatus.PROCESSING)]

    result = merge_into(stored, document(financial_status=FinancialStatus.AUTHORIZED, lines=lines), now=LATER)

    assert (result.outcome, result.reason_code) == (UpsertOutcome.UPDATED, UpsertReasonCode.NONE)
    line = stored.line(line_number=1)
    assert line is not None and (line.quantity, line.quantity_cancelled, line.status) == (3, 2, LineStatus.PROCESSING)


def test_lowering_a_line_below_what_the_service_replaced_of_it_is_refused() -> None:
    stored = mark_shipped(document())
    decision = stored.issue_replacement((by_number(1, 2),), reason=ReplacementReason.DAMAGED, now=NOW,
                                        request_id="r-repl", replacement_number="ORD-1001-R1")
    assert decision.outcome.value != "REJECTED", decision.message
    incoming = mark_shipped(document(lines=[make_line(1, "SKU-A", 1, "10.00"), make_line(2, "SKU-B", 1, "15.50")]))
    rejected(stored, incoming, UpsertReasonCode.LINE_REPLACED, "Lines[1].Quantity",
             "is below the quantity replaced through the service")


def test_changing_the_sku_of_a_refunded_line_is_refused() -> None:
    stored = document()
    refund(stored, lines=(by_number(1, 1),))
    lines = [make_line(1, "SKU-Z", 2, "10.00"), make_line(2, "SKU-B", 1, "15.50")]
    rejected(stored, document(lines=lines), UpsertReasonCode.LINE_REFUNDED, "Lines[1].Sku",
             "cannot change on a line refunded through the service")


def test_removing_a_line_of_a_cancelled_order_is_refused() -> None:
    stored = document()
    cancel(stored)
    rejected(stored, document(lines=default_lines()[1:]), UpsertReasonCode.LINE_CANCELLED, "Lines",
             "line 1 was cancelled through the service and must stay")


def test_a_total_below_what_was_refunded_is_refused() -> None:
    stored = document()
    refund(stored, amount="35.00")
    lines = [make_line(1, "SKU-A", 2, "10.00"), make_line(2, "SKU-B", 1, "1.00")]
    incoming = document(lines=lines)
    assert incoming.total == Decimal("25.50")
    rejected(stored, incoming, UpsertReasonCode.TOTAL_BELOW_REFUNDED, "Total", "is less than what has been refunded")


def test_an_unpaid_document_for_a_refunded_order_is_refused() -> None:
    stored = refunded_in_full()
    incoming = document(financial_status=FinancialStatus.AUTHORIZED)
    rejected(stored, incoming, UpsertReasonCode.TOTAL_BELOW_REFUNDED, "FinancialStatus",
             "says nothing was charged, but refunds have been made")


def test_an_unpaid_document_for_an_order_refunded_less_than_one_unit_is_refused() -> None:
    stored = document()
    assert refund(stored, amount="0.50").outcome.value == "REFUNDED"
    incoming = document(financial_status=FinancialStatus.AUTHORIZED)
    rejected(stored, incoming, UpsertReasonCode.TOTAL_BELOW_REFUNDED, "FinancialStatus")


@pytest.mark.parametrize("what", ["status", "quantities", "shipment"])
def test_a_cancelled_order_reported_as_shipped_is_refused(what: str) -> None:
    stored = document()
    cancel(stored)
    incoming = document()
    field, problem = {
        "status": ("Status", "reports as shipped an order cancelled through the service"),
        "quantities": ("Lines[1].QuantityShipped", "reports shipped items on an order cancelled through the service"),
        "shipment": ("Shipments[1]", "reports a parcel on its way for an order cancelled through the service"),
    }[what]
    if what == "status":
        incoming.status = OrderStatus.SHIPPED
    elif what == "quantities":
        incoming.lines[0].quantity_shipped = 1
    else:
        add_shipment(incoming, ShipmentStatus.IN_TRANSIT, NOW)
    rejected(stored, incoming, UpsertReasonCode.CANCELLED_ORDER_SHIPPED, field, problem)


def test_a_shipped_document_for_a_fully_cancelled_order_is_refused() -> None:
    stored = document()
    cancel(stored)
    rejected(stored, mark_shipped(document()), UpsertReasonCode.CANCELLED_ORDER_SHIPPED, "Status")


def test_a_service_refund_reported_with_another_amount_is_refused() -> None:
    stored = document()
    refund(stored, amount="10.00")
    incoming = document(refunds=[make_refund("1.00", refund_id="RF-NEW-1")])
    rejected(stored, incoming, UpsertReasonCode.REFUND_CONFLICT, "Refunds[1].Amount",
             "differs from the refund made through the service")


def test_a_service_refund_reported_as_failed_is_refused() -> None:
    stored = document()
    refund(stored, amount="10.00")
    incoming = document(refunds=[make_refund("10.00", RefundStatus.FAILED, "RF-NEW-1")])
    rejected(stored, incoming, UpsertReasonCode.REFUND_CONFLICT, "Refunds[1].Status",
             "cannot mark a refund made through the service as failed")


@pytest.mark.parametrize(("reported", "kept"), [(RefundStatus.PENDING, RefundStatus.PENDING),
                                                (RefundStatus.COMPLETED, RefundStatus.COMPLETED)])
def test_a_pending_service_refund_completes_only_when_the_erp_says_so(reported: RefundStatus,
                                                                       kept: RefundStatus) -> None:
    stored = document()
    refund(stored, amount="10.00")
    assert stored.refunds[0].status is RefundStatus.PENDING
    incoming = document(financial_status=FinancialStatus.PARTIALLY_REFUNDED,
                        refunds=[make_refund("10.00", reported, "RF-NEW-1")])
    merge_into(stored, incoming, now=LATER)
    assert stored.refunds[0].status is kept


@pytest.mark.parametrize(("amount", "status", "field"), [
    ("4.00", RefundStatus.COMPLETED, "Refunds[1].Amount"),
    ("5.00", RefundStatus.FAILED, "Refunds[1].Status"),
])
def test_an_erp_refund_may_not_be_lowered(amount: str, status: RefundStatus, field: str) -> None:
    stored = document(refunds=[make_refund("5.00", refund_id="ERP-1")])
    incoming = document(refunds=[make_refund(amount, status, "ERP-1")])
    rejected(stored, incoming, UpsertReasonCode.REFUND_REDUCED, field, "would lower what has been refunded")


def test_the_currency_of_a_refunded_order_cannot_change() -> None:
    stored = document()
    refund(stored, amount="10.00")
    rejected(stored, document(currency="GBP"), UpsertReasonCode.CURRENCY_CHANGED, "Currency",
             "cannot change on an order with refunds")


def test_a_refused_document_is_named_by_field_never_by_value() -> None:
    stored = document()
    refund(stored, amount="35.00")
    incoming = document(lines=[make_line(1, "SKU-A", 2, "10.00"), make_line(2, "SKU-B", 1, "1.23")])

    result = merge_into(stored, incoming, now=LATER)

    assert result.reason_code is UpsertReasonCode.TOTAL_BELOW_REFUNDED
    assert "1.23" not in result.message and "25.73" not in result.message and "35.00" not in result.message


# ---------------------------------------------------------------------- properties


@st.composite
def service_history(draw: st.DrawFn) -> Order:
    """A stored order after some of: a line refund, an amount refund, a cancellation."""
    order = document(refunds=draw(st.sampled_from([[], [make_refund("3.00", refund_id="ERP-1")]])))
    if draw(st.booleans()):
        refund(order, refund_id="RF-L", lines=(by_number(draw(st.sampled_from([1, 2])), 1),))
    if draw(st.booleans()):
        refund(order, refund_id="RF-A", amount=draw(st.sampled_from(["0.50", "5.00", "12.00"])))
    if draw(st.booleans()):
        cancel(order, refund_id="RF-C")
    order.events.clear()
    return order


@st.composite
def erp_documents(draw: st.DrawFn) -> Order:
    """Documents an ERP might send: lines dropped, resized or repriced, totals, statuses, refunds, shipments."""
    lines = []
    for number, sku, price in ((1, "SKU-A", "10.00"), (2, "SKU-B", "15.50"), (3, "SKU-C", "2.00")):
        if draw(st.booleans()):
            lines.append(make_line(
                number, draw(st.sampled_from([sku, sku, "SKU-X"])), draw(st.integers(1, 3)),
                draw(st.sampled_from([price, "0.10", "30.00"])),
                quantity_shipped=0, quantity_refunded=draw(st.integers(0, 1)),
            ))
    if not lines:
        lines = [make_line(1, "SKU-A", 2, "10.00")]
    for line in lines:
        line.quantity_shipped = draw(st.integers(0, line.quantity))
    refunds = []
    if draw(st.booleans()):
        refunds.append(make_refund(draw(st.sampled_from(["1.00", "3.00", "6.00"])),
                                   draw(st.sampled_from(list(RefundStatus))), "ERP-1"))
    if draw(st.booleans()):
        refunds.append(make_refund(draw(st.sampled_from(["1.00", "10.00"])), RefundStatus.COMPLETED,
                                   draw(st.sampled_from(["RF-A", "RF-L", "RF-C", "ERP-2"]))))
    incoming = document(
        lines=lines,
        refunds=refunds,
        status=draw(st.sampled_from([OrderStatus.PROCESSING] * 4 + list(OrderStatus))),
        financial_status=draw(st.sampled_from([FinancialStatus.PAID] * 4 + list(FinancialStatus))),
        shipping_total=draw(st.sampled_from(["0.00", "4.50", "50.00"])),
        customer=Customer("ada@example.com", draw(st.sampled_from(["Ada", "Augusta"]))),
    )
    if draw(st.booleans()):
        add_shipment(incoming, draw(st.sampled_from(list(ShipmentStatus))), draw(st.sampled_from([None, NOW])))
    return incoming


@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(service_history(), st.lists(erp_documents(), min_size=1, max_size=3))
def test_no_merge_lowers_refunds_or_drops_what_the_service_did(stored: Order, documents: list[Order]) -> None:
    service_refunds = {r.refund_id: r.amount for r in stored.refunds if r.origin is Origin.SERVICE}
    cancelled = stored.cancel_origin is Origin.SERVICE
    cancellation = (stored.cancelled_at, stored.cancel_reason)
    by_service = {line.line_number: (line.quantity_refunded_by_service, line.quantity_cancelled_by_service)
                  for line in stored.lines if line.touched_by_service}
    for incoming in documents:
        refunded = stored.refunded_amount
        before = state(stored)
        result = merge_into(stored, incoming, now=LATER)
        if result.outcome in (UpsertOutcome.REJECTED, UpsertOutcome.UNCHANGED):
            assert state(stored) == before
        assert stored.refunded_amount >= refunded
        assert {r.refund_id: r.amount for r in stored.refunds if r.origin is Origin.SERVICE} == service_refunds
        if cancelled:
            assert stored.status is OrderStatus.CANCELLED and (stored.cancelled_at, stored.cancel_reason) == cancellation
            assert not stored.has_shipped
        for number, (refunded_qty, cancelled_qty) in by_service.items():
            line = stored.line(line_number=number)
            assert line is not None
            assert line.quantity_refunded >= refunded_qty and line.quantity_cancelled >= cancelled_qty
        assert stored.refunded_amount <= stored.captured_amount
        assert stored.refundable_amount == max(stored.captured_amount - stored.refunded_amount, Decimal(0))
        stored.check()


# ---------------------------------------------------------------------- the other actions made through the service


def test_an_address_changed_by_the_action_is_kept() -> None:
    stored = document(shipping_address=Address("Ada", "1 Old Road", city="London", country_code="GB"))
    stored.change_shipping_address(
        Address("Ada", "2 New Street", city="Leeds", postal_code="LS1 1AA", country_code="GB"), now=NOW,
        request_id="r-addr")
    assert stored.address_origin is Origin.SERVICE
    incoming = document(shipping_address=Address("Ada", "1 Old Road", city="London", country_code="GB"))

    assert merge_into(stored, incoming, now=LATER).outcome is UpsertOutcome.UNCHANGED
    assert stored.shipping_address is not None and stored.shipping_address.line1 == "2 New Street"


def test_a_line_cancelled_by_the_action_is_kept_and_cannot_be_removed() -> None:
    stored = document(financial_status=FinancialStatus.AUTHORIZED)
    stored.cancel_lines((by_number(2, 1),), reason=Reason.CUSTOMER, now=NOW, request_id="r-lines", refund_id="RF-L")
    assert stored.line(line_number=2).quantity_cancelled_by_service == 1  # type: ignore[union-attr]

    assert merge_into(stored, document(financial_status=FinancialStatus.AUTHORIZED), now=LATER).outcome is (
        UpsertOutcome.UNCHANGED)
    rejected(stored, document(financial_status=FinancialStatus.AUTHORIZED, lines=default_lines()[:1]),
             UpsertReasonCode.LINE_CANCELLED, "Lines")


def delivered_document() -> Order:
    order = mark_shipped(document())
    order.status = OrderStatus.DELIVERED
    order.shipments[0].status = ShipmentStatus.DELIVERED
    order.shipments[0].delivered_at = NOW - timedelta(days=2)
    for line in order.lines:
        line.status = LineStatus.DELIVERED
    return order


def test_a_return_opened_by_the_action_is_kept_with_its_returned_quantity() -> None:
    stored = delivered_document()
    decision = stored.create_return((by_number(1, 1),), reason=ReturnReason.SIZE, now=NOW, window=timedelta(days=30),
                                    request_id="r-ret", return_id="RMA-1")
    assert decision.outcome.value != "REJECTED"
    before = state(stored)

    assert merge_into(stored, delivered_document(), now=LATER).outcome is UpsertOutcome.UNCHANGED
    assert state(stored) == before
    assert [(r.return_id, r.origin) for r in stored.returns] == [("RMA-1", Origin.SERVICE)]
    assert stored.line(line_number=1).quantity_returned == 1  # type: ignore[union-attr]


def test_a_line_with_replaced_items_cannot_be_removed() -> None:
    stored = mark_shipped(document())
    decision = stored.issue_replacement((by_number(2, 1),), reason=ReplacementReason.DAMAGED, now=NOW,
                                        request_id="r-repl", replacement_number="ORD-1001-R1")
    assert decision.outcome.value != "REJECTED"
    incoming = mark_shipped(document(lines=default_lines()[:1]))

    rejected(stored, incoming, UpsertReasonCode.LINE_REPLACED, "Lines", "line 2 was replaced through the service and must stay")
    assert merge_into(stored, mark_shipped(document()), now=LATER).outcome is not UpsertOutcome.REJECTED
    assert stored.replacement_order_numbers == ["ORD-1001-R1"]


def test_a_return_the_service_refunded_is_not_reopened_by_a_document_that_has_not_caught_up() -> None:
    """Else the same returned items could be refunded a second time."""
    stored = delivered_document()
    stored.create_return((by_number(1, 1),), reason=ReturnReason.SIZE, now=NOW, window=timedelta(days=30),
                         request_id="r-ret", return_id="RMA-2")
    for step, refund_id in ((ReturnUpdate.RECEIVED, "RF-X"), (ReturnUpdate.REFUNDED, "RF-2")):
        decision = stored.update_return("RMA-2", step, now=NOW, request_id=f"r-{step.value}", refund_id=refund_id)
        assert decision.outcome.value != "REJECTED", decision.message
    stale = delivered_document()
    stale.returns.append(Return("RMA-2", ReturnStatus.RECEIVED, NOW, "Too small", items=[ReturnItem("SKU-A", 1)]))

    merge_into(stored, stale, now=LATER)

    assert stored.returns[0].status is ReturnStatus.REFUNDED
    again = stored.update_return("RMA-2", ReturnUpdate.REFUNDED, now=LATER, request_id="r-again", refund_id="RF-3")
    assert again.outcome.value == "REJECTED"
    assert [r.refund_id for r in stored.refunds] == ["RF-2"]


def test_a_return_the_service_rejected_does_not_count_its_items_as_returned_after_a_merge() -> None:
    stored = delivered_document()
    stored.create_return((by_number(1, 2),), reason=ReturnReason.SIZE, now=NOW, window=timedelta(days=30),
                         request_id="r-ret", return_id="RMA-3")
    stored.update_return("RMA-3", ReturnUpdate.REJECTED, now=NOW, request_id="r-rej", refund_id="RF-unused")
    assert stored.line(line_number=1).quantity_returned == 0  # type: ignore[union-attr]

    incoming = delivered_document()
    incoming.expected_delivery_date = (NOW + timedelta(days=9)).date()
    merge_into(stored, incoming, now=LATER)

    assert stored.line(line_number=1).quantity_returned == 0  # type: ignore[union-attr]


def test_two_returns_made_through_the_service_of_one_line_both_stay_counted_after_a_merge() -> None:
    stored = delivered_document()
    for return_id in ("RMA-1", "RMA-2"):
        decision = stored.create_return((by_number(1, 1),), reason=ReturnReason.SIZE, now=NOW,
                                        window=timedelta(days=30), request_id=f"r-{return_id}", return_id=return_id)
        assert decision.outcome.value != "REJECTED", decision.message
    assert stored.line(line_number=1).quantity_returned == 2  # type: ignore[union-attr]

    merge_into(stored, delivered_document(), now=LATER)  # the ERP has not heard of either

    assert stored.line(line_number=1).quantity_returned == 2  # type: ignore[union-attr]


@pytest.mark.parametrize("by", ["line number", "SKU", "line number, with another line's SKU"])
def test_an_erp_return_of_line_2_the_service_rejected_is_not_counted_by_a_document_not_caught_up(by: str) -> None:
    """The ERP's return of line 2's item (named by its line number, or by its SKU alone; a line
    number wins over a SKU that disagrees, as in UpdateReturn) was rejected through the service;
    the ERP's next document still counts it as returned."""
    def with_return() -> Order:
        order = delivered_document()
        item = {"line number": ReturnItem("SKU-B", 1, line_number=2), "SKU": ReturnItem("SKU-B", 1),
                "line number, with another line's SKU": ReturnItem("SKU-A", 1, line_number=2)}[by]
        order.returns.append(Return("RT-E2", ReturnStatus.RECEIVED, NOW - timedelta(days=1), "Too small",
                                    items=[item]))
        order.lines[1].quantity_returned = 1
        return order

    stored = with_return()
    decision = stored.update_return("RT-E2", ReturnUpdate.REJECTED, now=NOW, request_id="r-rej", refund_id="RF-X")
    assert decision.outcome.value == "RETURN_UPDATED", decision.message
    assert [line.quantity_returned for line in stored.lines] == [0, 0]

    merge_into(stored, with_return(), now=LATER)

    assert [line.quantity_returned for line in stored.lines] == [0, 0]
    assert stored.returns[0].status is ReturnStatus.REJECTED


@pytest.mark.parametrize(("rejected_ids", "still_returned"), [(("RT-E1", "RT-E2"), 0), (("RT-E1",), 1)])
def test_erp_returns_of_one_line_the_service_rejected_are_each_taken_back(rejected_ids: tuple[str, ...],
                                                                         still_returned: int) -> None:
    """Two ERP returns of one SKU-A of line 1 each; the service rejects one or both; the ERP's next
    document still counts both as returned: line 1 counts only those not rejected."""
    def with_returns() -> Order:
        order = delivered_document()
        for return_id in ("RT-E1", "RT-E2"):
            order.returns.append(Return(return_id, ReturnStatus.RECEIVED, NOW - timedelta(days=1), "Too small",
                                        items=[ReturnItem("SKU-A", 1, line_number=1)]))
        order.lines[0].quantity_returned = 2
        return order

    stored = with_returns()
    for return_id in rejected_ids:
        decision = stored.update_return(return_id, ReturnUpdate.REJECTED, now=NOW, request_id=f"r-{return_id}",
                                        refund_id=f"RF-{return_id}")
        assert decision.outcome.value == "RETURN_UPDATED", decision.message

    merge_into(stored, with_returns(), now=LATER)

    assert stored.line(line_number=1).quantity_returned == still_returned  # type: ignore[union-attr]


def test_a_line_the_erp_adds_is_stored_as_it_sent_it() -> None:
    stored = document()
    merge_into(stored, document(lines=[*default_lines(), make_line(3, "SKU-C", 1, "1.00")]), now=LATER)
    added = stored.line(line_number=3)
    assert added is not None
    assert (added.quantity, added.quantity_cancelled, added.status) == (1, 0, LineStatus.PENDING)


def test_a_line_refunded_in_full_through_the_service_keeps_its_quantity_in_the_next_document() -> None:
    stored = document()
    refund(stored, lines=(by_number(1, 2),))
    result = merge_into(stored, document(), now=LATER)
    assert result.outcome is not UpsertOutcome.REJECTED, result.message
    assert stored.line(line_number=1).quantity_refunded == 2  # type: ignore[union-attr]


def test_items_a_recorded_shipment_carried_stay_shipped_when_a_document_has_not_caught_up() -> None:
    """Else the same items could be shipped, or cancelled and refunded, again."""
    stored = document(status=OrderStatus.PROCESSING)
    decision = stored.record_shipment(
        Shipment("SH-1", ShipmentStatus.IN_TRANSIT, shipped_at=NOW, items=[ShipmentItem("SKU-B", 1)]),
        now=NOW, request_id="r-ship")
    assert decision.outcome.value != "REJECTED", decision.message
    assert stored.line(line_number=2).quantity_shipped == 1  # type: ignore[union-attr]

    merge_into(stored, document(status=OrderStatus.PROCESSING), now=LATER)

    assert stored.line(line_number=2).quantity_shipped == 1  # type: ignore[union-attr]
    again = stored.record_shipment(
        Shipment("SH-2", ShipmentStatus.IN_TRANSIT, shipped_at=LATER, items=[ShipmentItem("SKU-B", 1)]),
        now=LATER, request_id="r-ship-2")
    assert again.outcome.value == "REJECTED", again.message


# ---------------------------------------------------------------------- returns that came from the ERP


def erp_return_document(status: ReturnStatus = ReturnStatus.RECEIVED, *, expected_delivery: int = 0) -> Order:
    """The delivered order as the ERP sends it, with its own return RT-E1 of one SKU-A in ``status``."""
    order = delivered_document()
    order.expected_delivery_date = (NOW + timedelta(days=expected_delivery)).date()
    order.returns.append(Return("RT-E1", status, NOW - timedelta(days=1), "Too small",
                                items=[ReturnItem("SKU-A", 1, line_number=1)]))
    if status not in (ReturnStatus.REJECTED, ReturnStatus.CANCELLED):
        order.lines[0].quantity_returned = 1
    return order


def refund_possible(order: Order, return_id: str) -> bool:
    """Would UpdateReturn REFUNDED of the return issue money now? (tried on a copy)"""
    trial = copy.deepcopy(order)
    decision = trial.update_return(return_id, ReturnUpdate.REFUNDED, now=LATER, request_id="r-try",
                                   refund_id="RF-TRY")
    return decision.refund is not None


@pytest.mark.parametrize("settled", [ReturnUpdate.REJECTED, ReturnUpdate.REFUNDED])
@pytest.mark.parametrize("unrelated_change", [False, True], ids=["same-copy", "with-another-change"])
def test_an_erp_return_the_service_settled_is_not_reopened_by_the_erp_earlier_copy(
    settled: ReturnUpdate, unrelated_change: bool
) -> None:
    """The ERP reported RT-E1 as RECEIVED; UpdateReturn settled it; the ERP sends its earlier copy
    again: the return keeps the service's outcome and cannot be refunded (again)."""
    stored = erp_return_document()
    decision = stored.update_return("RT-E1", settled, now=NOW, request_id="r-settle", refund_id="RF-E1")
    assert decision.outcome.value == "RETURN_UPDATED", decision.message
    refunds = [(r.refund_id, r.amount) for r in stored.refunds]
    outcome = {r.return_id: (r.status, r.warehouse_status, r.refund_status) for r in stored.returns}

    result = merge_into(stored, erp_return_document(expected_delivery=3 if unrelated_change else 0), now=LATER)

    assert result.outcome is (UpsertOutcome.UPDATED if unrelated_change else UpsertOutcome.UNCHANGED)
    assert {r.return_id: (r.status, r.warehouse_status, r.refund_status) for r in stored.returns} == outcome
    assert not refund_possible(stored, "RT-E1")
    again = stored.update_return("RT-E1", ReturnUpdate.REFUNDED, now=LATER, request_id="r-again",
                                 refund_id="RF-E2")
    assert (again.outcome.value, again.reason_code.value) == ("REJECTED", "INVALID_TRANSITION")
    assert [(r.refund_id, r.amount) for r in stored.refunds] == refunds
    if settled is ReturnUpdate.REJECTED:
        assert stored.line(line_number=1).quantity_returned == 0  # type: ignore[union-attr]


@pytest.mark.parametrize("ended", [ReturnStatus.REJECTED, ReturnStatus.REFUNDED, ReturnStatus.COMPLETED,
                                   ReturnStatus.CANCELLED])
def test_a_return_the_erp_ended_is_not_reopened_by_its_earlier_copy(ended: ReturnStatus) -> None:
    stored = erp_return_document(ended)
    merge_into(stored, erp_return_document(ReturnStatus.RECEIVED, expected_delivery=2), now=LATER)
    assert stored.returns[0].status is ended
    assert not refund_possible(stored, "RT-E1")


def test_the_erp_may_still_move_its_own_ended_return_to_another_end() -> None:
    stored = erp_return_document(ReturnStatus.REJECTED)
    merge_into(stored, erp_return_document(ReturnStatus.REFUNDED), now=LATER)
    assert stored.returns[0].status is ReturnStatus.REFUNDED


def test_the_erp_changes_the_items_and_reason_of_its_own_open_return() -> None:
    """An ERP return still open is the ERP's: a later document may say it holds other items (a
    second SKU) and give another reason and date, and the stored return and lines follow."""
    stored = erp_return_document(ReturnStatus.REQUESTED)
    incoming = erp_return_document(ReturnStatus.RECEIVED)
    incoming.returns[0].items.append(ReturnItem("SKU-B", 1, line_number=2))
    incoming.returns[0].reason, incoming.returns[0].created_at = "Damaged", NOW
    incoming.lines[1].quantity_returned = 1

    result = merge_into(stored, incoming, now=LATER)

    assert (result.outcome, result.changed) == (UpsertOutcome.UPDATED, ("Lines", "Returns"))
    made = stored.returns[0]
    assert (made.status, made.reason, made.created_at) == (ReturnStatus.RECEIVED, "Damaged", NOW)
    assert [(i.sku, i.quantity, i.line_number) for i in made.items] == [("SKU-A", 1, 1), ("SKU-B", 1, 2)]
    assert [line.quantity_returned for line in stored.lines] == [1, 1]
    # and back to one item: the dropped item is no longer part of the return
    result = merge_into(stored, erp_return_document(ReturnStatus.RECEIVED), now=LATER)
    assert [(i.sku, i.quantity) for i in stored.returns[0].items] == [("SKU-A", 1)]


def test_an_erp_return_the_service_rejected_stays_rejected_when_the_erp_calls_it_completed() -> None:
    """UpdateReturn REJECTED an ERP return; the ERP, not caught up, then reports it COMPLETED (an end
    of its own, from which no refund follows either): the service's outcome stays, and its items
    are still not counted as returned."""
    stored = erp_return_document(ReturnStatus.RECEIVED)
    decision = stored.update_return("RT-E1", ReturnUpdate.REJECTED, now=NOW, request_id="r-rej", refund_id="RF-X")
    assert decision.outcome.value == "RETURN_UPDATED", decision.message

    merge_into(stored, erp_return_document(ReturnStatus.COMPLETED), now=LATER)

    assert stored.returns[0].status is ReturnStatus.REJECTED
    assert stored.line(line_number=1).quantity_returned == 0  # type: ignore[union-attr]


@pytest.mark.parametrize("amount", ["0.50", "5.00"])
def test_an_erp_refund_of_any_amount_may_not_be_marked_failed(amount: str) -> None:
    stored = document(refunds=[make_refund(amount, refund_id="ERP-1")])
    incoming = document(refunds=[make_refund(amount, RefundStatus.FAILED, "ERP-1")])
    rejected(stored, incoming, UpsertReasonCode.REFUND_REDUCED, "Refunds[1].Status")


def test_a_failed_erp_refund_of_less_than_one_unit_may_complete_later() -> None:
    stored = document(refunds=[make_refund("0.50", RefundStatus.FAILED, "ERP-1")])
    result = merge_into(stored, document(refunds=[make_refund("0.50", refund_id="ERP-1")]), now=LATER)
    assert result.outcome is UpsertOutcome.UPDATED
    assert [(r.amount, r.status) for r in stored.refunds] == [(Decimal("0.50"), RefundStatus.COMPLETED)]


def test_the_erp_moves_an_item_of_its_return_to_another_line_of_the_same_sku() -> None:
    """Two lines of SKU-A; the ERP's return first says line 1, then corrects it to line 3: the
    return's item and the lines' returned quantities follow the correction."""
    def order_with_two_lines_of_sku_a(returned_from: int) -> Order:
        order = delivered_document()
        order.lines.append(make_line(3, "SKU-A", 1, "10.00", status=LineStatus.DELIVERED, quantity_shipped=1))
        order.subtotal, order.total = order.subtotal + 10, order.total + 10
        order.shipments[0].items[0].quantity = 3
        order.returns.append(Return("RT-E1", ReturnStatus.RECEIVED, NOW - timedelta(days=1), "Too small",
                                    items=[ReturnItem("SKU-A", 1, line_number=returned_from)]))
        order.line(line_number=returned_from).quantity_returned = 1  # type: ignore[union-attr]
        return order

    stored = order_with_two_lines_of_sku_a(1)
    assert merge_into(stored, order_with_two_lines_of_sku_a(1), now=LATER).outcome is UpsertOutcome.UNCHANGED

    result = merge_into(stored, order_with_two_lines_of_sku_a(3), now=LATER)

    assert (result.outcome, result.changed) == (UpsertOutcome.UPDATED, ("Lines", "Returns"))
    assert [(i.sku, i.quantity, i.line_number) for i in stored.returns[0].items] == [("SKU-A", 1, 3)]
    assert [(line.line_number, line.quantity_returned) for line in stored.lines] == [(1, 0), (2, 0), (3, 1)]


def test_the_erp_corrects_what_a_parcel_carries_and_the_answer_names_the_parts_that_changed() -> None:
    stored = mark_shipped(document())
    incoming = mark_shipped(document())
    incoming.shipments[0].items = [ShipmentItem("SKU-B", 1), ShipmentItem("SKU-A", 1)]
    incoming.lines[0].quantity_shipped, incoming.lines[0].status = 1, LineStatus.PROCESSING
    incoming.status = OrderStatus.PARTIALLY_SHIPPED

    result = merge_into(stored, incoming, now=LATER)

    assert result.outcome is UpsertOutcome.UPDATED
    assert set(result.changed) == {"Shipments", "Lines", "Status"}
    assert [(i.sku, i.quantity) for i in stored.shipments[0].items] == [("SKU-B", 1), ("SKU-A", 1)]
    assert [line.quantity_shipped for line in stored.lines] == [1, 1]
    assert stored.status is OrderStatus.PARTIALLY_SHIPPED


def test_a_document_cannot_claim_the_service_settled_a_return() -> None:
    incoming = erp_return_document()
    incoming.returns[0].settled_by = Origin.SERVICE
    stored = erp_return_document(ReturnStatus.REQUESTED)
    merge_into(stored, incoming, now=LATER)
    assert (stored.returns[0].status, stored.returns[0].settled_by) == (ReturnStatus.RECEIVED, None)


#: The ways an ERP moves a return on, each document a step later than the one before.
_RETURN_PATHS = (
    (ReturnStatus.REQUESTED, ReturnStatus.IN_TRANSIT, ReturnStatus.RECEIVED, ReturnStatus.INSPECTED,
     ReturnStatus.REFUNDED),
    (ReturnStatus.REQUESTED, ReturnStatus.LABEL_CREATED, ReturnStatus.RECEIVED, ReturnStatus.REJECTED),
    (ReturnStatus.REQUESTED, ReturnStatus.RECEIVED, ReturnStatus.COMPLETED),
    (ReturnStatus.REQUESTED, ReturnStatus.CANCELLED),
)


@st.composite
def erp_return_history(draw: st.DrawFn) -> list[Order]:
    """Successive documents of one delivered order, its return RT-E1 moving on and, at some step, an
    ERP refund of it that later documents may report settled."""
    path = draw(st.sampled_from(_RETURN_PATHS))
    steps = path[: draw(st.integers(1, len(path)))]
    refund_from = draw(st.integers(0, len(steps)))
    documents = []
    for index, status in enumerate(steps):
        document_ = erp_return_document(status, expected_delivery=index)
        if index >= refund_from and status is ReturnStatus.REFUNDED:
            document_.refunds.append(make_refund("10.00", RefundStatus.COMPLETED, "ERP-RT-E1"))
        documents.append(document_)
    return documents


#: What the service may do between two documents: move a return on, or refund money.
_SERVICE_ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("update_return"), st.integers(0, 2), st.sampled_from(list(ReturnUpdate))),
        st.tuples(st.just("create_return"), st.just(None), st.just(None)),
        st.tuples(st.just("refund"), st.sampled_from(["1.00", "5.00"]), st.just(None)),
    ),
    max_size=5,
)


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(erp_return_history(), _SERVICE_ACTIONS, st.data())
def test_no_earlier_erp_document_re_enables_money_that_was_refused_or_settled(
    history: list[Order], actions: list[tuple[str, str, Any]], data: st.DataObject
) -> None:
    """For every service action and every return and refund status: merging any earlier document of
    the ERP never makes a refused or settled return refundable, lowers what was refunded, raises what
    may still be refunded, or undoes an outcome the service set."""
    note(f"history: {[d.returns[0].status.value for d in history]}, refunds {[len(d.refunds) for d in history]}")
    stored = copy.deepcopy(history[-1])
    for number, (action, subject, step) in enumerate(actions):
        if action == "update_return":  # of the ERP's return or one the service opened
            subject = stored.returns[subject % len(stored.returns)].return_id
            decision = stored.update_return(subject, step, now=NOW, request_id=f"r-{number}", refund_id=f"RF-S{number}")
            note(f"{action} {subject} {step.value}: {decision.outcome.value}")
        elif action == "create_return":
            decision = stored.create_return((by_number(1, 1),), reason=ReturnReason.SIZE, now=NOW,
                                            window=timedelta(days=30), request_id=f"r-{number}",
                                            return_id=f"RMA-S{number}")
            note(f"{action}: {decision.outcome.value}")
        else:
            decision = refund(stored, refund_id=f"RF-S{number}", amount=subject, request_id=f"r-{number}")
            note(f"{action} {subject}: {decision.outcome.value}")
    stored.events.clear()
    ids = [r.return_id for r in stored.returns]
    refused = {rid for rid in ids if not refund_possible(stored, rid)}
    by_service = {r.return_id: (r.status, r.warehouse_status, r.refund_status) for r in stored.returns
                  if r.settled_by is Origin.SERVICE or (r.origin is Origin.SERVICE and r.status in (
                      ReturnStatus.REFUNDED, ReturnStatus.REJECTED))}
    refunded, refundable = stored.refunded_amount, stored.refundable_amount
    refunds = {r.refund_id: (r.amount, r.counts) for r in stored.refunds}

    for earlier in data.draw(st.lists(st.sampled_from(history), min_size=1, max_size=3)):
        note(f"merging the document with RT-E1 {earlier.returns[0].status.value}")
        merge_into(stored, copy.deepcopy(earlier), now=LATER)

        assert {rid for rid in refused if refund_possible(stored, rid)} == set()
        assert {r.return_id: (r.status, r.warehouse_status, r.refund_status) for r in stored.returns
                if r.return_id in by_service} == by_service
        assert stored.refunded_amount >= refunded and stored.refundable_amount <= refundable
        assert all(refunds[rid] == (r.amount, r.counts) for r in stored.refunds if (rid := r.refund_id) in refunds)
        stored.check()
