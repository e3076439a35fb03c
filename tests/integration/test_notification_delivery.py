"""Notifications end to end, deployed the way README says: a gunicorn server and `soap-orders
import` that know no flow id, a `soap-orders relay` process that has them, a fake Flow Execution API
on 127.0.0.1; on a SQLite file and on PostgreSQL. What the operator sees is checked where the
operator looks: `soap-orders outbox status`, GET /metrics and the server's log at start."""

from __future__ import annotations

import copy
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests

from soap_orders.bootstrap import Dependencies, warn_about_notifications
from soap_orders.config import DG_EVENT_TYPES
from soap_orders.service.ports import OutboxEntry, OutboxMessage
from tests.contract.clients import make_client
from tests.flow_server import FlowServer
from tests.integration.outbox_helpers import (
    FLOWS,
    PATIENCE,
    RelayProcess,
    dg_environment,
    dg_settings,
    entries,
    wait_until,
    wired,
)
from tests.records import order_record, shipped, store, unique
from tests.server import ROOT, Server, settings_for_tests

pytestmark = pytest.mark.slow

#: What the server and the importer are given of the relay's settings: nothing.
NO_DG = {f"SOAP_ORDERS_DG_{name}": "" for name in (
    *(f"FLOW_{kind}" for kind in DG_EVENT_TYPES), "SKIP", "REGION", "BASE_URL", "API_KEY", "API_SECRET")}


@pytest.fixture
def flow() -> Iterator[FlowServer]:
    with FlowServer() as server:
        yield server


@pytest.fixture
def running() -> Iterator[list[Server | RelayProcess]]:
    """Servers and relays a test starts, stopped when it ends."""
    started: list[Server | RelayProcess] = []
    yield started
    for process in reversed(started):
        process.stop()


@pytest.fixture
def deps(database_url: str, flow: FlowServer) -> Iterator[Dependencies]:
    """For arranging orders and reading the outbox directly."""
    wiring = wired(database_url, dg_settings(flow.base_url))
    yield wiring
    wiring.engine.dispose()


def soap_orders(database_url: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The `soap-orders` command in a process of its own, without the relay's settings unless given."""
    return subprocess.run(
        [sys.executable, "-c", "from soap_orders.cli import main; main()", *args],
        env={**os.environ, "SOAP_ORDERS_DATABASE_URL": database_url, "SOAP_ORDERS_LOG_LEVEL": "WARNING",
             **NO_DG, **(env or {})},
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )


def status_of(database_url: str, **env: str) -> str:
    result = soap_orders(database_url, "outbox", "status", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def relay(database_url: str, flow: FlowServer, log: Path, **dg: Any) -> RelayProcess:
    process = RelayProcess(dg_environment(database_url, dg_settings(flow.base_url, **dg)), log)
    process.wait_until_running()
    return process


def items(*pairs: tuple[str, int]) -> dict[str, Any]:
    return {"Item": [{"Sku": sku, "Quantity": quantity} for sku, quantity in pairs]}


def metric(server: Server, name: str, **labels: str) -> float | None:
    text = requests.get(f"{server.base_url}/metrics", timeout=10).text
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    for line in text.splitlines():
        key, _, value = line.rpartition(" ")
        if key == (f"{name}{{{wanted}}}" if labels else name):
            return float(value)
    return None


def pending(deps: Dependencies, kind: str) -> Callable[[], list[OutboxEntry]]:
    return lambda: [e for e in entries(deps) if e.event_type == kind and e.state == "PENDING"]


def test_a_delayed_parcel_recorded_while_the_server_has_no_flow_ids_reaches_the_flow_once_the_relay_runs(
    database_url: str, deps: Dependencies, flow: FlowServer, running: list[Any], tmp_path: Path
) -> None:
    server = Server(database_url, tmp_path / "server.log", workers=1, extra_env=NO_DG)
    running.append(server)
    by_soap, by_import = store(deps, order_record(), shipped(order_record()))

    # RecordShipment over the real server: a parcel leaves, then is DELAYED.
    soap = make_client(server, "basic")
    for status in ("IN_TRANSIT", "DELAYED"):
        answer = soap.service.RecordShipment(OrderNumber=by_soap, RequestId=unique("rs"), Shipment={
            "ShipmentId": "SH-DELAYED", "Status": status, "ExpectedDeliveryDate": "2026-03-09",
            "Items": items(("MUG-RED", 2), ("TEA-001", 1))})
        assert answer.Outcome == "SHIPMENT_RECORDED", answer
    # The ERP's import: the other order's parcel DELAYED.
    record = copy.deepcopy(shipped(order_record(by_import)))
    record["Shipments"][0].update(Status="DELAYED", ExpectedDeliveryDate="2026-03-09")
    (tmp_path / "orders.jsonl").write_text(json.dumps(record) + "\n")
    imported = soap_orders(database_url, "import", str(tmp_path / "orders.jsonl"))
    assert imported.returncode == 0, imported.stdout + imported.stderr

    queued = entries(deps)
    assert [(e.order_number, e.event_type, e.state) for e in queued] == [
        (by_soap, "shipment_delayed", "PENDING"), (by_import, "shipment_delayed", "PENDING")]
    assert "relays running: none" in status_of(database_url)

    running.append(relay(database_url, flow, tmp_path / "relay.log"))

    assert flow.wait_for(2, timeout=PATIENCE), running[-1].log()
    wait_until(lambda: [e.state for e in entries(deps)] == ["SENT", "SENT"], PATIENCE, "both events to be marked SENT")
    assert [(b["action_id"], b["external_id"], b["inputs"]["shipment_data"]["order_id"]) for b in flow.bodies()] == [
        (FLOWS["flow_shipment_delayed"], e.external_id, e.order_number) for e in queued]
    assert [b["inputs"]["status"] for b in flow.bodies()] == ["DELAYED", "DELAYED"]
    assert status_of(database_url).splitlines()[:2] == ["pending 0", "sent    2"]


def test_a_type_without_a_flow_id_shows_in_outbox_status_and_metrics_and_is_delivered_once_configured(
    database_url: str, deps: Dependencies, flow: FlowServer, running: list[Any], tmp_path: Path
) -> None:
    server = Server(database_url, tmp_path / "server.log", workers=2, extra_env=NO_DG)
    running.append(server)
    first = relay(database_url, flow, tmp_path / "relay-1.log", flow_delivered=None)
    running.append(first)
    wait_until(lambda: metric(server, "soap_orders_outbox_relays") == 1, PATIENCE, "the relay to be seen by the server")
    [number] = store(deps, order_record())

    soap = make_client(server, "basic")
    answer = soap.service.RecordShipment(OrderNumber=number, RequestId=unique("rs"), Shipment={
        "ShipmentId": "SH-1", "Status": "DELIVERED", "DeliveredAt": "2026-03-06T15:20:00Z",
        "Items": items(("MUG-RED", 2), ("TEA-001", 1))})
    assert answer.Outcome == "SHIPMENT_RECORDED", answer
    [held] = pending(deps, "delivered")()

    status = status_of(database_url, SOAP_ORDERS_OUTBOX_WARN_AFTER="0")
    assert "  delivered         1 (held: no running relay has its flow id;" in status, status
    assert "sends item_out_of_stock, return_updated, shipment_delayed;" in status
    assert "warning: 1 delivered notification(s) are held" in status
    assert metric(server, "soap_orders_outbox_held_events", event_type="delivered") == 1
    assert metric(server, "soap_orders_outbox_held_events", event_type="shipment_delayed") == 0
    assert metric(server, "soap_orders_outbox_events", state="PENDING") == 1
    assert flow.received == []  # the running relay does not send what it has no flow for

    assert first.terminate() == 0
    wait_until(lambda: metric(server, "soap_orders_outbox_relays") == 0, PATIENCE, "the stopped relay to be counted out")
    assert metric(server, "soap_orders_outbox_held_events", event_type="delivered") == 1
    assert metric(server, "soap_orders_outbox_last_delivery_age_seconds") == float("inf")

    running.append(relay(database_url, flow, tmp_path / "relay-2.log", flow_delivered="flow-delivered-2"))

    assert flow.wait_for(1, timeout=PATIENCE)
    [body] = flow.bodies()
    assert (body["action_id"], body["external_id"]) == ("flow-delivered-2", held.external_id)
    wait_until(lambda: not pending(deps, "delivered")(), PATIENCE, "the event to be marked SENT")
    assert metric(server, "soap_orders_outbox_held_events", event_type="delivered") == 0
    age = metric(server, "soap_orders_outbox_last_delivery_age_seconds")
    assert age is not None and 0 <= age < 120
    status = status_of(database_url, SOAP_ORDERS_OUTBOX_WARN_AFTER="0")
    assert "warning" not in status and "sends delivered, item_out_of_stock, return_updated, shipment_delayed;" in status


def test_the_server_warns_at_start_when_notifications_wait_and_no_relay_delivers(
    database_url: str, deps: Dependencies, flow: FlowServer, running: list[Any], tmp_path: Path
) -> None:
    an_hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    with deps.uow() as uow:
        uow.outbox.add([OutboxMessage("SO-WAITING", "shipment_delayed", "shipment_delayed-waiting",
                                      {"external_id": "shipment_delayed-waiting", "inputs": {}}, an_hour_ago)])
        uow.commit()

    quiet = Server(database_url, tmp_path / "quiet.log", workers=1, client_name="quiet",
                   extra_env={**NO_DG, "SOAP_ORDERS_OUTBOX_WARN_AFTER": "7200"})
    quiet.stop()  # an hour is within what this operator allows: no warning
    assert "notifications:" not in quiet.log_path.read_text()

    server = Server(database_url, tmp_path / "server.log", workers=1, extra_env=NO_DG)
    running.append(server)
    assert ("notifications: 1 notification(s) are waiting, the oldest for 60 min, and no relay is running "
            "(last delivery: never). Run `soap-orders relay`") in server.log()
    assert metric(server, "soap_orders_outbox_relays") == 0
    assert metric(server, "soap_orders_outbox_last_delivery_age_seconds") == float("inf")
    age = metric(server, "soap_orders_outbox_oldest_pending_age_seconds")
    assert age is not None and 3600 <= age < 3600 + 600

    # A relay that has the flow runs, and the server starts again: nothing to warn about.
    running.append(relay(database_url, flow, tmp_path / "relay.log"))
    wait_until(lambda: not pending(deps, "shipment_delayed")(), PATIENCE, "the waiting event to be delivered")
    again = Server(database_url, tmp_path / "again.log", workers=1, client_name="again", extra_env=NO_DG)
    running.append(again)
    assert "notifications:" not in again.log()
    assert metric(again, "soap_orders_outbox_relays") == 1


def test_a_database_that_cannot_be_checked_does_not_stop_the_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = logging.getLogger("test.start")
    for url in ("postgresql://postgres@127.0.0.1:1/nothing_listens", f"sqlite:///{tmp_path / 'not-migrated.sqlite3'}"):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="test.start"):
            assert warn_about_notifications(settings_for_tests(url), log) == []
        assert [r.getMessage() for r in caplog.records] == [
            "notifications: the outbox could not be checked at start (OperationalError)"]
