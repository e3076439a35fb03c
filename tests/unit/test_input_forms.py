"""What callers send is published apart from what answers carry: the ERP's Order (``OrderInput``)
and RecordShipment's Shipment (``ShipmentInput``) ask only for what the ERP knows, every element
the service computes or defaults is optional and says so, and the answers' types keep every
computed element required. Checked on the declarations, the committed WSDL and the OpenAPI
document (a drift test keeps those two equal to what the service serves)."""

from __future__ import annotations

import json
from pathlib import Path

from lxml import etree

from soap_orders.documents import ListOf, input_form
from soap_orders.documents.orders import (
    LINE,
    ORDER,
    ORDER_INPUT,
    ORDERS_IN,
    SHIPMENT,
    SHIPMENT_INPUT,
)
from soap_orders.operations import BY_NAME

ROOT = Path(__file__).resolve().parents[2]
XS = "{http://www.w3.org/2001/XMLSchema}"
COMPUTED = ("RefundedAmount", "RefundableAmount")
LINE_STATE = ("LineTotal", "Status", "QuantityShipped", "QuantityCancelled", "QuantityRefunded", "QuantityReturned")


def _element(schema: etree._Element, type_name: str, name: str) -> etree._Element:
    found = schema.find(f"{XS}complexType[@name='{type_name}']/{XS}sequence/{XS}element[@name='{name}']")
    assert found is not None, (type_name, name)
    return found


def test_the_input_form_asks_only_for_what_the_caller_must_send():
    assert [f.name for f in ORDER_INPUT.fields] == [f.name for f in ORDER.fields]
    for answer, sent in zip(ORDER.fields, ORDER_INPUT.fields, strict=True):
        assert sent.required is answer.required_on_input, answer.name
        if not sent.required and answer.required:
            assert sent.doc and sent.default is None, answer.name
    lines = ORDER_INPUT.field("Lines").kind
    assert isinstance(lines, ListOf) and lines.item is input_form(LINE) and lines.type_name == "LinesInput"
    assert not any(input_form(LINE).field(name).required for name in LINE_STATE)
    assert ORDERS_IN.item is ORDER_INPUT
    assert BY_NAME["RecordShipment"].request_document.field("Shipment").kind is SHIPMENT_INPUT
    assert not SHIPMENT_INPUT.field("Items").required and SHIPMENT.field("Items").required
    # The answers keep their computed figures required.
    assert all(ORDER.field(name).required for name in COMPUTED)
    assert all(LINE.field(name).required for name in LINE_STATE)


def test_a_document_with_nothing_to_leave_out_is_sent_as_it_is_answered():
    customer = ORDER.field("Customer").kind
    assert input_form(customer) is customer
    assert input_form(ORDER.field("Refunds").kind) is ORDER.field("Refunds").kind


def test_the_wsdl_publishes_the_input_types_and_says_what_is_computed():
    wsdl = etree.parse(str(ROOT / "wsdl" / "orders.wsdl"))
    schema = wsdl.find(f".//{XS}schema[@targetNamespace='urn:soap-orders:orders:v1']")
    assert _element(schema, "OrderDocuments", "Order").get("type") == "tns:OrderInput"
    assert _element(schema, "RecordShipment", "Shipment").get("type") == "tns:ShipmentInput"
    for type_name, names in (("OrderInput", COMPUTED + ("Shipments", "Returns", "Refunds")),
                             ("LineInput", LINE_STATE), ("ShipmentInput", ("Items",))):
        for name in names:
            assert _element(schema, type_name, name).get("minOccurs") == "0", (type_name, name)
    for type_name, name in (("OrderInput", "RefundedAmount"), ("LineInput", "LineTotal")):
        note = _element(schema, type_name, name).findtext(f"{XS}annotation/{XS}documentation")
        assert note and note.startswith("Computed by the service"), (type_name, name)
    for type_name, names in (("Order", COMPUTED + ("Shipments", "Returns", "Refunds")), ("Line", LINE_STATE)):
        for name in names:
            assert _element(schema, type_name, name).get("minOccurs") is None, (type_name, name)
    # No answer type carries the input documentation (spyne writes a complex element's on its type).
    for type_name in ("Refunds", "Items", "ReturnItems", "Lines", "Shipments"):
        assert schema.find(f"{XS}complexType[@name='{type_name}']/{XS}annotation") is None, type_name


def test_the_openapi_document_says_the_same():
    schemas = json.loads((ROOT / "wsdl" / "openapi.json").read_text())["components"]["schemas"]
    sent = schemas["UpsertOrdersRequest"]["properties"]["Orders"]["items"]
    assert sent == {"$ref": "#/components/schemas/OrderInput"}
    order_in, line_in = schemas["OrderInput"], schemas["LineInput"]
    assert not set(order_in["required"]) & {*COMPUTED, "Shipments", "Returns", "Refunds"}
    assert not set(line_in.get("required", ())) & set(LINE_STATE)
    assert "Computed by the service" in order_in["properties"]["RefundableAmount"]["description"]
    assert set(COMPUTED) <= set(schemas["Order"]["required"])
    assert set(LINE_STATE) <= set(schemas["Line"]["required"])
