"""The sample envelopes in wsdl/examples/ are what the service really answers.

Each ``*-request.xml`` is posted to a live server holding the orders below; the answer must equal
the ``*-response.xml`` beside it as an XML tree. Values that differ on every call (refund ids and
the time of the change) are compared by presence, not by value. After a deliberate contract
change, ``SOAP_ORDERS_UPDATE_EXAMPLES=1 make test`` rewrites the responses for review.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lxml import etree

from tests.records import order_record as make_record
from tests.records import shipped, store
from tests.xmltools import assert_nodes_equal

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "wsdl" / "examples"
TNS = "urn:soap-orders:orders:v1"
VOLATILE = {"RefundId", "UpdatedAt", "CancelledAt"}
REQUESTS = sorted(EXAMPLES.glob("*-request.xml"))


@pytest.fixture(scope="module")
def example_orders(server_deps):
    """Orders with the numbers and emails of ``make run``'s demo data (200 orders, seed 1), so the
    request examples work there too (tests/unit/test_examples_match_demo_data.py checks that)."""
    louis, olivia = "louis.novak@example.com", "olivia.murphy@example.com"

    def order_record(number, email, **overrides):  # type: ignore[no-untyped-def]
        first, last = (part.capitalize() for part in email.split("@")[0].split("."))
        record = make_record(number, email, **overrides)
        record["Customer"].update(FirstName=first, LastName=last)
        record["ShippingAddress"]["Name"] = f"{first} {last}"
        return record

    delivered = shipped(order_record("SO-100003", olivia, CreatedAt="2026-02-20T16:45:00Z"), status="DELIVERED")
    delivered["Shipments"][0].update(Status="DELIVERED", DeliveredAt="2026-02-23T11:02:00Z")
    delivered["Lines"][0].update(Sku="RZB", Name="Safety Razor Blades (20 Pack)")
    delivered["Shipments"][0]["Items"][0]["Sku"] = "RZB"
    store(
        server_deps,
        shipped(order_record("SO-100137", louis, CreatedAt="2026-03-01T10:00:00Z")),
        order_record("SO-100164", "emily.lefebvre@example.com", CreatedAt="2026-03-05T09:30:00Z"),
        delivered,
        order_record("SO-100004", olivia, CreatedAt="2026-01-11T08:15:00Z", Status="DELIVERED"),
        order_record("SO-100005", olivia, CreatedAt="2026-03-07T19:20:00Z", Status="PENDING", FinancialStatus="AUTHORIZED"),
    )


def _masked(tree: etree._Element) -> etree._Element:
    for node in tree.iter():
        if not isinstance(node.tag, str):
            continue
        local = etree.QName(node).localname
        parent = node.getparent()
        refund_time = local == "CreatedAt" and parent is not None and etree.QName(parent).localname == "Refund"
        if local in VOLATILE or refund_time:
            node.text = "*"
    return tree


@pytest.mark.parametrize("request_file", REQUESTS, ids=lambda p: p.name.removesuffix("-request.xml"))
def test_example_envelope_is_what_the_service_answers(server, example_orders, request_file):
    response_file = request_file.with_name(request_file.name.replace("-request.xml", "-response.xml"))
    answer = server.post(request_file.read_bytes())
    assert answer.headers["Content-Type"].startswith("text/xml")
    actual = _masked(etree.fromstring(answer.content))
    if os.environ.get("SOAP_ORDERS_UPDATE_EXAMPLES") == "1":
        response_file.write_bytes(etree.tostring(actual, pretty_print=True, xml_declaration=True, encoding="UTF-8"))
    expected = _masked(etree.parse(str(response_file)).getroot())
    assert_nodes_equal(actual, expected)
    is_fault = expected.find(".//{http://schemas.xmlsoap.org/soap/envelope/}Fault") is not None
    assert answer.status_code == (500 if is_fault else 200)


def test_every_operation_has_an_example():
    from tests.contract.test_wsdl import operations_in

    examples = {p.name.split("-")[0] for p in REQUESTS}
    assert operations_in((EXAMPLES.parent / "orders.wsdl").read_bytes()) <= examples
