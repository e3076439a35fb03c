"""Bad requests get a SOAP fault naming the problem: never an HTML page, a traceback or the input."""

from __future__ import annotations

import pytest
from lxml import etree

from tests.records import order_record, store
from tests.xmltools import fault_detail

pytestmark = pytest.mark.slow

ENV = "http://schemas.xmlsoap.org/soap/envelope/"
MARKER = "ZQX-INPUT-MARKER"


def envelope(body: str) -> str:
    return (f'<s:Envelope xmlns:s="{ENV}" xmlns:o="urn:soap-orders:orders:v1">'
            f"<s:Body>{body}</s:Body></s:Envelope>")


def fault(response) -> dict[str, str]:
    assert response.headers["Content-Type"].startswith("text/xml")
    text = response.text
    assert "<html" not in text.lower() and "Traceback" not in text and MARKER not in text
    node = etree.fromstring(response.content).find(f"{{{ENV}}}Body/{{{ENV}}}Fault")
    assert node is not None, text
    found = {"faultcode": node.findtext("faultcode"), "faultstring": node.findtext("faultstring")}
    found.update(fault_detail(node.find("detail")))
    return found


def assert_next_request_is_served(server) -> None:
    ok = server.post(envelope("<o:FindOrdersByEmail><o:Email>next@example.com</o:Email></o:FindOrdersByEmail>"))
    assert ok.status_code == 200 and b"FindOrdersByEmailResponse" in ok.content


@pytest.mark.parametrize(
    ("name", "body", "error_code", "says"),
    [
        ("malformed XML", f"<s:Envelope xmlns:s='{ENV}'><s:Body><{MARKER}></s:Body>", "MALFORMED_XML", "not well-formed"),
        ("empty body", "", "EMPTY_BODY", "empty"),
        ("wrong type", envelope(f"<o:FindOrdersByEmail><o:Email>a@example.com</o:Email><o:PageSize>{MARKER}</o:PageSize></o:FindOrdersByEmail>"),
         "SCHEMA_VIOLATION", "PageSize is not a valid whole number"),
        ("unknown operation", envelope(f"<o:{MARKER}><o:Email>a@example.com</o:Email></o:{MARKER}>"), "UNKNOWN_OPERATION", "operation"),
        ("missing required field", envelope("<o:CancelOrder><o:OrderNumber>SO-1</o:OrderNumber><o:Reason>OTHER</o:Reason></o:CancelOrder>"),
         "SCHEMA_VIOLATION", "RequestId"),
        ("bad enumeration", envelope(f"<o:CancelOrder><o:OrderNumber>SO-1</o:OrderNumber><o:RequestId>r</o:RequestId><o:Reason>{MARKER}</o:Reason></o:CancelOrder>"),
         "SCHEMA_VIOLATION", "Reason must be one of"),
        ("too long", envelope(f"<o:GetOrder><o:OrderNumber>{MARKER * 10}</o:OrderNumber></o:GetOrder>"), "SCHEMA_VIOLATION", "longer than 64"),
        ("unexpected element", envelope(f"<o:GetOrder><o:OrderNumber>SO-1</o:OrderNumber><o:{MARKER}>x</o:{MARKER}></o:GetOrder>"),
         "SCHEMA_VIOLATION", "not expected"),
        ("exponent amount", envelope("<o:IssueRefund><o:OrderNumber>SO-1</o:OrderNumber><o:RequestId>r</o:RequestId><o:Reason>OTHER</o:Reason><o:Amount>1E2</o:Amount></o:IssueRefund>"),
         "SCHEMA_VIOLATION", "Amount is not a valid decimal number"),
        ("document type declaration", f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "{MARKER}">]>' + envelope("<o:GetOrder><o:OrderNumber>&e;</o:OrderNumber></o:GetOrder>"),
         "DTD_FORBIDDEN", "not allowed"),
    ],
)
def test_bad_request_gets_a_client_fault(server, name, body, error_code, says):
    response = server.post(body)
    assert response.status_code == 500
    found = fault(response)
    assert found["faultcode"].endswith("Client.ValidationError"), found
    assert found["ErrorCode"] == error_code
    assert says in found["Message"]
    assert found["Retryable"] == "false"
    assert_next_request_is_served(server)


def test_bad_request_changes_nothing(server, server_deps):
    (number,) = store(server_deps, order_record())
    response = server.post(envelope(
        f"<o:IssueRefund><o:OrderNumber>{number}</o:OrderNumber><o:RequestId>r-bad</o:RequestId>"
        "<o:Reason>OTHER</o:Reason><o:Amount>0</o:Amount></o:IssueRefund>"))
    assert fault(response)["Message"] == "Amount must be greater than 0."
    with server_deps.uow() as uow:
        order = uow.orders.get(number)
        assert order is not None and order.refunds == [] and order.financial_status.value == "PAID"


@pytest.mark.parametrize(
    ("method", "path", "headers", "status", "error_code"),
    [
        ("GET", "/soap", {}, 405, "METHOD_NOT_ALLOWED"),
        ("POST", "/elsewhere", {"Content-Type": "text/xml"}, 404, "NOT_FOUND"),
        ("POST", "/soap", {"Content-Type": "application/json"}, 415, "UNSUPPORTED_MEDIA_TYPE"),
    ],
)
def test_wrong_http_use_gets_a_fault_not_a_page(server, method, path, headers, status, error_code):
    import requests

    response = requests.request(method, server.base_url + path, data=b"<x/>", headers=headers, timeout=10)
    assert response.status_code == status
    assert fault(response)["ErrorCode"] == error_code


def test_body_over_the_limit_is_refused_with_413(server):
    big = envelope(f"<o:GetOrder><o:OrderNumber>{'x' * (300 * 1024)}</o:OrderNumber></o:GetOrder>")
    response = server.post(big)
    assert response.status_code == 413
    assert fault(response)["ErrorCode"] == "PAYLOAD_TOO_LARGE"
    chunked = server.post(iter([big.encode()[i:i + 8192] for i in range(0, len(big), 8192)]))
    assert chunked.status_code == 413
    assert_next_request_is_served(server)


def test_every_response_carries_a_request_id(server):
    response = server.post(envelope("<o:GetOrder><o:OrderNumber>NOPE</o:OrderNumber></o:GetOrder>"), headers={"X-Request-Id": "dg-abc-123"})
    assert response.headers["X-Request-Id"] == "dg-abc-123"
    generated = server.post("<broken")
    assert len(generated.headers["X-Request-Id"]) == 32
