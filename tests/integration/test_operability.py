"""/healthz, /readyz, /metrics and the service page of the whole application, in process, over a
real SQLite file and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from soap_orders import __version__
from soap_orders.adapters import migrate
from soap_orders.bootstrap import Dependencies, build_dependencies, create_wsgi_app
from tests.server import settings_for_tests


def call(app: Any, path: str, *, method: str = "GET", address: str = "127.0.0.1",
         headers: dict[str, str] | None = None) -> tuple[str, dict[str, str], bytes]:
    seen: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen["status"], seen["headers"] = status, dict(response_headers)

    environ = {"PATH_INFO": path, "REQUEST_METHOD": method, "QUERY_STRING": "", "REMOTE_ADDR": address,
               **(headers or {})}
    body = app(environ, start_response)
    try:
        data = b"".join(body)
    finally:
        body.close()
    return seen["status"], seen["headers"], data


@pytest.fixture
def app(deps: Dependencies) -> Any:
    return create_wsgi_app(deps.settings, dependencies=deps)


def test_healthz_answers_the_version(app: Any):
    status, headers, body = call(app, "/healthz")
    assert status == "200 OK" and json.loads(body) == {"status": "ok", "version": __version__}
    status, headers, body = call(app, "/healthz", method="HEAD")
    assert status == "200 OK" and body == b"" and int(headers["Content-Length"]) > 0


def test_readyz_is_ready_only_at_the_newest_migration(app: Any, deps: Dependencies):
    status, _, body = call(app, "/readyz")
    assert status == "200 OK"
    assert json.loads(body) == {"status": "ok", "database": "ok", "migrations": "at head",
                                "revision": migrate.head_revision()}
    migrate.downgrade(deps.engine, "-1")
    status, _, body = call(app, "/readyz")
    answer = json.loads(body)
    assert status == "503 Service Unavailable" and answer["migrations"] == "not at head"
    assert answer["revision"] != answer["head"] == migrate.head_revision()
    migrate.upgrade(deps.engine)
    assert call(app, "/readyz")[0] == "200 OK"


def test_readyz_is_503_when_the_database_is_unreachable():
    deps = build_dependencies(settings_for_tests("postgresql://postgres@127.0.0.1:1/none?connect_timeout=2"))
    try:
        app = create_wsgi_app(deps.settings, dependencies=deps)
        status, _, body = call(app, "/readyz")
        assert status == "503 Service Unavailable"
        assert json.loads(body) == {"status": "unavailable", "database": "unreachable"}
        assert call(app, "/healthz")[0] == "200 OK"  # liveness never asks the database
    finally:
        deps.engine.dispose()


def test_metrics_follow_the_pool_and_the_requests(app: Any, deps: Dependencies):
    metrics = app.app.operability.metrics
    gauge = metrics.pool_checked_out
    before = gauge._value.get()
    with deps.engine.connect():
        assert gauge._value.get() == before + 1
    assert gauge._value.get() == before
    call(app, "/json/GetOrder", method="GET")
    status, headers, body = call(app, "/metrics")
    assert status == "200 OK" and headers["Content-Type"].startswith("text/plain; version=")
    text = body.decode()
    assert ('soap_orders_requests_total{endpoint="json",error_code="METHOD_NOT_ALLOWED",fault_code="",'
            'operation="GetOrder",outcome="",status="405"} 1.0') in text
    assert 'soap_orders_outbox_events{state="PENDING"} 0.0' in text
    assert "soap_orders_database_up 1.0" in text


@pytest.fixture
def restricted(database_url: str) -> Iterator[Any]:
    deps = build_dependencies(settings_for_tests(database_url, metrics_allowlist=("10.0.0.0/8",), wsdl_public=False,
                                                 allowlist=("10.0.0.0/8", "127.0.0.1/32")))
    yield create_wsgi_app(deps.settings, dependencies=deps)
    deps.engine.dispose()


def test_metrics_allowlist_refuses_other_addresses(restricted: Any):
    status, _, body = call(restricted, "/metrics", address="127.0.0.1")
    assert status == "403 Forbidden" and b"soap_orders_" not in body
    assert call(restricted, "/metrics", address="10.1.2.3")[0] == "200 OK"


def test_without_a_metrics_allowlist_the_global_one_applies(database_url: str):
    deps = build_dependencies(settings_for_tests(database_url, allowlist=("10.0.0.0/8",)))
    try:
        app = create_wsgi_app(deps.settings, dependencies=deps)
        assert call(app, "/metrics", address="192.0.2.1")[0] == "403 Forbidden"
        assert call(app, "/metrics", address="10.0.0.7")[0] == "200 OK"
        assert call(app, "/healthz", address="192.0.2.1")[0] == "200 OK"  # probes are exempt
    finally:
        deps.engine.dispose()


def test_the_service_page_is_public_unless_the_wsdl_is_private(app: Any, restricted: Any):
    status, headers, body = call(app, "/")
    assert status == "200 OK" and headers["Content-Type"] == "text/html; charset=utf-8"
    assert b'id="op-GetOrder"' in body and b"<script" not in body
    status, headers, body = call(app, "/", method="HEAD")
    assert status == "200 OK" and body == b""
    status, headers, _ = call(restricted, "/")
    assert status == "401 Unauthorized" and "WWW-Authenticate" in headers
