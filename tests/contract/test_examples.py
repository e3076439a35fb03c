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

from tests.records import store_example_orders, store_example_subscriptions
from tests.xmltools import assert_nodes_equal

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "wsdl" / "examples"
TNS = "urn:soap-orders:orders:v1"
VOLATILE = {"RefundId", "UpdatedAt", "CancelledAt"}
#: A subscription's dates are counted from the day the example runs (a live server's clock), and
#: so is what an action's Message says about them.
SUBSCRIPTION_PARTS = {"Subscription", "Charge"}
SUBSCRIPTION_DATES = {"AnchorDate", "CreatedAt", "StartDate", "NextOrderDate", "LastOrderDate", "PausedAt", "PausedUntil",
                      "CancelAt", "OrderDate", "ChargedAt", "RefundedAt"}
REQUESTS = sorted(EXAMPLES.glob("*-request.xml"))


@pytest.fixture(scope="module")
def erp_auth(server):
    """The ERP's own client: its operations need the erp scope, which DG's client lacks."""
    from tests.server import add_client

    return ("erp-examples", add_client(server.database_url, "erp-examples", ("erp",)))


@pytest.fixture(scope="module")
def example_orders(server_deps):
    store_example_orders(server_deps)
    store_example_subscriptions(server_deps)


def _masked(tree: etree._Element) -> etree._Element:
    for node in tree.iter():
        if not isinstance(node.tag, str):
            continue
        local = etree.QName(node).localname
        parent = node.getparent()
        refund_time = local == "CreatedAt" and parent is not None and etree.QName(parent).localname == "Refund"
        in_subscription = any(etree.QName(a).localname in SUBSCRIPTION_PARTS for a in node.iterancestors())
        about_subscription = local == "Message" and parent is not None and any(
            etree.QName(sibling).localname == "Subscription" for sibling in parent)
        if local in VOLATILE or refund_time or (in_subscription and local in SUBSCRIPTION_DATES) or about_subscription:
            node.text = "*"
    return tree


@pytest.mark.parametrize("request_file", REQUESTS, ids=lambda p: p.name.removesuffix("-request.xml"))
def test_example_envelope_is_what_the_service_answers(server, example_orders, erp_auth, request_file):
    from soap_orders.domain.clients import Scope
    from soap_orders.operations import BY_NAME

    response_file = request_file.with_name(request_file.name.replace("-request.xml", "-response.xml"))
    erp = BY_NAME[request_file.name.split("-")[0]].scope is Scope.ERP
    answer = server.post(request_file.read_bytes(), auth=erp_auth if erp else "default")
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
