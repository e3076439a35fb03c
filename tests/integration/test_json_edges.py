"""Bad input at the JSON twin's edges gets a JSON client error that does not repeat what was sent:
field names that are not names, lone surrogates, moments past the calendar's end, exponents no
decimal holds, and paths beside the twin's routes. In process, over the whole web application."""

from __future__ import annotations

import json

import pytest

from soap_orders.soap.ns import SOAP11_ENV, TNS
from tests.integration.test_direct_reads import SOAP_TYPE, call, site  # noqa: F401 - the fixture

JSON_TYPE = {"Content-Type": "application/json"}


def post_json(app, path: str, body: str, auth: str) -> tuple[str, dict]:
    status, headers, data = call(app, body.encode("utf-8"), {**JSON_TYPE, "Authorization": auth}, path=path)
    assert dict(headers)["Content-Type"] == "application/json"
    return status, json.loads(data)


@pytest.mark.parametrize("path, body, hostile", [
    ("/json/GetOrder", '{"OrderNumber": "DR-1", "<script>alert(1)</script>": 1}', "<script>"),
    ("/json/ChangeShippingAddress", '{"OrderNumber": "DR-1", "RequestId": "r-1", "ShippingAddress": '
                                    '{"Name": "a", "PASSWORD=hunter2": 1}}', "hunter2"),
    ("/json/IssueRefund", '{"OrderNumber": "DR-1", "RequestId": "r-2", "Reason": "OTHER", '
                          '"Lines": [{"<b>evil</b>": 1}]}', "<b>"),
])
def test_a_name_that_is_not_a_field_is_refused_without_being_repeated(site, path, body, hostile):  # noqa: F811
    app, auth = site
    status, answer = post_json(app, path, body, auth["all"])
    assert status.startswith("400"), answer
    assert answer["ErrorCode"] == "VALIDATION_ERROR" and hostile not in answer["Message"]
    assert "not a field" in answer["Message"]


@pytest.mark.parametrize("body", ['{"OrderNumber": "X\\ud800"}', '{"OrderNumber": "X", "ZZZ\\u0000\\ud800": 1}'])
def test_a_lone_surrogate_in_a_value_or_a_name_is_a_client_error(site, body):  # noqa: F811
    app, auth = site
    status, answer = post_json(app, "/json/GetOrder", body, auth["all"])
    assert status.startswith("400") and answer["Retryable"] is False, answer
    assert "ZZZ" not in answer["Message"]


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"])
def test_a_moment_outside_the_calendar_in_utc_is_a_client_error_both_ways(site, moment):  # noqa: F811
    app, auth = site
    charge = {"SubscriptionId": "SUB-DR-1", "RequestId": "edge-1", "ChargeId": "CH-EDGE", "Amount": "1.00",
              "ChargedAt": moment, "Status": "PAID"}
    status, answer = post_json(app, "/json/RecordCharge", json.dumps(charge), auth["all"])
    assert status.startswith("400") and "ChargedAt" in answer["Message"], answer
    elements = "".join(f"<o:{name}>{value}</o:{name}>" for name, value in charge.items())
    envelope = (f'<s:Envelope xmlns:s="{SOAP11_ENV}" xmlns:o="{TNS}"><s:Body><o:RecordCharge>{elements}'
                "</o:RecordCharge></s:Body></s:Envelope>").encode()
    status, _headers, data = call(app, envelope, {**SOAP_TYPE, "Authorization": auth["all"]})
    assert status.startswith("500") and b"Client.ValidationError" in data and b"ChargedAt" in data, data


@pytest.mark.parametrize("amount", ['"1E+999999999"', "1E+999999999"])
def test_an_amount_no_decimal_holds_is_a_client_error(site, amount):  # noqa: F811
    app, auth = site
    body = f'{{"OrderNumber": "DR-1", "RequestId": "edge-2", "Reason": "OTHER", "Amount": {amount}}}'
    status, answer = post_json(app, "/json/IssueRefund", body, auth["all"])
    assert status.startswith("400") and "Amount" in answer["Message"], answer


@pytest.mark.parametrize("method, path, expected", [
    ("POST", "/json", "404"), ("GET", "/json", "404"), ("PUT", "/openapi.json", "405"),
    ("POST", "/openapi.json", "405"),
])
def test_paths_beside_the_twins_routes_answer_in_json(site, method, path, expected):  # noqa: F811
    app, auth = site
    status, headers, data = call(app, b"{}", {**JSON_TYPE, "Authorization": auth["all"]}, path=path, method=method)
    assert status.startswith(expected) and dict(headers)["Content-Type"] == "application/json", (status, data)
    assert json.loads(data)["ErrorCode"] in ("NOT_FOUND", "METHOD_NOT_ALLOWED")
