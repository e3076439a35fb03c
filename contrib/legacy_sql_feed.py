#!/usr/bin/env python3
"""Feed orders from a legacy SQL order schema into soap_orders.

Reads the tables below from any database SQLAlchemy reaches (SQLite, PostgreSQL, MySQL, SQL
Server, ...) and writes one JSON Lines record per order in the format ``soap-orders import``
accepts. Adapt the queries and the status tables to your own schema; the shape of the output
is the contract (README, "Importing orders").

    .venv/bin/python contrib/legacy_sql_feed.py sqlite:///legacy.db orders.jsonl [--since 2026-03-01]
    .venv/bin/soap-orders import orders.jsonl

Run it from cron or a systemd timer with ``--since`` set to the last run: the import upserts
by order number, so a re-sent order updates the stored one.

The sample legacy schema (money in minor units, local codes for statuses and carriers)::

    CREATE TABLE customer   (cust_id INTEGER PRIMARY KEY, email TEXT NOT NULL, fname TEXT,
                             lname TEXT, tel TEXT);
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

Dates are stored as 'YYYY-MM-DD HH:MM:SS' in UTC.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

#: Legacy order status codes -> Order Status.
ORDER_STATUS = {
    "N": "PENDING", "A": "PROCESSING", "H": "ON_HOLD", "PS": "PARTIALLY_SHIPPED",
    "S": "SHIPPED", "D": "DELIVERED", "X": "CANCELLED",
}
#: Legacy payment codes -> FinancialStatus.
PAYMENT_STATUS = {"U": "PENDING", "A": "AUTHORIZED", "P": "PAID", "V": "VOIDED", "R": "REFUNDED"}
#: Legacy carrier codes -> (CarrierCode, CarrierName, tracking URL template).
CARRIERS = {
    "RM": ("royalmail", "Royal Mail", "https://www.royalmail.com/track-your-item#/tracking-results/{}"),
    "DHL": ("dhl", "DHL", "https://www.dhl.com/en/express/tracking.html?AWB={}"),
    "UPS": ("ups", "UPS", "https://www.ups.com/track?tracknum={}"),
}
#: Decimal places of the currencies this shop sells in (ISO 4217 minor units).
MINOR_UNITS = {"EUR": 2, "GBP": 2, "USD": 2, "JPY": 0, "KWD": 3}

ORDERS_SQL = """
SELECT h.order_id, h.order_no, h.order_date, h.status_cd, h.pay_status_cd, h.currency,
       h.ship_cents, h.tax_cents, h.disc_cents, h.ship_name, h.ship_addr1, h.ship_addr2, h.ship_city,
       h.ship_state, h.ship_zip, h.ship_country, h.modified,
       c.email, c.fname, c.lname, c.tel
FROM order_hdr h JOIN customer c ON c.cust_id = h.cust_id
{where}
ORDER BY h.order_id
"""
LINES_SQL = """
SELECT order_id, line_no, item_code, item_desc, qty, unit_cents, qty_shipped
FROM order_line WHERE order_id IN (SELECT h.order_id FROM order_hdr h {where})
ORDER BY order_id, line_no
"""
DESPATCH_SQL = """
SELECT despatch_id, order_id, carrier_cd, tracking_ref, despatched, delivered
FROM despatch WHERE order_id IN (SELECT h.order_id FROM order_hdr h {where})
ORDER BY order_id, despatch_id
"""
SINCE = "WHERE COALESCE(h.modified, h.order_date) >= :since"


class LegacyDataError(ValueError):
    """A legacy row that cannot be expressed in the import format."""


def amount(minor: int, currency: str) -> str:
    places = MINOR_UNITS.get(currency)
    if places is None:
        raise LegacyDataError(f"unknown currency {currency!r}")
    return f"{Decimal(minor).scaleb(-places):.{places}f}"


def timestamp(value: Any) -> str | None:
    if value in (None, ""):
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _drop_empty(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if value not in (None, "")}


def records(connection: Connection, since: str | None = None) -> Iterator[dict[str, Any] | LegacyDataError]:
    """One import record per legacy order (modified since ``since``, when given); an order that
    cannot be expressed is yielded as the error, so the others still go through."""
    where, params = (SINCE, {"since": since}) if since else ("", {})
    lines: dict[int, list[Any]] = defaultdict(list)
    for row in connection.execute(text(LINES_SQL.format(where=where)), params).mappings():
        lines[row["order_id"]].append(row)
    despatches: dict[int, list[Any]] = defaultdict(list)
    for row in connection.execute(text(DESPATCH_SQL.format(where=where)), params).mappings():
        despatches[row["order_id"]].append(row)
    for head in connection.execute(text(ORDERS_SQL.format(where=where)), params).mappings():
        try:
            yield order_record(head, lines[head["order_id"]], despatches[head["order_id"]])
        except LegacyDataError as error:
            yield error


def order_record(head: Any, lines: list[Any], despatches: list[Any]) -> dict[str, Any]:
    currency = head["currency"].strip().upper()
    try:
        status = ORDER_STATUS[head["status_cd"].strip()]
        financial = PAYMENT_STATUS[head["pay_status_cd"].strip()]
    except KeyError as error:
        raise LegacyDataError(f"order {head['order_no']}: unknown status code {error.args[0]!r}") from None
    subtotal = sum(line["qty"] * line["unit_cents"] for line in lines)
    total = subtotal + head["ship_cents"] + head["tax_cents"] - head["disc_cents"]
    shipped_lines = status in ("SHIPPED", "DELIVERED", "PARTIALLY_SHIPPED")
    record: dict[str, Any] = {
        "OrderNumber": head["order_no"],
        "CreatedAt": timestamp(head["order_date"]),
        "UpdatedAt": timestamp(head["modified"]),
        "Status": status,
        "FinancialStatus": financial,
        "Currency": currency,
        "Subtotal": amount(subtotal, currency),
        "ShippingTotal": amount(head["ship_cents"], currency),
        "TaxTotal": amount(head["tax_cents"], currency),
        "DiscountTotal": amount(head["disc_cents"], currency),
        "Total": amount(total, currency),
        "Customer": _drop_empty({
            "Email": head["email"].strip(), "FirstName": head["fname"], "LastName": head["lname"], "Phone": head["tel"],
        }),
        "Lines": [
            _drop_empty({
                "LineNumber": line["line_no"], "Sku": line["item_code"], "Name": line["item_desc"],
                "Quantity": line["qty"], "UnitPrice": amount(line["unit_cents"], currency),
                "QuantityShipped": line["qty_shipped"],
                "Status": ("DELIVERED" if status == "DELIVERED" else "SHIPPED") if shipped_lines
                and line["qty_shipped"] >= line["qty"] else ("CANCELLED" if status == "CANCELLED" else None),
            })
            for line in lines
        ],
    }
    address = _drop_empty({
        "Name": head["ship_name"], "Line1": head["ship_addr1"], "Line2": head["ship_addr2"],
        "City": head["ship_city"], "Region": head["ship_state"], "PostalCode": head["ship_zip"],
        "CountryCode": (head["ship_country"] or "").strip().upper(),
    })
    if address:
        record["ShippingAddress"] = address
    shipments = []
    for despatch in despatches:
        code, name, url = CARRIERS.get(despatch["carrier_cd"].strip(), (despatch["carrier_cd"].lower(), despatch["carrier_cd"], None))
        reference = (despatch["tracking_ref"] or "").strip()
        shipments.append(_drop_empty({
            "ShipmentId": f"{head['order_no']}-{despatch['despatch_id']}",
            "CarrierCode": code, "CarrierName": name,
            "TrackingNumber": reference, "TrackingUrl": url.format(reference) if url and reference else None,
            "Status": "DELIVERED" if despatch["delivered"] else "IN_TRANSIT",
            "ShippedAt": timestamp(despatch["despatched"]), "DeliveredAt": timestamp(despatch["delivered"]),
        }))
    if shipments:
        # The legacy schema does not say which lines went in which parcel: the first one carries
        # everything shipped.
        shipments[0]["Items"] = [{"Sku": line["item_code"], "Quantity": line["qty_shipped"]}
                                 for line in lines if line["qty_shipped"]]
        record["Shipments"] = shipments
    return _drop_empty(record)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write legacy SQL orders as JSON Lines for `soap-orders import`.")
    parser.add_argument("database_url", help="SQLAlchemy URL of the legacy database")
    parser.add_argument("output", type=Path, help="JSON Lines file to write ('-' for standard output)")
    parser.add_argument("--since", help="only orders created or modified at or after this UTC time (YYYY-MM-DD[ HH:MM:SS])")
    args = parser.parse_args(argv)
    engine = create_engine(args.database_url)
    written = failed = 0
    out = sys.stdout if str(args.output) == "-" else args.output.open("w", encoding="utf-8")
    try:
        with engine.connect() as connection:
            for record in records(connection, args.since):
                if isinstance(record, LegacyDataError):
                    print(f"skipped: {record}", file=sys.stderr)
                    failed += 1
                    continue
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                written += 1
    finally:
        if out is not sys.stdout:
            out.close()
        engine.dispose()
    print(f"{written} orders written, {failed} skipped.", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
