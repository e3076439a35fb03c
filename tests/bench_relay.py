"""Relay benchmark: throughput to a local fake Flow Execution API, and the delay from the commit of
a change to the arrival of its notification (p50, p99).

    python -m tests.bench_relay [--events 1000] [--trickle 200] [--rate 20] [--relays 1]
                                [--database-url URL] [--poll 0.1] [--server-delay 0]

Two phases, each with ``--relays`` ``soap-orders relay`` processes posting to a threaded fake server
on 127.0.0.1:
1. backlog: ``--events`` notifications committed in one import, then the relays start; throughput is
   events over the time from the first arrival to the last.
2. trickle: relays running, ``--trickle`` changes committed one at a time at ``--rate`` per second;
   each notification's delay is its arrival time minus its change's commit time.
Without ``--database-url`` a SQLite file in a temporary directory is used. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from soap_orders.adapters import migrate
from soap_orders.adapters.database import create_database_engine
from soap_orders.documents.records import order_from_record
from soap_orders.ingest import orders as upserts
from tests.flow_server import Answer, FlowServer
from tests.integration.outbox_helpers import (
    Deadline,
    RelayProcess,
    base_record,
    delay,
    dg_environment,
    dg_settings,
    queue_delays,
    wired,
)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--trickle", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--relays", type=int, default=1)
    parser.add_argument("--database-url")
    parser.add_argument("--poll", type=float, default=0.1, help="SOAP_ORDERS_DG_POLL_INTERVAL of the relays")
    parser.add_argument("--server-delay", type=float, default=0.0, help="seconds the fake server takes per answer")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="bench-relay-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    engine = create_database_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM flow_outbox"))
    engine.dispose()

    with FlowServer() as server:
        server.default = Answer(delay=args.server_delay)
        dg = dg_settings(server.base_url, poll_interval=args.poll, batch_size=50, lease=30.0,
                         connect_timeout=2.0, read_timeout=5.0, max_attempts=10)
        deps = wired(url, dg)
        env = dg_environment(url, dg)
        relays: list[RelayProcess] = []
        try:
            run = f"{int(time.time())}"
            print(f"database {deps.engine.url.get_backend_name()}, {args.relays} relay(s), poll {args.poll} s, "
                  f"fake server delay {args.server_delay} s", file=sys.stderr)

            # 1. backlog
            queue_delays(deps, args.events, f"BL{run}")
            relays = [RelayProcess(env, workdir / f"relay-{i}.log") for i in range(args.relays)]
            if not server.wait_for(args.events, timeout=600):
                print(f"only {len(server.received)} of {args.events} arrived", file=sys.stderr)
                return 1
            arrivals = [r.at for r in server.received]
            span = max(arrivals) - min(arrivals)
            print(f"backlog:  {args.events} events in {span:.2f} s = {args.events / span:.0f} events/s")

            # 2. trickle
            numbers = [f"TR{run}-{i:05d}" for i in range(args.trickle)]
            records = [base_record(n) for n in numbers]
            upserts.upsert_orders(deps.uow(), [order_from_record(r) for r in records], deps.clock)
            committed: dict[str, float] = {}
            start = time.monotonic()
            for i, record in enumerate(records):
                target = start + i / args.rate
                time.sleep(max(0.0, target - time.monotonic()))
                changed = copy.deepcopy(record)
                delay(changed)
                upserts.upsert_orders(deps.uow(), [order_from_record(changed)], deps.clock)
                at = time.monotonic()
                with deps.engine.connect() as connection:
                    external_id = connection.execute(
                        text("SELECT external_id FROM flow_outbox WHERE order_number = :n"), {"n": record["OrderNumber"]}
                    ).scalar_one()
                committed[external_id] = at
            if not server.wait_for(args.events + args.trickle, timeout=120):
                print("not every trickled event arrived", file=sys.stderr)
                return 1
            delays = [r.at - committed[r.external_id] for r in server.received if r.external_id in committed]
            print(f"trickle:  {len(delays)} changes at {args.rate:g}/s, commit to delivery "
                  f"p50 {percentile(delays, 0.5) * 1000:.0f} ms, p99 {percentile(delays, 0.99) * 1000:.0f} ms, "
                  f"max {max(delays) * 1000:.0f} ms, mean {statistics.mean(delays) * 1000:.0f} ms")
            duplicates = len(server.received) - len({r.external_id for r in server.received})
            print(f"duplicates: {duplicates}")
        finally:
            for relay in relays:
                if relay.process.poll() is None:
                    relay.terminate(Deadline())
                relay.stop()
            deps.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
