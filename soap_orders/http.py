"""The WSGI front door: routes ``/soap`` (WSDL and calls) and ``/health``, enforces the body limit,
tags each request with an id, and answers every failure with a SOAP fault rather than a page."""

from __future__ import annotations

import base64
import binascii
import io
import json
import logging
import re
import socket
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from .domain.clients import client_address
from .domain.errors import AuthenticationFailed, DomainError, Forbidden, RateLimited
from .oauth import token_endpoint
from .service.auth import Authenticator, Principal
from .soap.application import SoapEndpoint, fault_envelope
from .soap.faults import InternalErrorFault, OrdersFault, UnavailableFault, ValidationFault, fault_for
from .web.access_log import note_fault

log = logging.getLogger("soap_orders.http")

StartResponse = Callable[..., Any]
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_XML_TYPES = ("text/xml", "application/xml")


class PayloadTooLarge(OrdersFault):
    faultcode_value = "Client.ValidationError"
    error_code = "PAYLOAD_TOO_LARGE"


class _Truncated(Exception):
    """The client sent less than its Content-Length announced."""


class _TooSlow(Exception):
    """The body did not arrive in time."""


class WebApplication:
    def __init__(
        self,
        endpoint: SoapEndpoint,
        *,
        public_url: str,
        max_body: int,
        health_check: Callable[[], bool],
        authenticator: Authenticator,
        body_timeout: float = 20.0,
        wsdl_public: bool = True,
        unavailable_errors: tuple[type[BaseException], ...] = (),
    ) -> None:
        self.unavailable_errors = unavailable_errors
        self.authenticator = authenticator
        self.wsdl_public = wsdl_public
        self.endpoint = endpoint
        self.public_url = public_url
        self.soap_path = urlsplit(public_url).path or "/soap"
        self.max_body = max_body
        self.body_timeout = body_timeout
        self.health_check = health_check

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        supplied = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = environ.get("soap_orders.request_id") or (supplied if _REQUEST_ID.fullmatch(supplied) else uuid.uuid4().hex)
        environ["soap_orders.request_id"] = request_id

        def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers = [h for h in headers if h[0].lower() != "x-request-id"] + [("X-Request-Id", request_id)]
            return start_response(status, headers, exc_info)

        try:
            return self._route(environ, respond)
        except self.unavailable_errors as error:
            log.warning("request %s: storage unavailable: %s", request_id, type(error).__name__)
            return _fault(respond, "503 Service Unavailable", UnavailableFault(), [("Retry-After", "5")])
        except Exception:
            log.exception("request %s: unhandled error at the HTTP edge", request_id)
            return _fault(respond, "500 Internal Server Error", InternalErrorFault(request_id))

    def _route(self, environ: dict[str, Any], respond: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if path == "/health" and method in ("GET", "HEAD"):
            return self._health(respond, head=method == "HEAD")
        address = client_address(
            environ.get("REMOTE_ADDR"), environ.get("HTTP_X_FORWARDED_FOR"), self.authenticator.settings.trusted_proxies
        )
        environ["soap_orders.address"] = address
        try:
            self.authenticator.check_address(address)
        except DomainError as error:
            return self._refuse(respond, error)
        if path == "/oauth/token":
            try:
                basic = _basic_credentials(environ)
            except AuthenticationFailed:
                basic = ("", "")  # malformed Basic header: fails client authentication
            return token_endpoint(environ, respond, self.authenticator, address, basic)
        if path.rstrip("/") != self.soap_path.rstrip("/"):
            return _fault(respond, "404 Not Found", ValidationFault("No such endpoint; use POST " + self.soap_path + ".", error_code="NOT_FOUND"))
        is_wsdl = method in ("GET", "HEAD") and environ.get("QUERY_STRING", "").lower() in ("wsdl", "wsdl=")
        if method == "POST" or (is_wsdl and not self.wsdl_public):
            try:
                environ["soap_orders.principal"] = self._http_principal(environ, address, required=is_wsdl)
            except DomainError as error:
                return self._refuse(respond, error)
        if is_wsdl:
            respond("200 OK", [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(self.endpoint.wsdl)))])
            return [b""] if method == "HEAD" else [self.endpoint.wsdl]
        if method != "POST":
            return _fault(respond, "405 Method Not Allowed", ValidationFault(
                f"Use POST {self.soap_path} for calls; the WSDL is at {self.public_url}?wsdl.",
                error_code="METHOD_NOT_ALLOWED"), [("Allow", "POST")])
        content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if content_type not in _XML_TYPES:
            return _fault(respond, "415 Unsupported Media Type", ValidationFault(
                "Content-Type must be text/xml (SOAP 1.1).", error_code="UNSUPPORTED_MEDIA_TYPE"))
        try:
            body = self._read_body_in_time(environ)
        except _TooSlow:
            return _fault(respond, "408 Request Timeout", ValidationFault(
                f"The request body did not arrive within {self.body_timeout:g} seconds.", error_code="REQUEST_TIMEOUT"))
        except _Truncated:
            return _fault(respond, "400 Bad Request", ValidationFault(
                "The request body is shorter than its Content-Length.", error_code="TRUNCATED_BODY"))
        except Exception as error:  # the server's body reader: bad chunking, reset connection
            log.info("request %s: body could not be read: %s", environ["soap_orders.request_id"], type(error).__name__)
            return _fault(respond, "400 Bad Request", ValidationFault(
                "The request body could not be read (bad chunked encoding or connection).", error_code="BAD_HTTP_REQUEST"))
        if body is None:
            return _fault(respond, "413 Payload Too Large", PayloadTooLarge(
                f"The request body is larger than the limit of {self.max_body} bytes."))
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.endpoint.handle_rpc(environ, respond)

    def _http_principal(self, environ: dict[str, Any], address: str | None, *, required: bool) -> Principal | None:
        """The caller proven by an Authorization header (Basic or Bearer). Without one, a SOAP
        call may still carry a WS-Security UsernameToken, checked once the envelope is parsed."""
        header = environ.get("HTTP_AUTHORIZATION", "").strip()
        scheme = header.split(" ", 1)[0].lower()
        if scheme == "basic":
            name, secret = _basic_credentials(environ) or ("", "")
            return self.authenticator.password(name, secret, address, "basic")
        if scheme == "bearer":
            return self.authenticator.bearer(header[len("bearer"):].strip(), address)
        if header or required:
            raise AuthenticationFailed("unsupported or missing Authorization header")
        return None

    def _refuse(self, respond: StartResponse, error: DomainError) -> list[bytes]:
        fault = fault_for(error) or InternalErrorFault("-")
        status, headers = "500 Internal Server Error", []
        if isinstance(error, AuthenticationFailed):
            status = "401 Unauthorized"
            headers = [("WWW-Authenticate", 'Basic realm="soap_orders"'), ("WWW-Authenticate", 'Bearer realm="soap_orders"')]
        elif isinstance(error, Forbidden):
            status = "403 Forbidden"
        elif isinstance(error, RateLimited):
            status, headers = "429 Too Many Requests", [("Retry-After", str(error.retry_after))]
        return _fault(respond, status, fault, headers)

    def _read_body_in_time(self, environ: dict[str, Any]) -> bytes | None:
        """Read the body, giving up when it takes longer than ``body_timeout`` in all: a client
        that trickles bytes must not hold a worker thread for ever. Under gunicorn the read side
        of the socket is shut when the time is up, which ends the blocked read."""
        sock = environ.get("gunicorn.socket")
        if sock is None:
            return self._read_body(environ)
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            try:
                sock.shutdown(socket.SHUT_RD)
            except OSError:
                pass

        timer = threading.Timer(self.body_timeout, expire)
        timer.daemon = True
        timer.start()
        try:
            body = self._read_body(environ)
        except Exception:
            if expired.is_set():
                raise _TooSlow() from None
            raise
        finally:
            timer.cancel()
        if expired.is_set():
            raise _TooSlow()
        return body

    def _read_body(self, environ: dict[str, Any]) -> bytes | None:
        """The whole body, or None when it is over the limit (declared or actual, chunked too)."""
        declared = environ.get("CONTENT_LENGTH", "")
        stream = environ["wsgi.input"]
        if declared.strip():
            try:
                length = int(declared)
            except ValueError:
                length = -1
            if length > self.max_body:
                return None
            if length >= 0:
                data = stream.read(length) if length else b""
                if len(data) < length:
                    raise _Truncated()
                return data
        data = stream.read(self.max_body + 1)
        return None if len(data) > self.max_body else data

    def _health(self, respond: StartResponse, *, head: bool = False) -> Iterable[bytes]:
        try:
            healthy = self.health_check()
        except Exception:
            log.exception("health check failed")
            healthy = False
        body = json.dumps({"status": "ok" if healthy else "unavailable"}).encode()
        respond("200 OK" if healthy else "503 Service Unavailable",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body))), ("Cache-Control", "no-store")])
        return [b""] if head else [body]


def _basic_credentials(environ: dict[str, Any]) -> tuple[str, str] | None:
    """(name, secret) from an HTTP Basic Authorization header, None when there is none."""
    header = environ.get("HTTP_AUTHORIZATION", "").strip()
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise AuthenticationFailed("malformed Basic credentials") from None
    name, sep, secret = decoded.partition(":")
    if not sep:
        raise AuthenticationFailed("malformed Basic credentials")
    return name, secret


def _fault(respond: StartResponse, status: str, fault: OrdersFault,
           extra: list[tuple[str, str]] | None = None) -> list[bytes]:
    body = fault_envelope(fault)
    note_fault(fault)
    respond(status, [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body)))] + (extra or []))
    return [body]


def write_http_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """Replacement for gunicorn's HTML error writer (malformed request lines, headers, chunking):
    the same status, with a SOAP fault that does not repeat the offending input."""
    del mesg  # gunicorn's message quotes the bad request line or header
    fault = ValidationFault(f"The HTTP request is malformed ({status_int} {reason}).", error_code="BAD_HTTP_REQUEST")
    body = fault_envelope(fault)
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
