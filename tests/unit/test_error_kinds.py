"""Error kinds are declared once (domain/error_kinds.py): every kind appears once, and the SOAP
faults, the JSON twin's statuses and the OpenAPI error responses are derived from the table."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pytest

from soap_orders.documents.records import RecordError
from soap_orders.domain import error_kinds, errors
from soap_orders.domain.error_kinds import KINDS, ErrorKind
from soap_orders.jsonapi import endpoint as json_endpoint
from soap_orders.jsonapi.openapi import openapi_document
from soap_orders.operations import OPERATIONS
from soap_orders.soap import faults

PACKAGE = Path(json_endpoint.__file__).resolve().parents[1]
README = PACKAGE.parent / "README.md"

#: One error of every class callers may be answered with.
DOMAIN_ERRORS = [
    errors.ValidationError("PageSize must be at most 100.", "PageSize"),
    errors.InvalidAmount("Amount", "must be greater than zero"),
    errors.InvalidCurrency("XXX"),
    errors.OrderNotFound(),
    errors.SubscriptionNotFound(),
    errors.IdempotencyConflict(),
    errors.AuthenticationFailed(),
    errors.Forbidden("This client lacks the orders:act scope."),
    errors.RateLimited(30),
    RecordError("Lines[2].Quantity", "must be a whole number"),
]


def test_every_kind_is_in_the_table_once():
    declared = [value for value in vars(error_kinds).values() if isinstance(value, ErrorKind)]
    assert sorted(k.code for k in declared) == sorted(k.code for k in KINDS)
    assert len({k.code for k in KINDS}) == len(KINDS)
    assert len(set(KINDS)) == len(KINDS)


def test_every_kind_is_complete():
    for kind in KINDS:
        assert re.fullmatch(r"[A-Z][A-Z_]+", kind.code), kind
        assert re.fullmatch(r"(Client|Server)\.[A-Za-z]+|VersionMismatch|MustUnderstand", kind.fault), kind
        assert re.fullmatch(r"[1-5]\d\d [A-Z][A-Za-z ]+", kind.status), kind
        assert kind.description.endswith("."), kind


def test_every_kind_code_is_written_only_in_the_table():
    """No other module of the package spells a kind's ErrorCode or faultcode: they take it from the kind."""
    spelled = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "error_kinds.py":
            continue
        text = path.read_text(encoding="utf-8")
        for kind in KINDS:
            for literal in (kind.code, kind.fault):
                if re.search(rf"[\"']{re.escape(literal)}[\"']", text):
                    spelled.append((path.relative_to(PACKAGE).as_posix(), literal))
    assert spelled == []


def test_each_faultcode_has_one_fault_class_carrying_its_kind():
    classes = faults.OrdersFault.__subclasses__()
    assert sorted(c.kind.fault for c in classes) == sorted({k.fault for k in KINDS})
    for kind in KINDS:
        fault = faults.OrdersFault.of(kind, "A message.") if kind.fault not in (
            error_kinds.UNAVAILABLE.fault, error_kinds.INTERNAL_ERROR.fault) else None
        if fault is not None:
            assert fault.faultcode == kind.fault
            assert fault.fields == {"ErrorCode": kind.code, "Message": "A message.",
                                    "Retryable": "true" if kind.retryable else "false"}
    assert faults.UnavailableFault().fields["Retryable"] == "true"
    assert faults.UnavailableFault().faultcode == "Server.Unavailable"
    assert faults.InternalErrorFault("r-1").faultcode == "Server.InternalError"
    assert "r-1" in faults.InternalErrorFault("r-1").message


@pytest.mark.parametrize("error", DOMAIN_ERRORS, ids=lambda e: type(e).__name__)
def test_a_domain_error_is_answered_by_its_kind_on_soap_and_json(error):
    kind = error.kind
    assert kind is not None
    fault = faults.fault_for(error)
    assert fault is not None and fault.faultcode == kind.fault and fault.code == error.code

    answered: list[tuple[str, list[tuple[str, str]]]] = []
    body = json.loads(b"".join(json_endpoint.refusal(lambda status, headers: answered.append((status, headers)), error)))
    assert answered[0][0] == kind.status
    assert body == {"ErrorCode": error.code, "Message": error.message, "Retryable": kind.retryable}


def test_the_kinds_answer_as_the_contract_says():
    """The table itself, against the contract's published statuses and faultcodes."""
    assert (errors.OrderNotFound.kind.fault, errors.OrderNotFound.kind.status) == ("Client.OrderNotFound", "404 Not Found")
    assert (errors.RateLimited.kind.status, errors.RateLimited.kind.retryable) == ("429 Too Many Requests", True)
    assert errors.ValidationError("x").code == "VALIDATION_ERROR"
    assert errors.InvalidAmount("Amount", "is wrong").code == "INVALID_AMOUNT"
    assert errors.GrantRefused.kind is None  # answered by the token endpoint in OAuth's own form


def test_openapi_error_responses_are_the_documented_kinds():
    document = openapi_document(OPERATIONS, "http://127.0.0.1:8000/soap")
    documented = error_kinds.documented_statuses()
    statuses = {kind.status_code for kind in KINDS if kind.documented}
    assert set(documented) == statuses
    for path in document["paths"].values():
        responses = path["post"]["responses"]
        errors_there = {int(s): r["description"] for s, r in responses.items() if s != "200"}
        assert errors_there == documented
    # A status shared by several documented kinds has one sentence for all; no other does.
    shared = {k.status for k in KINDS if k.documented and sum(o.status == k.status for o in KINDS if o.documented) > 1}
    assert shared == set(error_kinds.SHARED_STATUSES)


def test_the_wire_modules_keep_no_table_of_their_own():
    assert not hasattr(json_endpoint, "STATUS_TABLE")
    assert not hasattr(faults, "FAULT_TABLE")
    source = inspect.getsource(json_endpoint)
    assert not re.search(r"\"[1-5]\d\d [A-Z]", source.replace('"200 OK"', ""))


def test_the_readme_lists_every_faultcode_with_its_codes_and_retryable():
    section = README.read_text(encoding="utf-8").split("### Faults", 1)[1].split("\n### ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = (cells[1], cells[2])
    assert set(rows) == {kind.fault for kind in KINDS}
    for kind in KINDS:
        codes, retryable = rows[kind.fault]
        assert f"`{kind.code}`" in codes, kind
        assert retryable == ("true" if kind.retryable else "false"), kind
