"""The WSGI application: tags each request with an id, checks the caller's address, and routes.

``/soap`` answers with SOAP envelopes and faults, ``/json/...`` and ``/openapi.json`` with JSON,
``/oauth/token`` as RFC 6749 says, ``/health`` with a small JSON status. Whatever goes wrong is
answered in the route's own form, never with an HTML page.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from ..domain.clients import client_address
from ..domain.errors import AuthenticationFailed, DomainError
from ..jsonapi import endpoint as json_endpoint
from ..service.auth import Authenticator
from ..soap import endpoint as soap_endpoint
from ..soap.faults import InternalErrorFault, UnavailableFault, ValidationFault
from .credentials import basic_credentials
from .health import health
from .oauth import token_endpoint

log = logging.getLogger("soap_orders.http")

StartResponse = Callable[..., Any]
WsgiRoute = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class WebApplication:
    def __init__(
        self,
        *,
        soap: soap_endpoint.SoapRoute,
        json: json_endpoint.JsonRoute,
        openapi: bytes,
        public_url: str,
        authenticator: Authenticator,
        health_check: Callable[[], bool],
        unavailable_errors: tuple[type[BaseException], ...] = (),
    ) -> None:
        self.soap = soap
        self.json = json
        self.openapi = openapi
        self.public_url = public_url
        self.authenticator = authenticator
        self.health_check = health_check
        self.unavailable_errors = unavailable_errors

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        supplied = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = environ.get("soap_orders.request_id") or (
            supplied if _REQUEST_ID.fullmatch(supplied) else uuid.uuid4().hex)
        environ["soap_orders.request_id"] = request_id

        def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers = [h for h in headers if h[0].lower() != "x-request-id"] + [("X-Request-Id", request_id)]
            return start_response(status, headers, exc_info)

        is_json = environ.get("PATH_INFO", "").startswith(json_endpoint.PREFIX)
        try:
            return self._route(environ, respond)
        except self.unavailable_errors as error:
            log.warning("request %s: storage unavailable: %s", request_id, type(error).__name__)
            if is_json:
                return json_endpoint.answer_error(respond, "503 Service Unavailable", "UNAVAILABLE",
                                                  UnavailableFault().message, True, [("Retry-After", "5")])
            return soap_endpoint.fault(respond, "503 Service Unavailable", UnavailableFault(), [("Retry-After", "5")])
        except Exception:
            log.exception("request %s: unhandled error at the HTTP edge", request_id)
            if is_json:
                return json_endpoint.answer_error(respond, "500 Internal Server Error", "INTERNAL_ERROR",
                                                  InternalErrorFault(request_id).message, True)
            return soap_endpoint.fault(respond, "500 Internal Server Error", InternalErrorFault(request_id))

    def _route(self, environ: dict[str, Any], respond: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if path == "/health" and method in ("GET", "HEAD"):
            return health(respond, self.health_check, head=method == "HEAD")
        address = client_address(
            environ.get("REMOTE_ADDR"), environ.get("HTTP_X_FORWARDED_FOR"), self.authenticator.settings.trusted_proxies
        )
        environ["soap_orders.address"] = address
        is_json = path.startswith(json_endpoint.PREFIX) or path == "/openapi.json"
        try:
            self.authenticator.check_address(address)
        except DomainError as error:
            if is_json:
                return json_endpoint.refusal(respond, error)
            soap_call = method == "POST" and path.rstrip("/") == self.soap.path.rstrip("/")
            return soap_endpoint.refuse(respond, error, soap_call=soap_call)
        if path == "/oauth/token":
            try:
                basic = basic_credentials(environ)
            except AuthenticationFailed:
                basic = ("", "")  # malformed Basic header: fails client authentication
            return token_endpoint(environ, respond, self.authenticator, address, basic)
        if path.startswith(json_endpoint.PREFIX):
            return self.json(environ, respond)
        if path == "/openapi.json" and method in ("GET", "HEAD"):
            respond("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(self.openapi)))])
            return [b""] if method == "HEAD" else [self.openapi]
        if path.rstrip("/") == self.soap.path.rstrip("/"):
            return self.soap(environ, respond)
        return soap_endpoint.fault(respond, "404 Not Found", ValidationFault(
            f"No such endpoint; use POST {self.soap.path} (WSDL at {self.public_url}?wsdl) or POST "
            f"{json_endpoint.PREFIX}<Operation>.", error_code="NOT_FOUND"))
