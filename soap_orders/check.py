"""``soap-orders check``: contract-test a live deployment through its WSDL, read-only, the way a
consumer's SOAP client sees it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import zeep
from zeep.wsse.username import UsernameToken

from .domain.error_kinds import ORDER_NOT_FOUND
from .operations import OPERATIONS

#: Each operation and the elements of its request, in order, as the deployment must publish them.
EXPECTED = {operation.name: [f.name for f in operation.request] for operation in OPERATIONS}
#: Where the SOAP endpoint is unless SOAP_ORDERS_PUBLIC_URL puts it elsewhere.
DEFAULT_SOAP_PATH = "/soap"


def soap_endpoint(url: str) -> tuple[str, bool]:
    """The SOAP endpoint named by ``url`` (any ``?wsdl`` dropped), and whether it was made up:
    the service's base address (no path, or ``/``) stands for its endpoint at ``/soap``."""
    parts = urlsplit(url.strip())
    if parts.path in ("", "/"):
        return urlunsplit((parts.scheme, parts.netloc, DEFAULT_SOAP_PATH, "", "")), True
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), False


def _did_you_mean(endpoint: str) -> str:
    """A hint for a WSDL that could not be loaded from ``endpoint``."""
    parts = urlsplit(endpoint)
    if parts.path.rstrip("/") == DEFAULT_SOAP_PATH:
        return " (is the service's SOAP endpoint elsewhere? its service page, at the base address, names it)"
    return f" (did you mean {urlunsplit((parts.scheme, parts.netloc, DEFAULT_SOAP_PATH, '', ''))}?)"


@dataclass
class Report:
    lines: list[tuple[bool, str]] = field(default_factory=list)

    def add(self, ok: bool, text: str) -> None:
        self.lines.append((ok, text))

    @property
    def ok(self) -> bool:
        return all(ok for ok, _ in self.lines)


def check_deployment(
    url: str, client_name: str, secret: str, *, way_in: str = "basic", email: str | None = None,
    order_number: str | None = None, timeout: float = 15.0,
) -> Report:
    report = Report()
    session = requests.Session()
    wsse = None
    endpoint, from_base = soap_endpoint(url)
    if from_base:
        report.add(True, f"{url} is the service's base address: checking its SOAP endpoint {endpoint}")
    if way_in == "basic":
        session.auth = (client_name, secret)
    elif way_in in ("wsse-text", "wsse-digest"):
        wsse = UsernameToken(client_name, secret, use_digest=way_in == "wsse-digest")
    elif way_in == "bearer":
        token_url = endpoint.rsplit("/", 1)[0] + "/oauth/token"
        try:
            answer = requests.post(token_url, auth=(client_name, secret),
                                   data={"grant_type": "client_credentials"}, timeout=timeout)
        except requests.RequestException as error:
            report.add(False, f"OAuth2 token endpoint {token_url} could not be reached: {_reason(error)}")
            return report
        if answer.status_code != 200:
            report.add(False, f"OAuth2 token endpoint {token_url} answered HTTP {answer.status_code} {answer.reason}")
            return report
        session.headers["Authorization"] = "Bearer " + answer.json()["access_token"]
        report.add(True, "OAuth2 client credentials grant issued a bearer token")
    wsdl_url = endpoint + "?wsdl"
    try:
        answer = session.get(wsdl_url, timeout=timeout)
    except requests.RequestException as error:
        report.add(False, f"WSDL at {wsdl_url} could not be loaded: {_reason(error)}")
        return report
    if answer.status_code != 200:
        report.add(False, f"WSDL at {wsdl_url} could not be loaded: HTTP {answer.status_code} {answer.reason}"
                   + (_did_you_mean(endpoint) if answer.status_code in (404, 405) else ""))
        return report
    try:
        client = zeep.Client(wsdl_url, transport=zeep.Transport(session=session, timeout=timeout,
                                                                operation_timeout=timeout), wsse=wsse)
    except Exception as error:  # any failure to fetch or read the WSDL is the finding
        report.add(False, f"WSDL at {wsdl_url} could not be read: {type(error).__name__}{_did_you_mean(endpoint)}")
        return report
    report.add(True, "WSDL loaded")
    _check_operations(client, report)
    _check_address(client, endpoint, report)

    def call(label: str, action: Callable[[], Any]) -> Any:
        try:
            result = action()
        except zeep.exceptions.Fault as fault:
            report.add(False, f"{label}: fault {fault.code}: {fault.message}")
            return None
        except Exception as error:
            report.add(False, f"{label}: {type(error).__name__}")
            return None
        return result

    probe = email or f"contract-check-{uuid.uuid4().hex[:8]}@example.invalid"
    page = call("FindOrdersByEmail", lambda: client.service.FindOrdersByEmail(Email=probe, PageSize=5))
    if page is not None:
        report.add(True, f"FindOrdersByEmail answered ({page.TotalCount} order(s) for the probe email)")
    unknown = f"CHECK-{uuid.uuid4().hex[:12].upper()}"
    try:
        client.service.GetOrder(OrderNumber=unknown)
        report.add(False, "GetOrder of an unknown number did not answer Client.OrderNotFound")
    except zeep.exceptions.Fault as fault:
        report.add((fault.code or "").endswith(ORDER_NOT_FOUND.fault),
                   f"GetOrder of an unknown number answered {fault.code}")
    except Exception as error:
        report.add(False, f"GetOrder: {type(error).__name__}")
    if order_number:
        order = call("GetOrder", lambda: client.service.GetOrder(OrderNumber=order_number))
        if order is not None:
            report.add(True, f"GetOrder {order_number}: {order.Status}, {order.Total} {order.Currency}")
    return report


def _reason(error: requests.RequestException) -> str:
    if isinstance(error, requests.ConnectionError):
        return "connection failed (nothing answering, or a network or TLS problem)"
    if isinstance(error, requests.Timeout):
        return "no answer in time"
    return type(error).__name__


def _check_operations(client: zeep.Client, report: Report) -> None:
    service = next(iter(client.wsdl.services.values()))
    port = next(iter(service.ports.values()))
    operations = port.binding._operations
    for name, fields in EXPECTED.items():
        operation = operations.get(name)
        if operation is None:
            report.add(False, f"operation {name} is missing")
            continue
        names = [element_name for element_name, _ in operation.input.body.type.elements]
        report.add(names == fields, f"operation {name}({', '.join(names)})")


def _check_address(client: zeep.Client, endpoint: str, report: Report) -> None:
    service = next(iter(client.wsdl.services.values()))
    address = next(iter(service.ports.values())).binding_options["address"]
    report.add(address == endpoint, f"soap:address is {address}" + ("" if address == endpoint else
               f" (expected {endpoint}: set SOAP_ORDERS_PUBLIC_URL)"))
