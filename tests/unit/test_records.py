"""order_to_record / order_from_record: the plain-data form of an order and its checks."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from soap_orders.documents.orders import ORDER_NUMBER
from soap_orders.documents.records import (
    NumberOutOfRange,
    RecordError,
    claimed,
    order_from_record,
    order_to_record,
    read_json,
    refund_from_record,
    refund_to_record,
)
from soap_orders.domain.orders import (
    Address,
    Channel,
    Customer,
    FinancialStatus,
    LineStatus,
    OrderStatus,
    OrderType,
    Origin,
    Reason,
    Refund,
    RefundStatus,
    Return,
    ReturnItem,
    ReturnRefundStatus,
    ReturnStatus,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
    WarehouseStatus,
)
from tests.unit.factories import CREATED_AT, NOW, cancel, make_line, make_order, plain

SECRET = "ZZ-SECRET-ZZ"


def rich_order():
    """An order with every optional field filled in, delivered, partly returned and refunded."""
    return make_order(
        order_number="ORD-2002",
        customer=Customer("grace@example.com", "Grace", "Hopper", "+44 20 7946 0000"),
        order_type=OrderType.EXCHANGE,
        channel=Channel.MOBILE_APP,
        status=OrderStatus.DELIVERED,
        financial_status=FinancialStatus.PARTIALLY_REFUNDED,
        shipping_address=Address("Grace Hopper", "1 Main St", "Flat 2", "London", "Greater London", "SW1A 1AA", "GB",
                                 "+44 20 7946 0001"),
        expected_ship_date=date(2026, 1, 11),
        expected_delivery_date=date(2026, 1, 14),
        updated_at=NOW,
        cancelled_at=NOW + timedelta(minutes=1),
        cancel_reason=Reason.OTHER,
        lines=[
            make_line(1, "SKU-A", 2, "10.00", name="Blue mug", image_url="https://cdn.example.com/a.jpg",
                      status=LineStatus.RETURNED, quantity_shipped=2, quantity_refunded=1, quantity_returned=1),
            make_line(2, "SKU-B", 3, "15.50", status=LineStatus.CANCELLED, quantity_cancelled=3),
        ],
        tax_total="8.10",
        discount_total="1.25",
        shipments=[
            Shipment("SH-1", ShipmentStatus.DELIVERED, "DHL Express", "dhl", "JD014600006281", "https://track.example.com/1",
                     CREATED_AT + timedelta(hours=20, microseconds=123456), date(2026, 1, 13), NOW,
                     [ShipmentItem("SKU-A", 2)]),
        ],
        returns=[
            Return("RT-1", ReturnStatus.COMPLETED, NOW, "Broken handle", "RT0001", "dhl", "https://labels.example.com/1",
                   WarehouseStatus.ACCEPTED, ReturnRefundStatus.REFUNDED, [ReturnItem("SKU-A", 1)]),
        ],
        refunds=[
            Refund("RF-1", Decimal("10.80"), Reason.DAMAGED, RefundStatus.COMPLETED, NOW, "Broken handle"),
            Refund("RF-2", Decimal("5.00"), Reason.LATE_DELIVERY, RefundStatus.FAILED, NOW),
        ],
    )


def record(**overrides: Any) -> dict[str, Any]:
    """A valid record of the default order, with top-level fields replaced."""
    data = order_to_record(make_order())
    data.update(copy.deepcopy(overrides))
    return data


def error_for(data: Any) -> RecordError:
    with pytest.raises(RecordError) as caught:
        order_from_record(data)
    return caught.value


# ---------------------------------------------------------------------- round trip


def test_round_trip_preserves_every_field():
    order = rich_order()
    order.check()

    again = order_from_record(order_to_record(order))

    assert plain(again) == plain(order)
    assert order_to_record(again) == order_to_record(order)


def test_round_trip_through_json_preserves_every_field():
    order = rich_order()

    again = order_from_record(json.loads(json.dumps(order_to_record(order))))

    assert plain(again) == plain(order)


def test_round_trip_of_a_minimal_order():
    order = make_order(customer=Customer("min@example.com"), lines=[], subtotal="0", shipping_total="0")

    again = order_from_record(order_to_record(order))

    assert plain(again) == plain(order)


def test_round_trip_of_an_order_after_cancellation():
    order = make_order()
    cancel(order)

    again = order_from_record(order_to_record(order))

    # The record is the wire document: who made each part (the service here) is kept by the store only.
    assert order.cancel_origin is Origin.SERVICE and order.refunds[0].origin is Origin.SERVICE
    order.cancel_origin, order.refunds[0].origin = None, Origin.ERP
    for line in order.lines:
        line.quantity_cancelled_by_service = 0
    assert plain(again) == plain(order)
    assert again.refunds[0].status is RefundStatus.PENDING
    assert again.refundable_amount == Decimal("0.00")


def test_record_uses_wire_names_and_plain_values():
    data = order_to_record(rich_order())

    assert data["OrderNumber"] == "ORD-2002"
    assert data["Status"] == "DELIVERED"
    assert data["Subtotal"] == "66.50"
    assert data["CreatedAt"] == "2026-01-10T09:30:00Z"
    assert data["ExpectedShipDate"] == "2026-01-11"
    assert data["Customer"] == {"Email": "grace@example.com", "FirstName": "Grace", "LastName": "Hopper",
                                "Phone": "+44 20 7946 0000"}
    assert data["Lines"][0]["QuantityReturned"] == 1
    assert data["Shipments"][0]["ShippedAt"] == "2026-01-11T05:30:00.123456Z"
    assert data["Refunds"][1] == {"RefundId": "RF-2", "Amount": "5.00", "Reason": "LATE_DELIVERY", "Status": "FAILED",
                                  "CreatedAt": "2026-01-12T14:00:00Z"}


def test_refund_round_trip():
    refund = Refund("RF-9", Decimal("12.50"), Reason.CUSTOMER, RefundStatus.PENDING, NOW, "Note")

    again = refund_from_record(refund_to_record(refund, "EUR"), "EUR")

    assert plain(again) == plain(refund)


# ---------------------------------------------------------------------- accepted forms


def test_derived_fields_are_accepted_and_ignored():
    data = record(RefundedAmount="999.99", RefundableAmount=SECRET, ShippedAt="not a time")
    data["Lines"][0]["LineTotal"] = "123456.00"

    order = order_from_record(data)

    assert order.refunded_amount == Decimal("0.00")
    assert order.refundable_amount == Decimal("40.00")
    assert order.lines[0].line_total == Decimal("20.00")
    assert order.shipped_at is None


def test_amounts_are_read_from_strings_and_numbers():
    data = record(Subtotal=35.5, ShippingTotal=4.5, Total=40)

    order = order_from_record(data)

    assert [str(order.subtotal), str(order.shipping_total), str(order.total)] == ["35.50", "4.50", "40.00"]


def test_whole_numbers_may_be_given_as_text():
    data = record()
    data["Lines"][0]["Quantity"] = " 2 "

    assert order_from_record(data).lines[0].quantity == 2


def test_empty_optional_fields_take_their_defaults():
    data = record(ShippingTotal="", Total="35.50", OrderType=None, UpdatedAt="")

    order = order_from_record(data)

    assert order.shipping_total == Decimal(0)
    assert order.order_type is OrderType.STANDARD
    assert order.updated_at is None


def test_text_is_stripped():
    data = record(OrderNumber="  ORD-9 ", Currency=" EUR ")

    order = order_from_record(data)

    assert (order.order_number, order.currency) == ("ORD-9", "EUR")


@pytest.mark.parametrize(("value", "claimed_as"), [
    (" SO-1\n", "SO-1"), ("\x1c", None), ("\x07X", None), ("\u3000", None), ("", None), (42, None), (None, None),
    ("x" * 65, None), ("SO\u200b1", None),  # a zero-width space is not printable
])
def test_a_refused_records_identifier_is_named_back_only_when_it_is_a_valid_one(value, claimed_as):
    assert claimed(ORDER_NUMBER, value) == claimed_as


def test_datetimes_are_normalized_to_utc():
    data = record(CreatedAt="2026-01-10T11:30:00+02:00", UpdatedAt="2026-01-10T09:30:00Z")

    order = order_from_record(data)

    assert order.created_at == datetime(2026, 1, 10, 9, 30, tzinfo=timezone.utc)
    assert order.created_at.tzinfo is timezone.utc
    assert order.created_at.utcoffset() == timedelta(0)
    assert order.updated_at is not None and order.updated_at.tzinfo is timezone.utc
    assert order_to_record(order)["CreatedAt"] == "2026-01-10T09:30:00Z"


def test_datetime_objects_with_a_zone_are_accepted_and_normalized():
    tz = timezone(timedelta(hours=-5))
    data = record(CreatedAt=datetime(2026, 1, 10, 4, 30, tzinfo=tz))

    assert order_from_record(data).created_at == datetime(2026, 1, 10, 9, 30, tzinfo=timezone.utc)
    assert order_from_record(data).created_at.tzinfo is timezone.utc


@pytest.mark.parametrize("value", ["2026-01-10T09:30:00", "2026-01-10 09:30:00", datetime(2026, 1, 10, 9, 30)])
def test_naive_datetimes_are_refused(value):
    error = error_for(record(CreatedAt=value))

    assert error.path == "CreatedAt"
    assert error.message == "CreatedAt: must carry a time zone (Z for UTC)"


# ---------------------------------------------------------------------- refused records


@pytest.mark.parametrize("data", [None, [], "ORD-1", 42])
def test_a_record_must_be_an_object(data):
    error = error_for(data)

    assert error.path == ""
    assert error.message == "an order record must be an object"


def test_the_customer_is_required():
    data = record()
    del data["Customer"]

    assert error_for(data).message == "Customer: is required"


def test_a_null_customer_is_refused_as_required():
    assert error_for(record(Customer=None)).path == "Customer"


@pytest.mark.parametrize("currency", [None, 978, "XXX", SECRET])
def test_an_unknown_currency_is_refused_without_echoing_it(currency):
    error = error_for(record(Currency=currency))

    assert error.path == "Currency"
    assert error.message == "Currency: must be an ISO 4217 currency code such as EUR"


@pytest.mark.parametrize("name", ["OrderNumber", "CreatedAt", "Subtotal", "Total"])
def test_required_fields_are_refused_when_missing(name):
    data = record()
    del data[name]

    error = error_for(data)

    assert error.path == name
    assert error.message == f"{name}: is required"


def test_a_missing_field_of_a_line_is_named_with_its_path():
    data = record()
    del data["Lines"][1]["Sku"]

    error = error_for(data)

    assert error.path == "Lines[2].Sku"
    assert error.message == "Lines[2].Sku: is required"


def test_an_unknown_field_is_refused():
    error = error_for(record(Injected=1))

    assert error.path == "Injected"
    assert error.message == "Injected: is not a field of this record"


def test_an_unknown_field_of_a_nested_record_is_refused_with_its_path():
    data = record()
    data["Lines"][1]["Colour"] = "red"

    assert error_for(data).path == "Lines[2].Colour"


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("Lines[2].Quantity", "two", "must be a whole number"),
        ("Lines[2].Quantity", 2.5, "must be a whole number"),
        ("Lines[2].Quantity", True, "must be a whole number"),
        ("Lines[2].Quantity", 1_000_001, "must be between 1 and 1000000"),
        ("Lines[2].Quantity", 0, "must be between 1 and 1000000"),
        ("Lines[1].UnitPrice", "10.001", "has more than 2 decimal places for EUR"),
        ("Lines[1].UnitPrice", "NaN", "is not a finite number"),
        ("Lines[1].UnitPrice", [10], "must be a decimal number"),
        ("Lines[1].Status", "LOST", "must be one of PENDING, PROCESSING, SHIPPED, DELIVERED, CANCELLED, RETURNED"),
        ("Customer.Email", 42, "must be a string"),
        ("Customer.Email", "   ", "must not be empty"),
        ("Customer.FirstName", "x" * 101, "is longer than 100 characters"),
        ("Customer.FirstName", "Ada\x00", "contains control characters"),
        ("OrderNumber", "\x1c", "contains control characters"),  # str.strip() would leave nothing
        ("OrderNumber", "\x1cSO-1", "contains control characters"),  # or drop it silently
        ("Lines[1].Sku", "SKU-A\x0c", "contains control characters"),
        ("OrderNumber", "\u3000\u2003", "must not be empty"),
        ("ShippingAddress.CountryCode", "gb", "must be an ISO 3166-1 alpha-2 code such as GB"),
        ("ShippingAddress.CountryCode", "GBR", "is longer than 2 characters"),
        ("ExpectedShipDate", "31/01/2026", "must be a date such as 2026-01-31"),
        ("CreatedAt", "yesterday", "must be an ISO 8601 date-time such as 2026-01-31T09:30:00Z"),
        ("CreatedAt", 1767000000, "must be an ISO 8601 date-time"),
        ("Lines", {"LineNumber": 1}, "must be a list"),
        ("Lines[1]", "SKU-A", "must be an object"),
    ],
)
def test_errors_name_the_field_by_its_path_and_state_the_rule(path, value, message):
    data = record(ShippingAddress={"Name": "Ada"})
    _set(data, path, value)

    error = error_for(data)

    assert error.path == path
    assert error.message == f"{path}: {message}"
    assert error.code == "INVALID_RECORD"


def test_errors_in_shipment_items_are_named_with_their_path():
    data = record(Shipments=[{"ShipmentId": "SH-1", "Status": "IN_TRANSIT", "Items": [{"Sku": "SKU-A", "Quantity": "x"}]}])

    assert error_for(data).path == "Shipments[1].Items[1].Quantity"


def test_errors_in_refunds_are_named_with_their_path():
    data = record(Refunds=[{"RefundId": "RF-1", "Amount": "1.001", "Reason": "CUSTOMER", "Status": "PENDING",
                            "CreatedAt": "2026-01-12T14:00:00Z"}])

    error = error_for(data)

    assert error.path == "Refunds[1].Amount"
    assert error.message == "Refunds[1].Amount: has more than 2 decimal places for EUR"


def test_an_order_whose_figures_disagree_is_refused_with_the_rule():
    error = error_for(record(Total="41.00"))

    assert error.path == ""
    assert error.message == "Total must equal Subtotal + ShippingTotal + TaxTotal - DiscountTotal."


def test_refunds_exceeding_the_total_are_refused():
    data = record(Refunds=[{"RefundId": "RF-1", "Amount": "40.01", "Reason": "CUSTOMER", "Status": "PENDING",
                            "CreatedAt": "2026-01-12T14:00:00Z"}])

    assert error_for(data).message == "Refunds exceed what was paid for the order."


@pytest.mark.parametrize(
    "path",
    [
        "Status", "FinancialStatus", "OrderType", "Channel", "CancelReason", "CreatedAt", "UpdatedAt", "Subtotal",
        "ExpectedShipDate", "ShippingAddress.CountryCode", "Lines[1].Status", "Lines[1].Quantity",
        "Lines[1].UnitPrice", "Refunds[1].Reason", "Refunds[1].Status", "Shipments[1].Status",
        "Returns[1].WarehouseStatus",
    ],
)
def test_messages_never_contain_the_offending_value(path):
    data = _with_children(record())
    _set(data, path, SECRET)

    error = error_for(data)

    assert error.path == path
    assert SECRET not in str(error)
    assert SECRET not in error.message


def test_a_too_long_value_is_not_echoed():
    error = error_for(record(OrderNumber=SECRET * 10))

    assert error.message == "OrderNumber: is longer than 64 characters"


@pytest.mark.parametrize("value", ["--1", "+-5", "\u00b2"])
def test_malformed_whole_numbers_are_refused_as_record_errors(value):
    data = record()
    data["Lines"][1]["Quantity"] = value

    error = error_for(data)

    assert error.path == "Lines[2].Quantity"
    assert error.message == "Lines[2].Quantity: must be a whole number"


def test_an_amount_too_large_to_represent_is_refused_as_a_record_error():
    error = error_for(record(Subtotal="1E+30"))

    assert error.path == "Subtotal"


# ---------------------------------------------------------------------- helpers


def _with_children(data: dict[str, Any]) -> dict[str, Any]:
    data["ShippingAddress"] = {"Name": "Ada", "CountryCode": "GB"}
    data["Refunds"] = [{"RefundId": "RF-1", "Amount": "1.00", "Reason": "CUSTOMER", "Status": "PENDING",
                        "CreatedAt": "2026-01-12T14:00:00Z"}]
    data["Shipments"] = [{"ShipmentId": "SH-1", "Status": "LABEL_CREATED"}]
    data["Returns"] = [{"ReturnId": "RT-1", "Status": "REQUESTED", "CreatedAt": "2026-01-12T14:00:00Z"}]
    data["FinancialStatus"] = "PARTIALLY_REFUNDED"
    order_from_record(copy.deepcopy(data))  # valid before the field is spoiled
    return data


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``Lines[2].Quantity``-style paths (1-based list indexes, as in RecordError.path)."""
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = _step(node, part)
    if "[" in last:
        name, index = last[:-1].split("[")
        node[name][int(index) - 1] = value
    else:
        node[last] = value


def _step(node: Any, part: str) -> Any:
    if "[" in part:
        name, index = part[:-1].split("[")
        return node[name][int(index) - 1]
    return node[part]


@pytest.mark.parametrize("number", ["1e1000000000000000000", "-1E-99999999999999999999", "9" * 5000])
def test_a_json_number_no_value_holds_is_refused_as_out_of_range(number):
    with pytest.raises(NumberOutOfRange):
        read_json('{"Total": ' + number + "}")


def test_json_numbers_are_read_exactly():
    assert read_json('{"a": 0.1, "b": 1E+999999, "c": 7}') == {"a": Decimal("0.1"), "b": Decimal("1E+999999"), "c": 7}
