"""The order actions over the JSON twin with requests against a real server, on SQLite and
PostgreSQL: find by tracking number, change the shipping address, cancel lines, issue a
replacement, create and update a return. For each: success, every rejection (ReasonCode), not
found (404), replay, conflict (409), scope (403) and validation errors (400)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.contract.actions import (
    events_of,
    foreign_item,
    half_refunded,
    recently,
    refund_count,
    returned,
    tracked,
)
from tests.contract.test_json import JsonClient, error_of
from tests.records import delivered, order_record, shipped, store, unique, with_return
from tests.server import Server, add_client

pytestmark = pytest.mark.slow

NEW_ADDRESS = {"Name": "Ann Lee", "Line1": "10 Downing Street", "City": "London", "PostalCode": "SW1A 2AA",
               "CountryCode": "GB"}


@pytest.fixture(scope="module")
def api(server: Server) -> JsonClient:
    """A client of the consumer's kind: orders:read and orders:act, no erp."""
    name = unique("dg-json")
    return JsonClient(server, "basic", (name, add_client(server.database_url, name, ("orders:read", "orders:act"))))


@pytest.fixture(scope="module")
def erp(server: Server) -> JsonClient:
    name = unique("erp-json")
    return JsonClient(server, "bearer", (name, add_client(server.database_url, name, ("erp",))))


def fresh() -> dict[str, Any]:
    return delivered(order_record(), at=recently())


# ---------------------------------------------------------------------- FindOrdersByTrackingNumber


def test_find_by_tracking_number_outbound_and_return_in_any_case(api, server_deps):
    outbound, back = unique("JTRK").replace("-", ""), unique("JRET").replace("-", "")
    first, second = store(server_deps, tracked(outbound),
                          with_return(fresh(), unique("RMA"), tracking=back))
    page = api.ok("FindOrdersByTrackingNumber", {"TrackingNumber": f" {outbound.lower()} "})
    assert [o["OrderNumber"] for o in page["Orders"]] == [first]
    assert (page["TotalCount"], page["CurrentPage"], page["ItemsPerPage"], page["HasMore"]) == (1, 1, 20, False)
    by_return = api.ok("FindOrdersByTrackingNumber", {"TrackingNumber": back.lower()})
    assert [o["OrderNumber"] for o in by_return["Orders"]] == [second]
    assert by_return["Orders"][0]["Returns"][0]["ReturnTrackingNumber"] == back
    nothing = api.ok("FindOrdersByTrackingNumber", {"TrackingNumber": outbound[:-1]})
    assert nothing == {"Orders": [], "TotalCount": 0, "CurrentPage": 1, "ItemsPerPage": 20, "HasMore": False}


def test_find_by_tracking_number_checks_the_email_and_pages(api, server_deps):
    tracking = unique("JPAGE").replace("-", "")
    numbers = store(server_deps, *[
        tracked(tracking, email=email, CreatedAt=f"2026-01-{day:02d}T09:00:00Z")
        for day, email in enumerate(["ann.j@example.com", "ann.j@example.com", "bob.j@example.com"], start=1)
    ])
    page1 = api.ok("FindOrdersByTrackingNumber", {"TrackingNumber": tracking, "PageSize": 2})
    page2 = api.ok("FindOrdersByTrackingNumber", {"TrackingNumber": tracking, "PageSize": 2, "PageNumber": 2})
    assert [o["OrderNumber"] for o in page1["Orders"]] == [numbers[2], numbers[1]] and page1["HasMore"] is True
    assert [o["OrderNumber"] for o in page2["Orders"]] == [numbers[0]] and page2["HasMore"] is False
    ann = api.ok("FindOrdersByTrackingNumber", {"TrackingNumber": tracking, "Email": "ANN.J@example.com"})
    assert [o["OrderNumber"] for o in ann["Orders"]] == [numbers[1], numbers[0]] and ann["TotalCount"] == 2
    other = api.ok("FindOrdersByTrackingNumber", {"TrackingNumber": tracking, "Email": "eve@example.com"})
    assert other["Orders"] == [] and other["TotalCount"] == 0


@pytest.mark.parametrize(("body", "field"), [
    ({}, "TrackingNumber"),
    ({"TrackingNumber": "  "}, "TrackingNumber"),
    ({"TrackingNumber": "X" * 65}, "TrackingNumber"),
    ({"TrackingNumber": "RM1", "PageSize": 0}, "PageSize"),
    ({"TrackingNumber": "RM1", "Email": "nope"}, "Email"),
    ({"TrackingNumber": "RM1", "Status": "SHIPPED"}, "Status"),
])
def test_find_by_tracking_number_validation(api, body, field):
    error = error_of(api.call("FindOrdersByTrackingNumber", body), 400, "VALIDATION_ERROR")
    assert field in error["Message"]


# ---------------------------------------------------------------------- the actions, table by table

Arrange = Callable[[], dict[str, Any]]

#: operation -> (a request that succeeds on order_record()-like arrangements, the arrangement, the Outcome)
SUCCESS: dict[str, tuple[dict[str, Any], Arrange, str]] = {
    "ChangeShippingAddress": ({"ShippingAddress": NEW_ADDRESS}, order_record, "ADDRESS_CHANGED"),
    "CancelOrderLines": ({"Reason": "CUSTOMER", "Lines": [{"Sku": "TEA-001", "Quantity": 1}]}, order_record,
                         "LINES_CANCELLED"),
    "IssueReplacement": ({"Reason": "DAMAGED", "Lines": [{"Sku": "MUG-RED", "Quantity": 1}]},
                         lambda: shipped(order_record()), "REPLACEMENT_ISSUED"),
    "CreateReturn": ({"Reason": "SIZE", "Lines": [{"LineNumber": 1, "Quantity": 1}]}, fresh, "RETURN_CREATED"),
}


def test_change_shipping_address(api, server_deps):
    (number,) = store(server_deps, order_record())
    answer = api.ok("ChangeShippingAddress", {"OrderNumber": number, "RequestId": unique("rq"),
                                              "ShippingAddress": {**NEW_ADDRESS, "City": " London "}})
    assert (answer["Outcome"], answer["ReasonCode"]) == ("ADDRESS_CHANGED", "NONE")
    assert answer["Order"]["ShippingAddress"] == NEW_ADDRESS  # values are trimmed
    assert answer["Order"]["AddressChangedAt"].endswith("Z")
    assert events_of(server_deps, number) == ["ShippingAddressChanged"]


def test_cancel_lines(api, server_deps):
    paid, authorised = store(server_deps, order_record(), order_record(FinancialStatus="AUTHORIZED"))
    answer = api.ok("CancelOrderLines", {"OrderNumber": paid, "RequestId": unique("rq"), "Reason": "CUSTOMER",
                                         "Lines": [{"LineNumber": 1, "Quantity": 1}, {"Sku": "NOPE", "Quantity": 1}]})
    assert (answer["Outcome"], answer["ReasonCode"]) == ("LINES_CANCELLED", "NONE")
    assert [(r["LineNumber"] if "LineNumber" in r else r["Sku"], r["ReasonCode"]) for r in answer["LineResults"]] == [
        (1, "NONE"), ("NOPE", "UNKNOWN_LINE")]
    assert (answer["Refund"]["Amount"], answer["RefundableAmount"]) == ("10.00", "20.00")
    assert "ReleasedAmount" not in answer
    released = api.ok("CancelOrderLines", {"OrderNumber": authorised, "RequestId": unique("rq"), "Reason": "CUSTOMER",
                                           "Lines": [{"LineNumber": 1, "Quantity": 2}, {"LineNumber": 2, "Quantity": 1}]})
    assert "Refund" not in released and released["ReleasedAmount"] == "30.00"
    assert (released["Order"]["Status"], released["Order"]["FinancialStatus"]) == ("CANCELLED", "VOIDED")


def test_issue_replacement(api, server_deps):
    (number,) = store(server_deps, shipped(order_record()))
    answer = api.ok("IssueReplacement", {"OrderNumber": number, "RequestId": unique("rq"), "Reason": "LOST",
                                         "Lines": [{"Sku": "TEA-001", "Quantity": 1}]})
    assert (answer["Outcome"], answer["ReplacementOrderNumber"]) == ("REPLACEMENT_ISSUED", f"{number}-R1")
    assert answer["Order"]["ReplacementOrderNumbers"] == [f"{number}-R1"]
    new = api.ok("GetOrder", {"OrderNumber": f"{number}-R1"})["Order"]
    assert (new["OrderType"], new["ReplacesOrderNumber"], new["Total"]) == ("REPLACEMENT", number, "0.00")
    assert [(line["Sku"], line["Quantity"], line["UnitPrice"]) for line in new["Lines"]] == [("TEA-001", 1, "0.00")]


def test_create_return(api, server_deps):
    (number,) = store(server_deps, fresh())
    answer = api.ok("CreateReturn", {
        "OrderNumber": number, "RequestId": unique("rq"), "Reason": "NOT_AS_DESCRIBED",
        "Lines": [{"Sku": "MUG-RED", "Quantity": 2}], "ReturnTrackingNumber": "JR123", "CarrierCode": "dhl",
        "LabelUrl": "https://labels.example.com/j.pdf",
    })
    assert (answer["Outcome"], answer["ReasonCode"]) == ("RETURN_CREATED", "NONE")
    (created,) = answer["Order"]["Returns"]
    assert created["ReturnId"] == answer["ReturnId"]
    assert (created["Status"], created["ReturnTrackingNumber"], created["LabelUrl"]) == (
        "LABEL_CREATED", "JR123", "https://labels.example.com/j.pdf")
    assert created["Items"] == [{"Sku": "MUG-RED", "Quantity": 2, "LineNumber": 1}]
    assert answer["Order"]["Lines"][0]["QuantityReturned"] == 2


def test_update_return_to_refunded(erp, server_deps):
    (number,) = store(server_deps, returned("RMA-J1"))
    received = erp.ok("UpdateReturn", {"OrderNumber": number, "RequestId": unique("rq"), "ReturnId": "RMA-J1",
                                       "Status": "RECEIVED"})
    assert (received["Outcome"], received["Order"]["Returns"][0]["WarehouseStatus"]) == ("RETURN_UPDATED", "RECEIVED")
    refunded = erp.ok("UpdateReturn", {"OrderNumber": number, "RequestId": unique("rq"), "ReturnId": "RMA-J1",
                                       "Status": "REFUNDED"})
    assert (refunded["Refund"]["Amount"], refunded["Refund"]["Reason"]) == ("20.00", "RETURN")
    back = refunded["Order"]["Returns"][0]
    assert (back["Status"], back["RefundStatus"], back["RefundId"]) == (
        "REFUNDED", "REFUNDED", refunded["Refund"]["RefundId"])
    assert refund_count(server_deps, number) == 1


REJECTIONS: list[tuple[str, Arrange, dict[str, Any], str]] = [
    ("ChangeShippingAddress", lambda: shipped(order_record()), {"ShippingAddress": NEW_ADDRESS}, "ALREADY_SHIPPED"),
    ("ChangeShippingAddress", lambda: order_record(Status="CANCELLED"), {"ShippingAddress": NEW_ADDRESS},
     "ALREADY_CANCELLED"),
    ("CancelOrderLines", lambda: shipped(order_record()),
     {"Reason": "OTHER", "Lines": [{"LineNumber": 1, "Quantity": 1}]}, "ALREADY_SHIPPED"),
    ("CancelOrderLines", lambda: order_record(Status="CANCELLED"),
     {"Reason": "OTHER", "Lines": [{"LineNumber": 1, "Quantity": 1}]}, "ALREADY_CANCELLED"),
    ("CancelOrderLines", order_record, {"Reason": "OTHER", "Lines": [{"LineNumber": 2, "Quantity": 2}]},
     "EXCEEDS_LINE_QUANTITY"),
    ("CancelOrderLines", order_record, {"Reason": "OTHER", "Lines": [{"LineNumber": 9, "Quantity": 1}]},
     "UNKNOWN_LINE"),
    ("IssueReplacement", order_record, {"Reason": "LOST", "Lines": [{"LineNumber": 1, "Quantity": 1}]},
     "NOT_SHIPPED"),
    ("IssueReplacement", lambda: shipped(order_record()),
     {"Reason": "LOST", "Lines": [{"LineNumber": 1, "Quantity": 3}]}, "EXCEEDS_REPLACEABLE"),
    ("IssueReplacement", lambda: shipped(order_record()),
     {"Reason": "LOST", "Lines": [{"Sku": "NOPE", "Quantity": 1}]}, "UNKNOWN_LINE"),
    ("CreateReturn", lambda: shipped(order_record()),
     {"Reason": "SIZE", "Lines": [{"LineNumber": 1, "Quantity": 1}]}, "NOT_DELIVERED"),
    ("CreateReturn", lambda: delivered(order_record(), at="2026-01-02T10:00:00Z"),
     {"Reason": "SIZE", "Lines": [{"LineNumber": 1, "Quantity": 1}]}, "OUTSIDE_RETURN_WINDOW"),
    ("CreateReturn", fresh, {"Reason": "SIZE", "Lines": [{"LineNumber": 2, "Quantity": 2}]}, "EXCEEDS_RETURNABLE"),
    ("CreateReturn", fresh, {"Reason": "SIZE", "Lines": [{"Sku": "NOPE", "Quantity": 1}]}, "UNKNOWN_LINE"),
]


@pytest.mark.parametrize(("operation", "arrange", "fields", "reason_code"), REJECTIONS,
                         ids=[f"{op}-{code}" for op, _, _, code in REJECTIONS])
def test_rejections_are_answers_that_change_nothing(api, server_deps, operation, arrange, fields, reason_code):
    record = arrange()
    (number,) = store(server_deps, record)
    before = api.ok("GetOrder", {"OrderNumber": number})["Order"]
    answer = api.ok(operation, {"OrderNumber": number, "RequestId": unique("rq"), **fields})
    assert (answer["Outcome"], answer["ReasonCode"]) == ("REJECTED", reason_code)
    assert answer["Message"].startswith(f"Order {number}") or number in answer["Message"]
    assert answer["Order"] == before
    assert events_of(server_deps, number) == [] and refund_count(server_deps, number) == 0


UPDATE_REJECTIONS: list[tuple[Arrange, dict[str, Any], str]] = [
    (lambda: returned("RMA-JU1"), {"ReturnId": "RMA-ELSE", "Status": "RECEIVED"}, "UNKNOWN_RETURN"),
    (lambda: returned("RMA-JU2"), {"ReturnId": "RMA-JU2", "Status": "INSPECTED"}, "INVALID_TRANSITION"),
    (lambda: returned("RMA-JU3", status="REFUNDED"), {"ReturnId": "RMA-JU3", "Status": "REJECTED"},
     "INVALID_TRANSITION"),
    (lambda: returned("RMA-JU4", status="INSPECTED", FinancialStatus="AUTHORIZED"),
     {"ReturnId": "RMA-JU4", "Status": "REFUNDED"}, "NOT_PAID"),
    (lambda: returned("RMA-JU5", status="RECEIVED", FinancialStatus="REFUNDED",
                      Refunds=[{"RefundId": "RF-OLD", "Amount": "30.00", "Reason": "OTHER", "Status": "COMPLETED",
                                "CreatedAt": "2026-03-04T10:00:00Z"}]),
     {"ReturnId": "RMA-JU5", "Status": "REFUNDED"}, "NOTHING_REFUNDABLE"),
    (lambda: half_refunded("RMA-JU6"), {"ReturnId": "RMA-JU6", "Status": "REFUNDED"}, "EXCEEDS_LINE_QUANTITY"),
    (lambda: foreign_item("RMA-JU7"), {"ReturnId": "RMA-JU7", "Status": "REFUNDED"}, "UNKNOWN_LINE"),
]


@pytest.mark.parametrize(("arrange", "fields", "reason_code"), UPDATE_REJECTIONS,
                         ids=[code for _, _, code in UPDATE_REJECTIONS])
def test_update_return_rejections(erp, api, server_deps, arrange, fields, reason_code):
    (number,) = store(server_deps, arrange())
    before = api.ok("GetOrder", {"OrderNumber": number})["Order"]
    answer = erp.ok("UpdateReturn", {"OrderNumber": number, "RequestId": unique("rq"), **fields})
    assert (answer["Outcome"], answer["ReasonCode"]) == ("REJECTED", reason_code)
    assert "Refund" not in answer and answer["Order"] == before
    assert events_of(server_deps, number) == []


# ---------------------------------------------------------------------- not found, replay, conflict, scope

ALL_ACTIONS = [*SUCCESS, "UpdateReturn"]


def action_body(operation: str, number: str) -> dict[str, Any]:
    if operation == "UpdateReturn":
        return {"OrderNumber": number, "RequestId": unique("rq"), "ReturnId": "RMA-R", "Status": "RECEIVED"}
    return {"OrderNumber": number, "RequestId": unique("rq"), **SUCCESS[operation][0]}


def caller(operation: str, api: JsonClient, erp: JsonClient) -> JsonClient:
    return erp if operation == "UpdateReturn" else api


def arranged(operation: str) -> dict[str, Any]:
    return returned("RMA-R") if operation == "UpdateReturn" else SUCCESS[operation][1]()


@pytest.mark.parametrize("operation", ALL_ACTIONS)
def test_an_unknown_order_is_not_found(api, erp, operation):
    error = error_of(caller(operation, api, erp).call(operation, action_body(operation, "NOPE-JSON")), 404,
                     "ORDER_NOT_FOUND")
    assert error["Retryable"] is False


@pytest.mark.parametrize("operation", ALL_ACTIONS)
def test_the_same_request_id_replays_and_acts_once(api, erp, server_deps, operation):
    (number,) = store(server_deps, arranged(operation))
    client = caller(operation, api, erp)
    body = action_body(operation, number)
    first = client.ok(operation, body)
    assert first["Outcome"] == (SUCCESS[operation][2] if operation in SUCCESS else "RETURN_UPDATED")
    replay = client.ok(operation, body)
    assert replay == first
    assert len(events_of(server_deps, number)) == len(set(events_of(server_deps, number)))  # each event once


@pytest.mark.parametrize(("operation", "change"), [
    ("ChangeShippingAddress", {"ShippingAddress": {**NEW_ADDRESS, "City": "Leeds"}}),
    ("CancelOrderLines", {"Lines": [{"Sku": "TEA-001", "Quantity": 1}], "Note": "another note"}),
    ("IssueReplacement", {"Reason": "WRONG_ITEM"}),
    ("CreateReturn", {"Lines": [{"LineNumber": 2, "Quantity": 1}]}),
    ("UpdateReturn", {"Status": "REJECTED"}),
])
def test_the_same_request_id_with_other_parameters_is_a_conflict(api, erp, server_deps, operation, change):
    (number,) = store(server_deps, arranged(operation))
    client = caller(operation, api, erp)
    body = action_body(operation, number)
    client.ok(operation, body)
    events = events_of(server_deps, number)
    error_of(client.call(operation, {**body, **change}), 409, "IDEMPOTENCY_CONFLICT")
    assert events_of(server_deps, number) == events


def test_update_return_needs_the_erp_scope_and_erp_cannot_act_for_customers(api, erp, server_deps):
    (number,) = store(server_deps, returned("RMA-R"))
    error_of(api.call("UpdateReturn", action_body("UpdateReturn", number)), 403, "FORBIDDEN")
    error_of(erp.call("CreateReturn", action_body("CreateReturn", number)), 403, "FORBIDDEN")
    error_of(erp.call("FindOrdersByTrackingNumber", {"TrackingNumber": "RM1"}), 403, "FORBIDDEN")
    assert events_of(server_deps, number) == []


# ---------------------------------------------------------------------- validation


@pytest.mark.parametrize(("operation", "change", "field", "code"), [
    ("ChangeShippingAddress", {"ShippingAddress": {**NEW_ADDRESS, "CountryCode": "XX"}}, "CountryCode",
     "VALIDATION_ERROR"),
    ("ChangeShippingAddress", {"ShippingAddress": {**NEW_ADDRESS, "CountryCode": "gb"}}, "CountryCode",
     "VALIDATION_ERROR"),
    ("ChangeShippingAddress", {"ShippingAddress": {k: v for k, v in NEW_ADDRESS.items() if k != "PostalCode"}},
     "PostalCode", "VALIDATION_ERROR"),
    ("ChangeShippingAddress", {"ShippingAddress": {k: v for k, v in NEW_ADDRESS.items() if k != "City"}},
     "City", "VALIDATION_ERROR"),
    ("ChangeShippingAddress", {"ShippingAddress": {**NEW_ADDRESS, "Line1": "L" * 201}}, "Line1", "VALIDATION_ERROR"),
    ("ChangeShippingAddress", {"ShippingAddress": {**NEW_ADDRESS, "Floor": "3"}}, "Floor", "VALIDATION_ERROR"),
    ("ChangeShippingAddress", {"ShippingAddress": None}, "ShippingAddress", "VALIDATION_ERROR"),
    ("CancelOrderLines", {"Lines": []}, "Lines", "VALIDATION_ERROR"),
    ("CancelOrderLines", {"Lines": [{"Quantity": 1}]}, "LineNumber", "VALIDATION_ERROR"),
    ("CancelOrderLines", {"Lines": [{"LineNumber": 1, "Quantity": 0}]}, "Quantity", "VALIDATION_ERROR"),
    ("CancelOrderLines", {"Reason": "WHIM"}, "Reason", "VALIDATION_ERROR"),
    ("IssueReplacement", {"Reason": "CUSTOMER"}, "Reason", "VALIDATION_ERROR"),
    ("IssueReplacement", {"Lines": [{"LineNumber": 1, "Quantity": "one"}]}, "Quantity", "VALIDATION_ERROR"),
    ("CreateReturn", {"LabelUrl": "javascript:alert(1)"}, "LabelUrl", "VALIDATION_ERROR"),
    ("CreateReturn", {"Lines": []}, "Lines", "VALIDATION_ERROR"),
    ("CreateReturn", {"Reason": "SIZE", "RequestId": "r" * 65}, "RequestId", "VALIDATION_ERROR"),
    ("UpdateReturn", {"Status": "COMPLETED"}, "Status", "VALIDATION_ERROR"),
    ("UpdateReturn", {"ReturnId": " "}, "ReturnId", "VALIDATION_ERROR"),
])
def test_bad_requests_are_400_naming_the_field(api, erp, server_deps, operation, change, field, code):
    (number,) = store(server_deps, arranged(operation))
    body = {**action_body(operation, number), **change}
    if body.get("ShippingAddress", "") is None:
        del body["ShippingAddress"]
    error = error_of(caller(operation, api, erp).call(operation, body), 400, code)
    assert field in error["Message"], error
    assert "XX" not in error["Message"] and "javascript" not in error["Message"]
    assert events_of(server_deps, number) == []
