"""contrib/legacy_sql_feed.py end to end: a sample legacy schema in SQLite, the feed's JSON Lines,
and ``soap-orders import`` storing them."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner

from soap_orders.cli import main

ROOT = Path(__file__).resolve().parents[2]
FEED = ROOT / "contrib" / "legacy_sql_feed.py"

SCHEMA = """
CREATE TABLE customer   (cust_id INTEGER PRIMARY KEY, email TEXT NOT NULL, fname TEXT, lname TEXT, tel TEXT);
CREATE TABLE order_hdr  (order_id INTEGER PRIMARY KEY, order_no TEXT NOT NULL UNIQUE,
                         cust_id INTEGER NOT NULL REFERENCES customer, order_date TEXT NOT NULL,
                         status_cd TEXT NOT NULL, pay_status_cd TEXT NOT NULL, currency TEXT NOT NULL,
                         ship_cents INTEGER NOT NULL DEFAULT 0, tax_cents INTEGER NOT NULL DEFAULT 0,
                         disc_cents INTEGER NOT NULL DEFAULT 0, ship_name TEXT, ship_addr1 TEXT,
                         ship_addr2 TEXT, ship_city TEXT, ship_state TEXT, ship_zip TEXT,
                         ship_country TEXT, modified TEXT);
CREATE TABLE order_line (order_id INTEGER NOT NULL REFERENCES order_hdr, line_no INTEGER NOT NULL,
                         item_code TEXT NOT NULL, item_desc TEXT NOT NULL, qty INTEGER NOT NULL,
                         unit_cents INTEGER NOT NULL, qty_shipped INTEGER NOT NULL DEFAULT 0,
                         PRIMARY KEY (order_id, line_no));
CREATE TABLE despatch   (despatch_id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL REFERENCES order_hdr,
                         carrier_cd TEXT NOT NULL, tracking_ref TEXT, despatched TEXT, delivered TEXT);

INSERT INTO customer VALUES (1, 'ann.lee@example.com', 'Ann', 'Lee', '+33 1 23 45 67 89'),
                            (2, 'Bob.Stone@example.com', 'Bob', 'Stone', NULL);
INSERT INTO order_hdr VALUES
  (10, 'L-5001', 1, '2026-03-01 10:00:00', 'S', 'P', 'GBP', 450, 510, 100, 'Ann Lee', '1 High St', NULL,
   'York', 'North Yorkshire', 'YO1 7HH', 'gb', '2026-03-02 08:00:00'),
  (11, 'L-5002', 2, '2026-03-03 12:30:00', 'A', 'P', 'JPY', 500, 0, 0, 'Bob Stone', '2-1 Marunouchi', NULL,
   'Tokyo', 'Tokyo', '100-0005', 'JP', NULL),
  (12, 'L-5003', 2, '2026-03-04 09:00:00', 'D', 'P', 'EUR', 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   '2026-03-08 15:00:00'),
  (13, 'L-5004', 1, '2026-03-05 09:00:00', 'Z?', 'P', 'EUR', 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO order_line VALUES
  (10, 1, 'MUG-RED', 'Red mug', 2, 1000, 2), (10, 2, 'TEA-001', 'Green tea', 1, 550, 1),
  (11, 1, 'KETTLE', 'Iron kettle', 1, 12800, 0),
  (12, 1, 'BOOK-1', 'A book', 1, 1999, 1),
  (13, 1, 'X', 'Bad status', 1, 100, 0);
INSERT INTO despatch VALUES (100, 10, 'RM', 'RM123456789GB', '2026-03-02 08:00:00', NULL),
                            (101, 12, 'DHL', '1234567890', '2026-03-05 10:00:00', '2026-03-07 14:00:00');
"""


def legacy_database(directory: Path) -> str:
    path = directory / "legacy.db"
    with sqlite3.connect(path) as connection:
        connection.executescript(SCHEMA)
    connection.close()
    return f"sqlite:///{path}"


def run_feed(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(FEED), *args], capture_output=True, text=True, timeout=60)


def test_legacy_orders_are_fed_and_imported(tmp_path, database_url, deps, monkeypatch):
    out = tmp_path / "orders.jsonl"
    result = run_feed(legacy_database(tmp_path), str(out))
    # The order with an unknown status code is skipped and reported; the run says so.
    assert result.returncode == 1
    assert "L-5004: unknown status code 'Z?'" in result.stderr and "3 orders written, 1 skipped." in result.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["OrderNumber"] for r in records] == ["L-5001", "L-5002", "L-5003"]
    first = records[0]
    assert (first["Subtotal"], first["ShippingTotal"], first["TaxTotal"], first["DiscountTotal"], first["Total"]) == (
        "25.50", "4.50", "5.10", "1.00", "34.10")
    assert records[1]["Total"] == "13300"  # JPY has no minor unit

    monkeypatch.setenv("SOAP_ORDERS_DATABASE_URL", database_url)
    imported = CliRunner().invoke(main, ["import", str(out)])
    assert imported.exit_code == 0, imported.output
    assert "3 created, 0 updated, 0 unchanged, 0 failed." in imported.output

    with deps.uow() as uow:
        stored = uow.orders.get_many(["L-5001", "L-5002", "L-5003"])
        york, tokyo, delivered = stored["L-5001"], stored["L-5002"], stored["L-5003"]
        assert york.status.value == "SHIPPED" and york.financial_status.value == "PAID"
        assert york.total == Decimal("34.10") and york.currency == "GBP"
        assert york.customer.email == "ann.lee@example.com"
        assert york.shipping_address is not None
        assert york.shipping_address.region == "North Yorkshire" and york.shipping_address.country_code == "GB"
        (parcel,) = york.shipments
        assert (parcel.carrier_code, parcel.tracking_number) == ("royalmail", "RM123456789GB")
        assert {(item.sku, item.quantity) for item in parcel.items} == {("MUG-RED", 2), ("TEA-001", 1)}
        assert tokyo.status.value == "PROCESSING" and not tokyo.shipments
        assert delivered.shipments[0].status.value == "DELIVERED"
        assert delivered.created_at.isoformat() == "2026-03-04T09:00:00+00:00"


def test_since_limits_the_feed_to_recent_changes(tmp_path):
    out = tmp_path / "recent.jsonl"
    result = run_feed(legacy_database(tmp_path), str(out), "--since", "2026-03-04 00:00:00")
    assert result.returncode == 1  # L-5004 (bad status) is recent too
    assert [json.loads(line)["OrderNumber"] for line in out.read_text().splitlines()] == ["L-5003"]
