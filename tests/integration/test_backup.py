"""``soap-orders db backup``: an online copy of the SQLite database while a live server writes to it,
restored by putting it in the database's place and serving it again."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from soap_orders.bootstrap import build_dependencies
from tests.conftest import _migrated
from tests.records import order_record, store, unique
from tests.server import TEST_SECRET_KEY, Server, settings_for_tests

pytestmark = pytest.mark.slow

SOAP_ORDERS = str(Path(sys.executable).with_name("soap-orders"))


def backup(database_url: str, target: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SOAP_ORDERS, "db", "backup", str(target)], capture_output=True, text=True, timeout=60,
                          env={"SOAP_ORDERS_DATABASE_URL": database_url, "SOAP_ORDERS_SECRET_KEY": TEST_SECRET_KEY,
                               "PATH": "/usr/bin:/bin"})


def test_an_online_backup_is_one_consistent_state_and_serves_again(tmp_path):
    url = _migrated(f"sqlite:///{tmp_path / 'live.sqlite3'}")
    deps = build_dependencies(settings_for_tests(url))
    try:
        numbers = store(deps, *(order_record(unique("BK")) for _ in range(20)))
    finally:
        deps.engine.dispose()
    live = Server(url, tmp_path / "live.log")
    stop = threading.Event()
    refunded: list[str] = []

    def refund_until_stopped() -> None:
        with requests.Session() as session:
            session.auth = live.credentials
            while not stop.is_set():
                number = numbers[len(refunded) % len(numbers)]
                answer = session.post(f"{live.base_url}/json/IssueRefund", timeout=10, json={
                    "OrderNumber": number, "RequestId": unique("bk"), "Reason": "DAMAGED", "Amount": "0.50"})
                assert answer.status_code == 200 and answer.json()["Outcome"] == "REFUNDED", answer.text
                refunded.append(number)

    writer = threading.Thread(target=refund_until_stopped)
    writer.start()
    try:
        while len(refunded) < 10:  # the backup starts while refunds are being written
            writer.join(0.05)
            assert writer.is_alive()
        copy = tmp_path / "copy.sqlite3"
        made = backup(url, copy)
        during = len(refunded)
    finally:
        stop.set()
        writer.join(30)
        live.stop()
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == f"Backed up 20 order(s) to {copy} (integrity check ok)."
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert not Path(f"{copy}-wal").exists() and not list(tmp_path.glob(".copy*"))

    # One consistent state: every refund in the copy has its event, audit and idempotency record.
    with sqlite3.connect(copy) as connection:
        def count(sql: str) -> int:
            return int(connection.execute(sql).fetchone()[0])

        refunds = count("SELECT count(*) FROM refunds")
        assert 10 <= refunds <= during + 1
        assert count("SELECT count(*) FROM order_events WHERE event_type = 'RefundIssued'") == refunds
        assert count("SELECT count(*) FROM audit_records WHERE operation = 'IssueRefund'") == refunds
        assert count("SELECT count(*) FROM idempotency_records WHERE operation = 'IssueRefund'") == refunds
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"

    # Restored: the copy in the database's place, served again, with the refunds it holds.
    restored = Server(f"sqlite:///{copy}", tmp_path / "restored.log", client_name="after-restore")
    try:
        with requests.Session() as session:
            session.auth = restored.credentials
            amounts = [session.post(f"{restored.base_url}/json/GetOrder", json={"OrderNumber": n}, timeout=10)
                       .json()["Order"]["RefundedAmount"] for n in numbers]
    finally:
        restored.stop()
    assert sum(float(a) for a in amounts) == pytest.approx(refunds * 0.5)


def test_backup_refuses_an_existing_file_and_postgresql(tmp_path):
    url = _migrated(f"sqlite:///{tmp_path / 'orders.sqlite3'}")
    existing = tmp_path / "existing.sqlite3"
    existing.write_bytes(b"keep me")
    refused = backup(url, existing)
    assert refused.returncode == 1 and "exists; name a new file" in refused.stderr
    assert existing.read_bytes() == b"keep me"
    elsewhere = backup("postgresql://nobody@127.0.0.1:1/none", tmp_path / "pg.sqlite3")
    assert elsewhere.returncode == 1 and "pg_dump -Fc" in elsewhere.stderr
    missing = backup(f"sqlite:///{tmp_path / 'nothing-here.sqlite3'}", tmp_path / "none.sqlite3")
    assert missing.returncode == 1 and "there is no database at" in missing.stderr
