"""Arranging outbox tests: DG settings pointing at a fake flow server, orders whose changes queue
notifications, and a relay wired like production."""

from __future__ import annotations

import base64
import copy
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from soap_orders.bootstrap import Dependencies, build_dependencies, build_relay
from soap_orders.config import DgSettings
from soap_orders.documents.records import order_from_record
from soap_orders.ingest import orders as upserts
from soap_orders.service.ports import OutboxEntry
from soap_orders.service.relay import Relay
from tests.records import order_record, shipped, unique
from tests.server import ROOT, settings_for_tests

KEY, SECRET = "dg-test-key", "dg-test-secret"
FLOWS = {
    "flow_shipment_delayed": "flow-delayed-1",
    "flow_item_out_of_stock": "flow-oos-1",
    "flow_delivered": "flow-delivered-1",
    "flow_return_updated": "flow-return-1",
}
BASIC = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()


#: How long, at most, a relay test waits in all for what it needs to observe (events sent, a relay
#: started or stopped, a lease run out). Generous, for a busy 2-core machine: a test that passes
#: waits only as long as the relay takes, and this bound only ends one that would never pass.
PATIENCE = 180.0


class Deadline:
    """One bound for all of a test's waits: each waits for a condition, never for a fixed time."""

    def __init__(self, seconds: float = PATIENCE) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        return max(self.at - time.monotonic(), 0.0)

    def wait_until(self, condition: Callable[[], bool], what: str, detail: Callable[[], str] = str) -> None:
        """Return as soon as ``condition()`` holds; fail, saying what, once the deadline has passed."""
        while not condition():
            if time.monotonic() >= self.at:
                raise AssertionError(f"{what}: not within {self.seconds:.0f} s\n{detail()}")
            time.sleep(0.02)


def dg_settings(base_url: str, **overrides: Any) -> DgSettings:
    """Tiny backoffs and polls so that tests run fast, and timeouts no busy machine reaches when
    the fake flow server answers (a test about timeouts holds an answer back and sets its own)."""
    values: dict[str, Any] = {
        "base_url": base_url, "api_key": KEY, "api_secret": SECRET, "connect_timeout": 5.0,
        "read_timeout": 10.0, "max_attempts": 4, "backoff_initial": 0.02, "backoff_max": 0.05,
        "batch_size": 10, "lease": 60.0, "poll_interval": 0.05, **FLOWS,
    }
    values.update(overrides)
    return DgSettings(**values)


def dg_environment(database_url: str, dg: DgSettings) -> dict[str, str]:
    """The same settings as SOAP_ORDERS_* variables, for a relay in another process."""
    env = {"SOAP_ORDERS_DATABASE_URL": database_url, "SOAP_ORDERS_LOG_LEVEL": "WARNING"}
    names = {
        "base_url": "BASE_URL", "api_key": "API_KEY", "api_secret": "API_SECRET",
        "connect_timeout": "CONNECT_TIMEOUT", "read_timeout": "READ_TIMEOUT", "max_attempts": "MAX_ATTEMPTS",
        "backoff_initial": "BACKOFF_INITIAL", "backoff_max": "BACKOFF_MAX", "batch_size": "BATCH_SIZE",
        "lease": "LEASE", "poll_interval": "POLL_INTERVAL",
        **{name: name.upper() for name in FLOWS},
    }
    for attr, name in names.items():
        value = getattr(dg, attr)
        if value is not None:
            env[f"SOAP_ORDERS_DG_{name}"] = str(value)
    if dg.skip:
        env["SOAP_ORDERS_DG_SKIP"] = ",".join(dg.skip)
    return env


def wired(database_url: str, dg: DgSettings) -> Dependencies:
    return build_dependencies(settings_for_tests(database_url, dg=dg))


def relay_for(deps: Dependencies) -> Relay:
    relay: Relay = build_relay(deps)
    return relay


def base_record(number: str | None = None) -> dict[str, Any]:
    """A shipped order with two parcels (SH-1 in transit, SH-2 out for delivery) and a return."""
    record = shipped(order_record(number or unique("N")))
    first = record["Shipments"][0]
    first["ShipmentId"] = "SH-1"
    first["Items"] = [{"Sku": "MUG-RED", "Quantity": 2}]
    second = copy.deepcopy(first)
    second.update({"ShipmentId": "SH-2", "Status": "OUT_FOR_DELIVERY", "TrackingNumber": "RM000000002GB",
                   "Items": [{"Sku": "TEA-001", "Quantity": 1}]})
    record["Shipments"].append(second)
    record["Returns"] = [{
        "ReturnId": "RMA-1", "Status": "IN_TRANSIT", "CreatedAt": "2026-03-08T09:00:00Z",
        "ReturnTrackingNumber": "RT-77", "CarrierCode": "ups", "Items": [{"Sku": "MUG-RED", "Quantity": 1}],
    }]
    return record


def store(deps: Dependencies, record: dict[str, Any]) -> None:
    upserts.upsert_orders(deps.uow(), [order_from_record(record)], deps.clock)


def change(deps: Dependencies, record: dict[str, Any], mutate: Callable[[dict[str, Any]], None],
           updated_at: str | None = None) -> dict[str, Any]:
    """Import a changed copy of ``record`` (as the ERP would) and return it."""
    new = copy.deepcopy(record)
    mutate(new)
    if updated_at is not None:
        new["UpdatedAt"] = updated_at
    store(deps, new)
    return new


def delay(record: dict[str, Any], index: int = 0) -> None:
    record["Shipments"][index]["Status"] = "DELAYED"
    record["Shipments"][index]["ExpectedDeliveryDate"] = "2026-03-09"


def deliver(record: dict[str, Any], index: int = 1) -> None:
    record["Shipments"][index]["Status"] = "DELIVERED"
    record["Shipments"][index]["DeliveredAt"] = "2026-03-06T15:20:00Z"


def entries(deps: Dependencies, state: str | None = None) -> list[OutboxEntry]:
    with deps.uow() as uow:
        return uow.outbox.entries(state, 10_000)


def drain_until(relay: Relay, done: Callable[[], bool]) -> None:
    """Run the relay's drain again and again (backoffs are tiny) until ``done`` (within PATIENCE)."""
    def drained() -> bool:
        relay.drain()
        return done()

    Deadline().wait_until(drained, "the relay did not reach the expected state")


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds (a busy machine takes its time), or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def with_settings(deps: Dependencies, **overrides: Any) -> Dependencies:
    return replace(deps, settings=replace(deps.settings, dg=replace(deps.settings.dg, **overrides)))


def queue_delays(deps: Dependencies, count: int, prefix: str) -> list[str]:
    """Store ``count`` orders, then delay a parcel of each in one import: ``count`` events queued in
    one transaction. Returns their external ids."""
    records = [base_record(f"{prefix}-{i:04d}") for i in range(count)]
    upserts.upsert_orders(deps.uow(), [order_from_record(r) for r in records], deps.clock)
    changed = []
    for record in records:
        record = copy.deepcopy(record)
        delay(record)
        changed.append(order_from_record(record))
    upserts.upsert_orders(deps.uow(), changed, deps.clock)
    return [e.external_id for e in entries(deps)]


class RelayProcess:
    """``soap-orders relay`` in a process of its own, stopped when the test ends."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from soap_orders.cli import main; main()", "relay"],
            env={**os.environ, **env}, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_until_running(self, deadline: Deadline | None = None) -> None:
        def started() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"relay exited early:\n{self.log()}")
            return "Relay delivering to" in self.log()

        (deadline or Deadline()).wait_until(started, "the relay to start", self.log)

    def terminate(self, deadline: Deadline | None = None) -> int:
        """SIGTERM, then wait for the relay to finish the request in hand and exit."""
        self.process.send_signal(signal.SIGTERM)
        return self.wait(deadline, "the relay to stop after SIGTERM")

    def kill(self, deadline: Deadline | None = None) -> int:
        """SIGKILL: no chance to record the answer in hand or give back leases."""
        self.process.kill()
        return self.wait(deadline, "the relay to die of SIGKILL")

    def wait(self, deadline: Deadline | None, what: str) -> int:
        """Wait for the relay to exit, within ``deadline`` (a generous one of its own by default)."""
        deadline = deadline or Deadline()
        try:
            return self.process.wait(timeout=deadline.left())
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{what}: not within {deadline.seconds:.0f} s\n{self.log()}") from None

    def report(self) -> str:
        """The relay's closing line (``N sent, N to retry, N dead, N pruned, N skipped.``)."""
        found = re.findall(r"^\d+ sent, \d+ to retry, \d+ dead, \d+ pruned, \d+ skipped\.$", self.log(), re.M)
        assert found, self.log()
        return str(found[-1])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()  # SIGKILL cannot be ignored
        self._log.close()
