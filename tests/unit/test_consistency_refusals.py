"""What the ERP reads when ``domain.consistency`` refuses a record: the reason code, the field and
the whole message of the upsert's result, for every rule; and which customer an update may name."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from soap_orders.domain.merge import (
    MergeResult,
    UpsertOutcome,
    UpsertReasonCode,
    accept_new,
    merge_into,
)
from soap_orders.domain.orders import (
    Address,
    Customer,
    LineStatus,
    Order,
    OrderStatus,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
)
from tests.unit.factories import NOW, make_line, make_order, snapshot


def parcel(shipment_id: str, status: ShipmentStatus, *items: tuple[str, int]) -> Shipment:
    return Shipment(shipment_id, status, items=[ShipmentItem(sku, quantity) for sku, quantity in items])


def created(document: Order) -> MergeResult:
    return accept_new(document, now=NOW)


def shipped(status: OrderStatus, *parcels: Shipment, **order) -> MergeResult:
    document = make_order(status=status, **order)
    document.shipments.extend(parcels)
    return created(document)


def in_country(code: str) -> MergeResult:
    return created(make_order(shipping_address=Address("Ann", "1 High St", city="London", country_code=code)))


def update(**document) -> MergeResult:
    return merge_into(make_order(), make_order(**document), now=NOW)


def stored_with_a_parcel_of_sku_b() -> Order:
    """An order stored with one parcel, of its line 2 (SKU-B), that later documents leave out."""
    stored = make_order()
    stored.shipments.append(parcel("SH-1", ShipmentStatus.IN_TRANSIT, ("SKU-A", 2), ("SKU-B", 1)))
    assert created(stored).accepted
    return stored


def without_line_2() -> MergeResult:
    document = make_order(lines=[make_line(1, "SKU-A", 2, "10.00")])
    return merge_into(stored_with_a_parcel_of_sku_b(), document, now=NOW)


def with_line_1_lowered() -> MergeResult:
    document = make_order(lines=[make_line(1, "SKU-A", 1, "10.00"), make_line(2, "SKU-B", 1, "15.50")])
    return merge_into(stored_with_a_parcel_of_sku_b(), document, now=NOW)


IN_TRANSIT, DELIVERED = ShipmentStatus.IN_TRANSIT, ShipmentStatus.DELIVERED
SHIPPED_LINE = {"status": LineStatus.SHIPPED, "quantity_shipped": 2}

#: (how the record is made, the reason code, the message the ERP reads).
REFUSALS: dict[str, tuple[Callable[[], MergeResult], UpsertReasonCode, str]] = {
    "country UK": (lambda: in_country("UK"), UpsertReasonCode.INVALID_COUNTRY,
                   "ShippingAddress.CountryCode: must be an ISO 3166-1 alpha-2 code (the United Kingdom is GB)"),
    "country EL": (lambda: in_country("EL"), UpsertReasonCode.INVALID_COUNTRY,
                   "ShippingAddress.CountryCode: must be an ISO 3166-1 alpha-2 code (use GR)"),
    "country XX": (lambda: in_country("XX"), UpsertReasonCode.INVALID_COUNTRY,
                   "ShippingAddress.CountryCode: must be an ISO 3166-1 alpha-2 code such as GB"),
    "unknown SKU": (lambda: shipped(OrderStatus.SHIPPED, parcel("SH-1", IN_TRANSIT, ("SKU-A", 2), ("SKU-Z", 1))),
                    UpsertReasonCode.UNKNOWN_SKU,
                    "Shipments[1].Items[2].Sku: a parcel carries a SKU that is on no line of the order"),
    "unknown SKU, stored parcel": (without_line_2, UpsertReasonCode.UNKNOWN_SKU,
                                   "Lines: a parcel carries a SKU that is on no line of the order"),
    "line shipped beyond ordered": (
        lambda: created(make_order(lines=[make_line(1, "SKU-A", 3, quantity_cancelled=2, quantity_shipped=2)])),
        UpsertReasonCode.EXCEEDS_ORDERED, "Lines[1].QuantityShipped: is more than the line's Quantity not cancelled"),
    "parcels beyond ordered": (
        lambda: shipped(OrderStatus.SHIPPED, parcel("SH-1", IN_TRANSIT, ("SKU-A", 2)),
                        lines=[make_line(1, "SKU-A", 3, quantity_cancelled=2)]),
        UpsertReasonCode.EXCEEDS_ORDERED,
        "Shipments[1].Items[1].Quantity: the parcels carry more of a SKU than its lines ordered and did not cancel"),
    "stored parcel beyond ordered": (
        with_line_1_lowered, UpsertReasonCode.EXCEEDS_ORDERED,
        "Lines: the parcels carry more of a SKU than its lines ordered and did not cancel"),
    "cancelled line in a parcel": (
        lambda: shipped(OrderStatus.PROCESSING, parcel("SH-1", IN_TRANSIT, ("SKU-A", 1)),
                        lines=[make_line(1, "SKU-A", 2, status=LineStatus.CANCELLED)]),
        UpsertReasonCode.EXCEEDS_ORDERED, "Lines[1].Status: says CANCELLED, but parcels carry items of the line"),
    "line quantity ahead": (
        lambda: shipped(OrderStatus.PARTIALLY_SHIPPED, parcel("SH-1", IN_TRANSIT, ("SKU-A", 1)),
                        lines=[make_line(1, "SKU-A", 2, quantity_shipped=2)]),
        UpsertReasonCode.AHEAD_OF_PARCELS, "Lines[1].QuantityShipped: is more than the order's parcels carry of the line"),
    "line status ahead": (
        lambda: shipped(OrderStatus.PARTIALLY_SHIPPED, parcel("SH-1", IN_TRANSIT, ("SKU-A", 1)),
                        lines=[make_line(1, "SKU-A", 2, status=LineStatus.SHIPPED, quantity_shipped=1)]),
        UpsertReasonCode.AHEAD_OF_PARCELS,
        "Lines[1].Status: says shipped, but the order's parcels do not carry all of the line"),
    "line delivered ahead": (
        lambda: shipped(OrderStatus.SHIPPED, parcel("SH-1", IN_TRANSIT, ("SKU-A", 2)),
                        lines=[make_line(1, "SKU-A", 2, status=LineStatus.DELIVERED, quantity_shipped=2)]),
        UpsertReasonCode.AHEAD_OF_PARCELS,
        "Lines[1].Status: says delivered, but not every parcel carrying the line was delivered"),
    "shipped with nothing shipped": (
        lambda: shipped(OrderStatus.SHIPPED), UpsertReasonCode.AHEAD_OF_PARCELS,
        "Status: says the order shipped, but no parcel (nor line) carries any of its items"),
    "delivered ahead": (
        lambda: shipped(OrderStatus.DELIVERED, parcel("SH-1", IN_TRANSIT, ("SKU-A", 2), ("SKU-B", 1))),
        UpsertReasonCode.AHEAD_OF_PARCELS,
        "Status: says DELIVERED, but not every parcel carrying its items was delivered"),
    "shipped ahead": (
        lambda: shipped(OrderStatus.SHIPPED, parcel("SH-1", DELIVERED, ("SKU-A", 2))),
        UpsertReasonCode.AHEAD_OF_PARCELS, "Status: says SHIPPED, but the parcels carry only part of its items"),
    "another currency": (lambda: update(currency="GBP"), UpsertReasonCode.IDENTITY_CHANGED,
                         "Currency: differs from the stored order's"),
    "another customer": (
        lambda: update(customer=Customer("bo@example.com", "Bo", "Brown")), UpsertReasonCode.IDENTITY_CHANGED,
        "Customer: is another customer (both Email and name differ from the stored order's)"),
    "other lines": (
        lambda: update(lines=[make_line(1, "SKU-Q", 2, "10.00"), make_line(2, "SKU-R", 1, "15.50")]),
        UpsertReasonCode.IDENTITY_CHANGED, "Lines: share no SKU with the stored order's lines"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_each_refusal_names_the_field_and_says_what_is_wrong(case):
    make, code, message = REFUSALS[case]
    result = make()
    assert (result.outcome, result.reason_code) == (UpsertOutcome.REJECTED, code)
    assert result.message == message + "; the order was not changed."
    assert result.field == message.split(":")[0]


def test_a_refused_update_leaves_the_stored_parcel_and_lines_as_they_were():
    stored = stored_with_a_parcel_of_sku_b()
    before = snapshot(stored)
    document = make_order(lines=[make_line(1, "SKU-A", 2, "10.00")])
    assert merge_into(stored, document, now=NOW).reason_code is UpsertReasonCode.UNKNOWN_SKU
    assert snapshot(stored) == before


# ---------------------------------------------------------------------- which customer


def update_customer(stored: Customer, incoming: Customer) -> MergeResult:
    return merge_into(make_order(customer=stored), make_order(customer=incoming), now=NOW)


def test_a_new_email_with_another_first_name_is_another_customer():
    result = update_customer(Customer("ada@example.com", "Ada", "Lovelace"),
                             Customer("augusta@example.com", "Augusta", "Lovelace"))
    assert (result.reason_code, result.field) == (UpsertReasonCode.IDENTITY_CHANGED, "Customer")


def test_a_new_email_with_the_same_names_in_another_case_is_the_same_customer():
    result = update_customer(Customer("ada@example.com", "Ada", "Lovelace"),
                             Customer("ada.new@example.com", " ADA ", "lovelace "))
    assert result.outcome is UpsertOutcome.UPDATED


def test_without_a_last_name_a_first_name_alone_does_not_keep_the_customer():
    result = update_customer(Customer("ada@example.com", "Ada", None), Customer("someone@example.com", "Ada", None))
    assert (result.reason_code, result.field) == (UpsertReasonCode.IDENTITY_CHANGED, "Customer")
    result = update_customer(Customer("ada@example.com", "Ada", None), Customer("ada@example.com", "Bo", None))
    assert result.outcome is UpsertOutcome.UPDATED  # the same Email is the same customer


@pytest.mark.parametrize("first_name", ["Ada", "XXXX", " xxxx "])
def test_a_first_name_where_the_stored_order_had_none_is_another_name(first_name):
    """No first name and any first name differ, whatever that name is; with a new Email as well, the
    update is another customer. Both without a first name is the same name."""
    result = update_customer(Customer("lovelace@example.com", None, "Lovelace"),
                             Customer("someone@example.com", first_name, "Lovelace"))
    assert (result.reason_code, result.field) == (UpsertReasonCode.IDENTITY_CHANGED, "Customer")
    result = update_customer(Customer("someone@example.com", first_name, "Lovelace"),
                             Customer("lovelace@example.com", None, "Lovelace"))
    assert (result.reason_code, result.field) == (UpsertReasonCode.IDENTITY_CHANGED, "Customer")
    result = update_customer(Customer("lovelace@example.com", None, "Lovelace"),
                             Customer("someone@example.com", None, " LOVELACE"))
    assert result.outcome is UpsertOutcome.UPDATED
