"""The outbox and the relay over real HTTP to a fake Flow Execution API on 127.0.0.1, on a SQLite
file and on PostgreSQL."""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, insert

from soap_orders.adapters import migrate
from soap_orders.bootstrap import Dependencies
from soap_orders.cli import main
from soap_orders.domain.notifications import snapshot
from soap_orders.domain.orders import ShipmentStatus
from soap_orders.ingest.files import import_file
from soap_orders.service.notifications import queue_flow_events
from soap_orders.service.ports import OutboxMessage, RelayRecord
from tests.flow_server import FlowServer
from tests.integration.outbox_helpers import (
    BASIC,
    FLOWS,
    PATIENCE,
    base_record,
    change,
    delay,
    deliver,
    dg_environment,
    dg_settings,
    drain_until,
    entries,
    relay_for,
    store,
    wait_until,
    wired,
    with_settings,
)

#: flow_outbox as migration 0004 made it (what an earlier release wrote into).
legacy_outbox = Table(
    "flow_outbox", MetaData(), Column("id", Integer, primary_key=True), Column("order_number", String(64)),
    Column("event_type", String(32)), Column("external_id", String(100)), Column("payload", JSON),
    Column("state", String(16)), Column("attempts", Integer), Column("created_at", DateTime(timezone=True)),
    Column("next_attempt_at", DateTime(timezone=True)),
)


@pytest.fixture
def flow() -> Iterator[FlowServer]:
    with FlowServer() as server:
        yield server


@pytest.fixture
def outbox_deps(database_url: str, flow: FlowServer) -> Iterator[Dependencies]:
    deps = wired(database_url, dg_settings(flow.base_url))
    yield deps
    deps.engine.dispose()


def test_each_event_type_is_posted_with_the_documented_body_and_basic_auth(
    outbox_deps: Dependencies, flow: FlowServer
) -> None:
    record = base_record("SO-EVT-1")
    store(outbox_deps, record)

    def everything(r: dict) -> None:  # type: ignore[type-arg]
        delay(r, 0)
        deliver(r, 1)
        r["Lines"][1]["OutOfStock"] = True
        r["Returns"][0]["Status"] = "RECEIVED"
        r["Returns"][0]["WarehouseStatus"] = "INSPECTING"

    change(outbox_deps, record, everything, updated_at="2026-03-06T16:00:00Z")
    queued = entries(outbox_deps)
    assert [e.event_type for e in queued] == ["shipment_delayed", "delivered", "item_out_of_stock", "return_updated"]

    report = relay_for(outbox_deps).drain()

    assert report.sent == 4
    assert [e.state for e in entries(outbox_deps)] == ["SENT"] * 4
    assert [r.path for r in flow.received] == ["/execution"] * 4
    for received in flow.received:
        assert received.headers["Authorization"] == BASIC
        assert received.headers["Content-Type"] == "application/json"
    bodies = {body["inputs"]["event_type"]: body for body in flow.bodies()}
    assert [b["external_id"] for b in flow.bodies()] == [e.external_id for e in queued]

    def expected(kind: str, flow_id: str, data: dict, **extra: object) -> dict:  # type: ignore[type-arg]
        external_id = bodies[kind]["external_id"]
        assert external_id.startswith(kind + "-")
        return {"action_id": flow_id, "external_id": external_id,
                "inputs": {"external_id": external_id, "shipment_data": {"order_id": "SO-EVT-1", **data},
                           "event_type": kind, **extra}}

    assert bodies["shipment_delayed"] == expected(
        "shipment_delayed", FLOWS["flow_shipment_delayed"],
        {"shipment_id": "SH-1", "tracking_number": "RM123456789GB", "carrier_code": "royalmail",
         "items": [{"sku": "MUG-RED", "quantity": 2}]},
        status="DELAYED", expected_delivery_date="2026-03-09")
    assert bodies["delivered"] == expected(
        "delivered", FLOWS["flow_delivered"],
        {"shipment_id": "SH-2", "tracking_number": "RM000000002GB", "carrier_code": "royalmail",
         "items": [{"sku": "TEA-001", "quantity": 1}]},
        status="DELIVERED", expected_delivery_date="2026-03-05", delivered_at="2026-03-06T15:20:00Z")
    assert bodies["item_out_of_stock"] == expected(
        "item_out_of_stock", FLOWS["flow_item_out_of_stock"],
        {"shipment_id": "SH-2", "tracking_number": "RM000000002GB", "carrier_code": "royalmail",
         "items": [{"sku": "TEA-001", "quantity": 1}]},
        status="OUT_OF_STOCK", line_number=2, name="Green tea", expected_delivery_date="2026-03-06")
    assert bodies["return_updated"] == expected(
        "return_updated", FLOWS["flow_return_updated"],
        {"shipment_id": "RMA-1", "tracking_number": "RT-77", "carrier_code": "ups",
         "items": [{"sku": "MUG-RED", "quantity": 1}]},
        return_id="RMA-1", status="RECEIVED", warehouse_status="INSPECTING", refund_status="NOT_STARTED")


def test_the_import_command_path_queues_events_for_changed_orders(
    outbox_deps: Dependencies, flow: FlowServer, tmp_path: Path
) -> None:
    record = base_record("SO-IMP-1")
    path = tmp_path / "orders.jsonl"
    path.write_text(json.dumps(record) + "\n")
    assert import_file(outbox_deps, path).created == 1
    assert entries(outbox_deps) == []  # a new order announces nothing
    delay(record, 0)
    path.write_text(json.dumps(record) + "\n")

    assert import_file(outbox_deps, path).updated == 1
    assert import_file(outbox_deps, path).unchanged == 1  # the same data again is no new change

    [entry] = entries(outbox_deps)
    assert (entry.event_type, entry.order_number, entry.state) == ("shipment_delayed", "SO-IMP-1", "PENDING")


def test_a_type_without_a_flow_id_is_queued_held_reported_and_sent_once_a_relay_has_it(
    database_url: str, flow: FlowServer
) -> None:
    deps = wired(database_url, dg_settings(flow.base_url, flow_delivered=None))
    try:
        record = base_record("SO-HELD-1")
        store(deps, record)
        record = change(deps, record, lambda r: (delay(r, 0), deliver(r, 1)), updated_at="2026-03-06T16:00:00Z")
        queued = entries(deps)
        assert [e.event_type for e in queued] == ["shipment_delayed", "delivered"]  # both, whatever the flows
        assert all("action_id" not in e.payload for e in queued)  # the flow is the relay's to name

        without = relay_for(deps)
        assert without.run_batch() == 1  # a running relay without the delivered flow
        assert [(e.event_type, e.state) for e in entries(deps)] == [("shipment_delayed", "SENT"),
                                                                     ("delivered", "PENDING")]
        # A later event of the order is not held up by the held one.
        change(deps, record, lambda r: r["Returns"][0].update(Status="RECEIVED"), updated_at="2026-03-06T17:00:00Z")
        assert without.run_batch() == 1
        assert [b["inputs"]["event_type"] for b in flow.bodies()] == ["shipment_delayed", "return_updated"]

        # Warn about whatever waits (0 s): the relay is running, but has no flow id for delivered.
        env = {**dg_environment(database_url, deps.settings.dg), "SOAP_ORDERS_OUTBOX_WARN_AFTER": "0"}
        runner = CliRunner()
        status = runner.invoke(main, ["outbox", "status"], env=env)
        assert status.exit_code == 0, status.output
        lines = status.output.splitlines()
        assert [line.split() for line in lines[:3]] == [["pending", "1"], ["sent", "2"], ["dead", "0"]]
        assert re.search(r"^  delivered +1 \(held: no running relay has its flow id; oldest queued ", status.output, re.M)
        assert re.search(r"^relay running: .+ pid \d+, sends item_out_of_stock, return_updated, shipment_delayed;",
                         status.output, re.M)
        assert re.search(r"^warning: 1 delivered notification\(s\) are held, the oldest for \d+ s: no running "
                         r"relay has a flow id for them\. Set SOAP_ORDERS_DG_FLOW_DELIVERED for the relay", status.output,
                         re.M), status.output
        without.stop.set()
        without.run_forever()  # returns at once, and records that it stopped

        configured = relay_for(with_settings(deps, flow_delivered="flow-delivered-2"))
        assert configured.drain().sent == 1
        [held] = [e for e in entries(deps) if e.event_type == "delivered"]
        assert held.state == "SENT"
        body = flow.bodies()[-1]
        assert body["action_id"] == "flow-delivered-2"
        assert body["external_id"] == body["inputs"]["external_id"] == held.external_id == queued[1].external_id
    finally:
        deps.engine.dispose()


def test_the_relay_sends_rows_of_an_earlier_release_to_its_own_flow(outbox_deps: Dependencies, flow: FlowServer) -> None:
    queued_at = outbox_deps.clock()
    with outbox_deps.uow() as uow:
        uow.outbox.add([OutboxMessage("SO-OLD-1", "delivered", "delivered-old", {
            "action_id": "flow-of-the-server", "external_id": "delivered-old",
            "inputs": {"external_id": "delivered-old", "shipment_data": {"order_id": "SO-OLD-1"}}}, queued_at)])
        uow.commit()

    assert relay_for(outbox_deps).drain().sent == 1

    assert flow.bodies() == [{"action_id": FLOWS["flow_delivered"], "external_id": "delivered-old",
                              "inputs": {"external_id": "delivered-old", "shipment_data": {"order_id": "SO-OLD-1"}}}]


def test_types_the_operator_skips_are_skipped_with_a_count_and_pruned_later(
    database_url: str, flow: FlowServer
) -> None:
    deps = wired(database_url, dg_settings(flow.base_url, flow_delivered=None, skip=("delivered",)))
    try:
        record = base_record("SO-SKIP-1")
        store(deps, record)
        change(deps, record, lambda r: (delay(r, 0), deliver(r, 1)))
        relay = relay_for(deps)

        report = relay.drain()

        assert (report.sent, report.skipped) == (1, 1)
        skipped = [e for e in entries(deps) if e.state == "SKIPPED"]
        assert [(e.event_type, e.attempts, e.last_error) for e in skipped] == [
            ("delivered", 0, "skipped: SOAP_ORDERS_DG_SKIP names this event type")]
        assert [b["inputs"]["event_type"] for b in flow.bodies()] == ["shipment_delayed"]
        env = dg_environment(database_url, deps.settings.dg)
        status = CliRunner().invoke(main, ["outbox", "status"], env=env)
        assert [line.split() for line in status.output.splitlines()[:4]] == [
            ["pending", "0"], ["sent", "1"], ["dead", "0"], ["skipped", "1"]]

        assert relay.prune() == 0
        relay.clock = lambda: deps.clock() + timedelta(days=8)
        assert relay.prune() == 2  # the SENT row and the SKIPPED one
        assert entries(deps) == []
    finally:
        deps.engine.dispose()


def test_outbox_skip_makes_a_held_backlog_skipped_and_says_how_many(
    database_url: str, flow: FlowServer
) -> None:
    deps = wired(database_url, dg_settings(flow.base_url))
    try:
        for number in ("SO-BL-1", "SO-BL-2"):
            record = base_record(number)
            store(deps, record)
            change(deps, record, lambda r: (delay(r, 0), deliver(r, 1)))
        env = dg_environment(database_url, deps.settings.dg)
        runner = CliRunner()

        skipped = runner.invoke(main, ["outbox", "skip", "--type", "shipment-delayed"], env=env)

        assert skipped.exit_code == 0, skipped.output
        assert skipped.output == "2 shipment_delayed event(s) skipped.\n"
        assert sorted((e.event_type, e.state) for e in entries(deps)) == [
            ("delivered", "PENDING"), ("delivered", "PENDING"),
            ("shipment_delayed", "SKIPPED"), ("shipment_delayed", "SKIPPED")]
        assert runner.invoke(main, ["outbox", "skip", "--type", "shipment-delayed"], env=env).output == \
            "0 shipment_delayed event(s) skipped.\n"
        assert runner.invoke(main, ["outbox", "skip", "--type", "nope"], env=env).exit_code == 2
        listed = runner.invoke(main, ["outbox", "list", "--state", "skipped"], env=env)
        assert len(listed.output.splitlines()) == 2 and "skipped by the operator" in listed.output

        assert relay_for(deps).drain().sent == 2
        assert [b["inputs"]["event_type"] for b in flow.bodies()] == ["delivered", "delivered"]
    finally:
        deps.engine.dispose()


def test_a_rolled_back_change_writes_no_outbox_row(outbox_deps: Dependencies) -> None:
    record = base_record("SO-RB-1")
    store(outbox_deps, record)

    with pytest.raises(RuntimeError), outbox_deps.uow() as uow:
        order = uow.orders.get("SO-RB-1", for_update=True)
        assert order is not None
        before = snapshot(order)
        order.shipments[0].status = ShipmentStatus.DELAYED
        assert len(queue_flow_events(uow, before, order, outbox_deps.clock())) == 1
        raise RuntimeError("the change fails before it is committed")

    assert entries(outbox_deps) == []
    with outbox_deps.uow() as uow:
        stored = uow.orders.get("SO-RB-1")
        assert stored is not None and stored.shipments[0].status is ShipmentStatus.IN_TRANSIT


def test_server_errors_are_retried_with_the_same_external_id(outbox_deps: Dependencies, flow: FlowServer) -> None:
    record = base_record()
    store(outbox_deps, record)
    change(outbox_deps, record, delay)
    flow.fail(500, times=1).fail(503, times=1).reject(408, "")
    relay = relay_for(outbox_deps)

    drain_until(relay, lambda: entries(outbox_deps)[0].state == "SENT")

    [entry] = entries(outbox_deps)
    assert [r.status for r in flow.received] == [500, 503, 408, 200]
    assert flow.ids() == [entry.external_id] * 4
    assert all(body == flow.bodies()[0] for body in flow.bodies())
    assert entry.attempts == 4 and entry.last_status == 200 and entry.last_error is None


def test_timeouts_are_retried_and_the_request_in_hand_is_not_repeated_at_once(
    outbox_deps: Dependencies, flow: FlowServer
) -> None:
    record = base_record()
    store(outbox_deps, record)
    change(outbox_deps, record, delay)
    held = flow.hold()  # no answer until the relay has given up waiting (0.5 s)
    relay = relay_for(with_settings(outbox_deps, read_timeout=0.5, backoff_initial=60, backoff_max=60))

    relay.drain()
    held.set()
    [entry] = entries(outbox_deps)
    assert (entry.state, entry.attempts, entry.last_status, entry.last_error) == ("PENDING", 1, None, "timed out")
    assert len(flow.received) == 1  # not posted again at once: it waits out its backoff
    real = relay.clock
    relay.clock = lambda: real() + timedelta(seconds=61)  # the backoff has passed
    drain_until(relay, lambda: entries(outbox_deps)[0].state == "SENT")
    assert flow.ids() == [entry.external_id] * 2


def test_an_event_is_dead_after_the_attempt_limit(outbox_deps: Dependencies, flow: FlowServer) -> None:
    record = base_record()
    store(outbox_deps, record)
    change(outbox_deps, record, delay)
    flow.fail(502, times=10)
    relay = relay_for(outbox_deps)

    drain_until(relay, lambda: entries(outbox_deps)[0].state == "DEAD")

    [entry] = entries(outbox_deps)
    assert entry.attempts == 4 and len(flow.received) == 4
    assert entry.last_status == 502 and entry.last_error == 'HTTP 502: {"error": "server trouble"}'
    real = relay.clock
    relay.clock = lambda: real() + timedelta(hours=1)  # long after any backoff
    relay.drain()
    assert len(flow.received) == 4  # a dead event is not posted again


def test_an_unreachable_api_is_retried_then_dead(database_url: str) -> None:
    closed = FlowServer()
    closed.stop()  # nothing listens on its port any more
    deps = wired(database_url, dg_settings(closed.base_url, max_attempts=2))
    try:
        record = base_record()
        store(deps, record)
        change(deps, record, delay)
        drain_until(relay_for(deps), lambda: entries(deps)[0].state == "DEAD")
        [entry] = entries(deps)
        assert (entry.attempts, entry.last_status, entry.last_error) == (2, None, "connection failed")
    finally:
        deps.engine.dispose()


def test_a_400_is_dead_at_once_with_the_answer_kept(outbox_deps: Dependencies, flow: FlowServer) -> None:
    record = base_record()
    store(outbox_deps, record)
    change(outbox_deps, record, delay)
    flow.reject(400, '{"error": "unknown action_id"}\n' + "x" * 5000)

    report = relay_for(outbox_deps).drain()

    [entry] = entries(outbox_deps)
    assert (report.dead, entry.state, entry.attempts, entry.last_status) == (1, "DEAD", 1, 400)
    assert entry.last_error is not None and entry.last_error.startswith('HTTP 400: {"error": "unknown action_id"}')
    assert len(entry.last_error) <= 600  # only the start of a long body is kept
    assert len(flow.received) == 1


def test_429_retry_after_is_honoured_and_pauses_the_relay(outbox_deps: Dependencies, flow: FlowServer) -> None:
    first, second = base_record(), base_record()
    for record in (first, second):
        store(outbox_deps, record)
        change(outbox_deps, record, delay)
    flow.rate_limit("1")
    relay = relay_for(outbox_deps)

    relay.drain()
    assert len(flow.received) == 1  # the rest of the batch waits too
    real, paused_until = relay.clock, relay.paused_until
    assert paused_until is not None
    relay.clock = lambda: paused_until - timedelta(milliseconds=1)  # however late, still within the pause
    relay.drain()
    assert len(flow.received) == 1
    relay.clock = real
    drain_until(relay, lambda: [e.state for e in entries(outbox_deps)] == ["SENT", "SENT"])

    gap = flow.received[1].at - flow.received[0].at
    assert gap >= 0.95
    assert flow.ids()[0] == flow.ids()[1] == entries(outbox_deps)[0].external_id
    assert entries(outbox_deps)[0].attempts == 1  # a 429 is not a failed attempt


def test_events_of_one_order_are_delivered_in_order(outbox_deps: Dependencies, flow: FlowServer) -> None:
    record = base_record()
    store(outbox_deps, record)
    delayed = change(outbox_deps, record, delay, updated_at="2026-03-05T10:00:00Z")
    change(outbox_deps, delayed, deliver, updated_at="2026-03-05T11:00:00Z")
    other = base_record()
    store(outbox_deps, other)
    change(outbox_deps, other, delay)
    flow.fail(500, times=1)
    first, second, unrelated = entries(outbox_deps)

    drain_until(relay_for(outbox_deps), lambda: all(e.state == "SENT" for e in entries(outbox_deps)))

    ids = flow.ids()
    assert ids[0] == first.external_id  # failed once
    assert ids.index(second.external_id) > ids.index(first.external_id, 1)  # only after the first went through
    assert unrelated.external_id in ids[:3]  # another order is not held up


def test_sent_events_are_pruned_after_the_retention_period(outbox_deps: Dependencies, flow: FlowServer) -> None:
    record = base_record()
    store(outbox_deps, record)
    change(outbox_deps, record, delay)
    flow.reject(400)
    relay = relay_for(outbox_deps)
    relay.drain()
    change(outbox_deps, record, deliver)
    relay.drain()
    assert sorted(e.state for e in entries(outbox_deps)) == ["DEAD", "SENT"]

    assert relay.prune() == 0  # still within the retention period
    relay.clock = lambda: outbox_deps.clock() + timedelta(days=8)
    assert relay.prune() == 1

    assert [e.state for e in entries(outbox_deps)] == ["DEAD"]


def test_outbox_commands(outbox_deps: Dependencies, flow: FlowServer, database_url: str) -> None:
    record = base_record("SO-CLI-1")
    store(outbox_deps, record)
    change(outbox_deps, record, lambda r: (delay(r, 0), deliver(r, 1)))
    flow.reject(400, '{"error": "nope"}')
    relay_for(outbox_deps).drain()
    env = dg_environment(database_url, outbox_deps.settings.dg)
    runner = CliRunner()

    status = runner.invoke(main, ["outbox", "status"], env=env)
    assert status.exit_code == 0, status.output
    lines = status.output.splitlines()
    assert [line.split() for line in lines[:5]] == [
        ["pending", "0"], ["sent", "1"], ["dead", "1"], ["skipped", "0"], ["oldest", "pending:", "none"]]
    assert lines[5:7] == ["relays running: none", lines[6]]  # the relay above drained and stopped
    assert re.fullmatch(r"last delivery: \d+ s ago \(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)", lines[6])
    assert len(lines) == 7  # no warning

    listed = runner.invoke(main, ["outbox", "list", "--state", "dead"], env=env)
    assert listed.exit_code == 0, listed.output
    [line] = listed.output.splitlines()
    dead_id = line.split("\t")[0]
    assert "\tDEAD\tshipment_delayed\tSO-CLI-1\tshipment_delayed-" in line and '400 HTTP 400: {"error": "nope"}' in line

    assert runner.invoke(main, ["outbox", "retry"], env=env).exit_code == 2
    retried = runner.invoke(main, ["outbox", "retry", dead_id], env=env)
    assert retried.exit_code == 0 and "1 event(s) queued again." in retried.output

    pending = runner.invoke(main, ["outbox", "status"], env=env)
    assert "pending 1" in " ".join(pending.output.split())
    assert re.search(r"^oldest pending: \d+ s \(queued \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)$", pending.output, re.M)

    relayed = runner.invoke(main, ["relay", "--once"], env=env)
    assert relayed.exit_code == 0, relayed.output
    assert "1 sent, 0 to retry, 0 dead" in relayed.output
    assert runner.invoke(main, ["outbox", "list", "--state", "pending"], env=env).output == "No events.\n"
    assert runner.invoke(main, ["outbox", "retry", "--all-dead"], env=env).output == "0 event(s) queued again.\n"


def test_send_test_posts_one_event_to_the_configured_flow(
    outbox_deps: Dependencies, flow: FlowServer, database_url: str
) -> None:
    store(outbox_deps, base_record("SO-TEST-1"))
    env = dg_environment(database_url, outbox_deps.settings.dg)
    runner = CliRunner()

    sent = runner.invoke(main, ["outbox", "send-test", "--type", "delivered", "--order", "SO-TEST-1"], env=env)

    assert sent.exit_code == 0, sent.output
    assert "HTTP 200" in sent.output
    [received] = flow.received
    assert received.headers["Authorization"] == BASIC
    body = received.body
    assert body["action_id"] == FLOWS["flow_delivered"] and body["external_id"].startswith("test-delivered-")
    assert body["inputs"]["test"] is True and body["inputs"]["shipment_data"]["order_id"] == "SO-TEST-1"
    assert entries(outbox_deps) == []  # not queued

    flow.reject(401, '{"error": "bad credentials"}')
    refused = runner.invoke(main, ["outbox", "send-test", "--type", "delivered", "--order", "SO-TEST-1"], env=env)
    assert refused.exit_code == 1 and "HTTP 401" in refused.output
    unknown = runner.invoke(main, ["outbox", "send-test", "--type", "delivered", "--order", "NOPE"], env=env)
    assert unknown.exit_code == 1 and "No order matches" in unknown.output
    no_return = runner.invoke(main, ["outbox", "send-test", "--type", "return-updated", "--order", "SO-TEST-1"],
                              env={**env, "SOAP_ORDERS_DG_FLOW_RETURN_UPDATED": ""})
    assert no_return.exit_code == 1 and "No flow id is configured for return_updated" in no_return.output


def test_the_relay_refuses_to_start_without_credentials(database_url: str, flow: FlowServer) -> None:
    env = dg_environment(database_url, dg_settings(flow.base_url))
    env["SOAP_ORDERS_DG_API_SECRET"] = ""

    result = CliRunner().invoke(main, ["relay", "--once"], env=env)

    assert result.exit_code == 2
    assert "SOAP_ORDERS_DG_API_SECRET" in result.output


def test_a_lease_taken_over_is_not_overwritten(outbox_deps: Dependencies) -> None:
    record = base_record()
    store(outbox_deps, record)
    change(outbox_deps, record, delay)
    now = outbox_deps.clock()
    with outbox_deps.uow() as uow:
        [mine] = uow.outbox.claim(now, 10, now + timedelta(seconds=1), "a" * 32, ["shipment_delayed"])
        uow.commit()
    later = now + timedelta(seconds=2)
    with outbox_deps.uow() as uow:
        [theirs] = uow.outbox.claim(later, 10, later + timedelta(seconds=60), "b" * 32, ["shipment_delayed"])
        assert uow.outbox.claim(later, 10, later + timedelta(seconds=60), "c" * 32, ["shipment_delayed"]) == []
        uow.commit()
    with outbox_deps.uow() as uow:
        assert uow.outbox.mark_sent(mine.id, "a" * 32, later, 200) is False
        assert uow.outbox.mark_dead(theirs.id, "b" * 32, later, 400, "HTTP 400") is True
        uow.commit()
    assert entries(outbox_deps)[0].state == "DEAD"


def test_the_relay_settings_come_from_the_dependencies(outbox_deps: Dependencies) -> None:
    relay = relay_for(with_settings(outbox_deps, batch_size=7, max_attempts=9))
    assert (relay.settings.batch_size, relay.settings.max_attempts) == (7, 9)
    dg = outbox_deps.settings.dg
    assert relay.settings.request_time == timedelta(seconds=dg.connect_timeout + dg.read_timeout)


def test_a_relay_is_seen_running_while_it_keeps_its_promise_and_notes_its_deliveries(
    outbox_deps: Dependencies, flow: FlowServer
) -> None:
    record = base_record()
    store(outbox_deps, record)
    change(outbox_deps, record, delay)
    relay = relay_for(with_settings(outbox_deps, flow_item_out_of_stock=None, skip=("item_out_of_stock",)))
    with outbox_deps.uow() as uow:
        assert uow.outbox.stats(outbox_deps.clock()).relays == ()

    assert relay.run_batch() == 1
    now = outbox_deps.clock()
    with outbox_deps.uow() as uow:
        seen = uow.outbox.stats(now)
    [me] = seen.relays
    assert (me.relay_id, me.pid, me.delivered) == (relay.relay_id, os.getpid(), 1)
    assert me.flow_types == ("delivered", "return_updated", "shipment_delayed")
    assert me.skip_types == ("item_out_of_stock",)
    assert seen.last_delivery == me.last_delivered_at and me.last_delivered_at is not None
    assert now - timedelta(seconds=5) <= me.last_delivered_at <= now + timedelta(seconds=1)
    # Past its promise (killed, hung), it no longer counts; its last delivery still does.
    with outbox_deps.uow() as uow:
        later = uow.outbox.stats(me.expires_at + timedelta(seconds=1))
    assert later.relays == () and later.last_delivery == me.last_delivered_at

    relay.stop.set()
    relay.run_forever()  # stops at once, saying so
    with outbox_deps.uow() as uow:
        assert uow.outbox.stats(outbox_deps.clock()).relays == ()
    relay.stop.clear()
    relay.drain()  # running again under the same id, then stopped again
    with outbox_deps.uow() as uow:
        assert uow.outbox.stats(outbox_deps.clock()).relays == ()


def test_forgotten_relays_never_take_the_last_delivery_with_them(outbox_deps: Dependencies, flow: FlowServer) -> None:
    record = base_record()
    store(outbox_deps, record)
    change(outbox_deps, record, delay)
    delivering, idle = relay_for(outbox_deps), relay_for(outbox_deps)
    assert delivering.drain().sent == 1
    assert idle.drain().sent == 0
    with outbox_deps.uow() as uow:
        last = uow.outbox.stats(outbox_deps.clock()).last_delivery
        assert last is not None
        assert uow.outbox.prune_relays(outbox_deps.clock() + timedelta(days=30)) == 1  # the idle one
        uow.commit()
    with outbox_deps.uow() as uow:
        assert uow.outbox.stats(outbox_deps.clock()).last_delivery == last


def test_the_last_delivery_of_a_relay_of_an_earlier_release_is_its_latest_sent_row(
    outbox_deps: Dependencies, flow: FlowServer
) -> None:
    record = base_record()
    store(outbox_deps, record)
    change(outbox_deps, record, delay)
    relay = relay_for(outbox_deps)
    now = outbox_deps.clock()
    with outbox_deps.uow() as uow:  # claimed and marked SENT without registering, as the earlier relay did
        [entry] = uow.outbox.claim(now, 10, now + timedelta(seconds=60), "t" * 32, relay.routing.flows)
        assert uow.outbox.mark_sent(entry.id, "t" * 32, now, 200)
        uow.commit()
    with outbox_deps.uow() as uow:
        seen = uow.outbox.stats(now)
    assert (seen.relays, seen.last_delivery) == ((), now)


def test_a_relay_without_any_flow_id_or_skip_refuses_to_start(database_url: str, flow: FlowServer) -> None:
    env = dg_environment(database_url, dg_settings(flow.base_url, **dict.fromkeys(FLOWS)))

    result = CliRunner().invoke(main, ["relay", "--once"], env=env)

    assert result.exit_code == 2
    assert "Set the flow id of at least one event type (SOAP_ORDERS_DG_FLOW_SHIPMENT_DELAYED" in result.output
    skipping = CliRunner().invoke(main, ["relay", "--once"], env={**env, "SOAP_ORDERS_DG_SKIP": "delivered"})
    assert skipping.exit_code == 0, skipping.output
    assert "Sends nothing; skips delivered; keeps queued (no flow id) item_out_of_stock, return_updated, " \
           "shipment_delayed." in skipping.output


def test_relays_with_different_flows_share_the_outbox_each_sending_its_own_types(
    outbox_deps: Dependencies, flow: FlowServer
) -> None:
    record = base_record()
    store(outbox_deps, record)
    change(outbox_deps, record, lambda r: (delay(r, 0), deliver(r, 1)))
    delays_only = relay_for(with_settings(outbox_deps, flow_delivered=None))
    deliveries_only = relay_for(with_settings(outbox_deps, flow_shipment_delayed=None))

    assert deliveries_only.drain().sent == 1
    assert delays_only.drain().sent == 1

    assert [(b["inputs"]["event_type"], b["action_id"]) for b in flow.bodies()] == [
        ("delivered", FLOWS["flow_delivered"]), ("shipment_delayed", FLOWS["flow_shipment_delayed"])]


def test_rows_queued_before_the_upgrade_are_sent_by_the_relay_after_it(database_url: str, flow: FlowServer) -> None:
    deps = wired(database_url, dg_settings(flow.base_url))
    try:
        migrate.downgrade(deps.engine, "0008_subscriptions")
        queued_at = deps.clock()
        body = {"action_id": "flow-the-server-had", "external_id": "delivered-legacy",
                "inputs": {"external_id": "delivered-legacy", "shipment_data": {"order_id": "SO-LEGACY"}}}
        with deps.engine.begin() as connection:  # what the earlier release wrote
            connection.execute(insert(legacy_outbox).values(
                order_number="SO-LEGACY", event_type="delivered", external_id="delivered-legacy", payload=body,
                state="PENDING", attempts=0, created_at=queued_at, next_attempt_at=queued_at))
        migrate.upgrade(deps.engine)

        [entry] = entries(deps)
        assert (entry.state, entry.skipped_at, entry.payload) == ("PENDING", None, body)
        assert relay_for(deps).drain().sent == 1
        assert flow.bodies() == [{**body, "action_id": FLOWS["flow_delivered"]}]
    finally:
        deps.engine.dispose()


def test_a_relay_paused_by_a_long_retry_after_is_still_seen_running(outbox_deps: Dependencies, flow: FlowServer) -> None:
    record = base_record()
    store(outbox_deps, record)
    change(outbox_deps, record, delay)
    flow.rate_limit("3600")
    relay = relay_for(outbox_deps)
    relay.settings = replace(relay.settings, heartbeat=timedelta(seconds=0.2))
    worker = threading.Thread(target=relay.run_forever)
    worker.start()
    try:
        assert flow.wait_for(1, timeout=PATIENCE)

        def seen() -> RelayRecord | None:
            with outbox_deps.uow() as uow:
                running = uow.outbox.stats(outbox_deps.clock()).relays
            return running[0] if running else None

        first = seen()
        assert first is not None
        wait_until(lambda: (r := seen()) is not None and r.seen_at > first.seen_at, PATIENCE,
                   "a heartbeat while paused")
        assert relay.paused_until is not None and relay.paused_until > outbox_deps.clock() + timedelta(minutes=50)
        assert len(flow.received) == 1  # still paused: nothing more was posted
    finally:
        relay.stop.set()
        worker.join(timeout=PATIENCE)
    assert seen() is None  # stopped, and said so
