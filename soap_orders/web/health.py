"""``GET /health`` (the database is reachable), ``GET /healthz`` (the process answers) and
``GET /readyz`` (the database is reachable and its schema is current)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable

log = logging.getLogger("soap_orders.web")


def health(respond: Callable[..., object], check: Callable[[], bool], *, head: bool = False) -> Iterable[bytes]:
    """200 and ``{"status": "ok"}`` when the database answers, 503 otherwise; no body for HEAD."""
    try:
        healthy = check()
    except Exception:
        log.exception("health check failed")
        healthy = False
    body = json.dumps({"status": "ok" if healthy else "unavailable"}).encode()
    respond("200 OK" if healthy else "503 Service Unavailable",
            [("Content-Type", "application/json"), ("Content-Length", str(len(body))), ("Cache-Control", "no-store")])
    return [b""] if head else [body]


def healthz(respond: Callable[..., object], version: str, *, head: bool = False) -> Iterable[bytes]:
    """``GET /healthz``: liveness. The process answers; the database is not asked."""
    return _json(respond, "200 OK", {"status": "ok", "version": version}, head)


def readyz(respond: Callable[..., object], check: Callable[[], dict[str, object]], *,
           head: bool = False) -> Iterable[bytes]:
    """``GET /readyz``: 200 when ``check`` says ready (the database answers and its schema is at
    the newest migration), 503 with what is missing otherwise."""
    try:
        result = check()
    except Exception:
        log.exception("readiness check failed")
        result = {"status": "unavailable", "database": "error"}
    ready = result.get("status") == "ok"
    return _json(respond, "200 OK" if ready else "503 Service Unavailable", result, head)


def _json(respond: Callable[..., object], status: str, document: dict[str, object], head: bool) -> list[bytes]:
    body = json.dumps(document).encode()
    respond(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                     ("Cache-Control", "no-store")])
    return [b""] if head else [body]
