"""Consistency on the way in (``domain.consistency``): a record's parcels must fit its lines, what
it says of its line state may lag behind its parcels but never be ahead of them, its country code
is ISO 3166-1; and, for random ERP documents, the stored line state is what their parcels say."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soap_orders.domain.consistency import Inconsistent, Rule, check_country, reconcile
from soap_orders.domain.merge import (
    UpsertOutcome,
    UpsertReasonCode,
    accept_new,
    merge_into,
)
from soap_orders.domain.orders import (
    Address,
    LineStatus,
    OrderStatus,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
)
from tests.examples import examples
from tests.unit.factories import NOW, make_line, make_order

CONSISTENCY_CODES = {UpsertReasonCode(rule.value) for rule in Rule}


def parcel(shipment_id: str, status: ShipmentStatus, *items: tuple[str, int]) -> Shipment:
    return Shipment(shipment_id, status, items=[ShipmentItem(sku, quantity) for sku, quantity in items])


def refusal(order) -> tuple[Rule, str]:
    with pytest.raises(Inconsistent) as caught:
        reconcile(order, order)
    return caught.value.rule, caught.value.field


@pytest.mark.parametrize(("code", "hint"), [("UK", "GB"), ("XX", "GB"), ("EL", "GR")])
def test_a_country_code_outside_iso_3166_is_refused_with_a_hint(code, hint):
    order = make_order(shipping_address=Address("Ann", "1 High St", city="London", country_code=code))
    with pytest.raises(Inconsistent) as caught:
        check_country(order)
    assert (caught.value.rule, caught.value.field) == (Rule.INVALID_COUNTRY, "ShippingAddress.CountryCode")
    assert hint in caught.value.problem and code not in caught.value.problem.replace("United Kingdom", "")


def test_an_iso_country_code_or_none_passes():
    check_country(make_order(shipping_address=Address(country_code="GB")))
    check_country(make_order(shipping_address=None))


def test_a_parcel_of_a_sku_on_no_line_is_refused_by_its_path():
    order = make_order(status=OrderStatus.SHIPPED)
    order.shipments.append(parcel("SH-1", ShipmentStatus.IN_TRANSIT, ("SKU-A", 2), ("SKU-Z", 1)))
    assert refusal(order) == (Rule.UNKNOWN_SKU, "Shipments[1].Items[2].Sku")


def test_parcels_carrying_more_than_ordered_and_not_cancelled_are_refused():
    order = make_order(lines=[make_line(1, "SKU-A", 3, quantity_cancelled=2)], status=OrderStatus.SHIPPED)
    order.shipments.append(parcel("SH-1", ShipmentStatus.IN_TRANSIT, ("SKU-A", 2)))
    assert refusal(order) == (Rule.EXCEEDS_ORDERED, "Shipments[1].Items[1].Quantity")


def test_shipped_and_cancelled_beyond_the_quantity_is_refused():
    order = make_order(lines=[make_line(1, "SKU-A", 3, quantity_cancelled=2, quantity_shipped=2)])
    assert refusal(order) == (Rule.EXCEEDS_ORDERED, "Lines[1].QuantityShipped")


def test_a_cancelled_line_that_parcels_carry_is_refused():
    order = make_order(lines=[make_line(1, "SKU-A", 2, status=LineStatus.CANCELLED)])
    order.shipments.append(parcel("SH-1", ShipmentStatus.IN_TRANSIT, ("SKU-A", 1)))
    assert refusal(order) == (Rule.EXCEEDS_ORDERED, "Lines[1].Status")


@pytest.mark.parametrize("status", [OrderStatus.SHIPPED, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.DELIVERED])
def test_a_shipped_order_with_nothing_to_show_for_it_is_refused(status):
    assert refusal(make_order(status=status)) == (Rule.AHEAD_OF_PARCELS, "Status")


def test_an_order_claiming_more_than_its_parcels_show_is_refused():
    order = make_order(status=OrderStatus.SHIPPED)
    order.shipments.append(parcel("SH-1", ShipmentStatus.DELIVERED, ("SKU-A", 2)))
    assert refusal(order) == (Rule.AHEAD_OF_PARCELS, "Status")  # SKU-B is in no parcel


def test_a_line_claiming_more_than_its_parcels_show_is_refused():
    order = make_order(lines=[make_line(1, "SKU-A", 2, quantity_shipped=2)], status=OrderStatus.PARTIALLY_SHIPPED)
    order.shipments.append(parcel("SH-1", ShipmentStatus.IN_TRANSIT, ("SKU-A", 1)))
    assert refusal(order) == (Rule.AHEAD_OF_PARCELS, "Lines[1].QuantityShipped")
    order.lines[0].quantity_shipped, order.lines[0].status = 1, LineStatus.SHIPPED
    assert refusal(order) == (Rule.AHEAD_OF_PARCELS, "Lines[1].Status")
    order.lines[0].status = LineStatus.DELIVERED
    order.shipments[0].items[0].quantity = 2
    order.status = OrderStatus.SHIPPED
    assert refusal(order) == (Rule.AHEAD_OF_PARCELS, "Lines[1].Status")


def test_what_lags_behind_the_parcels_is_derived_and_named():
    order = make_order(status=OrderStatus.PROCESSING)
    order.shipments.append(parcel("SH-1", ShipmentStatus.DELIVERED, ("SKU-A", 2), ("SKU-B", 1)))
    reconciled = reconcile(order, order)
    assert reconciled.fulfilment.status is OrderStatus.DELIVERED
    assert reconciled.derived == ("Lines[1].QuantityShipped", "Lines[1].Status", "Lines[2].QuantityShipped",
                                  "Lines[2].Status", "Status")


def test_an_order_without_parcels_is_what_its_lines_say():
    order = make_order(lines=[make_line(1, "SKU-A", 2, status=LineStatus.DELIVERED, quantity_shipped=2)],
                       status=OrderStatus.DELIVERED)
    reconciled = reconcile(order, order)
    assert reconciled.derived == () and reconciled.fulfilment.lines[1].delivered == 2


# ---------------------------------------------------------------------- the property


SKUS = ("SKU-A", "SKU-B", "SKU-C")


@st.composite
def erp_documents(draw: st.DrawFn):
    """Documents an ERP might send: lines of one SKU each, some of their items in up to two parcels
    of any status (now and then a parcel of too many items, or of a SKU on no line), and any line
    state and order status reported beside them (mostly the README's: none)."""
    lines = []
    for number, sku in enumerate(draw(st.lists(st.sampled_from(SKUS), min_size=1, max_size=3, unique=True)), 1):
        quantity = draw(st.integers(1, 4))
        reported = draw(st.sampled_from([LineStatus.PENDING] * 6 + list(LineStatus)))
        lines.append(make_line(number, sku, quantity, status=reported,
                               quantity_shipped=draw(st.sampled_from([0, 0, 0, draw(st.integers(0, quantity))])),
                               quantity_cancelled=draw(st.sampled_from([0, 0, 0, 1]))))
    order = make_order(lines=lines, status=draw(st.sampled_from([OrderStatus.PROCESSING] * 6 + list(OrderStatus))))
    parcels: list[list[tuple[str, int]]] = [[], []]
    for line in lines:
        shipped = draw(st.integers(0, line.quantity - line.quantity_cancelled + draw(st.sampled_from([0] * 9 + [1]))))
        first = draw(st.integers(0, shipped))
        for items, quantity in zip(parcels, (first, shipped - first), strict=True):
            if quantity:
                items.append((line.sku, quantity))
    if draw(st.integers(0, 9)) == 0:
        parcels[1].append(("SKU-X", 1))
    for index, items in enumerate(parcels):
        if items:
            order.shipments.append(parcel(f"SH-{index}", draw(st.sampled_from(list(ShipmentStatus))), *items))
    return order


@settings(max_examples=examples(400), deadline=None)
@given(erp_documents())
def test_the_line_state_stored_from_any_document_is_what_its_parcels_say(document):
    had_parcels = bool(document.shipments)
    result = accept_new(document, now=NOW)
    if not result.accepted:
        assert result.reason_code in CONSISTENCY_CODES | {UpsertReasonCode.INVALID_DOCUMENT}
        assert result.field
        return
    carried: Counter[str] = Counter()
    arrived: Counter[str] = Counter()
    for shipment in document.shipments:
        for item in shipment.items:
            carried[item.sku] += item.quantity
            if shipment.status is ShipmentStatus.DELIVERED:
                arrived[item.sku] += item.quantity
    for line in document.lines:
        wanted = line.quantity - line.quantity_cancelled
        if had_parcels:
            assert line.quantity_shipped == carried[line.sku]
        assert document.delivered_quantity(line) <= line.quantity_shipped <= wanted
        if had_parcels:
            assert document.delivered_quantity(line) == min(arrived[line.sku], line.quantity_shipped)
        if wanted == 0:
            assert line.status is LineStatus.CANCELLED
        elif line.quantity_shipped < wanted:
            assert line.status not in (LineStatus.SHIPPED, LineStatus.DELIVERED, LineStatus.RETURNED)
        elif document.delivered_quantity(line) < wanted:
            assert line.status is LineStatus.SHIPPED
        else:
            assert line.status in (LineStatus.DELIVERED, LineStatus.RETURNED)
    open_lines = [line for line in document.lines if line.status is not LineStatus.CANCELLED]
    if document.status is not OrderStatus.CANCELLED and open_lines:
        shipped = [line.quantity_shipped == line.quantity - line.quantity_cancelled for line in open_lines]
        if all(line.status in (LineStatus.DELIVERED, LineStatus.RETURNED) for line in open_lines):
            assert document.status is OrderStatus.DELIVERED
        elif all(shipped):
            assert document.status is OrderStatus.SHIPPED
        elif any(line.quantity_shipped for line in document.lines):
            assert document.status is OrderStatus.PARTIALLY_SHIPPED
        else:
            assert document.status not in (OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.DELIVERED)
    # The document stored is a fixed point: sent again, nothing changes and nothing is derived anew.
    again = merge_into(document, _copy(document), now=NOW)
    assert (again.outcome, again.reason_code) == (UpsertOutcome.UNCHANGED, UpsertReasonCode.NONE)


def _copy(order):
    import copy

    fresh = copy.deepcopy(order)
    fresh.events.clear()
    return fresh


# ---------------------------------------------------------------------- identity


def test_an_update_under_another_orders_number_is_refused_unless_meant():
    from soap_orders.domain.orders import Customer

    stored = make_order()
    other = make_order(currency="GBP", customer=Customer("bo@example.com", "Bo", "Brown"),
                       lines=[make_line(1, "SKU-Q", 1)])
    result = merge_into(stored, other, now=NOW)
    assert (result.outcome, result.reason_code, result.field) == (
        UpsertOutcome.REJECTED, UpsertReasonCode.IDENTITY_CHANGED, "Currency")
    assert stored.currency == "EUR" and [line.sku for line in stored.lines] == ["SKU-A", "SKU-B"]

    meant = make_order(currency="GBP", customer=Customer("bo@example.com", "Bo", "Brown"),
                       lines=[make_line(1, "SKU-Q", 1)], replace_identity=True)
    assert merge_into(stored, meant, now=NOW).outcome is UpsertOutcome.UPDATED
    assert stored.currency == "GBP" and [line.sku for line in stored.lines] == ["SKU-Q"]
    assert stored.replace_identity is False  # the flag is the record's, never the order's


@pytest.mark.parametrize(("change", "field"), [
    ("customer", "Customer"), ("lines", "Lines"), ("currency", "Currency"),
])
def test_each_part_of_the_identity_is_checked(change, field):
    from soap_orders.domain.orders import Customer

    document = make_order()
    if change == "customer":
        document.customer = Customer("bo@example.com", "Bo", "Brown")
    elif change == "lines":
        document = make_order(lines=[make_line(1, "SKU-Q", 2, "10.00"), make_line(2, "SKU-R", 1, "15.50")])
    else:
        document.currency = "GBP"
    result = merge_into(make_order(), document, now=NOW)
    assert (result.reason_code, result.field) == (UpsertReasonCode.IDENTITY_CHANGED, field)


def test_what_an_erp_does_change_is_not_a_new_identity():
    from soap_orders.domain.orders import Customer

    stored = make_order()
    # The customer changed their email address; a line was swapped for another SKU, one added.
    document = make_order(customer=Customer("ada.new@example.com", "Ada", "Lovelace"),
                          lines=[make_line(1, "SKU-A", 2, "10.00"), make_line(2, "SKU-C", 1, "15.50"),
                                 make_line(3, "SKU-D", 1, "1.00")])
    assert merge_into(stored, document, now=NOW).outcome is UpsertOutcome.UPDATED


def test_a_new_order_does_not_keep_the_flag():
    document = make_order(replace_identity=True)
    assert accept_new(document, now=NOW).outcome is UpsertOutcome.CREATED
    assert document.replace_identity is False
