"""The access log of a real gunicorn: one JSON line per request with the fields the wire carried,
the request id shared with the application's own lines, and no secret anywhere."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from soap_orders.bootstrap import build_dependencies
from tests.conftest import _migrated
from tests.records import order_record, shipped, store
from tests.server import Server, settings_for_tests

pytestmark = pytest.mark.slow

ENVELOPE = ('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:ord="urn:soap-orders:orders:v1"><soapenv:Header>{header}</soapenv:Header>'
            '<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>')
WSSE = ('<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">'
        '<wsse:UsernameToken><wsse:Username>{name}</wsse:Username>'
        '<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0'
        '#PasswordText">{password}</wsse:Password></wsse:UsernameToken></wsse:Security>')
WRONG_SECRET = "Wrong-Secret-7b1f2e9d"  # noqa: S105 - a value that must never reach the log


def envelope(body: str, header: str = "") -> str:
    return ENVELOPE.format(header=header, body=body)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("access-log")
    url = _migrated(f"sqlite:///{directory / 'orders.sqlite3'}")
    running = Server(url, directory / "gunicorn.log", workers=2, client_name="logger",
                     extra_env={"SOAP_ORDERS_LOG_LEVEL": "INFO", "SOAP_ORDERS_LOG_FORMAT": "json"})
    yield running
    running.stop()


@pytest.fixture(scope="module")
def orders(server: Server) -> dict[str, str]:
    deps = build_dependencies(settings_for_tests(server.database_url))
    try:
        processing, sent = store(deps, order_record(), shipped(order_record()))
    finally:
        deps.engine.dispose()
    return {"processing": processing, "shipped": sent}


def json_lines(server: Server) -> list[dict[str, Any]]:
    lines = []
    for raw in server.log().splitlines():
        if raw.startswith("{"):
            lines.append(json.loads(raw))
    return lines


def access_line(server: Server, request_id: str, timeout: float = 10.0) -> dict[str, Any]:
    """The access line of ``request_id``; it is written when the response has been sent."""
    deadline = time.monotonic() + timeout
    while True:
        found = [line for line in json_lines(server)
                 if line["logger"] == "soap_orders.access" and line["request_id"] == request_id]
        if found or time.monotonic() > deadline:
            assert len(found) == 1, f"expected one access line for {request_id}, found {found}"
            return found[0]
        time.sleep(0.05)


def post(server: Server, body: str, request_id: str, **kwargs: Any) -> requests.Response:
    response = server.post(envelope(body), headers={"X-Request-ID": request_id}, **kwargs)
    assert response.headers["X-Request-Id"] == request_id
    return response


def test_a_successful_read_is_one_line_with_every_field(server, orders):
    response = post(server, "<ord:FindOrdersByEmail><ord:Email>ann.lee@example.com</ord:Email></ord:FindOrdersByEmail>",
                    "log-find-1")
    assert response.status_code == 200
    line = access_line(server, "log-find-1")
    assert line["level"] == "INFO"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    assert line["method"] == "POST" and line["path"] == "/soap" and line["status"] == 200
    assert line["operation"] == "FindOrdersByEmail" and line["outcome"] == "OK"
    assert line["fault_code"] is None and line["error_code"] is None
    assert line["client"] == "logger" and line["address"] == "127.0.0.1"
    assert isinstance(line["duration_ms"], (int, float)) and line["duration_ms"] >= 0


def test_a_business_outcome_is_logged(server, orders):
    body = (f"<ord:CancelOrder><ord:OrderNumber>{orders['shipped']}</ord:OrderNumber>"
            "<ord:RequestId>log-cancel-1</ord:RequestId><ord:Reason>CUSTOMER</ord:Reason></ord:CancelOrder>")
    assert post(server, body, "log-cancel-1").status_code == 200
    line = access_line(server, "log-cancel-1")
    assert (line["operation"], line["outcome"], line["status"]) == ("CancelOrder", "REJECTED", 200)
    body = (f"<ord:CancelOrder><ord:OrderNumber>{orders['processing']}</ord:OrderNumber>"
            "<ord:RequestId>log-cancel-2</ord:RequestId><ord:Reason>CUSTOMER</ord:Reason></ord:CancelOrder>")
    assert post(server, body, "log-cancel-2").status_code == 200
    assert access_line(server, "log-cancel-2")["outcome"] == "CANCELLED"


def test_a_fault_is_logged_with_the_code_on_the_wire(server, orders):
    response = post(server, "<ord:GetOrder><ord:OrderNumber>NO-SUCH-1</ord:OrderNumber></ord:GetOrder>", "log-fault-1")
    assert response.status_code == 500 and "Client.OrderNotFound" in response.text
    line = access_line(server, "log-fault-1")
    assert line["operation"] == "GetOrder" and line["status"] == 500
    assert (line["fault_code"], line["error_code"], line["outcome"]) == ("Client.OrderNotFound", "ORDER_NOT_FOUND", None)


def test_faults_found_before_the_operation_are_logged_too(server):
    response = post(server, "<ord:GetOrder><ord:OrderNumber>", "log-malformed-1")
    assert response.status_code == 500 and "Client.ValidationError" in response.text
    line = access_line(server, "log-malformed-1")
    assert (line["fault_code"], line["error_code"]) == ("Client.ValidationError", "MALFORMED_XML")
    response = requests.put(server.soap_url, headers={"X-Request-ID": "log-put-1"}, timeout=10)
    assert response.status_code == 405
    line = access_line(server, "log-put-1")
    assert (line["status"], line["error_code"], line["method"]) == (405, "METHOD_NOT_ALLOWED", "PUT")


def test_the_applications_own_lines_carry_the_request_id(server):
    # A protocol fault is also reported by the SOAP layer's own logger, at INFO.
    post(server, "<ord:GetOrder><ord:Nope>1</ord:Nope></ord:GetOrder>", "log-own-1")
    access_line(server, "log-own-1")
    own = [line for line in json_lines(server)
           if line["logger"] == "soap_orders.soap" and line["request_id"] == "log-own-1"]
    assert own and "protocol fault" in own[0]["message"]


def test_a_malformed_request_id_is_replaced_and_returned(server):
    response = server.post(envelope("<ord:GetOrder><ord:OrderNumber>X-1</ord:OrderNumber></ord:GetOrder>"),
                           headers={"X-Request-ID": "not a valid id!"})
    generated = response.headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert access_line(server, generated)["operation"] == "GetOrder"
    assert "not a valid id!" not in server.log()


def test_authentication_failures_are_logged_without_the_secret(server):
    name, secret = server.credentials
    body = "<ord:GetOrder><ord:OrderNumber>X-2</ord:OrderNumber></ord:GetOrder>"
    response = post(server, body, "log-auth-basic", auth=(name, WRONG_SECRET))
    assert response.status_code == 500  # a refused SOAP call is a fault on HTTP 500 (WS-I BP R1126)
    line = access_line(server, "log-auth-basic")
    assert (line["fault_code"], line["status"], line["client"]) == ("Client.AuthenticationFailed", 500, None)
    response = server.post(envelope(body, WSSE.format(name=name, password=WRONG_SECRET)),
                           headers={"X-Request-ID": "log-auth-wsse"}, auth=None)
    assert response.status_code == 500 and "Client.AuthenticationFailed" in response.text
    assert access_line(server, "log-auth-wsse")["fault_code"] == "Client.AuthenticationFailed"
    # A good WS-Security call names its client.
    response = server.post(envelope(body, WSSE.format(name=name, password=secret)),
                           headers={"X-Request-ID": "log-wsse-ok"}, auth=None)
    assert access_line(server, "log-wsse-ok")["client"] == name


def test_no_secret_ever_reaches_the_log(server):
    name, secret = server.credentials
    tokens = server.token().json()
    requests.post(server.soap_url, data=envelope("<ord:GetOrder><ord:OrderNumber>X-3</ord:OrderNumber></ord:GetOrder>"),
                  headers={"Content-Type": "text/xml", "Authorization": "Bearer " + tokens["access_token"],
                           "X-Request-ID": "log-bearer"}, timeout=10)
    assert access_line(server, "log-bearer")["client"] == name
    log = server.log()
    import base64

    for value in (secret, WRONG_SECRET, tokens["access_token"], tokens["refresh_token"],
                  base64.b64encode(f"{name}:{secret}".encode()).decode(),
                  base64.b64encode(f"{name}:{WRONG_SECRET}".encode()).decode()):
        assert value not in log
    assert "Authorization" not in log and "authorization" not in log


def test_gunicorns_own_lines_are_json_too(server):
    lines = [raw for raw in server.log().splitlines() if raw.strip()]
    assert lines and all(raw.startswith("{") for raw in lines), [raw for raw in lines if not raw.startswith("{")][:3]
    assert any(json.loads(raw)["logger"] == "gunicorn.error" for raw in lines)


def test_a_text_log_on_request(tmp_path: Path):
    url = _migrated(f"sqlite:///{tmp_path / 'orders.sqlite3'}")
    running = Server(url, tmp_path / "gunicorn.log", workers=1, client_name="texter",
                     extra_env={"SOAP_ORDERS_LOG_LEVEL": "INFO", "SOAP_ORDERS_LOG_FORMAT": "text"})
    try:
        running.post(envelope("<ord:GetOrder><ord:OrderNumber>X-4</ord:OrderNumber></ord:GetOrder>"),
                     headers={"X-Request-ID": "log-text-1"})
        deadline = time.monotonic() + 10
        while "[log-text-1]" not in running.log() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        running.stop()
    line = next(raw for raw in running.log_path.read_text().splitlines() if "[log-text-1]" in raw and "soap_orders.access" in raw)
    assert "POST /soap 500" in line and "operation=GetOrder" in line and "fault_code=Client.OrderNotFound" in line
    assert "client=texter" in line and not line.startswith("{")
