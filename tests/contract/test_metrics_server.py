"""/metrics of a real two-worker gunicorn: prometheus-client's multiprocess mode adds up what each
worker recorded; auth failures by reason; outbox gauges; a fresh metrics directory per start."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from soap_orders import __version__
from soap_orders.bootstrap import build_dependencies
from soap_orders.service.ports import OutboxMessage
from tests.conftest import _migrated
from tests.server import Server, settings_for_tests

pytestmark = pytest.mark.slow

FIND = ('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:ord="urn:soap-orders:orders:v1"><soapenv:Body><ord:FindOrdersByEmail>'
        '<ord:Email>nobody@example.com</ord:Email></ord:FindOrdersByEmail></soapenv:Body></soapenv:Envelope>')


@pytest.fixture(scope="module")
def metrics_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("prometheus")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, metrics_dir: Path) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("metrics-server")
    url = _migrated(f"sqlite:///{directory / 'orders.sqlite3'}")
    (metrics_dir / "counter_999999.db").write_bytes(b"left over from an earlier start")
    running = Server(url, directory / "gunicorn.log", workers=2,
                     extra_env={"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)})
    yield running
    running.stop()


def scrape(server: Server) -> str:
    response = requests.get(f"{server.base_url}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    return response.text


def sample(text: str, name: str, **labels: str) -> float | None:
    for line in text.splitlines():
        match = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if found == labels:
            return float(match.group(3))
    return None


def settled(server: Server, done: Callable[[str], bool], timeout: float = 10.0) -> str:
    """A scrape once ``done`` holds for it. A request is counted when its answer has been sent
    (beside the access log line), so the last calls may be recorded a moment after the client
    has read their answers; wait for that, a bounded time."""
    deadline = time.monotonic() + timeout
    text = scrape(server)
    while not done(text) and time.monotonic() < deadline:
        time.sleep(0.1)
        text = scrape(server)
    return text


def worker_pids(metrics_dir: Path) -> set[str]:
    return {path.stem.rsplit("_", 1)[1] for path in metrics_dir.glob("counter_*.db")}


def test_healthz_names_the_version(server: Server):
    response = requests.get(f"{server.base_url}/healthz", timeout=10)
    assert response.status_code == 200 and response.json() == {"status": "ok", "version": __version__}
    assert requests.get(f"{server.base_url}/readyz", timeout=10).json()["status"] == "ok"


def test_counters_add_up_across_both_workers(server: Server, metrics_dir: Path):
    assert not (metrics_dir / "counter_999999.db").exists()  # emptied when the server started
    calls = 0
    # Each call on a new connection; whichever worker accepts it serves it. Both soon have.
    while calls < 20 or (len(worker_pids(metrics_dir)) < 2 and calls < 400):
        response = server.post(FIND)
        assert response.status_code == 200, response.text
        calls += 1
    assert len(worker_pids(metrics_dir)) == 2, "the calls were all served by one worker"
    labels = {"endpoint": "soap", "operation": "FindOrdersByEmail", "fault_code": "", "error_code": ""}
    text = settled(server, lambda text: (sample(text, "soap_orders_requests_total", **labels, outcome="OK",
                                                status="200") or 0) >= calls)
    assert sample(text, "soap_orders_requests_total", **labels, outcome="OK", status="200") == calls
    assert sample(text, "soap_orders_request_duration_seconds_count", endpoint="soap",
                  operation="FindOrdersByEmail") == calls
    assert sample(text, "soap_orders_request_duration_seconds_bucket", endpoint="soap",
                  operation="FindOrdersByEmail", le="+Inf") == calls
    # Every connection was given back to its pool once the calls were answered.
    assert sample(text, "soap_orders_db_pool_checked_out") == 0


def test_auth_failures_by_reason(server: Server):
    before = scrape(server)

    def count(text: str, reason: str) -> float:
        return sample(text, "soap_orders_auth_failures_total", reason=reason) or 0.0

    name, _ = server.credentials
    for _ in range(3):
        assert server.post(FIND, auth=(name, "Wrong-Secret-1")).status_code == 500
    assert server.post(FIND, auth=("no-such-client", "whatever")).status_code == 500
    assert server.post(FIND, auth=None).status_code == 401
    assert requests.post(f"{server.base_url}/json/GetOrder", json={"OrderNumber": "SO-1"},
                         headers={"Authorization": "Bearer not-a-token"}, timeout=10).status_code == 401
    expected = {"wrong_secret": 3, "unknown_client": 1, "unknown_or_expired_access_token": 1,
                "missing_or_unreadable_credentials": 1}

    def deltas(text: str) -> dict[str, float]:
        return {reason: count(text, reason) - count(before, reason) for reason in expected}

    after = settled(server, lambda text: all(deltas(text)[r] >= n for r, n in expected.items()))
    assert deltas(after) == expected
    fault = {"endpoint": "soap", "operation": "", "outcome": "", "fault_code": "Client.AuthenticationFailed",
             "error_code": "AUTHENTICATION_FAILED"}
    assert (sample(after, "soap_orders_requests_total", **fault, status="500") or 0) - (
        sample(before, "soap_orders_requests_total", **fault, status="500") or 0) == 4


def test_outbox_depth_and_oldest_pending_age(server: Server):
    deps = build_dependencies(settings_for_tests(server.database_url))
    queued = datetime.now(timezone.utc) - timedelta(hours=1)
    try:
        with deps.uow() as uow:
            uow.outbox.add([OutboxMessage(f"SO-{n}", "DELIVERED", f"metrics-test-{n}", {"n": n}, queued)
                            for n in range(3)])
            uow.commit()
    finally:
        deps.engine.dispose()
    text = scrape(server)
    assert sample(text, "soap_orders_outbox_events", state="PENDING") == 3
    assert sample(text, "soap_orders_outbox_events", state="DEAD") == 0
    age = sample(text, "soap_orders_outbox_oldest_pending_age_seconds")
    assert age is not None and 3600 <= age < 3600 + 600
    assert sample(text, "soap_orders_database_up") == 1
