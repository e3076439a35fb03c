"""RecordShipment over real HTTP on SQLite and PostgreSQL: with zeep (SOAP) and requests (the JSON
twin): create then deliver, each rejection, not found, replay, conflict, and the erp scope."""

from __future__ import annotations

from typing import Any

import pytest
import zeep
from sqlalchemy import func, select

from soap_orders.adapters.orm import order_events
from tests.contract.clients import make_client
from tests.contract.test_json import JsonClient, error_of
from tests.records import order_record, store, unique
from tests.server import add_client
from tests.xmltools import fault_detail

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def soap(server: Any) -> zeep.Client:
    return make_client(server, "basic")


@pytest.fixture(scope="module")
def api(server: Any) -> JsonClient:
    return JsonClient(server, "basic")


@pytest.fixture(scope="module")
def actor(server: Any) -> tuple[str, str]:
    """A client with orders:read and orders:act, as DG has: not erp."""
    return "dg-actor", add_client(server.database_url, "dg-actor")


def shipment(*items: tuple[str, int], status: str = "IN_TRANSIT", **fields: Any) -> dict[str, Any]:
    return {"ShipmentId": fields.pop("ShipmentId", "SH-1"), "Status": status,
            "Items": [{"Sku": sku, "Quantity": quantity} for sku, quantity in items], **fields}


def recorded_events(deps: Any, number: str) -> int:
    with deps.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(order_events).where(
            order_events.c.order_number == number, order_events.c.event_type == "ShipmentRecorded")))


def soap_shipment(*items: tuple[str, int], status: str = "IN_TRANSIT", **fields: Any) -> dict[str, Any]:
    body = shipment(*items, status=status, **fields)
    body["Items"] = {"Item": body["Items"]}
    return body


# ---------------------------------------------------------------------- SOAP (zeep)


def test_soap_create_then_deliver(soap, server_deps):
    (number,) = store(server_deps, order_record())
    first = soap.service.RecordShipment(OrderNumber=number, RequestId=unique("rs"), Shipment=soap_shipment(
        ("MUG-RED", 2), CarrierName="DHL", CarrierCode="dhl", TrackingNumber="JD01",
        TrackingUrl="https://t.example/JD01", ExpectedDeliveryDate="2026-03-12"))
    assert (first.Outcome, first.ReasonCode) == ("SHIPMENT_RECORDED", "NONE")
    assert first.Order.Status == "PARTIALLY_SHIPPED"
    assert [line.Status for line in first.Order.Lines.Line] == ["SHIPPED", "PROCESSING"]
    second = soap.service.RecordShipment(OrderNumber=number, RequestId=unique("rs"), Shipment=soap_shipment(
        ("MUG-RED", 2), ("TEA-001", 1), status="DELIVERED", DeliveredAt="2026-03-11T15:00:00Z"))
    assert second.Outcome == "SHIPMENT_RECORDED" and second.Order.Status == "DELIVERED"
    [parcel] = second.Order.Shipments.Shipment
    assert (parcel.Status, parcel.TrackingNumber, parcel.CarrierName) == ("DELIVERED", "JD01", "DHL")
    assert [line.Status for line in second.Order.Lines.Line] == ["DELIVERED", "DELIVERED"]
    assert recorded_events(server_deps, number) == 2


def test_soap_a_status_alone_needs_no_items(soap, server_deps):
    (number,) = store(server_deps, order_record())
    soap.service.RecordShipment(OrderNumber=number, RequestId=unique("rs"), Shipment=soap_shipment(
        ("MUG-RED", 2), ("TEA-001", 1), TrackingNumber="JD02"))
    # Only the shipment's id and its new status: no Items element at all.
    message = soap.create_message(soap.service, "RecordShipment", OrderNumber=number, RequestId=unique("rs"),
                                  Shipment={"ShipmentId": "SH-1", "Status": "DELIVERED"})
    assert message.find(".//{urn:soap-orders:orders:v1}Items") is None
    delivered = soap.service.RecordShipment(OrderNumber=number, RequestId=unique("rs"),
                                            Shipment={"ShipmentId": "SH-1", "Status": "DELIVERED"})
    assert (delivered.Outcome, delivered.Order.Status) == ("SHIPMENT_RECORDED", "DELIVERED")
    [parcel] = delivered.Order.Shipments.Shipment
    assert parcel.TrackingNumber == "JD02" and [(i.Sku, i.Quantity) for i in parcel.Items.Item] == [
        ("MUG-RED", 2), ("TEA-001", 1)]


@pytest.mark.parametrize(("items", "code"), [
    ((("MUG-RED", 3),), "EXCEEDS_UNSHIPPED"),
    ((("NOT-SOLD", 1),), "UNKNOWN_LINE"),
])
def test_soap_rejections(soap, server_deps, items, code):
    (number,) = store(server_deps, order_record())
    answer = soap.service.RecordShipment(OrderNumber=number, RequestId=unique("rs"), Shipment=soap_shipment(*items))
    assert (answer.Outcome, answer.ReasonCode) == ("REJECTED", code)
    assert answer.Order.Shipments is None or not answer.Order.Shipments.Shipment
    assert recorded_events(server_deps, number) == 0


def test_soap_not_found_and_forbidden(soap, server, actor):
    with pytest.raises(zeep.exceptions.Fault) as missing:
        soap.service.RecordShipment(OrderNumber="NOPE-RS", RequestId=unique("rs"), Shipment=soap_shipment(("A", 1)))
    assert fault_detail(missing.value.detail)["ErrorCode"] == "ORDER_NOT_FOUND"
    dg = make_client(server, "basic", actor)
    with pytest.raises(zeep.exceptions.Fault) as refused:
        dg.service.RecordShipment(OrderNumber="NOPE-RS", RequestId=unique("rs"), Shipment=soap_shipment(("A", 1)))
    assert refused.value.code.endswith("Client.Forbidden")


# ---------------------------------------------------------------------- JSON (requests)


def test_json_create_then_deliver(api, server_deps):
    (number,) = store(server_deps, order_record())
    first = api.ok("RecordShipment", {"OrderNumber": number, "RequestId": unique("rs"),
                                      "Shipment": shipment(("MUG-RED", 2), ("TEA-001", 1), TrackingNumber="T1")})
    assert first["Outcome"] == "SHIPMENT_RECORDED" and first["Order"]["Status"] == "SHIPPED"
    delivered = api.ok("RecordShipment", {"OrderNumber": number, "RequestId": unique("rs"),
                                          "Shipment": {"ShipmentId": "SH-1", "Status": "DELIVERED", "Items": []}})
    assert delivered["Order"]["Status"] == "DELIVERED"
    [parcel] = delivered["Order"]["Shipments"]
    assert parcel["TrackingNumber"] == "T1" and len(parcel["Items"]) == 2 and parcel["DeliveredAt"]


def test_json_a_status_alone_needs_no_items(api, server_deps):
    (number,) = store(server_deps, order_record())
    api.ok("RecordShipment", {"OrderNumber": number, "RequestId": unique("rs"),
                              "Shipment": shipment(("MUG-RED", 2), TrackingNumber="T2")})
    delayed = api.ok("RecordShipment", {"OrderNumber": number, "RequestId": unique("rs"),
                                        "Shipment": {"ShipmentId": "SH-1", "Status": "DELAYED"}})
    assert delayed["Outcome"] == "SHIPMENT_RECORDED"
    [parcel] = delayed["Order"]["Shipments"]
    assert (parcel["Status"], parcel["Items"]) == ("DELAYED", [{"Sku": "MUG-RED", "Quantity": 2}])


def test_json_line_cancelled_and_order_cancelled(api, server_deps):
    (number,) = store(server_deps, order_record())
    cancelled = api.ok("CancelOrderLines", {"OrderNumber": number, "RequestId": unique("cl"), "Reason": "CUSTOMER",
                                            "Lines": [{"LineNumber": 2, "Quantity": 1}]})
    assert cancelled["Outcome"] == "LINES_CANCELLED"
    answer = api.ok("RecordShipment", {"OrderNumber": number, "RequestId": unique("rs"),
                                       "Shipment": shipment(("TEA-001", 1))})
    assert (answer["Outcome"], answer["ReasonCode"]) == ("REJECTED", "LINE_CANCELLED")
    api.ok("CancelOrder", {"OrderNumber": number, "RequestId": unique("co"), "Reason": "CUSTOMER"})
    answer = api.ok("RecordShipment", {"OrderNumber": number, "RequestId": unique("rs"),
                                       "Shipment": shipment(("MUG-RED", 1))})
    assert (answer["Outcome"], answer["ReasonCode"]) == ("REJECTED", "ALREADY_CANCELLED")
    assert recorded_events(server_deps, number) == 0


def test_json_replay_and_conflict(api, server_deps):
    (number,) = store(server_deps, order_record())
    body = {"OrderNumber": number, "RequestId": unique("rs"), "Shipment": shipment(("MUG-RED", 1))}
    first = api.ok("RecordShipment", body)
    assert api.ok("RecordShipment", body) == first
    assert recorded_events(server_deps, number) == 1
    error_of(api.call("RecordShipment", {**body, "Shipment": shipment(("MUG-RED", 2))}), 409, "IDEMPOTENCY_CONFLICT")
    assert recorded_events(server_deps, number) == 1


def test_json_not_found_bad_field_and_forbidden(api, server, actor):
    error_of(api.call("RecordShipment", {"OrderNumber": "NOPE-RS", "RequestId": unique("rs"),
                                         "Shipment": shipment(("A", 1))}), 404, "ORDER_NOT_FOUND")
    error = error_of(api.call("RecordShipment", {"OrderNumber": "A", "RequestId": "r",
                                                 "Shipment": shipment(("A", 0))}), 400, "VALIDATION_ERROR")
    assert "Quantity" in error["Message"]
    error_of(JsonClient(server, "basic", actor).call("RecordShipment", {
        "OrderNumber": "A", "RequestId": "r", "Shipment": shipment(("A", 1))}), 403, "FORBIDDEN")
