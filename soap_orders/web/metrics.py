"""Prometheus metrics, served at ``GET /metrics``.

Request metrics are recorded in one place: :class:`~soap_orders.http.access_log.AccessLog` hands
every finished request (what the endpoint noted in the environ, its status and duration) to
:meth:`Metrics.observe`. The database pool gauge follows the engine's checkouts and checkins (bootstrap connects it);
the outbox gauges are read from the database when scraped.

Under gunicorn the workers are separate processes, so the values live in files in the directory
named by ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode): the gunicorn
settings create a fresh one per server start and mark dead workers (``soap_orders.gunicorn_conf``).
A scrape, answered by whichever worker gets it, adds up the files of all workers.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from ..domain.error_kinds import AUTHENTICATION_FAILED
from ..domain.notifications import FlowEventType
from ..http.access_log import ERROR_CODE, FAULT_CODE, OPERATION, OUTCOME
from ..service.notifications import OUTBOX_STATES
from ..service.ports import OutboxStats

log = logging.getLogger("soap_orders.metrics")

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
#: Where the Authenticator's reason for a refused credential is noted (``note(auth_failure=...)``).
AUTH_FAILURE = "soap_orders.auth_failure"
#: Latency buckets in seconds: SOAP calls take milliseconds; the last ones catch stalls.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: Reason given for an authentication refusal the Authenticator never saw: no credentials at all,
#: or an Authorization header that could not be read.
NO_CREDENTIALS = "missing_or_unreadable_credentials"

_REASON = re.compile(r"[^a-z0-9]+")
_STATUS = re.compile(r"[1-5][0-9][0-9]")


def endpoint_of(environ: dict[str, Any], soap_path: str) -> str:
    """The route a request took, from a fixed set (a label value never copied from the request)."""
    path = (environ.get("PATH_INFO", "") or "/").rstrip("/") or "/"
    if path == soap_path.rstrip("/"):
        query = environ.get("QUERY_STRING", "").lower()
        method = environ.get("REQUEST_METHOD", "GET").upper()
        return "wsdl" if method in ("GET", "HEAD") and query in ("wsdl", "wsdl=") else "soap"
    if path.startswith("/json/"):
        return "json"
    return _ENDPOINTS.get(path, "other")


_ENDPOINTS = {
    "/": "page",
    "/openapi.json": "openapi",
    "/oauth/token": "oauth",
    "/health": "health",
    "/healthz": "healthz",
    "/readyz": "readyz",
    "/metrics": "metrics",
}


def reason_label(reason: str) -> str:
    """``wrong secret`` -> ``wrong_secret``: the Authenticator's reasons are fixed phrases."""
    return _REASON.sub("_", reason.lower()).strip("_")[:48] or "unknown"


class Metrics:
    """The service's metrics for one process (one per worker, built with the application)."""

    def __init__(self, soap_path: str, *, outbox: Callable[[], OutboxStats] | None = None,
                 now: Callable[[], datetime] | None = None, multiprocess_dir: str | None = None) -> None:
        self.soap_path = soap_path
        self.multiprocess_dir = multiprocess_dir if multiprocess_dir is not None else os.environ.get(MULTIPROCESS_DIR)
        #: This process's metrics; in multiprocess mode their values are also written to files.
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "soap_orders_requests", "Requests answered, by route, operation, outcome or fault, and HTTP status.",
            ("endpoint", "operation", "outcome", "fault_code", "error_code", "status"), registry=self.registry)
        self.duration = Histogram(
            "soap_orders_request_duration_seconds", "Time from receiving a request to sending its answer.",
            ("endpoint", "operation"), buckets=BUCKETS, registry=self.registry)
        self.auth_failures = Counter(
            "soap_orders_auth_failures", "Refused credentials, by reason.", ("reason",), registry=self.registry)
        self.pool_checked_out = Gauge(
            "soap_orders_db_pool_checked_out", "Database connections in use (checked out of the pool).",
            registry=self.registry, multiprocess_mode="livesum")
        self._scraped: list[Collector] = [OutboxCollector(outbox, now)] if outbox is not None else []
        if not self.multiprocess_dir:
            for collector in self._scraped:
                self.registry.register(collector)

    # ------------------------------------------------------------------ recording

    def observe(self, environ: dict[str, Any], status: str, seconds: float) -> None:
        """Record one finished request (called by the access log)."""
        endpoint = endpoint_of(environ, self.soap_path)
        operation = environ.get(OPERATION) or ""
        fault_code = environ.get(FAULT_CODE) or ""
        error_code = environ.get(ERROR_CODE) or ""
        outcome = "" if fault_code or error_code else environ.get(OUTCOME) or ""
        code = status.split(" ", 1)[0]
        code = code if _STATUS.fullmatch(code) else "other"
        self.requests.labels(endpoint, operation, outcome, fault_code, error_code, code).inc()
        self.duration.labels(endpoint, operation).observe(max(seconds, 0.0))
        reason = environ.get(AUTH_FAILURE)
        refused = fault_code == AUTHENTICATION_FAILED.fault or error_code == AUTHENTICATION_FAILED.code or (
            endpoint == "oauth" and code == "401")
        if reason or refused:
            self.auth_failures.labels(reason_label(reason) if reason else NO_CREDENTIALS).inc()

    # ------------------------------------------------------------------ scraping

    def exposition(self) -> bytes:
        """The text exposition format: every worker's values (multiprocess mode) and the outbox."""
        if not self.multiprocess_dir:
            return generate_latest(self.registry)
        registry = CollectorRegistry(auto_describe=True)
        MultiProcessCollector(registry, path=self.multiprocess_dir)
        for collector in self._scraped:
            registry.register(collector)
        return generate_latest(registry)

    content_type = CONTENT_TYPE_LATEST


class OutboxCollector(Collector):
    """The notification outbox, read when scraped: events per state, the oldest pending age, events
    held for want of a flow id, running relays and the time since the last delivery. All of it
    comes from the database, so every instance reports the same whichever relays run where."""

    def __init__(self, stats: Callable[[], OutboxStats], now: Callable[[], datetime] | None) -> None:
        self.stats = stats
        self.now = now or (lambda: datetime.now().astimezone())

    def describe(self) -> list[Any]:
        return []  # read at scrape time only: nothing to check at registration

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("soap_orders_database_up", "1 when the database answered the scrape's queries.")
        try:
            stats = self.stats()
        except Exception as error:  # the scrape still answers, saying the database did not
            log.warning("metrics: the outbox could not be read (%s)", type(error).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        now = self.now()
        events = GaugeMetricFamily("soap_orders_outbox_events", "Notification outbox events, by state.",
                                   labels=("state",))
        for state in OUTBOX_STATES:
            events.add_metric([state], stats.counts.get(state, 0))
        yield events
        oldest = stats.oldest_pending
        age = 0.0 if oldest is None else max((now - oldest).total_seconds(), 0.0)
        yield GaugeMetricFamily("soap_orders_outbox_oldest_pending_age_seconds",
                                "Age of the oldest PENDING outbox event (0 when none is pending).", value=age)
        held = GaugeMetricFamily(
            "soap_orders_outbox_held_events",
            "PENDING outbox events of a type no running relay has a flow id for (nor skips), by type.",
            labels=("event_type",))
        counts = {p.event_type: p.count for p in stats.held()}
        for kind in FlowEventType:
            held.add_metric([kind.value], counts.get(kind.value, 0))
        yield held
        yield GaugeMetricFamily("soap_orders_outbox_relays", "Relays running (registered in the database and "
                                "heard from within the time each promised).", value=len(stats.relays))
        last = stats.last_delivery
        yield GaugeMetricFamily(
            "soap_orders_outbox_last_delivery_age_seconds",
            "Seconds since a relay last had an event accepted (+Inf when none ever was).",
            value=math.inf if last is None else max((now - last).total_seconds(), 0.0))
