"""The WSGI application: tags each request with an id, checks the caller's address, and routes.

``/soap`` answers with SOAP envelopes and faults, ``/json/...`` and ``/openapi.json`` with JSON,
``/oauth/token`` as RFC 6749 says, ``/health``, ``/healthz`` and ``/readyz`` with a small JSON
status, ``/metrics`` in Prometheus' text format and ``/`` with the service page. Whatever goes wrong is
answered in the route's own form, never with an error page.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..domain.clients import address_in, client_address
from ..domain.error_kinds import (
    INTERNAL_ERROR,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    UNAVAILABLE,
)
from ..domain.errors import DomainError, Forbidden
from ..http.connection import refusal_status
from ..http.credentials import http_principal
from ..jsonapi import endpoint as json_endpoint
from ..service.auth import Authenticator
from ..soap import endpoint as soap_endpoint
from ..soap.faults import InternalErrorFault, OrdersFault, UnavailableFault
from .health import health, healthz, readyz
from .metrics import Metrics
from .oauth import TokenRoute
from .service_page import ServicePage

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
        oauth: TokenRoute,
        openapi: bytes,
        public_url: str,
        authenticator: Authenticator,
        health_check: Callable[[], bool],
        unavailable_errors: tuple[type[BaseException], ...] = (),
        operability: Operability | None = None,
    ) -> None:
        self.soap = soap
        self.json = json
        self.oauth = oauth
        self.openapi = openapi
        self.public_url = public_url
        self.authenticator = authenticator
        self.health_check = health_check
        self.unavailable_errors = unavailable_errors
        self.operability = operability or Operability()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        supplied = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = environ.get("soap_orders.request_id") or (
            supplied if _REQUEST_ID.fullmatch(supplied) else uuid.uuid4().hex)
        environ["soap_orders.request_id"] = request_id

        def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers = [h for h in headers if h[0].lower() != "x-request-id"] + [("X-Request-Id", request_id)]
            return start_response(status, headers, exc_info)

        is_json = _json_path(environ.get("PATH_INFO", ""))
        try:
            return self._route(environ, respond)
        except self.unavailable_errors as error:
            log.warning("request %s: storage unavailable: %s", request_id, type(error).__name__)
            if is_json:
                return json_endpoint.unavailable(respond)
            return soap_endpoint.fault(respond, UNAVAILABLE.status, UnavailableFault(), [("Retry-After", "5")])
        except Exception:
            log.exception("request %s: unhandled error at the HTTP edge", request_id)
            if is_json:
                return json_endpoint.internal_error(respond, request_id)
            return soap_endpoint.fault(respond, INTERNAL_ERROR.status, InternalErrorFault(request_id))

    def _route(self, environ: dict[str, Any], respond: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        method = environ.get("REQUEST_METHOD", "GET").upper()
        ops = self.operability
        if path == "/health" and method in ("GET", "HEAD"):
            return health(respond, self.health_check, head=method == "HEAD")
        if path == "/healthz" and method in ("GET", "HEAD"):
            return healthz(respond, ops.version, head=method == "HEAD")
        if path == "/readyz" and method in ("GET", "HEAD") and ops.readiness is not None:
            return readyz(respond, ops.readiness, head=method == "HEAD")
        address = client_address(
            environ.get("REMOTE_ADDR"), environ.get("HTTP_X_FORWARDED_FOR"), self.authenticator.settings.trusted_proxies
        )
        environ["soap_orders.address"] = address
        if path == "/metrics" and method in ("GET", "HEAD") and ops.metrics is not None:
            return self._metrics(respond, address, head=method == "HEAD")
        is_json = _json_path(path)
        try:
            self.authenticator.check_address(address)
        except DomainError as error:
            if is_json:
                return json_endpoint.refusal(respond, error)
            soap_call = method == "POST" and path.rstrip("/") == self.soap.path.rstrip("/")
            return soap_endpoint.refuse(respond, error, soap_call=soap_call)
        if path == "/" and method in ("GET", "HEAD") and ops.service_page is not None:
            if not ops.page_public:
                try:
                    environ["soap_orders.principal"] = http_principal(environ, self.authenticator, address, required=True)
                except DomainError as error:
                    return _plain(respond, *refusal_status(error), error.message)
            return ops.service_page(respond, head=method == "HEAD")
        if path == "/oauth/token":
            return self.oauth(environ, respond)
        if path.startswith(json_endpoint.PREFIX) or path == json_endpoint.PREFIX.rstrip("/"):
            return self.json(environ, respond)
        if path == "/openapi.json":
            if method not in ("GET", "HEAD"):
                return json_endpoint.answer_kind(respond, METHOD_NOT_ALLOWED, "Use GET /openapi.json.",
                                                 [("Allow", "GET, HEAD")])
            if not ops.page_public:
                # The whole contract, like the WSDL: behind credentials when the WSDL is.
                try:
                    environ["soap_orders.principal"] = http_principal(environ, self.authenticator, address, required=True)
                except DomainError as error:
                    return json_endpoint.refusal(respond, error)
            respond("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(self.openapi)))])
            return [b""] if method == "HEAD" else [self.openapi]
        if path.rstrip("/") == self.soap.path.rstrip("/"):
            return self.soap(environ, respond)
        return soap_endpoint.fault(respond, NOT_FOUND.status, OrdersFault.of(
            NOT_FOUND, f"No such endpoint; use POST {self.soap.path} (WSDL at {self.public_url}?wsdl) or POST "
            f"{json_endpoint.PREFIX}<Operation>."))

    def _metrics(self, respond: StartResponse, address: str | None, *, head: bool) -> Iterable[bytes]:
        """Prometheus metrics, for the metrics allowlist when one is set (else the global one)."""
        ops = self.operability
        assert ops.metrics is not None
        try:
            if ops.metrics_allowlist:
                if not address_in(address, ops.metrics_allowlist):
                    raise Forbidden("Metrics are not served to this address.")
            else:
                self.authenticator.check_address(address)
        except Forbidden as error:
            return _plain(respond, "403 Forbidden", [], error.message)
        body = ops.metrics.exposition()
        respond("200 OK", [("Content-Type", ops.metrics.content_type), ("Content-Length", str(len(body))),
                           ("Cache-Control", "no-store")])
        return [b""] if head else [body]


@dataclass(frozen=True)
class Operability:
    """What the service tells the people who run and integrate it: ``/`` (the service page),
    ``/healthz``, ``/readyz`` and ``/metrics``."""

    version: str = ""
    service_page: ServicePage | None = None
    #: False puts the page and /openapi.json behind credentials, like the WSDL
    #: (SOAP_ORDERS_WSDL_PUBLIC=false).
    page_public: bool = True
    #: The readiness check: a JSON-ready dict whose ``status`` is ``ok`` when ready.
    readiness: Callable[[], dict[str, object]] | None = None
    metrics: Metrics | None = None
    #: CIDRs that may read /metrics (SOAP_ORDERS_METRICS_ALLOWLIST); empty: the global allowlist.
    metrics_allowlist: tuple[str, ...] = ()


def _json_path(path: str) -> bool:
    """Whether ``path`` is answered in JSON: the twin's routes and the OpenAPI document."""
    return path.startswith(json_endpoint.PREFIX) or path in (json_endpoint.PREFIX.rstrip("/"), "/openapi.json")


def _plain(respond: StartResponse, status: str, headers: list[tuple[str, str]], message: str) -> list[bytes]:
    body = (message + "\n").encode()
    respond(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))), *headers])
    return [body]
