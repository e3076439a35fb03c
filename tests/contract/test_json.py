"""The JSON twin over real HTTP with requests: every operation, every outcome and error code,
idempotent replay, and both ways in that HTTP clients use (Basic and bearer), on SQLite and
PostgreSQL. Money is always a decimal string, never a float."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from soap_orders.adapters.orm import orders, refunds
from soap_orders.bootstrap import build_dependencies, create_wsgi_app
from soap_orders.operations import OPERATIONS
from tests.contract.clients import make_client
from tests.records import order_record, shipped, store, unique
from tests.server import Server, add_client, settings_for_tests

pytestmark = pytest.mark.slow

ERROR_KEYS = {"ErrorCode", "Message", "Retryable"}


class JsonClient:
    def __init__(self, server: Server, way_in: str, credentials: tuple[str, str] | None = None) -> None:
        self.base_url = server.base_url
        self.session = requests.Session()
        name, secret = credentials or server.credentials
        if way_in == "basic":
            self.session.auth = (name, secret)
        else:
            token = server.token((name, secret))
            token.raise_for_status()
            self.session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def call(self, operation: str, body: Any, **kwargs: Any) -> requests.Response:
        return self.session.post(f"{self.base_url}/json/{operation}", json=body, timeout=10, **kwargs)

    def ok(self, operation: str, body: Any) -> dict[str, Any]:
        answer = self.call(operation, body)
        assert answer.status_code == 200, answer.text
        assert answer.headers["Content-Type"] == "application/json"
        return answer.json(parse_float=_no_floats)


def _no_floats(text: str) -> Any:
    raise AssertionError(f"a JSON number with a fraction in an answer: {text}")


def error_of(answer: requests.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"] == "application/json"
    body = answer.json()
    assert set(body) == ERROR_KEYS and body["ErrorCode"] == code, body
    assert isinstance(body["Retryable"], bool) and "Traceback" not in body["Message"]
    return body


@pytest.fixture(scope="module", params=["basic", "bearer"])
def api(request: pytest.FixtureRequest, server: Server) -> JsonClient:
    return JsonClient(server, str(request.param))


def refund_count(deps: Any, number: str) -> int:
    with deps.engine.connect() as connection:
        return int(connection.scalar(
            select(func.count()).select_from(refunds.join(orders)).where(orders.c.order_number == number)
        ))


# ---------------------------------------------------------------------- reads


def test_find_by_email_answers_pages_of_full_documents(api, server_deps):
    email = f"{unique('json-find')}@example.com"
    numbers = store(server_deps, *[
        order_record(email=email, CreatedAt=f"2026-01-{day:02d}T09:00:00Z") for day in range(1, 4)
    ])
    page = api.ok("FindOrdersByEmail", {"Email": f" {email.upper()} ", "PageSize": 2})
    assert [o["OrderNumber"] for o in page["Orders"]] == [numbers[2], numbers[1]]
    assert (page["TotalCount"], page["CurrentPage"], page["ItemsPerPage"], page["HasMore"]) == (3, 1, 2, True)
    first = page["Orders"][0]
    assert (first["Total"], first["Currency"], first["RefundableAmount"]) == ("30.00", "EUR", "30.00")
    assert first["CreatedAt"] == "2026-01-03T09:00:00Z"
    assert [line["LineTotal"] for line in first["Lines"]] == ["20.00", "5.50"]
    assert first["Shipments"] == [] and first["Refunds"] == []
    last = api.ok("FindOrdersByEmail", {"Email": email, "PageSize": 2, "PageNumber": 2})
    assert [o["OrderNumber"] for o in last["Orders"]] == [numbers[0]] and last["HasMore"] is False


def test_find_filters_by_status_and_dates_and_no_match_is_an_empty_list(api, server_deps):
    email = f"{unique('json-filter')}@example.com"
    january, february = store(
        server_deps,
        order_record(email=email, CreatedAt="2026-01-15T10:00:00Z"),
        shipped(order_record(email=email, CreatedAt="2026-02-10T10:00:00Z")),
    )
    by_status = api.ok("FindOrdersByEmail", {"Email": email, "Status": "SHIPPED"})
    assert [o["OrderNumber"] for o in by_status["Orders"]] == [february]
    by_dates = api.ok("FindOrdersByEmail", {"Email": email, "PlacedFrom": "2026-01-01", "PlacedTo": "2026-01-31"})
    assert [o["OrderNumber"] for o in by_dates["Orders"]] == [january]
    nothing = api.ok("FindOrdersByEmail", {"Email": "nobody-json@example.com"})
    assert nothing == {"Orders": [], "TotalCount": 0, "CurrentPage": 1, "ItemsPerPage": 20, "HasMore": False}


def test_get_order_is_the_same_document_as_over_soap(api, server, server_deps):
    (number,) = store(server_deps, shipped(order_record()))
    document = api.ok("GetOrder", {"OrderNumber": number})["Order"]
    soap = make_client(server, "basic").service.GetOrder(OrderNumber=number)
    assert document["OrderNumber"] == soap.OrderNumber == number
    assert Decimal(document["Total"]) == soap.Total and document["Status"] == soap.Status == "SHIPPED"
    shipment = document["Shipments"][0]
    assert shipment["TrackingNumber"] == soap.Shipments.Shipment[0].TrackingNumber
    assert shipment["Items"] == [{"Sku": "MUG-RED", "Quantity": 2}, {"Sku": "TEA-001", "Quantity": 1}]
    assert document["ShippingAddress"]["CountryCode"] == "FR"


def test_get_order_with_a_wrong_email_is_the_same_error_as_an_unknown_number(api, server_deps):
    (number,) = store(server_deps, order_record(email="json.case@example.com"))
    assert api.ok("GetOrder", {"OrderNumber": number, "Email": "JSON.Case@example.com"})["Order"]["OrderNumber"] == number
    wrong = error_of(api.call("GetOrder", {"OrderNumber": number, "Email": "else@example.com"}), 404, "ORDER_NOT_FOUND")
    unknown = error_of(api.call("GetOrder", {"OrderNumber": "NO-SUCH-ORDER"}), 404, "ORDER_NOT_FOUND")
    assert wrong == unknown and wrong["Retryable"] is False


# ---------------------------------------------------------------------- actions


def test_cancel_outcomes(api, server_deps):
    paid, dispatched = store(server_deps, order_record(), shipped(order_record()))
    cancelled = api.ok("CancelOrder", {"OrderNumber": paid, "RequestId": unique("rq"), "Reason": "CUSTOMER",
                                       "Note": "Changed mind"})
    assert (cancelled["Outcome"], cancelled["ReasonCode"]) == ("CANCELLED", "NONE")
    assert "30.00 EUR" in cancelled["Message"]
    assert (cancelled["Order"]["Status"], cancelled["Order"]["FinancialStatus"]) == ("CANCELLED", "REFUNDED")
    assert cancelled["Order"]["Refunds"][0]["Amount"] == "30.00"
    again = api.ok("CancelOrder", {"OrderNumber": paid, "RequestId": unique("rq"), "Reason": "CUSTOMER"})
    assert (again["Outcome"], again["ReasonCode"]) == ("ALREADY_CANCELLED", "ALREADY_CANCELLED")
    late = api.ok("CancelOrder", {"OrderNumber": dispatched, "RequestId": unique("rq"), "Reason": "CUSTOMER"})
    assert (late["Outcome"], late["ReasonCode"]) == ("REJECTED", "ALREADY_SHIPPED")
    assert refund_count(server_deps, paid) == 1 and refund_count(server_deps, dispatched) == 0


def test_refund_by_amount_then_by_lines_then_the_rest(api, server_deps):
    (number,) = store(server_deps, order_record())
    first = api.ok("IssueRefund", {"OrderNumber": number, "RequestId": unique("rq"), "Reason": "DAMAGED",
                                   "Amount": "12.5"})
    assert (first["Outcome"], first["Refund"]["Amount"], first["RefundableAmount"]) == ("REFUNDED", "12.50", "17.50")
    by_line = api.ok("IssueRefund", {"OrderNumber": number, "RequestId": unique("rq"), "Reason": "DAMAGED",
                                     "Lines": [{"Sku": "TEA-001", "Quantity": 1}]})
    assert by_line["Refund"]["Amount"] == "5.50" and by_line["Order"]["Lines"][1]["QuantityRefunded"] == 1
    rest = api.ok("IssueRefund", {"OrderNumber": number, "RequestId": unique("rq"), "Reason": "OTHER"})
    assert (rest["Refund"]["Amount"], rest["RefundableAmount"]) == ("12.00", "0.00")
    assert rest["Order"]["FinancialStatus"] == "REFUNDED"


@pytest.mark.parametrize(("arrange", "request_fields", "reason_code"), [
    ({"FinancialStatus": "AUTHORIZED"}, {}, "NOT_PAID"),
    ({}, {"Amount": "30.01"}, "EXCEEDS_REFUNDABLE"),
    ({}, {"Lines": [{"LineNumber": 1, "Quantity": 3}]}, "EXCEEDS_LINE_QUANTITY"),
    ({}, {"Lines": [{"Sku": "NOT-IN-ORDER", "Quantity": 1}]}, "UNKNOWN_LINE"),
])
def test_refund_rejections_are_answers_not_errors(api, server_deps, arrange, request_fields, reason_code):
    (number,) = store(server_deps, order_record(**arrange))
    answer = api.ok("IssueRefund", {"OrderNumber": number, "RequestId": unique("rq"), "Reason": "OTHER",
                                    **request_fields})
    assert (answer["Outcome"], answer["ReasonCode"]) == ("REJECTED", reason_code)
    assert "Refund" not in answer and refund_count(server_deps, number) == 0


def test_refund_of_a_refunded_order_is_nothing_refundable(api, server_deps):
    (number,) = store(server_deps, order_record())
    api.ok("IssueRefund", {"OrderNumber": number, "RequestId": unique("rq"), "Reason": "OTHER"})
    again = api.ok("IssueRefund", {"OrderNumber": number, "RequestId": unique("rq"), "Reason": "OTHER"})
    assert (again["Outcome"], again["ReasonCode"]) == ("REJECTED", "NOTHING_REFUNDABLE")


def test_the_same_request_id_replays_the_first_answer_and_acts_once(api, server_deps):
    (number,) = store(server_deps, order_record())
    body = {"OrderNumber": number, "RequestId": unique("rq"), "Reason": "DAMAGED", "Amount": "10.00"}
    first = api.ok("IssueRefund", body)
    replay = api.ok("IssueRefund", {**body, "Amount": 10})  # the same amount, written another way
    assert replay == first and refund_count(server_deps, number) == 1


def test_the_same_request_id_with_other_parameters_is_a_conflict(api, server_deps):
    (number,) = store(server_deps, order_record())
    body = {"OrderNumber": number, "RequestId": unique("rq"), "Reason": "DAMAGED", "Amount": "10.00"}
    api.ok("IssueRefund", body)
    error_of(api.call("IssueRefund", {**body, "Amount": "11.00"}), 409, "IDEMPOTENCY_CONFLICT")
    assert refund_count(server_deps, number) == 1


def test_a_request_id_is_shared_between_soap_and_json(api, server, server_deps):
    (number,) = store(server_deps, order_record())
    request_id = unique("rq")
    make_client(server, "basic").service.CancelOrder(OrderNumber=number, RequestId=request_id, Reason="CUSTOMER")
    replay = api.ok("CancelOrder", {"OrderNumber": number, "RequestId": request_id, "Reason": "CUSTOMER"})
    assert replay["Outcome"] == "CANCELLED" and refund_count(server_deps, number) == 1


def test_actions_on_an_unknown_order_are_not_found(api):
    error_of(api.call("CancelOrder", {"OrderNumber": "NOPE-J", "RequestId": unique("rq"), "Reason": "OTHER"}),
             404, "ORDER_NOT_FOUND")
    error_of(api.call("IssueRefund", {"OrderNumber": "NOPE-J", "RequestId": unique("rq"), "Reason": "OTHER"}),
             404, "ORDER_NOT_FOUND")


# ---------------------------------------------------------------------- bad requests


@pytest.mark.parametrize(("operation", "body", "names"), [
    ("GetOrder", {}, "OrderNumber"),
    ("GetOrder", {"OrderNumber": "   "}, "OrderNumber"),
    ("GetOrder", {"OrderNumber": "x" * 65}, "OrderNumber"),
    ("GetOrder", {"OrderNumber": 42}, "OrderNumber"),
    ("GetOrder", {"OrderNumber": "A", "Injected": "<x/>"}, "Injected"),
    ("FindOrdersByEmail", {"Email": "not-an-email"}, "Email"),
    ("FindOrdersByEmail", {"Email": "a@example.com", "PageSize": 0}, "PageSize"),
    ("FindOrdersByEmail", {"Email": "a@example.com", "PageSize": 101}, "PageSize"),
    ("FindOrdersByEmail", {"Email": "a@example.com", "Status": "LOST"}, "Status"),
    ("FindOrdersByEmail", {"Email": "a@example.com", "PlacedFrom": "31/01/2026"}, "PlacedFrom"),
    ("CancelOrder", {"OrderNumber": "A", "RequestId": "r", "Reason": "WHIM"}, "Reason"),
    ("IssueRefund", {"OrderNumber": "A", "RequestId": "r", "Reason": "OTHER", "Amount": "-1"}, "Amount"),
    ("IssueRefund", {"OrderNumber": "A", "RequestId": "r", "Reason": "OTHER", "Amount": "1e400"}, "Amount"),
    ("IssueRefund", {"OrderNumber": "A", "RequestId": "r", "Reason": "OTHER", "Lines": []}, "Lines"),
    ("IssueRefund", {"OrderNumber": "A", "RequestId": "r", "Reason": "OTHER",
                     "Lines": [{"LineNumber": 1, "Quantity": 0}]}, "Quantity"),
])
def test_a_bad_field_is_a_400_naming_it_without_echoing_it(api, operation, body, names):
    error = error_of(api.call(operation, body), 400, "VALIDATION_ERROR")
    assert names in error["Message"]
    assert "<x/>" not in error["Message"] and "not-an-email" not in error["Message"]


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"text"', b'{"OrderNumber": "A", "OrderNumber": "B"}',
                                 b"\xff\xfe{}", b"[" * 100_000])
def test_a_body_that_is_not_one_json_object_is_a_400(api, raw):
    answer = api.session.post(f"{api.base_url}/json/GetOrder", data=raw,
                              headers={"Content-Type": "application/json"}, timeout=10)
    error_of(answer, 400, "VALIDATION_ERROR")


def test_wrong_content_type_method_and_operation(api):
    error_of(api.session.post(f"{api.base_url}/json/GetOrder", data=b"<x/>", headers={"Content-Type": "text/xml"},
                              timeout=10), 415, "UNSUPPORTED_MEDIA_TYPE")
    wrong_method = api.session.get(f"{api.base_url}/json/GetOrder", timeout=10)
    error_of(wrong_method, 405, "METHOD_NOT_ALLOWED")
    assert wrong_method.headers["Allow"] == "POST"
    error_of(api.call("DropTables", {}), 404, "NOT_FOUND")


def test_an_oversized_body_is_a_413(api, server):
    body = {"OrderNumber": "A" * 300_000}
    error_of(api.call("GetOrder", body), 413, "PAYLOAD_TOO_LARGE")


# ---------------------------------------------------------------------- who may call


def test_no_or_wrong_credentials_are_a_401_with_challenges(server):
    for auth in (None, (server.credentials[0], "wrong-secret"), ("nobody", "x")):
        answer = requests.post(f"{server.base_url}/json/GetOrder", json={"OrderNumber": "A"}, auth=auth, timeout=10)
        body = error_of(answer, 401, "AUTHENTICATION_FAILED")
        assert body["Message"] == "Authentication failed."
        assert 'Basic realm="soap_orders"' in answer.headers["WWW-Authenticate"]
        assert "Bearer" in answer.headers["WWW-Authenticate"]
    bad_token = requests.post(f"{server.base_url}/json/GetOrder", json={"OrderNumber": "A"},
                              headers={"Authorization": "Bearer not-a-token"}, timeout=10)
    error_of(bad_token, 401, "AUTHENTICATION_FAILED")


@pytest.mark.parametrize("body", [b'{"OrderNumber": ', b"", b"\xff\xfe", b"[]"])
def test_a_body_without_credentials_gets_the_challenge_before_it_is_read(server, body):
    """As on /soap: a call without credentials is challenged whatever its body holds; with
    credentials the same body is a validation error."""
    url = f"{server.base_url}/json/GetOrder"
    headers = {"Content-Type": "application/json"}
    first = requests.post(url, data=body, headers=headers, timeout=10)
    error_of(first, 401, "AUTHENTICATION_FAILED")
    assert first.raw.headers.getlist("WWW-Authenticate") == ['Basic realm="soap_orders"', 'Bearer realm="soap_orders"']
    second = requests.post(url, data=body, headers=headers, auth=server.credentials, timeout=10)
    error_of(second, 400, "VALIDATION_ERROR")


def test_a_missing_scope_is_a_403_and_changes_nothing(server, server_deps):
    name = unique("reader")
    reader = JsonClient(server, "basic", (name, add_client(server.database_url, name, ("orders:read",))))
    (number,) = store(server_deps, order_record())
    assert reader.ok("GetOrder", {"OrderNumber": number})["Order"]["OrderNumber"] == number
    error = error_of(reader.call("CancelOrder", {"OrderNumber": number, "RequestId": unique("rq"),
                                                 "Reason": "OTHER"}), 403, "FORBIDDEN")
    assert "orders:act" in error["Message"]
    assert reader.ok("GetOrder", {"OrderNumber": number})["Order"]["Status"] == "PROCESSING"


def test_repeated_failures_are_a_429_with_retry_after(tmp_path):
    from tests.conftest import _database

    guarded = Server(_database("sqlite", tmp_path, "json-guarded"), tmp_path / "gunicorn.log",
                     extra_env={"SOAP_ORDERS_AUTH_FAILURE_LIMIT": "3"})
    try:
        name = guarded.credentials[0]
        url = f"{guarded.base_url}/json/GetOrder"
        for _ in range(3):
            assert requests.post(url, json={"OrderNumber": "A"}, auth=(name, "wrong"), timeout=10).status_code == 401
        limited = requests.post(url, json={"OrderNumber": "A"}, auth=(name, "wrong"), timeout=10)
        body = error_of(limited, 429, "RATE_LIMITED")
        assert body["Retryable"] is True and int(limited.headers["Retry-After"]) > 0
    finally:
        guarded.stop()


def test_an_unreachable_database_is_a_retryable_503():
    settings = settings_for_tests("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    deps = build_dependencies(settings)
    body = json.dumps({"OrderNumber": "SO-1"}).encode()
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/json/GetOrder", "QUERY_STRING": "", "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
        "HTTP_AUTHORIZATION": "Basic c29tZW9uZTpzZWNyZXQ=",
    }
    statuses: list[str] = []
    try:
        app = create_wsgi_app(settings, dependencies=deps)
        answer = json.loads(b"".join(app(environ, lambda s, h, e=None: statuses.append(s))))
    finally:
        deps.engine.dispose()
    assert statuses[0].startswith("503")
    assert answer == {"ErrorCode": "UNAVAILABLE", "Message": answer["Message"], "Retryable": True}
    assert "127.0.0.1:1" not in answer["Message"]


# ---------------------------------------------------------------------- the document


def test_the_openapi_document_is_served_and_names_every_operation(server):
    answer = requests.get(f"{server.base_url}/openapi.json", timeout=10)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
    document = answer.json()
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) == {f"/json/{operation.name}" for operation in OPERATIONS}
    assert document["servers"] == [{"url": server.base_url}]
