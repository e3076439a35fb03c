"""The sample envelopes in wsdl/examples/ are what the service really answers.

Each ``*-request.xml`` is posted to a live server holding the orders below; the answer must equal
the ``*-response.xml`` beside it as an XML tree. Values that differ on every call (refund ids, new
return ids and the time of the change) are compared by presence, not by value. After a deliberate
contract change, ``SOAP_ORDERS_UPDATE_EXAMPLES=1 make test`` rewrites the responses for review.

The ERP's operations are called as a client with the ``erp`` scope, the others as DG's client, on
a server whose return window reaches back to the example orders' deliveries.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import SharedServers
from tests.records import store_example_orders, store_example_subscriptions
from tests.server import Server, add_client
from tests.xmltools import assert_nodes_equal

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "wsdl" / "examples"
TNS = "urn:soap-orders:orders:v1"
VOLATILE = {"RefundId", "UpdatedAt", "CancelledAt", "AddressChangedAt",
            # An export's time and the change feed's ids and times; the pseudonym a forget makes up.
            "GeneratedAt", "EventId", "OccurredAt", "Pseudonym"}
#: A return id the service made up (``service.order_actions.new_return_id``).
NEW_RETURN_ID = re.compile(r"RMA-[0-9A-F]{16}")
#: A subscription's dates are counted from the day the example runs (a live server's clock), and
#: so is what an action's Message says about them.
SUBSCRIPTION_PARTS = {"Subscription", "Charge"}
SUBSCRIPTION_DATES = {"AnchorDate", "CreatedAt", "StartDate", "NextOrderDate", "LastOrderDate", "PausedAt", "PausedUntil",
                      "CancelAt", "OrderDate", "ChargedAt", "RefundedAt"}
REQUESTS = sorted(EXAMPLES.glob("*-request.xml"))


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest, shared_servers: SharedServers) -> Server:
    """As conftest's, with a return window wide enough for the example orders (delivered in 2025):
    shared with the interoperability tests, which take this fixture too."""
    return shared_servers.take(request.param, "examples", extra_env={"SOAP_ORDERS_RETURN_WINDOW_DAYS": "3650"})


@pytest.fixture(scope="module")
def erp_auth(server):
    """The ERP's own client: its operations need the erp scope, which DG's client lacks."""
    return ("erp-examples", add_client(server.database_url, "erp-examples", ("erp",)))


@pytest.fixture(scope="module")
def example_orders(server_deps):
    store_example_orders(server_deps)
    store_example_subscriptions(server_deps)


def _masked(tree: etree._Element) -> etree._Element:
    masked = []
    for node in tree.iter():
        if not isinstance(node.tag, str):
            continue
        local = etree.QName(node).localname
        parent = node.getparent()
        within = etree.QName(parent).localname if parent is not None else ""
        refund_time = local == "CreatedAt" and within == "Refund"
        new_return = local == "ReturnId" and NEW_RETURN_ID.fullmatch(node.text or "") is not None
        new_return_time = local == "CreatedAt" and within == "Return" and parent is not None and any(
            NEW_RETURN_ID.fullmatch(sibling.text or "") for sibling in parent
            if isinstance(sibling.tag, str) and etree.QName(sibling).localname == "ReturnId"
        )
        in_subscription = any(etree.QName(a).localname in SUBSCRIPTION_PARTS for a in node.iterancestors())
        about_subscription = local == "Message" and parent is not None and any(
            etree.QName(sibling).localname == "Subscription" for sibling in parent)
        if (local in VOLATILE or refund_time or new_return or new_return_time
                or (in_subscription and local in SUBSCRIPTION_DATES) or about_subscription):
            masked.append(node)
        elif local == "Message":
            node.text = NEW_RETURN_ID.sub("*", node.text or "")
    for node in masked:
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
