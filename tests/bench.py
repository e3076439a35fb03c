"""Throughput and latency of the four operations against a real gunicorn server on 127.0.0.1.

Run with ``make bench``. Loads demo orders into a fresh SQLite file (or, with ``--postgres``, the
database named by SOAP_ORDERS_TEST_DATABASE_URL), starts the server with the shipped gunicorn
settings, and drives each operation from several client threads for a bounded number of requests.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests

from soap_orders.adapters import migrate
from soap_orders.adapters.database import create_database_engine
from soap_orders.bootstrap import build_dependencies
from soap_orders.demo import generate_records
from soap_orders.documents.records import order_from_record
from soap_orders.service import orders as use_cases
from tests.server import settings_for_tests

_runs = itertools.count()
ENVELOPE = ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:o="urn:soap-orders:orders:v1"><s:Body>{}</s:Body></s:Envelope>')


def load(database_url: str, count: int) -> list[dict]:
    engine = create_database_engine(database_url)
    migrate.upgrade(engine)
    engine.dispose()
    deps = build_dependencies(settings_for_tests(database_url))
    records = list(generate_records(count, seed=7))
    for start in range(0, len(records), 500):
        batch = [order_from_record(r) for r in records[start:start + 500]]
        use_cases.upsert_orders(deps.uow(), batch, deps.clock)
    deps.engine.dispose()
    return records


def drive(url: str, make_body: Callable[[int], str], requests_total: int, threads: int,
          credentials: tuple[str, str]) -> tuple[float, list[float], int]:
    counter = itertools.count()
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()

    run = next(_runs)

    def worker() -> None:
        nonlocal failures
        session = requests.Session()
        session.auth = credentials
        while (i := next(counter)) < requests_total:
            body = make_body(i).replace("{run}", str(run)).encode()
            started = time.perf_counter()
            response = session.post(url, data=body, headers={"Content-Type": "text/xml"}, timeout=30)
            elapsed = time.perf_counter() - started
            if response.status_code != 200 and os.environ.get("BENCH_SHOW_FAILURES"):
                print(response.text[:600])
            with lock:
                latencies.append(elapsed)
                failures += response.status_code != 200
        session.close()

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.perf_counter() - started, latencies, failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=600, help="requests per operation")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()

    from tests.server import Server

    with tempfile.TemporaryDirectory() as directory:
        if args.postgres:
            from tests.conftest import PG_SCHEMA, _fresh_postgres

            base = os.environ.get("SOAP_ORDERS_TEST_DATABASE_URL")
            if not base:
                raise SystemExit("--postgres needs SOAP_ORDERS_TEST_DATABASE_URL")
            database_url = _fresh_postgres(base, PG_SCHEMA + "_bench")
        else:
            database_url = f"sqlite:///{Path(directory) / 'bench.sqlite3'}"
        records = load(database_url, args.orders)
        rng = random.Random(7)
        emails = sorted({r["Customer"]["Email"] for r in records})
        numbers = [r["OrderNumber"] for r in records]
        paid = [r["OrderNumber"] for r in records
                if r["FinancialStatus"] in ("PAID", "PARTIALLY_REFUNDED") and r["Currency"] != "JPY"]
        cancellable = [r["OrderNumber"] for r in records if r["Status"] in ("PENDING", "PROCESSING", "ON_HOLD")]
        server = Server(database_url, Path(directory) / "gunicorn.log", workers=args.workers)
        try:
            scenarios: dict[str, Callable[[int], str]] = {
                "GetOrder": lambda i: ENVELOPE.format(
                    f"<o:GetOrder><o:OrderNumber>{rng.choice(numbers)}</o:OrderNumber></o:GetOrder>"),
                "FindOrdersByEmail": lambda i: ENVELOPE.format(
                    f"<o:FindOrdersByEmail><o:Email>{rng.choice(emails)}</o:Email></o:FindOrdersByEmail>"),
                "IssueRefund": lambda i: ENVELOPE.format(
                    f"<o:IssueRefund><o:OrderNumber>{rng.choice(paid)}</o:OrderNumber><o:RequestId>bench-r-{{run}}-{i}</o:RequestId>"
                    "<o:Reason>OTHER</o:Reason><o:Amount>0.01</o:Amount></o:IssueRefund>"),
                "CancelOrder": lambda i: ENVELOPE.format(
                    f"<o:CancelOrder><o:OrderNumber>{rng.choice(cancellable)}</o:OrderNumber><o:RequestId>bench-c-{{run}}-{i}</o:RequestId>"
                    "<o:Reason>CUSTOMER</o:Reason></o:CancelOrder>"),
            }
            kind = "PostgreSQL" if args.postgres else "SQLite"
            print(f"{args.orders} orders on {kind}; {args.workers} gunicorn workers; {args.threads} client threads; "
                  f"{args.requests} requests per operation")
            print(f"{'operation':<20}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'failed':>8}")
            for name, make_body in scenarios.items():
                drive(server.soap_url, make_body, 20, args.threads, server.credentials)  # warm-up
                elapsed, latencies, failures = drive(server.soap_url, make_body, args.requests, args.threads,
                                                     server.credentials)
                cuts = statistics.quantiles(latencies, n=100)
                print(f"{name:<20}{len(latencies) / elapsed:>8.0f}{cuts[49] * 1000:>9.1f}"
                      f"{cuts[94] * 1000:>9.1f}{cuts[98] * 1000:>9.1f}{failures:>8}")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
