"""The JSON twin fuzzed from its own OpenAPI document with schemathesis, against a live server on
SQLite and PostgreSQL: no request may get a server error, and no answer may break the schema the
service publishes.

The fuzzing is random and keeps exploring: each run draws new cases from a seed of its own. A
failure names that seed; ``make test PYTEST_ARGS='tests/contract/test_openapi_fuzz.py
--hypothesis-seed=SEED'`` draws the same cases again. Every failing request it has found is kept
below (``FOUND``), exactly as sent, and runs every time: once the defect is fixed, add the request
that showed it there.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, core, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

pytestmark = pytest.mark.slow

DOCUMENT = json.loads((Path(__file__).resolve().parents[2] / "wsdl" / "openapi.json").read_text())
schema = schemathesis.openapi.from_dict(DOCUMENT)
CHECKS = (not_a_server_error, response_schema_conformance)


def _run_seed() -> int:
    """``--hypothesis-seed`` when given (an integer, or any text, hashed), else the run's own seed."""
    forced = core.global_force_seed  # what Hypothesis's pytest plugin set from --hypothesis-seed
    if forced is None:
        return int(schema.config.seed)
    if isinstance(forced, int):
        return forced
    return int.from_bytes(hashlib.blake2b(str(forced).encode(), digest_size=8).digest(), "big")


#: The seed every operation's cases are drawn from (schemathesis derives one per operation).
SEED = _run_seed()
schema.config.seed = SEED


def _with_seed(error: BaseException) -> BaseException:
    error.add_note(f"OpenAPI fuzz seed {SEED}: re-run with "
                   f"make test PYTEST_ARGS='tests/contract/test_openapi_fuzz.py --hypothesis-seed={SEED}'")
    return error


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error_and_every_answer_fits_the_schema(case, server):
    try:
        response = case.call(base_url=server.base_url, auth=server.credentials, timeout=10)
        case.validate_response(response, checks=CHECKS)
    except BaseException as error:
        raise _with_seed(error)


#: Every request the fuzzing found failing (an operation and its body, byte for byte as JSON).
FOUND: list[tuple[str, str]] = [
    # A number whose exponent no decimal holds: a 500 Retryable (decimal.InvalidOperation from
    # the JSON parser) on every operation, found on GetOrderEvents.
    ("GetOrderEvents", '{"AfterEventId": 1e1000000000000000000}'),
    ("GetOrderEvents", '{"AfterEventId": 1e-99999999999999999999}'),
    ("GetOrderEvents", '{"MaxEvents": 1e1000000000000000000, "AfterEventId": 0}'),
    ("FindOrdersByEmail", '{"Email": "a@b.example", "PageSize": 1e-99999999999999999999}'),
    ("GetOrder", '{"OrderNumber": "SO-1", "Email": 1e1000000000000000000}'),
    ("IssueRefund", '{"OrderNumber": "SO-1", "RequestId": "fz-1", "Reason": "OTHER", "Amount": 1e1000000000000000000}'),
    ("RecordCharge", '{"SubscriptionId": "S-1", "RequestId": "fz-2", "ChargeId": "C-1", "Amount": '
                     '1e-99999999999999999999, "ChargedAt": "2026-01-01T00:00:00Z", "Status": "PAID"}'),
    ("UpsertOrders", '{"RequestId": "fz-3", "Orders": [{"OrderNumber": "SO-1", "Total": 1e1000000000000000000}]}'),
    # An OrderNumber of characters str.strip() removes: REJECTED, answered with OrderNumber ""
    # (the schema says at least one character).
    ("UpsertOrders", '{"RequestId": "fz-4", "Orders": [{"OrderNumber": "\\u001c"}]}'),
    ("UpsertOrders", '{"RequestId": "Q\\u00c0\\u00ae", "Orders": [{"OrderNumber": "+B", "Currency": "ZLA", '
                     '"CreatedAt": "0559-08-01T14:44:26.373450-12:17", "Subtotal": "-59994646481145", "Total": '
                     '"-9.7656", "Customer": {"Phone": "\\u00a6", "Email": "\\f \\t\\u000b\\u000b\\r%`@\\u00bd"}}, '
                     '{"Currency": "AWW", "CreatedAt": "0250-08-24T11:00:44.3Z", "Total": "-56052420535", '
                     '"CancelReason": "OTHER", "OrderNumber": "\\f", "Refunds": [], "CancelledAt": '
                     '"0269-07-18T15:22:04Z", "Subtotal": "-5532577326092.27", "Customer": {"Email": '
                     '" \\t\\u008b\\ud980\\udcd3O\\u0106@\\u0001\\u00e1\\u00a7\\t\\t"}}, '
                     '{"OrderNumber": "\\u0007\\ud9da\\udf6f\\"`\\u00a6", "Currency": "ISD", "CreatedAt": '
                     '"0633-02-07T00:39:03.6-16:06", "Total": "-8", "Subtotal": "810303441", "Customer": '
                     '{"Email": "\\u00b5@\\u00aa"}}]}'),
]


@pytest.mark.parametrize(("operation", "body"), FOUND, ids=[f"{op}-{i}" for i, (op, _) in enumerate(FOUND)])
def test_every_failing_request_the_fuzzing_found_stays_fixed(server, operation, body):
    json.loads(body)  # a well-formed body, or the request would be refused for another reason
    case = schema[f"/json/{operation}"]["POST"].Case(body={}, media_type="application/json")
    response = case.call(base_url=server.base_url, auth=server.credentials, timeout=10, data=body.encode("utf-8"))
    assert response.request.body == body.encode("utf-8")  # sent as found, not as generated
    case.validate_response(response, checks=CHECKS)
