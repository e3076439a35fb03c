"""``/soap``: the WSDL, and calls answered with SOAP 1.1 envelopes or faults."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from ..domain.error_kinds import METHOD_NOT_ALLOWED, UNSUPPORTED_MEDIA_TYPE
from ..domain.errors import DomainError
from ..http.access_log import note_fault
from ..http.body import BodyError, describe, read_body
from ..http.connection import CONNECTION_CLOSE, closing, refusal_status, soap_refusal
from ..http.credentials import http_principal
from ..service.auth import Authenticator
from .application import SoapEndpoint, fault_envelope
from .faults import InternalErrorFault, OrdersFault, ValidationFault, fault_for

log = logging.getLogger("soap_orders.soap")

StartResponse = Callable[..., Any]
_XML_TYPES = ("text/xml", "application/xml")


class SoapRoute:
    """Serves the WSDL and SOAP calls on one path."""

    def __init__(self, endpoint: SoapEndpoint, authenticator: Authenticator, *, public_url: str, max_body: int,
                 body_timeout: float, wsdl_public: bool) -> None:
        self.endpoint = endpoint
        self.public_url = public_url
        self.path = urlsplit(public_url).path or "/soap"
        self.authenticator = authenticator
        self.max_body = max_body
        self.body_timeout = body_timeout
        self.wsdl_public = wsdl_public

    def __call__(self, environ: dict[str, Any], respond: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        address = environ.get("soap_orders.address")
        is_wsdl = method in ("GET", "HEAD") and environ.get("QUERY_STRING", "").lower() in ("wsdl", "wsdl=")
        if method == "POST" or (is_wsdl and not self.wsdl_public):
            try:
                environ["soap_orders.principal"] = http_principal(environ, self.authenticator, address, required=is_wsdl)
            except DomainError as error:
                return refuse(respond, error, soap_call=method == "POST")
        if is_wsdl:
            wsdl = self.endpoint.wsdl
            respond("200 OK", [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(wsdl)))])
            return [b""] if method == "HEAD" else [wsdl]
        if method != "POST":
            return fault(respond, METHOD_NOT_ALLOWED.status, OrdersFault.of(
                METHOD_NOT_ALLOWED, f"Use POST {self.path} for calls; the WSDL is at {self.public_url}?wsdl."),
                [("Allow", "POST")])
        content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if content_type not in _XML_TYPES:
            return fault(respond, UNSUPPORTED_MEDIA_TYPE.status, OrdersFault.of(
                UNSUPPORTED_MEDIA_TYPE, "Content-Type must be text/xml (SOAP 1.1)."))
        try:
            body = read_body(environ, self.max_body, self.body_timeout)
        except BodyError as error:
            log.info("request %s: body refused: %s", environ.get("soap_orders.request_id"), error.code)
            message = describe(error, self.max_body, self.body_timeout)
            refusal = ValidationFault(message, error_code=error.code)
            if error.code == "TRUNCATED_BODY":
                return fault(respond, error.status, refusal)
            # The rest of the body is unread (or unreadable): close the connection once the fault is sent.
            return closing(environ, fault(respond, error.status, refusal, [CONNECTION_CLOSE]))
        direct = self.endpoint.direct
        if direct is not None:
            answer = direct(environ, body)
            if answer is not None:
                respond("200 OK", [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(answer)))])
                return [answer]
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.endpoint.handle_rpc(environ, respond)


def refuse(respond: StartResponse, error: DomainError, *, soap_call: bool) -> list[bytes]:
    """A refused SOAP call is a fault on HTTP 500 (WS-I BP R1126); other refusals (the private
    WSDL) keep HTTP's 401, 403 and 429."""
    refusal = fault_for(error) or InternalErrorFault("-")
    status, headers = soap_refusal(error) if soap_call else refusal_status(error)
    return fault(respond, status, refusal, headers)


def fault(respond: StartResponse, status: str, refusal: OrdersFault,
          extra: list[tuple[str, str]] | None = None) -> list[bytes]:
    body = fault_envelope(refusal)
    note_fault(refusal)
    respond(status, [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body)))] + (extra or []))
    return [body]


def write_http_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """Replacement for gunicorn's HTML error writer (malformed request lines, headers, chunking):
    the same status, with a SOAP fault that does not repeat the offending input."""
    del mesg  # gunicorn's message quotes the bad request line or header
    refusal = ValidationFault(f"The HTTP request is malformed ({status_int} {reason}).", error_code="BAD_HTTP_REQUEST")
    body = fault_envelope(refusal)
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: text/xml; charset=utf-8\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode("latin-1")
    from gunicorn import util

    util.write_nonblock(sock, head + body)


def install_gunicorn_error_writer() -> None:
    """Make gunicorn answer protocol errors with SOAP faults (called from its post_worker_init)."""
    from gunicorn import util

    util.write_error = write_http_error
