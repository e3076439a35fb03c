"""The access log: one line per request, written when the response has been sent.

:class:`AccessLog` wraps the whole WSGI application. It gives each request its id (the caller's
``X-Request-ID`` when it is well-formed, a new one otherwise), makes that id current for the
application's own log lines, returns it in the ``X-Request-Id`` header, and logs what the
endpoint recorded in the WSGI environ under these keys:

====================================  =====================================================
``soap_orders.request_id``            set here before the application runs
``soap_orders.address``               the caller's address (after trusted proxies)
``soap_orders.principal``             the authenticated caller (its ``client`` is logged)
``soap_orders.client``                the client name, when known without a principal
``soap_orders.operation``             the operation called (``FindOrdersByEmail``, ...)
``soap_orders.outcome``               the business result: an action's ``Outcome``, else ``OK``
``soap_orders.fault_code``            the ``faultcode`` on the wire (``Client.OrderNotFound``)
``soap_orders.error_code``            the fault's ``ErrorCode`` detail (``ORDER_NOT_FOUND``)
``soap_orders.auth_failure``          why credentials were refused (metrics only, never logged)
====================================  =====================================================

:func:`note` and :func:`note_fault` set them; code that has no environ at hand reaches the
current request's through a context variable.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextvars import ContextVar
from typing import Any

from ..logs import current_request_id

log = logging.getLogger("soap_orders.access")

REQUEST_ID = "soap_orders.request_id"
ADDRESS = "soap_orders.address"
PRINCIPAL = "soap_orders.principal"
CLIENT = "soap_orders.client"
OPERATION = "soap_orders.operation"
OUTCOME = "soap_orders.outcome"
FAULT_CODE = "soap_orders.fault_code"
ERROR_CODE = "soap_orders.error_code"

#: Told of each finished request: its environ, its status line and how long it took in seconds.
Observer = Callable[[dict[str, Any], str, float], None]

_WELL_FORMED_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_current_environ: ContextVar[dict[str, Any] | None] = ContextVar("soap_orders_environ", default=None)
_MAX_PATH = 200


def request_id_for(environ: dict[str, Any]) -> str:
    """The caller's ``X-Request-ID`` when it is well-formed, else a new random id."""
    supplied = environ.get("HTTP_X_REQUEST_ID", "")
    return supplied if _WELL_FORMED_ID.fullmatch(supplied) else uuid.uuid4().hex


def note(environ: dict[str, Any] | None = None, **values: str | None) -> None:
    """Record access-log values (``operation=``, ``outcome=``, ``fault_code=``, ``error_code=``,
    ``client=``) for ``environ``, or for the request being served when it is None."""
    target = _current_environ.get() if environ is None else environ
    if target is None:
        return
    for key, value in values.items():
        if value is not None:
            target[f"soap_orders.{key}"] = str(value)


def note_fault(fault: Any, environ: dict[str, Any] | None = None) -> None:
    """Record the fault a response carries: its ``faultcode`` and ``ErrorCode``, as on the wire."""
    fields = getattr(fault, "fields", None)
    error_code = fields.get("ErrorCode") if isinstance(fields, dict) else None
    code = str(getattr(fault, "faultcode", "") or "")
    note(environ, fault_code=code.split(":", 1)[-1] or None, error_code=error_code)


class AccessLog:
    """WSGI middleware writing one ``soap_orders.access`` line per request."""

    def __init__(self, app: Callable[..., Iterable[bytes]], clock: Callable[[], float] = time.monotonic,
                 observers: Sequence[Observer] = ()) -> None:
        self.app = app
        self.clock = clock
        #: Told of every finished request (environ, status line, seconds): the request metrics.
        self.observers = tuple(observers)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = self.clock()
        request_id = environ.get(REQUEST_ID) or request_id_for(environ)
        environ[REQUEST_ID] = request_id
        id_token = current_request_id.set(request_id)
        environ_token = _current_environ.set(environ)
        seen: dict[str, str] = {}

        def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"] = status
            if not any(name.lower() == "x-request-id" for name, _ in headers):
                headers = [*headers, ("X-Request-Id", request_id)]
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        try:
            body = self.app(environ, respond)
        except BaseException:
            seen.setdefault("status", "500 Internal Server Error")
            self._write(environ, seen, started)
            _current_environ.reset(environ_token)
            current_request_id.reset(id_token)
            raise
        return _Logged(body, lambda: self._finish(environ, seen, started, id_token, environ_token))

    def _finish(self, environ: dict[str, Any], seen: dict[str, str], started: float, id_token: Any,
                environ_token: Any) -> None:
        try:
            self._write(environ, seen, started)
        finally:
            try:
                _current_environ.reset(environ_token)
                current_request_id.reset(id_token)
            except ValueError:  # closed in another context than the one that served it
                _current_environ.set(None)
                current_request_id.set(None)

    def _write(self, environ: dict[str, Any], seen: dict[str, str], started: float) -> None:
        status = seen.get("status", "")
        seconds = self.clock() - started
        for observer in self.observers:
            try:
                observer(environ, status, seconds)
            except Exception:  # metrics must never break a response either
                log.exception("request metrics could not be recorded")
        if not log.isEnabledFor(logging.INFO):
            return
        try:
            fields = access_fields(environ, status, seconds * 1000)
            method, path, code = fields["method"], fields["path"], fields["status"]
            log.info("%s %s %s", method, path, code, extra={"fields": fields, "request_id": environ.get(REQUEST_ID)})
        except Exception:  # the access log must never break a response
            log.exception("access log line could not be written")


def access_fields(environ: dict[str, Any], status: str, duration_ms: float) -> dict[str, Any]:
    """The access line's fields for a request whose response had ``status``."""
    principal = environ.get(PRINCIPAL)
    client = environ.get(CLIENT) or getattr(principal, "client", None)
    path = environ.get("PATH_INFO", "") or "/"
    query = environ.get("QUERY_STRING", "")
    if query.lower() in ("wsdl", "wsdl="):
        path += "?wsdl"
    code = status.split(" ", 1)[0]
    fault_code = environ.get(FAULT_CODE)
    return {
        "method": str(environ.get("REQUEST_METHOD", "-"))[:16],
        "path": path[:_MAX_PATH],
        "status": int(code) if code.isdigit() else None,
        "operation": environ.get(OPERATION),
        "outcome": None if fault_code else environ.get(OUTCOME),
        "fault_code": fault_code,
        "error_code": environ.get(ERROR_CODE),
        "client": client,
        "address": environ.get(ADDRESS) or environ.get("REMOTE_ADDR"),
        "duration_ms": round(duration_ms, 2),
    }


class _Logged:
    """The response body, which writes the access line when the server closes it."""

    def __init__(self, body: Iterable[bytes], on_close: Callable[[], None]) -> None:
        self._body = body
        self._on_close = on_close
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._on_close()
