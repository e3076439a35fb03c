"""Request metrics are derived from what the access log sees; auth failures by reason; the outbox
is read when scraped."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from prometheus_client.parser import text_string_to_metric_families

from soap_orders.service.ports import OutboxStats, PendingEvents, RelayRecord
from soap_orders.web.metrics import NO_CREDENTIALS, Metrics, endpoint_of, reason_label

NOW = datetime(2026, 3, 1, 10, 0, tzinfo=timezone.utc)


def samples(metrics: Metrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found = {}
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return samples(metrics).get((name, frozenset(labels.items())))


def environ(path: str, method: str = "POST", query: str = "", **noted: str) -> dict[str, str]:
    return {"PATH_INFO": path, "REQUEST_METHOD": method, "QUERY_STRING": query,
            **{f"soap_orders.{key}": v for key, v in noted.items()}}


def test_routes_are_named_from_a_fixed_set():
    assert endpoint_of(environ("/soap"), "/soap") == "soap"
    assert endpoint_of(environ("/soap", "GET", "wsdl"), "/soap") == "wsdl"
    assert endpoint_of(environ("/api/soap", "POST"), "/api/soap") == "soap"
    assert endpoint_of(environ("/json/GetOrder"), "/soap") == "json"
    assert endpoint_of(environ("/", "GET"), "/soap") == "page"
    assert endpoint_of(environ("/metrics", "GET"), "/soap") == "metrics"
    assert endpoint_of(environ("/<script>", "GET"), "/soap") == "other"


def test_requests_are_counted_by_operation_and_outcome_or_fault():
    metrics = Metrics("/soap", multiprocess_dir="")
    for _ in range(3):
        metrics.observe(environ("/soap", operation="CancelOrder", outcome="CANCELLED"), "200 OK", 0.02)
    metrics.observe(environ("/soap", operation="GetOrder", fault_code="Client.OrderNotFound",
                            error_code="ORDER_NOT_FOUND", outcome="OK"), "500 Internal Server Error", 0.01)
    metrics.observe(environ("/json/GetOrder", operation="GetOrder", error_code="ORDER_NOT_FOUND"), "404 Not Found", 0.01)
    base = {"endpoint": "soap", "fault_code": "", "error_code": ""}
    assert value(metrics, "soap_orders_requests_total", **base, operation="CancelOrder", outcome="CANCELLED",
                 status="200") == 3
    assert value(metrics, "soap_orders_requests_total", endpoint="soap", operation="GetOrder", outcome="",
                 fault_code="Client.OrderNotFound", error_code="ORDER_NOT_FOUND", status="500") == 1
    assert value(metrics, "soap_orders_requests_total", endpoint="json", operation="GetOrder", outcome="",
                 fault_code="", error_code="ORDER_NOT_FOUND", status="404") == 1
    assert value(metrics, "soap_orders_request_duration_seconds_count", endpoint="soap", operation="CancelOrder") == 3
    assert value(metrics, "soap_orders_request_duration_seconds_bucket", endpoint="soap", operation="CancelOrder",
                 le="0.025") == 3
    assert value(metrics, "soap_orders_request_duration_seconds_bucket", endpoint="soap", operation="CancelOrder",
                 le="0.01") == 0


def test_auth_failures_are_counted_by_the_authenticators_reason():
    metrics = Metrics("/soap", multiprocess_dir="")
    metrics.observe(environ("/soap", auth_failure="wrong secret", fault_code="Client.AuthenticationFailed"),
                    "500 Internal Server Error", 0.1)
    metrics.observe(environ("/json/GetOrder", auth_failure="unknown client", error_code="AUTHENTICATION_FAILED"),
                    "401 Unauthorized", 0.1)
    # No credentials at all: the Authenticator never saw the call.
    metrics.observe(environ("/soap", fault_code="Client.AuthenticationFailed"), "401 Unauthorized", 0.1)
    metrics.observe(environ("/oauth/token"), "401 Unauthorized", 0.1)
    metrics.observe(environ("/soap", operation="GetOrder", outcome="OK"), "200 OK", 0.1)
    assert value(metrics, "soap_orders_auth_failures_total", reason="wrong_secret") == 1
    assert value(metrics, "soap_orders_auth_failures_total", reason="unknown_client") == 1
    assert value(metrics, "soap_orders_auth_failures_total", reason=NO_CREDENTIALS) == 2
    assert reason_label("unknown or expired access token") == "unknown_or_expired_access_token"


def test_the_outbox_is_read_when_scraped():
    stats = OutboxStats({"PENDING": 4, "SENT": 7}, NOW - timedelta(minutes=5))
    reads = []

    def read() -> OutboxStats:
        reads.append(1)
        return stats

    metrics = Metrics("/soap", outbox=read, now=lambda: NOW, multiprocess_dir="")
    assert value(metrics, "soap_orders_outbox_events", state="PENDING") == 4
    assert value(metrics, "soap_orders_outbox_events", state="DEAD") == 0
    assert value(metrics, "soap_orders_outbox_oldest_pending_age_seconds") == 300
    assert value(metrics, "soap_orders_database_up") == 1
    assert len(reads) == 4  # one read per scrape
    stats = OutboxStats({"SENT": 1}, None)
    assert value(metrics, "soap_orders_outbox_oldest_pending_age_seconds") == 0


def test_held_events_relays_and_the_last_delivery_are_gauges():
    relay = RelayRecord("r" * 32, "host-a", 7, NOW - timedelta(hours=2), NOW, NOW + timedelta(minutes=1),
                        ("shipment_delayed",), ("return_updated",), NOW - timedelta(seconds=90))
    stats = OutboxStats({"PENDING": 6, "SKIPPED": 2}, NOW - timedelta(minutes=5), (
        PendingEvents("delivered", 4, NOW - timedelta(minutes=5)),
        PendingEvents("shipment_delayed", 2, NOW - timedelta(minutes=1))), NOW - timedelta(seconds=90), (relay,))
    metrics = Metrics("/soap", outbox=lambda: stats, now=lambda: NOW, multiprocess_dir="")

    assert value(metrics, "soap_orders_outbox_events", state="SKIPPED") == 2
    assert value(metrics, "soap_orders_outbox_held_events", event_type="delivered") == 4
    for sent_or_skipped in ("shipment_delayed", "return_updated", "item_out_of_stock"):
        assert value(metrics, "soap_orders_outbox_held_events", event_type=sent_or_skipped) == 0
    assert value(metrics, "soap_orders_outbox_relays") == 1
    assert value(metrics, "soap_orders_outbox_last_delivery_age_seconds") == 90

    stats = OutboxStats({"PENDING": 4}, NOW, (PendingEvents("delivered", 4, NOW),))
    assert value(metrics, "soap_orders_outbox_held_events", event_type="delivered") == 4  # no relay runs
    assert value(metrics, "soap_orders_outbox_relays") == 0
    assert value(metrics, "soap_orders_outbox_last_delivery_age_seconds") == math.inf  # never delivered


def test_a_scrape_answers_when_the_database_does_not():
    def fail() -> OutboxStats:
        raise ConnectionError("down")

    metrics = Metrics("/soap", outbox=fail, now=lambda: NOW, multiprocess_dir="")
    assert value(metrics, "soap_orders_database_up") == 0
    assert value(metrics, "soap_orders_outbox_events", state="PENDING") is None
