"""Defects the OpenAPI fuzzer found, each pinned with the answer it must get, over a real server on
SQLite and PostgreSQL, on the JSON twin and where SOAP can say the same thing on /soap.

- A JSON number no field can hold (an exponent beyond what a decimal carries, or more digits than
  an integer is read with) is a 400 validation error, not a 500; on SOAP a number of that kind is
  a client fault, never a server one.
- An identifier an upsert would strip to nothing, or that carries a control character, is refused
  as invalid and is never named back: no answer holds an empty OrderNumber (the schema says at
  least one character) or a control character from the request; nothing is stored under it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
import zeep
from lxml import etree

from soap_orders.soap.ns import SOAP11_ENV, TNS
from tests.contract.clients import make_client
from tests.records import order_record, soap_wrapped, subscription_record, unique

pytestmark = pytest.mark.slow

OPENAPI = schemathesis.openapi.from_dict(
    json.loads((Path(__file__).resolve().parents[2] / "wsdl" / "openapi.json").read_text())
)
JSON_TYPE = {"Content-Type": "application/json"}

#: Numbers no field can hold, as JSON writes them.
HUGE_EXPONENT = "1e1000000000000000000"
TINY_EXPONENT = "1e-99999999999999999999"
MANY_DIGITS = "1" + "0" * 5000
OUT_OF_RANGE = {
    "ErrorCode": "VALIDATION_ERROR",
    "Message": "The body holds a number too large or too small for any field.",
    "Retryable": False,
}


def post_json(server: Any, operation: str, raw: str) -> requests.Response:
    return requests.post(f"{server.base_url}/json/{operation}", data=raw.encode("utf-8"), headers=JSON_TYPE,
                         auth=server.credentials, timeout=20)


def fits_the_openapi_document(operation: str, answer: requests.Response) -> None:
    """The answer is one the published OpenAPI document allows (raises otherwise)."""
    OPENAPI[f"/json/{operation}"]["POST"].validate_response(answer)


# ---------------------------------------------------------------------- numbers no field holds


#: One request of several operations with a number in a field of each kind (``%s``).
NUMBER_BODIES = [
    ("GetOrderEvents", '{"AfterEventId": %s}'),
    ("GetOrderEvents", '{"MaxEvents": %s}'),
    ("FindOrdersByEmail", '{"Email": "ann.lee@example.com", "PageSize": %s}'),
    ("GetOrder", '{"OrderNumber": %s}'),
    ("IssueRefund", '{"OrderNumber": "SO-NUM-1", "RequestId": "num-1", "Reason": "OTHER", "Amount": %s}'),
    ("RecordCharge", '{"SubscriptionId": "SUB-NUM-1", "RequestId": "num-2", "ChargeId": "CH-1", "Amount": %s, '
                     '"ChargedAt": "2026-03-01T10:00:00Z", "Status": "PAID"}'),
    ("UpsertOrders", '{"RequestId": "num-3", "Orders": [{"OrderNumber": "SO-NUM-2", "Total": %s}]}'),
]


@pytest.mark.parametrize("number", [HUGE_EXPONENT, TINY_EXPONENT, MANY_DIGITS], ids=["huge", "tiny", "digits"])
@pytest.mark.parametrize(("operation", "body"), NUMBER_BODIES, ids=[f"{op}-{i}" for i, (op, _) in enumerate(NUMBER_BODIES)])
def test_a_json_number_no_field_can_hold_is_a_400_validation_error(server, server_deps, operation, body, number):
    answer = post_json(server, operation, body % number)

    assert answer.status_code == 400, answer.text
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json() == OUT_OF_RANGE
    fits_the_openapi_document(operation, answer)
    with server_deps.uow() as uow:
        assert uow.orders.get("SO-NUM-2") is None


def soap_call(server: Any, operation: str, inner: str) -> etree._Element:
    """Post a raw envelope of ``operation`` with ``inner`` as its content; the answer's Envelope."""
    envelope = (f'<s:Envelope xmlns:s="{SOAP11_ENV}" xmlns:o="{TNS}"><s:Body><o:{operation}>{inner}'
                f"</o:{operation}></s:Body></s:Envelope>")
    answer = requests.post(server.soap_url, data=envelope.encode(), auth=server.credentials, timeout=20,
                           headers={"Content-Type": "text/xml; charset=utf-8"})
    assert answer.headers["Content-Type"].startswith("text/xml"), answer.text[:300]
    return etree.fromstring(answer.content)


LEADING_ZEROS = "0" * 5000 + "1"
REFUND = "<o:OrderNumber>SO-NUM-1</o:OrderNumber><o:RequestId>num-soap</o:RequestId><o:Reason>OTHER</o:Reason>"


@pytest.mark.parametrize(("operation", "inner"), [
    ("GetOrderEvents", f"<o:AfterEventId>{HUGE_EXPONENT}</o:AfterEventId>"),
    ("GetOrderEvents", f"<o:AfterEventId>{MANY_DIGITS}</o:AfterEventId>"),
    ("GetOrderEvents", f"<o:AfterEventId>{LEADING_ZEROS}</o:AfterEventId>"),  # a valid 1, longer than int() reads
    ("GetOrderEvents", f"<o:MaxEvents>{LEADING_ZEROS}</o:MaxEvents>"),
    ("FindOrdersByEmail", f"<o:Email>ann.lee@example.com</o:Email><o:PageSize>{LEADING_ZEROS}</o:PageSize>"),
    ("IssueRefund", f"{REFUND}<o:Amount>1E+1000000000000000000</o:Amount>"),
    ("IssueRefund", f"{REFUND}<o:Amount>{MANY_DIGITS}.00</o:Amount>"),
    ("IssueRefund", f"{REFUND}<o:Amount>{LEADING_ZEROS}.00</o:Amount>"),
    ("IssueRefund", f"{REFUND}<o:Lines><o:Line><o:LineNumber>{LEADING_ZEROS}</o:LineNumber>"
                    f"<o:Quantity>{LEADING_ZEROS}</o:Quantity></o:Line></o:Lines>"),
], ids=["events-exponent", "events-digits", "events-zeros", "max-events-zeros", "page-size-zeros",
        "amount-exponent", "amount-digits", "amount-zeros", "line-zeros"])
def test_a_soap_number_no_field_can_hold_is_a_client_fault(server, operation, inner):
    envelope = soap_call(server, operation, inner)

    fault = envelope.find(f"{{{SOAP11_ENV}}}Body/{{{SOAP11_ENV}}}Fault")
    assert fault is not None, etree.tostring(envelope)[:300]
    assert fault.findtext("faultcode").endswith("Client.ValidationError"), etree.tostring(fault)
    assert fault.findtext(f"detail/{{{TNS}}}FaultDetail/{{{TNS}}}ErrorCode") == "SCHEMA_VIOLATION"
    assert "0" * 100 not in etree.tostring(fault, encoding="unicode")  # the value is not repeated


# ---------------------------------------------------------------------- identifiers an upsert strips


def upsert(server: Any, documents: list[dict[str, Any]]) -> dict[str, Any]:
    answer = post_json(server, "UpsertOrders", json.dumps({"RequestId": unique("fz"), "Orders": documents}))
    assert answer.status_code == 200, answer.text
    fits_the_openapi_document("UpsertOrders", answer)
    return answer.json()


@pytest.mark.parametrize(("number", "problem"), [
    ("\u001c", "contains control characters"),  # str.strip() removes it: it was answered as ""
    ("\f", "contains control characters"),
    ("\u0007X", "contains control characters"),  # it was named back as it came
    ("\u3000\u2003", "must not be empty"),  # spaces only
], ids=["file-separator", "form-feed", "bell", "spaces"])
def test_an_order_number_that_strips_to_nothing_or_holds_a_control_character_is_refused(
    server, server_deps, number, problem
):
    good = order_record(unique("FZ"))
    answer = upsert(server, [order_record(number), good])

    refused, created = answer["Results"]
    assert refused == {"Index": 1, "Outcome": "REJECTED", "ReasonCode": "INVALID_DOCUMENT", "Field": "OrderNumber",
                       "Message": f"OrderNumber: {problem}"}  # and no OrderNumber: none was valid
    assert (created["OrderNumber"], created["Outcome"]) == (good["OrderNumber"], "CREATED")
    assert (answer["CreatedCount"], answer["RejectedCount"]) == (1, 1)


@pytest.mark.parametrize("where", ["OrderNumber", "Sku"])
def test_a_control_character_around_an_identifier_is_refused_not_stripped(server, server_deps, where):
    number = unique("FZ")
    document = order_record("\u001c" + number if where == "OrderNumber" else number)
    if where == "Sku":
        document["Lines"][0]["Sku"] = "MUG-RED\u001f"
    answer = upsert(server, [document])

    [result] = answer["Results"]
    assert (result["Outcome"], result["ReasonCode"]) == ("REJECTED", "INVALID_DOCUMENT")
    assert result["Message"].endswith("contains control characters")
    assert "\u001c" not in json.dumps(answer, ensure_ascii=False) and "\u001f" not in json.dumps(answer, ensure_ascii=False)
    with server_deps.uow() as uow:
        assert uow.orders.get(number) is None  # not stored under the number without it


def test_a_subscription_id_with_a_control_character_is_refused_and_not_named_back(server, server_deps):
    sid = unique("SUB-FZ")
    body = {"RequestId": unique("fz"), "Subscriptions": [subscription_record("\u001c" + sid),
                                                         subscription_record("\u001e")]}
    answer = post_json(server, "UpsertSubscriptions", json.dumps(body))

    assert answer.status_code == 200, answer.text
    fits_the_openapi_document("UpsertSubscriptions", answer)
    for index, result in enumerate(answer.json()["Results"], 1):
        assert result == {"Index": index, "Outcome": "REJECTED", "ReasonCode": "INVALID_DOCUMENT",
                          "Message": "SubscriptionId: contains control characters", "Field": "SubscriptionId"}
    with server_deps.uow() as uow:
        assert uow.subscriptions.get(sid) is None


def published_schema(server) -> etree.XMLSchema:
    """The ``xs:schema`` of the orders namespace in the WSDL the server publishes."""
    wsdl = etree.fromstring(requests.get(server.wsdl_url, timeout=20).content)
    [node] = [n for n in wsdl.iter("{http://www.w3.org/2001/XMLSchema}schema") if n.get("targetNamespace") == TNS]
    return etree.XMLSchema(etree.fromstring(etree.tostring(node)))


def test_a_soap_order_number_of_spaces_only_is_refused_within_the_schema(server, server_deps):
    # XML carries no control characters, but it does carry spaces that strip to nothing.
    client = make_client(server, "basic")
    good = order_record(unique("FZ"))
    orders = soap_documents(client, order_record("\u3000 \u2003"), good)
    message = client.create_message(client.service, "UpsertOrders", RequestId=unique("fz"), Orders=orders)
    answer = requests.post(server.soap_url, data=etree.tostring(message), auth=server.credentials, timeout=20,
                           headers={"Content-Type": "text/xml; charset=utf-8"})

    assert answer.status_code == 200, answer.text[:500]
    response = etree.fromstring(answer.content).find(f"{{{SOAP11_ENV}}}Body")[0]
    published = published_schema(server)
    assert published.validate(response), published.error_log  # the published schema holds
    refused, created = response.iterfind(f".//{{{TNS}}}Result")
    assert refused.find(f"{{{TNS}}}OrderNumber") is None
    assert (refused.findtext(f"{{{TNS}}}Outcome"), refused.findtext(f"{{{TNS}}}Field")) == ("REJECTED", "OrderNumber")
    assert created.findtext(f"{{{TNS}}}OrderNumber") == good["OrderNumber"]


def soap_documents(client: zeep.Client, *records: dict[str, Any]) -> dict[str, Any]:
    """Order records as zeep builds the Orders of UpsertOrders: the records' own fields."""
    order_type = client.get_type(f"{{{TNS}}}OrderInput")
    return {"Order": [order_type(**soap_wrapped(record)) for record in records]}
