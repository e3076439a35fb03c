"""Who may call what, over real HTTP on SQLite and PostgreSQL: for every operation and every scope,
a client holding only that scope is refused (SOAP ``Client.Forbidden``, JSON 403) exactly when the
operation's declaration does not open it to that scope.

Over SOAP each operation is called with its golden request from wsdl/examples/ (a valid body, so
that what is checked is the scope and not the schema); over JSON with an empty body, which a client
that may call the operation is told is invalid (400) and any other is refused (403)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from lxml import etree

from soap_orders.domain.clients import Scope
from soap_orders.operations import OPERATIONS
from tests.records import unique
from tests.server import add_client

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "wsdl" / "examples"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


@pytest.fixture(scope="module")
def clients(server) -> dict[Scope, tuple[str, str]]:
    """One client per scope, holding that scope alone."""
    made = {}
    for scope in Scope:
        name = unique(scope.value.replace(":", "-"))
        made[scope] = (name, add_client(server.database_url, name, (scope.value,)))
    return made


def _golden_request(name: str) -> bytes:
    return (EXAMPLES / f"{name}-request.xml").read_bytes()


def _fault_code(body: bytes) -> str | None:
    fault = etree.fromstring(body).find(f".//{{{SOAP_ENV}}}Fault")
    return None if fault is None else fault.findtext("faultcode")


def test_the_erp_scope_reads_orders_and_subscriptions_but_does_not_search():
    by_name = {operation.name: operation for operation in OPERATIONS}
    for name in ("GetOrder", "GetSubscription"):
        assert by_name[name].allows(frozenset({Scope.ERP}))
        assert by_name[name].allows(frozenset({Scope.READ}))
    for name in ("FindOrdersByEmail", "FindOrdersByTrackingNumber", "FindSubscriptionsByEmail"):
        assert not by_name[name].allows(frozenset({Scope.ERP}))
    assert not by_name["UpsertOrders"].allows(frozenset({Scope.READ, Scope.ACT, Scope.PRIVACY}))


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda o: o.name)
def test_over_soap_each_scope_may_call_exactly_what_the_table_says(server, clients, operation):
    body = _golden_request(operation.name)
    for scope, credentials in clients.items():
        answer = server.post(body, auth=credentials)
        code = _fault_code(answer.content)
        forbidden = code is not None and code.endswith("Client.Forbidden")
        assert forbidden is (scope not in operation.scopes), (operation.name, scope.value, code)
        if forbidden:
            assert operation.name in etree.fromstring(answer.content).findtext(f".//{{{SOAP_ENV}}}Fault/faultstring")


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda o: o.name)
def test_over_json_each_scope_may_call_exactly_what_the_table_says(server, clients, operation):
    for scope, credentials in clients.items():
        answer = requests.post(f"{server.base_url}/json/{operation.name}", json={}, auth=credentials, timeout=20)
        if scope in operation.scopes:
            assert answer.status_code in (200, 400, 404), (operation.name, scope.value, answer.text)
        else:
            assert answer.status_code == 403, (operation.name, scope.value, answer.text)
            assert answer.json()["ErrorCode"] == "FORBIDDEN"
            assert all(s.value in answer.json()["Message"] for s in operation.scopes)
