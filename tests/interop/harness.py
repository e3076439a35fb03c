"""What every interoperability test shares: the calls, zeep's answers, and one plain form to compare.

The calls are the golden request envelopes in ``wsdl/examples/`` (the orders they name are stored
by the ``example_orders`` fixture) plus a search that matches nothing, so a new operation with its
golden examples is called by every client without a change here. Each client's answer to a call is
brought into one plain form (``plain``): nested dicts of strings, where numbers, booleans and
timestamps are written one way whatever type a client gave them, absent and empty values are left
out, and a list of one element equals that element (clients differ on whether a single repeated
element is a list). A fault becomes ``{"fault": {"ErrorCode", "Message", "Retryable"}}`` read from
its typed detail, plus ``faultcode`` where the client shows it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import requests
import zeep
import zeep.helpers
from lxml import etree

from soap_orders.operations import BY_NAME, OPERATIONS

EXAMPLES = Path(__file__).resolve().parents[2] / "wsdl" / "examples"
TNS = "urn:soap-orders:orders:v1"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
#: Values that differ on every call; compared by presence with the golden responses.
VOLATILE = {"RefundId", "UpdatedAt", "CancelledAt", "GeneratedAt", "EventId", "OccurredAt", "Pseudonym"}
#: Values that differ between two calls of the same read (the time an export was written): left out
#: when one client's answers are compared with another's.
PER_CALL = {"GeneratedAt"}
#: An email no example order has: the empty answer (``<Orders/>``) every client must read.
NOBODY = "nobody.here@example.com"
#: A customer of the example orders (``make run``'s demo data, tests/records.py) and hers, newest first.
OLIVIA = "olivia.murphy@example.com"
OLIVIAS_ORDERS = ["SO-100157", "SO-100116", "SO-100110", "SO-100106", "SO-100097", "SO-100007", "SO-100003"]
#: Seconds a client process may take for all the calls.
CLIENT_TIMEOUT = 120


@dataclass(frozen=True)
class Call:
    """One call every client makes: the operation and its arguments as plain nested data."""

    name: str
    operation: str
    args: dict[str, Any]
    request_file: Path | None = None
    response_file: Path | None = field(default=None, compare=False)


def element_data(element: etree._Element) -> Any:
    """An element as plain data: text for a leaf, a dict for children (a list for repeated ones)."""
    children = [child for child in element if isinstance(child.tag, str)]
    if not children:
        # Every leaf of the contract holds text; an empty element is an empty list's wrapper.
        return element.text if (element.text or "").strip() else {}
    data: dict[str, Any] = {}
    for child in children:
        name = etree.QName(child).localname
        value = element_data(child)
        if name in data:
            if not isinstance(data[name], list):
                data[name] = [data[name]]
            data[name].append(value)
        else:
            data[name] = value
    return data


def body_element(envelope: Path) -> etree._Element:
    tree = etree.parse(str(envelope))
    body = tree.getroot().find(f"{{{SOAP_ENV}}}Body")
    assert body is not None, f"{envelope.name} has no SOAP Body"
    return next(child for child in body if isinstance(child.tag, str))


def calls() -> list[Call]:
    found = []
    for request_file in sorted(EXAMPLES.glob("*-request.xml")):
        element = body_element(request_file)
        found.append(Call(
            name=request_file.name.removesuffix("-request.xml"),
            operation=etree.QName(element).localname,
            args=element_data(element),
            request_file=request_file,
            response_file=request_file.with_name(request_file.name.replace("-request.xml", "-response.xml")),
        ))
    found.append(Call("FindOrdersByEmail-no-match", "FindOrdersByEmail", {"Email": NOBODY}))
    return found


def envelope(call: Call) -> bytes:
    """The request envelope of ``call``: its golden file, or one written from its arguments."""
    if call.request_file is not None:
        return call.request_file.read_bytes()
    root = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soapenv": SOAP_ENV, "ord": TNS})
    _add(etree.SubElement(etree.SubElement(root, f"{{{SOAP_ENV}}}Body"), f"{{{TNS}}}{call.operation}"), call.args)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _add(parent: etree._Element, value: Any) -> None:
    if not isinstance(value, dict):
        parent.text = str(value)
        return
    for name, item in value.items():
        for one in item if isinstance(item, list) else [item]:
            _add(etree.SubElement(parent, f"{{{TNS}}}{name}"), one)


CALLS = calls()
OPERATION_NAMES = {operation.name for operation in OPERATIONS}


def request_files(work: Path) -> list[tuple[Call, Path]]:
    """Every call's request envelope written to ``work``, for clients that read them from files."""
    files = []
    for call in CALLS:
        path = work / f"{call.name}-request.xml"
        path.write_bytes(envelope(call))
        files.append((call, path))
    return files


def run_tool(command: list[Any], cwd: Path, *, timeout: float = CLIENT_TIMEOUT, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a client's tool or program, which must succeed; its output is in the failure message."""
    done = subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, **kwargs)
    assert done.returncode == 0, f"{command[0]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


def client_env(server: Any, **extra: str) -> dict[str, str]:
    """The environment a client program runs in: PATH and the server's client credentials."""
    name, secret = server.credentials
    return {"PATH": os.environ.get("PATH", ""), "SOAP_ORDERS_CLIENT": name, "SOAP_ORDERS_SECRET": secret, **extra}


#: Clients generated and compiled from a contract, by client and contract (see ``built_once``).
_BUILT: dict[tuple[str, str], Any] = {}


def built_once(client: str, server: Any, build: Callable[[], Any]) -> Any:
    """What ``build`` makes from the server's WSDL (a generated, compiled client), made once per
    test session for each contract: the servers of a session (SQLite, PostgreSQL) serve the same
    WSDL but for its address, and generating and compiling take seconds to tens of seconds."""
    wsdl = requests.get(server.wsdl_url, timeout=10).text
    key = (client, re.sub(r'location="[^"]*"', "", wsdl))
    if key not in _BUILT:
        _BUILT[key] = build()
    return _BUILT[key]

_DECIMAL = re.compile(r"-?\d+(\.\d+)?")
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


def _number(value: Any) -> str:
    number = Decimal(str(value))
    text = format(number.normalize(), "f")
    return text


def plain(value: Any) -> Any:
    """The one form answers are compared in (see the module's docstring); None when empty."""
    if isinstance(value, dict):
        items = {str(k): plain(v) for k, v in value.items() if not str(k).startswith(("_", "$")) and k != "attributes"}
        kept = {k: v for k, v in items.items() if v is not None}
        return kept or None
    if isinstance(value, (list, tuple)):
        kept_items = [item for item in (plain(v) for v in value) if item is not None]
        if not kept_items:
            return None
        return kept_items[0] if len(kept_items) == 1 else kept_items
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return _number(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise AssertionError(f"a timestamp without a time zone: {value!r}")
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    if not text:
        return None
    if _TIMESTAMP.fullmatch(text):
        return plain(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
    if _DECIMAL.fullmatch(text):
        try:
            return _number(text)
        except InvalidOperation:  # pragma: no cover - the pattern only lets numbers through
            return text
    return text


def fault(error_code: Any, message: Any, retryable: Any, faultcode: Any = None) -> dict[str, Any]:
    answer = {"ErrorCode": error_code, "Message": message, "Retryable": retryable}
    if faultcode is not None:
        answer["faultcode"] = str(faultcode).rsplit(":", 1)[-1]
    return {"fault": plain(answer)}


def masked(answer: Any, parent: str | None = None) -> Any:
    """``answer`` with the values that differ on every call (and a refund's time) replaced by ``*``."""
    if isinstance(answer, dict):
        return {key: "*" if key in VOLATILE or (key == "CreatedAt" and parent == "Refund") else masked(value, key)
                for key, value in answer.items()}
    if isinstance(answer, list):
        return [masked(item, parent) for item in answer]
    return answer


def as_golden(answer: Any, golden: Any) -> Any:
    """``answer`` with ``*`` wherever the golden response has one (values the golden examples
    compare by presence only, such as a subscription's dates), so the two compare as wholes."""
    if golden == "*":
        return "*"
    if isinstance(answer, str) and isinstance(golden, str) and "*" in golden:
        pattern = ".+".join(re.escape(part) for part in golden.split("*"))
        return golden if re.fullmatch(pattern, answer) else answer
    if isinstance(answer, dict) and isinstance(golden, dict):
        return {key: as_golden(value, golden.get(key)) for key, value in answer.items()}
    if isinstance(answer, list) and isinstance(golden, list) and len(answer) == len(golden):
        return [as_golden(a, g) for a, g in zip(answer, golden, strict=True)]
    return answer


def wrapped(operation: str, result: Any) -> Any:
    """The answer as its response wrapper's members: zeep and suds hand back the only member itself."""
    members = BY_NAME[operation].answer
    return {members[0].name: result} if len(members) == 1 else result


def assert_same_answers(client: str, got: dict[str, Any], expected: dict[str, Any], *,
                        compare_faultcode: bool = True) -> None:
    """Every call was answered, and each answer is the one ``expected`` (zeep's) holds."""
    assert sorted(got) == sorted(expected), f"{client} answered calls {sorted(got)}, zeep {sorted(expected)}"
    for name in expected:
        mine, theirs = _without(got[name], PER_CALL), _without(expected[name], PER_CALL)
        assert theirs, f"zeep's answer to {name} is empty"
        if not compare_faultcode and "fault" in theirs and "fault" in mine:
            theirs = {"fault": {k: v for k, v in theirs["fault"].items() if k != "faultcode"}}
        assert mine == theirs, (
            f"{client} and zeep read {name} differently:\n{client}: {json.dumps(mine, indent=1, sort_keys=True)}\n"
            f"zeep: {json.dumps(theirs, indent=1, sort_keys=True)}")


def _without(answer: Any, names: set[str]) -> Any:
    return {key: value for key, value in answer.items() if key not in names} if isinstance(answer, dict) else answer


def assert_typed_not_found(client: str, answers: dict[str, Any]) -> None:
    """The unknown-order call came back as the typed fault, its ErrorCode read from the detail."""
    not_found = answers["GetOrder-not-found"]
    assert "fault" in not_found, f"{client} got no fault for an order that is not found: {not_found}"
    assert not_found["fault"]["ErrorCode"] == "ORDER_NOT_FOUND"
    assert not_found["fault"]["Retryable"] == "false"
    assert "faultcode" not in not_found["fault"] or not_found["fault"]["faultcode"] == "Client.OrderNotFound"


#: What the service computes of an order and its lines: an ERP's UpsertOrders leaves it out.
ORDER_COMPUTED = {"RefundedAmount", "RefundableAmount", "ShippedAt"}
LINE_STATE = {"LineTotal", "Status", "QuantityShipped", "QuantityCancelled", "QuantityRefunded", "QuantityReturned",
              "QuantityReplaced"}


def assert_erp_fields_only_accepted(client: str, answers: dict[str, Any]) -> None:
    """The UpsertOrders call, whose Order carries only the ERP's own fields (nothing computed, no
    per-line state, no empty list wrappers), was sent by the client and accepted (CREATED; a later
    client of the same server gets the first result again, which the same RequestId only replays
    for the same documents)."""
    call = next(c for c in CALLS if c.name == "UpsertOrders")
    assert call.request_file is not None
    order = body_element(call.request_file).find(f"{{{TNS}}}Orders/{{{TNS}}}Order")
    assert order is not None
    assert not {etree.QName(child).localname for child in order} & ORDER_COMPUTED
    assert all(not {etree.QName(child).localname for child in line} & LINE_STATE
               for line in order.iterfind(f"{{{TNS}}}Lines/{{{TNS}}}Line"))
    assert all(len(child) or (child.text or "").strip() for child in order.iter() if isinstance(child.tag, str))
    answer = answers["UpsertOrders"]
    assert "fault" not in answer, f"{client} could not send UpsertOrders with only the ERP's fields: {answer}"
    result = answer["Results"]["Result"]
    assert (result["Outcome"], result["ReasonCode"], answer["CreatedCount"]) == ("CREATED", "NONE", "1"), (client, answer)


# zeep: the reference every other client is compared with.

def zeep_client(server: Any) -> zeep.Client:
    session = requests.Session()
    session.auth = server.credentials
    transport = zeep.Transport(session=session, timeout=10, operation_timeout=20)
    return zeep.Client(server.wsdl_url, transport=transport, settings=zeep.Settings(strict=True))


def zeep_answers(client: zeep.Client) -> dict[str, Any]:
    answers = {}
    for call in CALLS:
        try:
            result = client.service[call.operation](**call.args)
        except zeep.exceptions.Fault as error:
            answers[call.name] = zeep_fault(error)
            continue
        answers[call.name] = plain(wrapped(call.operation, zeep.helpers.serialize_object(result, dict))) or {}
    return answers


def zeep_fault(error: zeep.exceptions.Fault) -> dict[str, Any]:
    detail = error.detail.find(f"{{{TNS}}}FaultDetail") if error.detail is not None else None
    assert detail is not None, f"a fault without a typed FaultDetail: {error.code} {error.message}"
    values = {etree.QName(child).localname: child.text for child in detail}
    retryable = detail.findtext("{urn:soap-orders:orders:v1}Retryable") == "true"  # as README says: "false" is truthy
    return fault(values.get("ErrorCode"), values.get("Message"), retryable, error.code)


def golden_answer(call: Call) -> dict[str, Any] | None:
    """The golden response of a call from ``wsdl/examples/`` in the plain form (None without one)."""
    if call.response_file is None:
        return None
    tree = etree.parse(str(call.response_file)).getroot()
    element = next(child for child in tree.find(f"{{{SOAP_ENV}}}Body") if isinstance(child.tag, str))
    if etree.QName(element).localname == "Fault":
        faultcode = element.findtext("faultcode")
        detail = element.find(f"detail/{{{TNS}}}FaultDetail")
        assert detail is not None
        return fault(detail.findtext(f"{{{TNS}}}ErrorCode"), detail.findtext(f"{{{TNS}}}Message"),
                     detail.findtext(f"{{{TNS}}}Retryable"), faultcode)
    return plain(element_data(element)) or {}
