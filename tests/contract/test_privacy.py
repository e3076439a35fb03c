"""ForgetCustomer and ExportCustomerData over SOAP (zeep) and JSON (requests) against a real
gunicorn on SQLite and PostgreSQL: after forgetting, FindOrdersByEmail finds nothing, the orders
read by number hold no personal data and the same money, a scan of every column of every table of
the live schema and of the server's whole log (at DEBUG) finds the email, name and phone nowhere,
and an ERP re-feed of the old documents brings nothing back; the export before and after; replay
and conflict of the RequestId; the privacy scope."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests
import zeep
import zeep.helpers

from soap_orders.documents import records
from soap_orders.ingest import orders as upserts
from soap_orders.operations import BY_NAME
from soap_orders.service import orders as order_cases
from tests.conftest import _database
from tests.contract.clients import make_client
from tests.privacy import (
    Person,
    copies_in_database,
    copies_in_text,
    person,
    personal_order,
)
from tests.records import order_record, soap_wrapped, store, unique
from tests.server import Server, add_client

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """As conftest's, logging everything (DEBUG, JSON lines) so the log can be searched."""
    directory = tmp_path_factory.mktemp(f"privacy-{request.param}")
    url = _database(request.param, directory, request.module.__name__)
    running = Server(url, directory / "gunicorn.log",
                     extra_env={"SOAP_ORDERS_LOG_LEVEL": "DEBUG", "SOAP_ORDERS_LOG_FORMAT": "json"})
    yield running
    running.stop()


class Way:
    """One way in (SOAP with zeep, or JSON with requests), answering in one plain form: JSON's,
    where a list is a list (SOAP's wrappers unwrapped) and a refusal is ``{"fault": ErrorCode}``."""

    def __init__(self, server: Server, kind: str, credentials: tuple[str, str] | None = None) -> None:
        self.kind = kind
        self.server = server
        self.credentials = credentials or server.credentials
        self.zeep = make_client(server, "basic", self.credentials) if kind == "soap" else None

    def __call__(self, operation: str, **args: Any) -> dict[str, Any]:
        if self.zeep is None:
            answer = requests.post(f"{self.server.base_url}/json/{operation}", json=args, auth=self.credentials,
                                   timeout=20)
            body = answer.json()
            return body if answer.status_code == 200 else {"fault": body["ErrorCode"], "status": answer.status_code}
        if operation == "UpsertOrders":
            order_type = self.zeep.get_type("{urn:soap-orders:orders:v1}OrderInput")
            args = {**args, "Orders": {"Order": [order_type(**soap_wrapped(d)) for d in args["Orders"]]}}
        try:
            result = self.zeep.service[operation](**args)
        except zeep.exceptions.Fault as fault:
            detail = fault.detail.find("{urn:soap-orders:orders:v1}FaultDetail")
            return {"fault": detail.findtext("{urn:soap-orders:orders:v1}ErrorCode"), "code": fault.code}
        plain = json.loads(json.dumps(zeep.helpers.serialize_object(result, dict), default=str))
        members = BY_NAME[operation].answer
        return _unwrapped({members[0].name: plain} if len(members) == 1 else plain)  # zeep hands back a lone member


def _unwrapped(value: Any) -> Any:
    """zeep's ``{"Orders": {"Order": [...]}}`` (None when empty) as JSON's ``{"Orders": [...]}``, and
    leaves without a value left out, as JSON leaves them out."""
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(next(iter(value.values())), list) and next(iter(value)) in _ITEMS:
            return [_unwrapped(item) for item in next(iter(value.values()))]
        return {key: _unwrapped(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_unwrapped(item) for item in value]
    return value


_ITEMS = {"Order", "Subscription", "Event", "Detail", "Line", "Shipment", "Item", "Return", "Refund", "Record",
          "Result", "Charge", "OrderNumber"}


def items(answer: dict[str, Any], name: str) -> list[Any]:
    value = answer.get(name)
    return value if isinstance(value, list) else []


def money(order: dict[str, Any]) -> dict[str, Any]:
    """What money and disputes need of an order document, numbers compared as decimals."""
    amounts = {name: Decimal(str(order[name])) for name in ("Subtotal", "ShippingTotal", "TaxTotal", "DiscountTotal",
                                                            "Total", "RefundedAmount", "RefundableAmount")}
    return {
        **amounts, "Currency": order["Currency"], "Status": order["Status"], "CreatedAt": order["CreatedAt"],
        "Lines": [(line["Sku"], line["Quantity"], Decimal(str(line["UnitPrice"]))) for line in items(order, "Lines")],
        "Refunds": [(r["RefundId"], Decimal(str(r["Amount"])), r["Status"]) for r in items(order, "Refunds")],
        "Shipments": [(s["ShipmentId"], s.get("TrackingNumber"), s.get("CarrierCode")) for s in items(order, "Shipments")],
        "Returns": [(r["ReturnId"], r["Status"], r.get("ReturnTrackingNumber")) for r in items(order, "Returns")],
    }


@pytest.fixture(params=["soap", "json"])
def way(request: pytest.FixtureRequest, server: Server) -> Way:
    return Way(server, str(request.param))


def arrange(server_deps: Any, call: Way, who: Person) -> tuple[str, str]:
    """Two orders of ``who``'s, one with a refund DG made with a note (still PENDING)."""
    active = order_record(unique("CPRIV"), who.email, Customer=who.customer, ShippingAddress=who.address)
    returned = personal_order(who)
    store(server_deps, active, returned)
    refund = call("IssueRefund", OrderNumber=active["OrderNumber"], RequestId=unique("refund"), Reason="DAMAGED",
                  Amount="5.00", Note=who.note)
    assert refund["Outcome"] == "REFUNDED", refund
    return active["OrderNumber"], returned["OrderNumber"]


def settle(server_deps: Any, number: str) -> None:
    """The payment side reports the refund COMPLETED in the ERP's next document."""
    document = records.order_to_record(order_cases.get_order(server_deps.uow(), number))
    document["Refunds"][0]["Status"] = "COMPLETED"
    (result,) = upserts.upsert_records(server_deps.uow(), [document], server_deps.clock).results
    assert result.outcome.value == "UPDATED", result


def test_forget_then_nothing_is_found_and_the_money_stays(server, server_deps, way):
    who = person()
    number, returned = arrange(server_deps, way, who)
    old_documents = [records.order_to_record(order_cases.get_order(server_deps.uow(), n)) for n in (number, returned)]
    assert "orders.customer_email: email" in copies_in_database(server_deps.engine, who)  # the scan sees it

    held = way("ExportCustomerData", Email=who.email.lower())
    assert [o["OrderNumber"] for o in items(held, "Orders")] == [returned, number]
    assert {o["Customer"]["FirstName"] for o in items(held, "Orders")} == {who.first_name}
    assert "RefundIssued" in {event["Type"] for event in items(held, "Events")}
    assert items(held, "Subscriptions") == [] and held["GeneratedAt"]

    refused = way("ForgetCustomer", Email=who.email, RequestId=unique("forget"))
    assert (refused["Outcome"], refused["ReasonCode"]) == ("REJECTED", "UNSETTLED_REFUND")
    assert [(u.get("OrderNumber"), u["ReasonCode"]) for u in items(refused, "Unsettled")] == [
        (number, "UNSETTLED_REFUND")]
    assert "Pseudonym" not in refused and set(refused["Forgotten"].values()) == {0}
    assert way("FindOrdersByEmail", Email=who.email)["TotalCount"] == 2

    settle(server_deps, number)
    before = {n: money(way("GetOrder", OrderNumber=n)["Order"]) for n in (number, returned)}
    request_id = unique("forget")
    answer = way("ForgetCustomer", Email=f" {who.email.upper()} ", RequestId=request_id)
    assert (answer["Outcome"], answer["ReasonCode"]) == ("FORGOTTEN", "NONE"), answer
    assert answer["Pseudonym"].endswith("@forgotten.invalid") and items(answer, "Unsettled") == []
    assert answer["Forgotten"] == {"Orders": 2, "Subscriptions": 0, "ChangeFeedEvents": 1, "AuditRecords": 1,
                                   "Notifications": 0, "StoredAnswers": 1}  # the refund's note, three times
    assert all(value not in json.dumps(answer) for value in who.values().values())

    assert way("ForgetCustomer", Email=who.email, RequestId=request_id) == answer  # replayed
    conflict = way("ForgetCustomer", Email="someone.else@example.com", RequestId=request_id)
    assert conflict["fault"] == "IDEMPOTENCY_CONFLICT"
    assert conflict.get("status", 409) == 409 and conflict.get("code", "Client.IdempotencyConflict").endswith(
        "Client.IdempotencyConflict")

    found = way("FindOrdersByEmail", Email=who.email)
    assert (items(found, "Orders"), found["TotalCount"]) == ([], 0)
    for n in (number, returned):
        order = way("GetOrder", OrderNumber=n)["Order"]
        assert order["Customer"] == {"Email": answer["Pseudonym"]}
        assert order["ShippingAddress"] == {"CountryCode": "GB"}
        assert all("Note" not in refund for refund in items(order, "Refunds"))
        assert money(order) == before[n]
        assert way("GetOrder", OrderNumber=n, Email=who.email) == {"fault": "ORDER_NOT_FOUND", **(
            {"status": 404} if way.kind == "json" else {"code": "soap11env:Client.OrderNotFound"})}
    assert copies_in_database(server_deps.engine, who) == []

    refed = way("UpsertOrders", RequestId=unique("erp"), Orders=old_documents)
    assert [(r["OrderNumber"], r["Outcome"], r["ReasonCode"]) for r in items(refed, "Results")] == [
        (number, "UNCHANGED", "PERSONAL_DATA_FORGOTTEN"), (returned, "UNCHANGED", "PERSONAL_DATA_FORGOTTEN")]
    assert copies_in_database(server_deps.engine, who) == []
    assert way("GetOrder", OrderNumber=number)["Order"]["Customer"] == {"Email": answer["Pseudonym"]}

    after = way("ExportCustomerData", Email=who.email)
    assert (items(after, "Orders"), items(after, "Subscriptions"), items(after, "Events")) == ([], [], [])
    log = server.log()
    assert '"operation": "ForgetCustomer"' in log and '"operation": "ExportCustomerData"' in log
    assert copies_in_text(log, who) == []


def test_bad_requests_are_refused_without_repeating_them(server, way):
    who = person()
    both = way("ForgetCustomer", Email=who.email, RequestId=unique("forget"), OrderNumber="SO-1",
               SubscriptionId="SUB-1")
    assert both["fault"] == "VALIDATION_ERROR" and both.get("status", 400) == 400
    not_an_email = way("ForgetCustomer", Email=f"{who.first_name} {who.last_name}", RequestId=unique("forget"))
    assert not_an_email["fault"] in ("VALIDATION_ERROR", "SCHEMA_VIOLATION")
    assert way("ExportCustomerData", Email=who.phone)["fault"] in ("VALIDATION_ERROR", "SCHEMA_VIOLATION")
    if way.kind == "json":
        stray = requests.post(f"{server.base_url}/json/ForgetCustomer", auth=server.credentials, timeout=10,
                              json={"Email": who.email, "RequestId": "x", "Name": who.last_name})
        assert stray.status_code == 400 and who.last_name not in stray.text and who.email not in stray.text
    log = server.log()
    assert '"operation": "ForgetCustomer"' in log
    assert copies_in_text(log, who) == []


def test_a_new_order_of_a_forgotten_customer_is_stored_and_found(server, server_deps, way):
    who = person()
    (old,) = store(server_deps, personal_order(who))
    assert way("ForgetCustomer", Email=who.email, RequestId=unique("forget"))["Outcome"] == "FORGOTTEN"
    new = personal_order(who)
    created = way("UpsertOrders", RequestId=unique("erp"), Orders=[new])
    assert [(r["Outcome"], r["ReasonCode"]) for r in items(created, "Results")] == [("CREATED", "NONE")]
    found = way("FindOrdersByEmail", Email=who.email)
    assert [o["OrderNumber"] for o in items(found, "Orders")] == [new["OrderNumber"]]
    assert items(found, "Orders")[0]["Customer"]["LastName"] == who.last_name
    assert [o["OrderNumber"] for o in items(way("ExportCustomerData", Email=who.email), "Orders")] == [
        new["OrderNumber"]]
    assert way("GetOrder", OrderNumber=old)["Order"]["Customer"]["Email"].endswith("@forgotten.invalid")


@pytest.mark.parametrize("scopes", [("orders:read", "orders:act"), ("erp",)])
def test_privacy_operations_need_the_privacy_scope(server, server_deps, way, scopes):
    who = person()
    (number,) = store(server_deps, personal_order(who))
    name = unique("no-privacy")
    other = Way(server, way.kind, (name, add_client(server.database_url, name, scopes)))
    for operation, args in (("ForgetCustomer", {"Email": who.email, "RequestId": unique("forget")}),
                            ("ExportCustomerData", {"Email": who.email})):
        refused = other(operation, **args)
        assert refused["fault"] == "FORBIDDEN" and refused.get("status", 403) == 403, refused
    assert way("GetOrder", OrderNumber=number)["Order"]["Customer"]["Email"] == who.email  # nothing forgotten
    name = unique("privacy-only")
    desk = Way(server, way.kind, (name, add_client(server.database_url, name, ("privacy",))))
    assert desk("FindOrdersByEmail", Email=who.email)["fault"] == "FORBIDDEN"
    assert [o["OrderNumber"] for o in items(desk("ExportCustomerData", Email=who.email), "Orders")] == [number]
