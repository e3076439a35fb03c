"""The order actions over SOAP with zeep against a real server, on SQLite and PostgreSQL: find by
tracking number, change the shipping address, cancel lines, issue a replacement, create and update
a return. For each: success, every rejection (ReasonCode), not found, replay, conflict, scope and
validation faults."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import zeep
from lxml import etree

from tests.contract.actions import (
    events_of,
    foreign_item,
    half_refunded,
    recently,
    refund_count,
    returned,
    tracked,
)
from tests.contract.clients import make_client
from tests.records import delivered, order_record, shipped, store, unique, with_return
from tests.server import add_client
from tests.xmltools import fault_detail

pytestmark = pytest.mark.slow

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NEW_ADDRESS = {"Name": "Ann Lee", "Line1": "10 Downing Street", "City": "London", "PostalCode": "SW1A 2AA",
               "CountryCode": "GB"}


@pytest.fixture(scope="module")
def client(server: Any) -> zeep.Client:
    """A client of the consumer's kind: orders:read and orders:act, no erp."""
    name = unique("dg")
    return make_client(server, "basic", (name, add_client(server.database_url, name, ("orders:read", "orders:act"))))


@pytest.fixture(scope="module")
def erp(server: Any) -> zeep.Client:
    name = unique("erp")
    return make_client(server, "basic", (name, add_client(server.database_url, name, ("erp",))))


def fault_of(call: Any, **kwargs: Any) -> zeep.exceptions.Fault:
    with pytest.raises(zeep.exceptions.Fault) as info:
        call(**kwargs)
    return info.value


def assert_fault(fault: zeep.exceptions.Fault, code: str, error_code: str, field: str | None = None) -> None:
    assert fault.code.endswith(code), fault.code
    assert fault_detail(fault.detail)["ErrorCode"] == error_code
    if field is not None:
        assert field in fault.message, fault.message


def lines(*wanted: dict[str, Any]) -> dict[str, Any]:
    return {"Line": list(wanted)}


def listed(wrapper: Any, name: str) -> list[Any]:
    return list(getattr(wrapper, name) or []) if wrapper is not None else []


# ---------------------------------------------------------------------- FindOrdersByTrackingNumber


def test_find_by_outbound_tracking_number_in_any_case(client, server_deps):
    tracking = unique("RM").replace("-", "") + "GB"
    (number,) = store(server_deps, tracked(tracking))
    page = client.service.FindOrdersByTrackingNumber(TrackingNumber=f" {tracking.lower()} ")
    assert [o.OrderNumber for o in page.Orders.Order] == [number]
    assert (page.TotalCount, page.CurrentPage, page.ItemsPerPage, page.HasMore) == (1, 1, 20, False)
    assert page.Orders.Order[0].Shipments.Shipment[0].TrackingNumber == tracking


def test_find_by_return_tracking_number(client, server_deps):
    tracking = unique("RET").replace("-", "")
    (number,) = store(server_deps, with_return(delivered(order_record()), unique("RMA"), tracking=tracking))
    page = client.service.FindOrdersByTrackingNumber(TrackingNumber=tracking.lower())
    assert [o.OrderNumber for o in page.Orders.Order] == [number]
    assert page.Orders.Order[0].Returns.Return[0].ReturnTrackingNumber == tracking


def test_find_by_tracking_number_is_an_exact_match(client, server_deps):
    tracking = unique("EXACT").replace("-", "")
    store(server_deps, tracked(tracking))
    for near in (tracking[:-1], tracking + "0", f"%{tracking[2:]}"):
        page = client.service.FindOrdersByTrackingNumber(TrackingNumber=near)
        assert page.TotalCount == 0 and not (page.Orders and page.Orders.Order)


def test_find_by_tracking_number_with_an_email_keeps_that_customers_orders(client, server_deps):
    tracking = unique("MIX").replace("-", "")
    ann, bob = store(server_deps, tracked(tracking, email="ann.track@example.com"),
                     tracked(tracking, email="bob.track@example.com", CreatedAt="2026-03-02T10:00:00Z"))
    both = client.service.FindOrdersByTrackingNumber(TrackingNumber=tracking)
    assert [o.OrderNumber for o in both.Orders.Order] == [bob, ann]  # newest first
    only_ann = client.service.FindOrdersByTrackingNumber(TrackingNumber=tracking, Email=" ANN.Track@example.com")
    assert [o.OrderNumber for o in only_ann.Orders.Order] == [ann]
    nobody = client.service.FindOrdersByTrackingNumber(TrackingNumber=tracking, Email="carl@example.com")
    assert nobody.TotalCount == 0 and not (nobody.Orders and nobody.Orders.Order)


def test_find_by_tracking_number_pages(client, server_deps):
    tracking = unique("PAGE").replace("-", "")
    numbers = store(server_deps, *[tracked(tracking, CreatedAt=f"2026-01-{day:02d}T09:00:00Z") for day in range(1, 6)])
    newest_first = list(reversed(numbers))
    first = client.service.FindOrdersByTrackingNumber(TrackingNumber=tracking, PageSize=2, PageNumber=1)
    last = client.service.FindOrdersByTrackingNumber(TrackingNumber=tracking, PageSize=2, PageNumber=3)
    beyond = client.service.FindOrdersByTrackingNumber(TrackingNumber=tracking, PageSize=2, PageNumber=4)
    assert [o.OrderNumber for o in first.Orders.Order] == newest_first[:2]
    assert (first.TotalCount, first.HasMore, first.ItemsPerPage) == (5, True, 2)
    assert [o.OrderNumber for o in last.Orders.Order] == newest_first[4:] and last.HasMore is False
    assert beyond.TotalCount == 5 and not (beyond.Orders and beyond.Orders.Order)


@pytest.mark.parametrize(("fields", "field"), [
    ({"TrackingNumber": "   "}, "TrackingNumber"),
    ({"TrackingNumber": "X" * 65}, "TrackingNumber"),
    ({"TrackingNumber": "RM1", "PageSize": 101}, "PageSize"),
    ({"TrackingNumber": "RM1", "PageNumber": 0}, "PageNumber"),
    ({"TrackingNumber": "RM1", "Email": "not-an-email"}, "Email"),
])
def test_find_by_tracking_number_validation(client, fields, field):
    assert_fault(fault_of(client.service.FindOrdersByTrackingNumber, **fields), "Client.ValidationError",
                 fault_detail_code(fields), field)


def fault_detail_code(fields: dict[str, Any]) -> str:
    # Lengths, ranges and patterns are the schema's; a blank value passes the schema and is the rule's.
    return "VALIDATION_ERROR" if fields.get("TrackingNumber") == "   " else "SCHEMA_VIOLATION"


# ---------------------------------------------------------------------- ChangeShippingAddress


def test_change_shipping_address(client, server_deps):
    (number,) = store(server_deps, order_record())
    result = client.service.ChangeShippingAddress(OrderNumber=number, RequestId=unique("rq"),
                                                  ShippingAddress={**NEW_ADDRESS, "Line2": " Flat 1 "})
    assert (result.Outcome, result.ReasonCode) == ("ADDRESS_CHANGED", "NONE")
    address = result.Order.ShippingAddress
    assert (address.Line1, address.Line2, address.City, address.CountryCode) == (
        "10 Downing Street", "Flat 1", "London", "GB")
    assert result.Order.AddressChangedAt is not None
    assert client.service.GetOrder(OrderNumber=number).ShippingAddress.PostalCode == "SW1A 2AA"
    assert events_of(server_deps, number) == ["ShippingAddressChanged"]


def test_change_shipping_address_without_postal_code_where_the_country_has_none(client, server_deps):
    (number,) = store(server_deps, order_record())
    address = {"Name": "Ann Lee", "Line1": "Sheikh Zayed Road 1", "City": "Dubai", "CountryCode": "AE"}
    result = client.service.ChangeShippingAddress(OrderNumber=number, RequestId=unique("rq"), ShippingAddress=address)
    assert result.Outcome == "ADDRESS_CHANGED" and result.Order.ShippingAddress.PostalCode is None


@pytest.mark.parametrize(("arrange", "reason_code"), [
    (lambda: shipped(order_record()), "ALREADY_SHIPPED"),
    (lambda: order_record(Status="CANCELLED"), "ALREADY_CANCELLED"),
])
def test_change_shipping_address_rejections(client, server_deps, arrange, reason_code):
    (number,) = store(server_deps, arrange())
    result = client.service.ChangeShippingAddress(OrderNumber=number, RequestId=unique("rq"), ShippingAddress=NEW_ADDRESS)
    assert (result.Outcome, result.ReasonCode) == ("REJECTED", reason_code)
    assert result.Order.ShippingAddress.City == "Paris" and result.Order.AddressChangedAt is None
    assert events_of(server_deps, number) == []


@pytest.mark.parametrize(("change", "field", "error_code"), [
    ({"CountryCode": "XX"}, "CountryCode", "VALIDATION_ERROR"),
    ({"CountryCode": "gb"}, "CountryCode", "SCHEMA_VIOLATION"),
    ({"PostalCode": None}, "PostalCode", "VALIDATION_ERROR"),
    ({"Line1": None}, "Line1", "VALIDATION_ERROR"),
    ({"Name": "  "}, "Name", "VALIDATION_ERROR"),
    ({"City": "C" * 101}, "City", "SCHEMA_VIOLATION"),
])
def test_change_shipping_address_validation(client, server_deps, change, field, error_code):
    (number,) = store(server_deps, order_record())
    address = {k: v for k, v in {**NEW_ADDRESS, **change}.items() if v is not None}
    fault = fault_of(client.service.ChangeShippingAddress, OrderNumber=number, RequestId=unique("rq"),
                     ShippingAddress=address)
    assert_fault(fault, "Client.ValidationError", error_code, field)
    assert "XX" not in fault.message and "C" * 101 not in fault.message
    assert client.service.GetOrder(OrderNumber=number).ShippingAddress.City == "Paris"


def test_change_shipping_address_replay_and_conflict(client, server_deps):
    (number,) = store(server_deps, order_record())
    request_id = unique("rq")
    first = client.service.ChangeShippingAddress(OrderNumber=number, RequestId=request_id, ShippingAddress=NEW_ADDRESS)
    replay = client.service.ChangeShippingAddress(OrderNumber=number, RequestId=request_id, ShippingAddress=NEW_ADDRESS)
    assert zeep.helpers.serialize_object(replay) == zeep.helpers.serialize_object(first)
    conflict = fault_of(client.service.ChangeShippingAddress, OrderNumber=number, RequestId=request_id,
                        ShippingAddress={**NEW_ADDRESS, "City": "Leeds"})
    assert_fault(conflict, "Client.IdempotencyConflict", "IDEMPOTENCY_CONFLICT")
    assert events_of(server_deps, number) == ["ShippingAddressChanged"]


def test_change_shipping_address_of_an_unknown_order(client):
    fault = fault_of(client.service.ChangeShippingAddress, OrderNumber="NOPE-A", RequestId=unique("rq"),
                     ShippingAddress=NEW_ADDRESS)
    assert_fault(fault, "Client.OrderNotFound", "ORDER_NOT_FOUND")


# ---------------------------------------------------------------------- CancelOrderLines


def test_cancel_a_line_refunds_its_share(client, server_deps):
    (number,) = store(server_deps, order_record())
    result = client.service.CancelOrderLines(OrderNumber=number, RequestId=unique("rq"), Reason="CUSTOMER",
                                             Lines=lines({"Sku": "TEA-001", "Quantity": 1}), Note="Not needed")
    assert (result.Outcome, result.ReasonCode) == ("LINES_CANCELLED", "NONE")
    assert [(r.Sku, r.Quantity, r.ReasonCode) for r in result.LineResults.Line] == [("TEA-001", 1, "NONE")]
    assert (result.Refund.Amount, result.Refund.Status, result.RefundableAmount) == (
        Decimal("5.50"), "PENDING", Decimal("24.50"))
    assert result.ReleasedAmount is None
    order = result.Order
    assert (order.Status, order.FinancialStatus) == ("PROCESSING", "PARTIALLY_REFUNDED")
    assert [(line.Status, line.QuantityCancelled) for line in order.Lines.Line] == [("PROCESSING", 0), ("CANCELLED", 1)]
    assert sorted(events_of(server_deps, number)) == ["OrderLinesCancelled", "RefundIssued"]


def test_cancelling_the_last_open_items_cancels_the_order_and_refunds_shipping(client, server_deps):
    (number,) = store(server_deps, order_record())
    result = client.service.CancelOrderLines(OrderNumber=number, RequestId=unique("rq"), Reason="CUSTOMER",
                                             Lines=lines({"LineNumber": 1, "Quantity": 2}, {"Sku": "TEA-001", "Quantity": 1}))
    assert result.Outcome == "LINES_CANCELLED"
    assert result.Refund.Amount == Decimal("30.00") and result.RefundableAmount == Decimal("0.00")
    assert (result.Order.Status, result.Order.FinancialStatus, result.Order.CancelReason) == (
        "CANCELLED", "REFUNDED", "CUSTOMER")


def test_cancelling_lines_of_an_authorised_order_releases_the_amount(client, server_deps):
    (number,) = store(server_deps, order_record(FinancialStatus="AUTHORIZED"))
    result = client.service.CancelOrderLines(OrderNumber=number, RequestId=unique("rq"), Reason="CUSTOMER",
                                             Lines=lines({"Sku": "MUG-RED", "Quantity": 1}))
    assert result.Outcome == "LINES_CANCELLED"
    assert result.Refund is None and result.ReleasedAmount == Decimal("10.00")
    assert result.Order.Lines.Line[0].QuantityCancelled == 1 and refund_count(server_deps, number) == 0


def test_cancel_lines_goes_through_for_the_lines_it_can(client, server_deps):
    (number,) = store(server_deps, order_record())
    result = client.service.CancelOrderLines(OrderNumber=number, RequestId=unique("rq"), Reason="OTHER",
                                             Lines=lines({"Sku": "TEA-001", "Quantity": 1}, {"Sku": "NOPE", "Quantity": 1}))
    assert (result.Outcome, result.ReasonCode) == ("LINES_CANCELLED", "NONE")
    assert [r.ReasonCode for r in result.LineResults.Line] == ["NONE", "UNKNOWN_LINE"]
    assert "could not be cancelled" in result.Message


@pytest.mark.parametrize(("arrange", "wanted", "reason_code"), [
    (lambda: shipped(order_record()), {"LineNumber": 1, "Quantity": 1}, "ALREADY_SHIPPED"),
    (lambda: order_record(Status="CANCELLED"), {"LineNumber": 1, "Quantity": 1}, "ALREADY_CANCELLED"),
    (order_record, {"LineNumber": 1, "Quantity": 3}, "EXCEEDS_LINE_QUANTITY"),
    (order_record, {"Sku": "NOT-IN-ORDER", "Quantity": 1}, "UNKNOWN_LINE"),
])
def test_cancel_lines_rejections(client, server_deps, arrange, wanted, reason_code):
    (number,) = store(server_deps, arrange())
    result = client.service.CancelOrderLines(OrderNumber=number, RequestId=unique("rq"), Reason="CUSTOMER",
                                             Lines=lines(wanted))
    assert (result.Outcome, result.ReasonCode) == ("REJECTED", reason_code)
    assert result.Refund is None and refund_count(server_deps, number) == 0
    assert events_of(server_deps, number) == []


def test_cancel_lines_replay_and_conflict(client, server_deps):
    (number,) = store(server_deps, order_record())
    body = {"OrderNumber": number, "RequestId": unique("rq"), "Reason": "CUSTOMER",
            "Lines": lines({"Sku": "TEA-001", "Quantity": 1})}
    first = client.service.CancelOrderLines(**body)
    replay = client.service.CancelOrderLines(**body)
    assert zeep.helpers.serialize_object(replay) == zeep.helpers.serialize_object(first)
    assert_fault(fault_of(client.service.CancelOrderLines, **{**body, "Lines": lines({"LineNumber": 1, "Quantity": 1})}),
                 "Client.IdempotencyConflict", "IDEMPOTENCY_CONFLICT")
    assert refund_count(server_deps, number) == 1


def test_cancel_lines_of_an_unknown_order(client):
    fault = fault_of(client.service.CancelOrderLines, OrderNumber="NOPE-C", RequestId=unique("rq"), Reason="OTHER",
                     Lines=lines({"LineNumber": 1, "Quantity": 1}))
    assert_fault(fault, "Client.OrderNotFound", "ORDER_NOT_FOUND")


@pytest.mark.parametrize(("fields", "field", "error_code"), [
    ({"Lines": lines({"Quantity": 1})}, "LineNumber", "VALIDATION_ERROR"),
    ({"Lines": lines({"LineNumber": 1, "Quantity": 0})}, "Quantity", "SCHEMA_VIOLATION"),
    ({"Reason": "WHIM"}, "Reason", "SCHEMA_VIOLATION"),
])
def test_cancel_lines_validation(client, server_deps, fields, field, error_code):
    (number,) = store(server_deps, order_record())
    body = {"OrderNumber": number, "RequestId": unique("rq"), "Reason": "CUSTOMER",
            "Lines": lines({"LineNumber": 1, "Quantity": 1}), **fields}
    assert_fault(fault_of(client.service.CancelOrderLines, **body), "Client.ValidationError", error_code, field)
    assert refund_count(server_deps, number) == 0


@pytest.mark.parametrize(("operation", "reason"), [
    ("CancelOrderLines", "CUSTOMER"), ("IssueReplacement", "DAMAGED"), ("CreateReturn", "SIZE"),
])
def test_empty_lines_are_refused(server, server_deps, operation, reason):
    # zeep will not send an empty list (minOccurs="1"), so this envelope is written by hand.
    (number,) = store(server_deps, delivered(order_record(), at=recently()))
    answer = server.post(
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:ord="urn:soap-orders:orders:v1"><soapenv:Body>'
        f"<ord:{operation}><ord:OrderNumber>{number}</ord:OrderNumber><ord:RequestId>{unique('rq')}</ord:RequestId>"
        f"<ord:Reason>{reason}</ord:Reason><ord:Lines/></ord:{operation}>"
        "</soapenv:Body></soapenv:Envelope>"
    )
    assert answer.status_code == 500
    fault = etree.fromstring(answer.content).find(f".//{{{SOAP_ENV}}}Fault")
    assert fault is not None and fault.findtext("faultcode").endswith("Client.ValidationError")
    assert fault_detail(fault.find("detail"))["ErrorCode"] == "SCHEMA_VIOLATION"
    assert "Line" in fault.findtext("faultstring")
    assert events_of(server_deps, number) == []


# ---------------------------------------------------------------------- IssueReplacement


def test_issue_replacement_links_both_ways_and_charges_nothing(client, server_deps):
    (number,) = store(server_deps, shipped(order_record()))
    result = client.service.IssueReplacement(OrderNumber=number, RequestId=unique("rq"), Reason="DAMAGED",
                                             Lines=lines({"Sku": "MUG-RED", "Quantity": 1}), Note="Broken handle")
    assert (result.Outcome, result.ReasonCode) == ("REPLACEMENT_ISSUED", "NONE")
    assert result.ReplacementOrderNumber == f"{number}-R1"
    assert result.Order.ReplacementOrderNumbers.OrderNumber == [f"{number}-R1"]
    assert result.Order.Lines.Line[0].QuantityReplaced == 1
    assert result.Order.FinancialStatus == "PAID" and refund_count(server_deps, number) == 0
    new = client.service.GetOrder(OrderNumber=result.ReplacementOrderNumber)
    assert (new.OrderType, new.ReplacesOrderNumber, new.Status, new.Total) == (
        "REPLACEMENT", number, "PENDING", Decimal("0.00"))
    assert [(line.Sku, line.Quantity, line.UnitPrice) for line in new.Lines.Line] == [("MUG-RED", 1, Decimal("0.00"))]
    assert new.Customer.Email == "ann.lee@example.com" and new.ShippingAddress.City == "Paris"


def test_replacements_together_never_exceed_what_shipped(client, server_deps):
    (number,) = store(server_deps, shipped(order_record()))
    first = client.service.IssueReplacement(OrderNumber=number, RequestId=unique("rq"), Reason="LOST",
                                            Lines=lines({"LineNumber": 1, "Quantity": 1}))
    second = client.service.IssueReplacement(OrderNumber=number, RequestId=unique("rq"), Reason="LOST",
                                             Lines=lines({"LineNumber": 1, "Quantity": 1}))
    assert (first.ReplacementOrderNumber, second.ReplacementOrderNumber) == (f"{number}-R1", f"{number}-R2")
    third = client.service.IssueReplacement(OrderNumber=number, RequestId=unique("rq"), Reason="LOST",
                                            Lines=lines({"LineNumber": 1, "Quantity": 1}))
    assert (third.Outcome, third.ReasonCode) == ("REJECTED", "EXCEEDS_REPLACEABLE")
    assert third.ReplacementOrderNumber is None


@pytest.mark.parametrize(("arrange", "wanted", "reason_code"), [
    (order_record, {"LineNumber": 1, "Quantity": 1}, "NOT_SHIPPED"),
    (lambda: shipped(order_record()), {"LineNumber": 2, "Quantity": 2}, "EXCEEDS_REPLACEABLE"),
    (lambda: shipped(order_record()), {"Sku": "NOT-IN-ORDER", "Quantity": 1}, "UNKNOWN_LINE"),
])
def test_issue_replacement_rejections(client, server_deps, arrange, wanted, reason_code):
    (number,) = store(server_deps, arrange())
    result = client.service.IssueReplacement(OrderNumber=number, RequestId=unique("rq"), Reason="DEFECTIVE",
                                             Lines=lines(wanted))
    assert (result.Outcome, result.ReasonCode) == ("REJECTED", reason_code)
    assert result.ReplacementOrderNumber is None and result.Order.ReplacementOrderNumbers is None
    assert events_of(server_deps, number) == []


def test_issue_replacement_replay_and_conflict(client, server_deps):
    (number,) = store(server_deps, shipped(order_record()))
    body = {"OrderNumber": number, "RequestId": unique("rq"), "Reason": "WRONG_ITEM",
            "Lines": lines({"Sku": "TEA-001", "Quantity": 1})}
    first = client.service.IssueReplacement(**body)
    replay = client.service.IssueReplacement(**body)
    assert zeep.helpers.serialize_object(replay) == zeep.helpers.serialize_object(first)
    assert_fault(fault_of(client.service.IssueReplacement, **{**body, "Reason": "OTHER"}),
                 "Client.IdempotencyConflict", "IDEMPOTENCY_CONFLICT")
    assert client.service.GetOrder(OrderNumber=number).ReplacementOrderNumbers.OrderNumber == [f"{number}-R1"]


def test_issue_replacement_of_an_unknown_order_and_a_bad_reason(client, server_deps):
    assert_fault(fault_of(client.service.IssueReplacement, OrderNumber="NOPE-R", RequestId=unique("rq"),
                          Reason="LOST", Lines=lines({"LineNumber": 1, "Quantity": 1})),
                 "Client.OrderNotFound", "ORDER_NOT_FOUND")
    (number,) = store(server_deps, shipped(order_record()))
    assert_fault(fault_of(client.service.IssueReplacement, OrderNumber=number, RequestId=unique("rq"),
                          Reason="CUSTOMER", Lines=lines({"LineNumber": 1, "Quantity": 1})),
                 "Client.ValidationError", "SCHEMA_VIOLATION", "Reason")


# ---------------------------------------------------------------------- CreateReturn


def test_create_return_with_the_callers_label(client, server_deps):
    (number,) = store(server_deps, delivered(order_record(), at=recently()))
    result = client.service.CreateReturn(
        OrderNumber=number, RequestId=unique("rq"), Reason="SIZE", Lines=lines({"Sku": "MUG-RED", "Quantity": 1}),
        ReturnTrackingNumber="RR123456789GB", CarrierCode="royalmail", LabelUrl="https://labels.example.com/1.pdf",
    )
    assert (result.Outcome, result.ReasonCode) == ("RETURN_CREATED", "NONE")
    assert result.ReturnId.startswith("RMA-")
    (created,) = result.Order.Returns.Return
    assert (created.ReturnId, created.Status, created.WarehouseStatus, created.RefundStatus, created.Reason) == (
        result.ReturnId, "LABEL_CREATED", "AWAITING_ARRIVAL", "NOT_STARTED", "SIZE")
    assert (created.ReturnTrackingNumber, created.CarrierCode) == ("RR123456789GB", "royalmail")
    assert [(i.Sku, i.Quantity, i.LineNumber) for i in created.Items.Item] == [("MUG-RED", 1, 1)]
    assert result.Order.Lines.Line[0].QuantityReturned == 1
    found = client.service.FindOrdersByTrackingNumber(TrackingNumber="rr123456789gb")
    assert [o.OrderNumber for o in found.Orders.Order] == [number]
    assert events_of(server_deps, number) == ["ReturnCreated"]


def test_create_return_without_a_label_is_requested(client, server_deps):
    (number,) = store(server_deps, delivered(order_record(), at=recently()))
    result = client.service.CreateReturn(OrderNumber=number, RequestId=unique("rq"), Reason="UNWANTED",
                                         Lines=lines({"LineNumber": 2, "Quantity": 1}))
    assert result.Outcome == "RETURN_CREATED" and result.Order.Returns.Return[0].Status == "REQUESTED"


@pytest.mark.parametrize(("arrange", "wanted", "reason_code"), [
    (lambda: shipped(order_record()), {"LineNumber": 1, "Quantity": 1}, "NOT_DELIVERED"),
    (lambda: delivered(order_record(), at="2026-01-02T10:00:00Z"), {"LineNumber": 1, "Quantity": 1},
     "OUTSIDE_RETURN_WINDOW"),
    (lambda: delivered(order_record(), at=recently()), {"LineNumber": 1, "Quantity": 3}, "EXCEEDS_RETURNABLE"),
    (lambda: with_return(delivered(order_record(), at=recently()), "RMA-OPEN", items=((1, 2),)),
     {"LineNumber": 1, "Quantity": 1}, "EXCEEDS_RETURNABLE"),
    (lambda: delivered(order_record(), at=recently()), {"Sku": "NOT-IN-ORDER", "Quantity": 1}, "UNKNOWN_LINE"),
])
def test_create_return_rejections(client, server_deps, arrange, wanted, reason_code):
    (number,) = store(server_deps, arrange())
    before = len(listed(client.service.GetOrder(OrderNumber=number).Returns, "Return"))
    result = client.service.CreateReturn(OrderNumber=number, RequestId=unique("rq"), Reason="DEFECTIVE",
                                         Lines=lines(wanted))
    assert (result.Outcome, result.ReasonCode) == ("REJECTED", reason_code)
    assert result.ReturnId is None and len(listed(result.Order.Returns, "Return")) == before
    assert events_of(server_deps, number) == []


def test_create_return_replay_and_conflict(client, server_deps):
    (number,) = store(server_deps, delivered(order_record(), at=recently()))
    body = {"OrderNumber": number, "RequestId": unique("rq"), "Reason": "DAMAGED",
            "Lines": lines({"LineNumber": 1, "Quantity": 1})}
    first = client.service.CreateReturn(**body)
    replay = client.service.CreateReturn(**body)
    assert replay.ReturnId == first.ReturnId
    assert zeep.helpers.serialize_object(replay) == zeep.helpers.serialize_object(first)
    assert_fault(fault_of(client.service.CreateReturn, **{**body, "Lines": lines({"LineNumber": 1, "Quantity": 2})}),
                 "Client.IdempotencyConflict", "IDEMPOTENCY_CONFLICT")
    assert len(client.service.GetOrder(OrderNumber=number).Returns.Return) == 1


def test_create_return_of_an_unknown_order(client):
    assert_fault(fault_of(client.service.CreateReturn, OrderNumber="NOPE-RT", RequestId=unique("rq"), Reason="SIZE",
                          Lines=lines({"LineNumber": 1, "Quantity": 1})),
                 "Client.OrderNotFound", "ORDER_NOT_FOUND")


@pytest.mark.parametrize(("fields", "field", "error_code"), [
    ({"LabelUrl": "ftp://labels.example.com/1.pdf"}, "LabelUrl", "VALIDATION_ERROR"),
    ({"ReturnTrackingNumber": "RR 123"}, "ReturnTrackingNumber", "VALIDATION_ERROR"),
    ({"Reason": "CUSTOMER"}, "Reason", "SCHEMA_VIOLATION"),
])
def test_create_return_validation(client, server_deps, fields, field, error_code):
    (number,) = store(server_deps, delivered(order_record(), at=recently()))
    body = {"OrderNumber": number, "RequestId": unique("rq"), "Reason": "SIZE",
            "Lines": lines({"LineNumber": 1, "Quantity": 1}), **fields}
    fault = fault_of(client.service.CreateReturn, **body)
    assert_fault(fault, "Client.ValidationError", error_code, field)
    assert "ftp://" not in fault.message
    assert client.service.GetOrder(OrderNumber=number).Returns is None


# ---------------------------------------------------------------------- UpdateReturn


def test_update_return_through_received_inspected_refunded(erp, server_deps):
    (number,) = store(server_deps, returned("RMA-FLOW"))
    received = erp.service.UpdateReturn(OrderNumber=number, RequestId=unique("rq"), ReturnId="RMA-FLOW",
                                        Status="RECEIVED")
    assert (received.Outcome, received.ReasonCode) == ("RETURN_UPDATED", "NONE")
    assert (received.Order.Returns.Return[0].Status, received.Order.Returns.Return[0].WarehouseStatus) == (
        "RECEIVED", "RECEIVED")
    inspected = erp.service.UpdateReturn(OrderNumber=number, RequestId=unique("rq"), ReturnId="RMA-FLOW",
                                         Status="INSPECTED")
    assert inspected.Order.Returns.Return[0].WarehouseStatus == "ACCEPTED"
    refunded = erp.service.UpdateReturn(OrderNumber=number, RequestId=unique("rq"), ReturnId="RMA-FLOW",
                                        Status="REFUNDED", Note="Both mugs back")
    assert (refunded.Outcome, refunded.Refund.Amount, refunded.Refund.Reason) == (
        "RETURN_UPDATED", Decimal("20.00"), "RETURN")
    back = refunded.Order.Returns.Return[0]
    assert (back.Status, back.WarehouseStatus, back.RefundStatus, back.RefundId) == (
        "REFUNDED", "ACCEPTED", "REFUNDED", refunded.Refund.RefundId)
    assert refunded.Order.Lines.Line[0].QuantityRefunded == 2
    assert (refunded.Order.FinancialStatus, refunded.Order.RefundableAmount) == ("PARTIALLY_REFUNDED", Decimal("10.00"))
    assert events_of(server_deps, number) == ["ReturnUpdated", "ReturnUpdated", "RefundIssued", "ReturnUpdated"]


def test_rejecting_a_return_frees_its_items(erp, client, server_deps):
    (number,) = store(server_deps, returned("RMA-NO"))
    rejected = erp.service.UpdateReturn(OrderNumber=number, RequestId=unique("rq"), ReturnId="RMA-NO", Status="REJECTED")
    back = rejected.Order.Returns.Return[0]
    assert (back.Status, back.WarehouseStatus, back.RefundStatus) == ("REJECTED", "REJECTED", "DECLINED")
    assert rejected.Order.Lines.Line[0].QuantityReturned == 0
    again = client.service.CreateReturn(OrderNumber=number, RequestId=unique("rq"), Reason="SIZE",
                                        Lines=lines({"LineNumber": 1, "Quantity": 2}))
    assert again.Outcome == "RETURN_CREATED"


@pytest.mark.parametrize(("arrange", "return_id", "status", "reason_code"), [
    (lambda: returned("RMA-U1"), "RMA-OTHER", "RECEIVED", "UNKNOWN_RETURN"),
    (lambda: returned("RMA-U2"), "RMA-U2", "REFUNDED", "INVALID_TRANSITION"),
    (lambda: returned("RMA-U3", status="REJECTED"), "RMA-U3", "RECEIVED", "INVALID_TRANSITION"),
    (lambda: returned("RMA-U4", status="RECEIVED", FinancialStatus="AUTHORIZED"), "RMA-U4", "REFUNDED", "NOT_PAID"),
    (lambda: half_refunded("RMA-U5"), "RMA-U5", "REFUNDED", "EXCEEDS_LINE_QUANTITY"),
    (lambda: foreign_item("RMA-U6"), "RMA-U6", "REFUNDED", "UNKNOWN_LINE"),
])
def test_update_return_rejections(erp, server_deps, arrange, return_id, status, reason_code):
    (number,) = store(server_deps, arrange())
    result = erp.service.UpdateReturn(OrderNumber=number, RequestId=unique("rq"), ReturnId=return_id, Status=status)
    assert (result.Outcome, result.ReasonCode) == ("REJECTED", reason_code)
    assert result.Refund is None and result.Order.Returns.Return[0].RefundStatus == "NOT_STARTED"
    assert events_of(server_deps, number) == []


def test_update_return_replay_and_conflict(erp, server_deps):
    (number,) = store(server_deps, returned("RMA-RP", status="RECEIVED"))
    body = {"OrderNumber": number, "RequestId": unique("rq"), "ReturnId": "RMA-RP", "Status": "REFUNDED"}
    first = erp.service.UpdateReturn(**body)
    replay = erp.service.UpdateReturn(**body)
    assert zeep.helpers.serialize_object(replay) == zeep.helpers.serialize_object(first)
    assert_fault(fault_of(erp.service.UpdateReturn, **{**body, "Status": "REJECTED"}),
                 "Client.IdempotencyConflict", "IDEMPOTENCY_CONFLICT")
    assert refund_count(server_deps, number) == 1


def test_update_return_needs_the_erp_scope(client, server_deps):
    (number,) = store(server_deps, returned("RMA-SC"))
    fault = fault_of(client.service.UpdateReturn, OrderNumber=number, RequestId=unique("rq"), ReturnId="RMA-SC",
                     Status="RECEIVED")
    assert_fault(fault, "Client.Forbidden", "FORBIDDEN")
    assert client.service.GetOrder(OrderNumber=number).Returns.Return[0].Status == "REQUESTED"


def test_the_erp_scope_alone_cannot_act_for_customers(erp, server_deps):
    (number,) = store(server_deps, order_record())
    fault = fault_of(erp.service.ChangeShippingAddress, OrderNumber=number, RequestId=unique("rq"),
                     ShippingAddress=NEW_ADDRESS)
    assert_fault(fault, "Client.Forbidden", "FORBIDDEN")


def test_update_return_of_an_unknown_order_and_bad_fields(erp, server_deps):
    assert_fault(fault_of(erp.service.UpdateReturn, OrderNumber="NOPE-U", RequestId=unique("rq"), ReturnId="RMA-1",
                          Status="RECEIVED"),
                 "Client.OrderNotFound", "ORDER_NOT_FOUND")
    (number,) = store(server_deps, returned("RMA-BAD"))
    assert_fault(fault_of(erp.service.UpdateReturn, OrderNumber=number, RequestId=unique("rq"), ReturnId="RMA-BAD",
                          Status="COMPLETED"),
                 "Client.ValidationError", "SCHEMA_VIOLATION", "Status")
    assert_fault(fault_of(erp.service.UpdateReturn, OrderNumber=number, RequestId=unique("rq"), ReturnId="  ",
                          Status="RECEIVED"),
                 "Client.ValidationError", "VALIDATION_ERROR", "ReturnId")
