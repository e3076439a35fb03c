"""``GET /health``: the process answers and the database is reachable."""

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
