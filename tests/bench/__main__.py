"""``make bench``: the service under wrk beside the floor, on SQLite and PostgreSQL, 10k and 1M orders,
and ``soap-orders import`` of 20k and 1M orders.

    python -m tests.bench            # the full run (PostgreSQL when SOAP_ORDERS_BENCH_DATABASE_URL is set)
    python -m tests.bench --quick    # 10k orders on SQLite only, short rounds
    python -m tests.bench --pgbouncer-only   # GetOrder and IssueRefund on PostgreSQL, direct and
                                             # through PgBouncer (transaction pooling), side by side
    python -m tests.bench --ingest-only      # only the ingest runs (soap-orders import, see
                                             # tests/bench/ingest.py): their section of bench/results.md
                                             # and their rows of its targets table
    python -m tests.bench --ingest-sizes 20000   # the ingest runs without the 1M-order ones (which
                                             # take about an hour per database)
    python -m tests.bench --profile-writes   # every writing call in process only, no HTTP (a 40k-order
                                             # data set built afresh, SQLite and PostgreSQL): CPU and
                                             # statements per request, the statements of one request,
                                             # where the time goes; their section of bench/results.md

The writing calls: IssueRefund, UpsertOrders (SOAP and JSON; every request creates new orders),
ChangeShippingAddress and RecordShipment are loaded over HTTP, each request a real change; the
calls that can be made once per order (CancelOrder, CancelOrderLines, a new shipment, CreateReturn,
IssueReplacement, UpdateReturn) only in process, on orders of their own (tests/bench/writes.py).

On PostgreSQL, GetOrder and IssueRefund are also measured through PgBouncer in transaction pooling
mode (Debian's pgbouncer, started on a free port of 127.0.0.1 in front of the same data set, with
SOAP_ORDERS_DATABASE_POOL_MODE=transaction), when it is installed.

Every target (each service, then the floor) is started first; then each round loads every call
at 8 and 64 connections on every target in turn, the targets' order rotating from round to
round, so that a drift of the machine touches all of them alike. Figures are medians over the
rounds; ratios compare with the floor measured in the same run. See README, "Benchmarks".
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.pgbouncer import MISSING as PGBOUNCER_MISSING
from tests.pgbouncer import PgBouncer
from tests.server import ROOT, add_client

from . import dataset, ingest, report, writes
from .load import Call, Measured, Wrk, operation, write_script
from .profile import profile_calls
from .servers import Process, floor, service

ENVELOPE = writes.ENVELOPE
SOAP_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json"
RID = "@RID@"
#: Each load of UpsertOrders lasts at least this long (its requests take a second or more each), at
#: the target's 8 connections only: at 64, most requests would wait past wrk's 10 s timeout.
UPSERT_SECONDS, UPSERT_CONNECTIONS = 10.0, (8,)
CONNECTIONS = (8, 64)
#: The calls measured through PgBouncer beside the direct connections.
POOLED_CALLS = ("GetOrder", "IssueRefund")
#: Server connections PgBouncer opens to PostgreSQL for the two workers' pools (2 x (8 + 4)).
POOLED_SERVER_CONNECTIONS = 10


def calls_for(plan: dataset.Plan, pools: dataset.Pools | None = None) -> list[Call]:
    """The calls loaded over HTTP (and profiled in process), on ``plan``'s data set; with ``pools``,
    the writing calls beyond IssueRefund too (``writes``), those made once per order only when the
    pools hold orders for them."""
    calls = [
        Call("GetOrder", "/soap", SOAP_TYPE, tuple(
            ENVELOPE.format(f"<o:GetOrder><o:OrderNumber>{n}</o:OrderNumber></o:GetOrder>") for n in plan.get_numbers)),
        Call("FindOrdersByEmail", "/soap", SOAP_TYPE, (ENVELOPE.format(
            f"<o:FindOrdersByEmail><o:Email>{plan.find_email}</o:Email></o:FindOrdersByEmail>"),)),
        Call("IssueRefund", "/soap", SOAP_TYPE, tuple(ENVELOPE.format(
            f"<o:IssueRefund><o:OrderNumber>{n}</o:OrderNumber><o:RequestId>bench-{RID}</o:RequestId>"
            "<o:Reason>OTHER</o:Reason><o:Amount>0.01</o:Amount></o:IssueRefund>") for n in plan.refund_numbers),
             expect="REFUNDED", request_id_marker=RID),
        Call("JSON GetOrder", "/json/GetOrder", JSON_TYPE, tuple(
            json.dumps({"OrderNumber": n}) for n in plan.get_numbers)),
        Call("JSON FindOrdersByEmail", "/json/FindOrdersByEmail", JSON_TYPE, (json.dumps({"Email": plan.find_email}),)),
    ]
    if pools is None:
        return calls
    calls += [
        Call("UpsertOrders", "/soap", SOAP_TYPE, (writes.upsert_soap(RID, ENVELOPE, writes.soap_batch(ENVELOPE)),),
             expect=f"CreatedCount>{writes.soap_batch(ENVELOPE)}<", request_id_marker=RID,
             min_seconds=UPSERT_SECONDS, connections=UPSERT_CONNECTIONS),
        Call("JSON UpsertOrders", "/json/UpsertOrders", JSON_TYPE, (writes.upsert_json(RID),),
             expect=f'"CreatedCount":{writes.UPSERT_BATCH},', request_id_marker=RID, min_seconds=UPSERT_SECONDS,
             connections=UPSERT_CONNECTIONS),
        Call("ChangeShippingAddress", "/soap", SOAP_TYPE,
             tuple(writes.address_soap(n, RID, ENVELOPE) for n in pools.address),
             expect=">ADDRESS_CHANGED<", request_id_marker=RID),
        Call("RecordShipment", "/soap", SOAP_TYPE,
             tuple(writes.tracking_soap(n, shipment, RID, ENVELOPE) for n, shipment in pools.shipments),
             expect=">SHIPMENT_RECORDED<", request_id_marker=RID),
    ]
    half = len(pools.delivered) // 2
    once = [
        Call("CancelOrder", "/soap", SOAP_TYPE, tuple(writes.cancel_soap(n, RID, ENVELOPE) for n in pools.cancel),
             expect=">CANCELLED<", request_id_marker=RID),
        Call("CancelOrderLines", "/soap", SOAP_TYPE,
             tuple(writes.cancel_lines_soap(n, RID, ENVELOPE) for n in pools.cancel_lines),
             expect=">LINES_CANCELLED<", request_id_marker=RID),
        Call("RecordShipment (new shipment)", "/soap", SOAP_TYPE,
             tuple(writes.new_shipment_soap(n, sku, RID, ENVELOPE) for n, sku in pools.ship),
             expect=">SHIPMENT_RECORDED<", request_id_marker=RID),
        Call("CreateReturn", "/soap", SOAP_TYPE,
             tuple(writes.create_return_soap(n, RID, ENVELOPE) for n in pools.delivered[:half]),
             expect=">RETURN_CREATED<", request_id_marker=RID),
        Call("IssueReplacement", "/soap", SOAP_TYPE,
             tuple(writes.replacement_soap(n, RID, ENVELOPE) for n in pools.delivered[half:]),
             expect=">REPLACEMENT_ISSUED<", request_id_marker=RID),
        Call("UpdateReturn", "/soap", SOAP_TYPE,
             tuple(writes.update_return_soap(n, rma, RID, ENVELOPE) for n, rma in pools.returns),
             expect=">RETURN_UPDATED<", request_id_marker=RID),
    ]
    return calls + [call for call in once if call.bodies]


#: The writing calls loaded over HTTP: each request a real change, as many times as the rounds last.
HTTP_WRITES = ("IssueRefund", "UpsertOrders", "JSON UpsertOrders", "ChangeShippingAddress", "RecordShipment")
#: The writing calls that can be made once per order: measured in process only (--profile-writes), on
#: a data set built afresh for it, each request on an order of its own.
ONCE_WRITES = ("CancelOrder", "CancelOrderLines", "RecordShipment (new shipment)", "CreateReturn",
               "IssueReplacement", "UpdateReturn")
#: The writing operations of the contract measured in neither way, and why.
NOT_MEASURED = (
    ("ForgetCustomer", "irreversible per customer and refused while a return or refund is open; the bench "
                       "data set is not arranged for it"),
    ("CancelSubscription, PauseSubscription, ResumeSubscription, ChangeSubscriptionPlan, SkipNextOrder, "
     "RefundSubscriptionCharge, UpsertSubscriptions, RecordCharge", "the bench data sets hold orders only, no "
                                                                   "subscriptions"),
)


@dataclass
class Target:
    name: str
    process: Process
    authorization: str
    calls: list[Call]
    available: dict[str, bool] = field(default_factory=dict)
    results: dict[tuple[str, int], list[Measured]] = field(default_factory=dict)
    rss_mb: list[float] = field(default_factory=list)


def _probe(target: Target, call: Call, run_token: str) -> requests.Response:
    # An id of the call's own: two calls sending the same RequestId would be an idempotency conflict.
    probe = f"probe-{run_token}-{target.calls.index(call)}"
    body = call.bodies[0].replace(call.request_id_marker, probe) if call.request_id_marker else call.bodies[0]
    return requests.post(target.process.base_url + call.path, data=body.encode(),
                         headers={"Content-Type": call.content_type, "Authorization": target.authorization}, timeout=30)


def check_calls(target: Target, run_token: str, log: Any) -> None:
    """Each call once: answered as expected, or (HTTP 404) not available on this build."""
    for call in target.calls:
        answer = _probe(target, call, run_token)
        if answer.status_code == 404:
            target.available[call.name] = False
            log(f"  {target.name}: {call.name} not available (HTTP 404)")
            continue
        if answer.status_code != 200 or (call.expect and call.expect not in answer.text):
            raise RuntimeError(f"{target.name}: {call.name} answered {answer.status_code}: {answer.text[:400]}")
        target.available[call.name] = True


def capture(target: Target, run_token: str) -> dict[str, Any]:
    """The answers the floor replays: the service's own, for the same paths and bodies."""
    by_body: list[list[Any]] = []
    by_operation: list[list[Any]] = []
    by_path: dict[str, Any] = {"/health": ["200 OK", [["Content-Type", "application/json"]], '{"status": "ok"}']}
    with requests.Session() as session:
        for index, call in enumerate(target.calls):
            if not target.available.get(call.name):
                continue
            bodies = [call.bodies[0]] if call.request_id_marker else list(call.bodies)
            for body in bodies:
                sent = body.replace(call.request_id_marker, f"capture-{run_token}-{index}") \
                    if call.request_id_marker else body
                answer = session.post(target.process.base_url + call.path, data=sent.encode(), timeout=30,
                                      headers={"Content-Type": call.content_type, "Authorization": target.authorization})
                headers = [[k, v] for k, v in answer.headers.items()
                           if k.lower() not in ("date", "server", "connection", "content-length", "transfer-encoding")]
                entry = [f"{answer.status_code} {answer.reason}", headers, answer.text]
                if call.request_id_marker:
                    by_operation.append([call.path, operation(sent.encode()).decode(), *entry])
                    by_path.setdefault(call.path, entry)
                else:
                    by_body.append([call.path, body, *entry])
                    by_path.setdefault(call.path, entry)
    return {"by_body": by_body, "by_operation": by_operation, "by_path": by_path}


#: Length of each load of the memory run.
MEMORY_CHUNK_SECONDS = 10


def combined(chunks: list[Measured]) -> Measured:
    """Several loads as one: requests, time, failures and CPU added up; the worst p50 and p99."""
    return Measured(
        requests=sum(c.requests for c in chunks), seconds=sum(c.seconds for c in chunks),
        p50_ms=max(c.p50_ms for c in chunks), p99_ms=max(c.p99_ms for c in chunks),
        failed=sum(c.failed for c in chunks), server_cpu_s=sum(c.server_cpu_s for c in chunks),
        wrk_cpu_s=sum(c.wrk_cpu_s for c in chunks),
    )


@dataclass(frozen=True)
class Mode:
    quick: bool
    sizes: tuple[int, ...]
    kinds: tuple[str, ...]
    rounds: int
    seconds: float
    warmup: float
    rss_requests: int
    rss_seconds: float
    #: Measure POOLED_CALLS through PgBouncer too, on each PostgreSQL data set.
    pgbouncer: bool = False
    #: Only that: PostgreSQL direct and through PgBouncer, no floor, memory run or profiles.
    pgbouncer_only: bool = False


def parse_mode(argv: list[str]) -> tuple[Mode, argparse.Namespace]:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10k orders on SQLite only, two short rounds")
    parser.add_argument("--rounds", type=int, help="rounds (default 3; quick 2)")
    parser.add_argument("--seconds", type=float, help="seconds per load (default 5; quick 2)")
    parser.add_argument("--sizes", help="comma-separated order counts (default 10000,1000000; quick 10000)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--rss-seconds", type=float, help="bound of the 100k-request memory run (default 420; quick 15)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the data sets even when kept ones match")
    parser.add_argument("--out", type=Path, help="results file (default bench/results.md; quick bench/results-quick.md; "
                                                  "--pgbouncer-only bench/results-pgbouncer.md)")
    parser.add_argument("--pgbouncer-only", action="store_true",
                        help="GetOrder and IssueRefund on PostgreSQL (default 10k orders), directly and through PgBouncer")
    parser.add_argument("--ingest-only", action="store_true",
                        help="only the ingest runs; their section of the results file is replaced, the rest kept")
    parser.add_argument("--profile-writes", action="store_true",
                        help="only the writing calls in process (no HTTP): CPU and SQL statements per request, the "
                             "statements of one request and the functions where the time goes; their section of the "
                             "results file is replaced, the rest kept")
    parser.add_argument("--profile-requests", type=int, default=400,
                        help="requests per timed run of --profile-writes (default 400)")
    parser.add_argument("--ingest-sizes",
                        help="comma-separated order counts of the ingest runs (default 20000,1000000; quick 20000; "
                             "0 for none)")
    parser.add_argument("--ingest-timeout", type=float, default=ingest.TIMEOUT,
                        help=f"seconds after which an import command is stopped (default {ingest.TIMEOUT:.0f})")
    args = parser.parse_args(argv)
    postgres = bool(os.environ.get("SOAP_ORDERS_BENCH_DATABASE_URL")) and not args.no_postgres and not args.quick
    if args.pgbouncer_only and (not postgres or PGBOUNCER_MISSING):
        parser.error(PGBOUNCER_MISSING or "--pgbouncer-only needs SOAP_ORDERS_BENCH_DATABASE_URL (and not --quick)")
    quick_sizes = args.quick or args.pgbouncer_only
    sizes = tuple(int(s) for s in args.sizes.split(",")) if args.sizes else ((10_000,) if quick_sizes else (10_000, 1_000_000))
    kinds = ("postgresql",) if args.pgbouncer_only else ("sqlite", "postgresql") if postgres else ("sqlite",)
    mode = Mode(
        quick=args.quick, sizes=sizes, kinds=kinds,
        rounds=args.rounds or (2 if args.quick else 3), seconds=args.seconds or (2 if args.quick else 5),
        warmup=1 if args.quick else 2, rss_requests=100_000,
        rss_seconds=args.rss_seconds or (15 if args.quick else 420),
        pgbouncer=postgres and not PGBOUNCER_MISSING, pgbouncer_only=args.pgbouncer_only,
    )
    if postgres and PGBOUNCER_MISSING:
        print(f"Not measured through PgBouncer: {PGBOUNCER_MISSING}")
    if args.ingest_sizes is None:
        args.ingest_sizes = "20000" if args.quick else "20000,1000000"
    if args.out is None:
        name = "results-quick.md" if args.quick else "results-pgbouncer.md" if args.pgbouncer_only else "results.md"
        args.out = ROOT / "bench" / name
    return mode, args


def _interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def ingest_runs(mode: Mode, args: argparse.Namespace, log: Any) -> tuple[list[str], list[report.TargetRow]]:
    """The ingest runs (before any server is started, so that they have the machine to themselves),
    as the lines of their section of the results file and their rows of the targets table."""
    sizes = tuple(int(s) for s in args.ingest_sizes.split(",") if int(s) > 0)
    if not sizes:
        return [], []
    began, load_at_start = time.monotonic(), os.getloadavg()
    kinds = ("sqlite", "postgresql") if os.environ.get("SOAP_ORDERS_BENCH_DATABASE_URL") and not args.no_postgres \
        and not mode.quick else ("sqlite",)
    profile: dict[str, list[tuple[str, float]]] = {}
    found = ingest.run(kinds, sizes, os.environ.get("SOAP_ORDERS_BENCH_DATABASE_URL"), log, profile=profile,
                       timeout=args.ingest_timeout)
    rows = [report.TargetRow(what, measured, met, report.INGEST_PROFILE if met is False else "")
            for what, measured, met in ingest.target_rows(found)]
    return ingest.render(found, ingest.machine_state(load_at_start, began)) + ingest.render_profile(profile), rows


def main(argv: list[str]) -> int:
    mode, args = parse_mode(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    if args.profile_writes:
        return profile_writes(mode, args, print)
    if args.ingest_only:
        section, rows = ingest_runs(mode, args, print)
        before = args.out.read_text() if args.out.exists() else "# Benchmark results\n"
        args.out.write_text(report.replace_target_rows(ingest.replace_section(before, section), rows, "Ingest:"))
        print(f"Wrote the ingest section of {args.out}")
        return 0
    began = time.monotonic()
    ingest_section, ingest_rows = ([], []) if mode.pgbouncer_only else ingest_runs(mode, args, print)
    load_at_start = os.getloadavg()
    run_token = time.strftime("%Y%m%d%H%M%S")
    log = print
    processes: list[Process] = []
    bouncers: list[PgBouncer] = []
    wrk = Wrk()
    with tempfile.TemporaryDirectory(prefix="soap-orders-bench-") as scratch:
        work = Path(scratch)
        try:
            log(f"Data sets ({', '.join(mode.kinds)}; {', '.join(f'{n:,}' for n in mode.sizes)} orders):")
            data_began = time.monotonic()
            plans = {(kind, size): dataset.prepare(kind, size, ROOT / "var" / "bench",
                                                   os.environ.get("SOAP_ORDERS_BENCH_DATABASE_URL"),
                                                   rebuild=args.rebuild, log=log)
                     for kind in mode.kinds for size in mode.sizes}
            data_seconds = time.monotonic() - data_began

            targets: list[Target] = []
            direct: dict[tuple[str, int], Target] = {}
            for (kind, size), plan in plans.items():
                name = f"{'SQLite' if kind == 'sqlite' else 'PostgreSQL'} {report.count(size)}"
                client = f"bench-{run_token}"
                secret = add_client(plan.database_url, client, SCOPES, digest=False)
                process = service(name, plan.database_url, work / f"{kind}-{size}.log")
                processes.append(process)
                authorization = "Basic " + base64.b64encode(f"{client}:{secret}".encode()).decode()
                calls = calls_for(plan, None if mode.pgbouncer_only else dataset.pools(plan.database_url))
                if mode.pgbouncer_only:
                    calls = [c for c in calls if c.name in POOLED_CALLS]
                direct[kind, size] = Target(name, process, authorization, calls)
                targets.append(direct[kind, size])
                if kind == "postgresql" and mode.pgbouncer:
                    bouncer = PgBouncer(plan.database_url, server_connections=POOLED_SERVER_CONNECTIONS)
                    bouncers.append(bouncer)
                    pooled = service(f"{name} via PgBouncer", bouncer.url, work / f"{kind}-{size}-pgbouncer.log",
                                     settings={"SOAP_ORDERS_DATABASE_POOL_MODE": "transaction"})
                    processes.append(pooled)
                    targets.append(Target(pooled.name, pooled, authorization,
                                          [c for c in calls_for(plan) if c.name in POOLED_CALLS]))
            for target in targets:
                target.process.wait_until_ready()
                check_calls(target, run_token, log)
            if mode.pgbouncer_only:
                return _pooled_only(mode, args, targets, wrk, work, run_token, plans, load_at_start, began,
                                    data_seconds, log)
            # The floor replays the first target's answers, for the same request bodies.
            reference = targets[0]
            floor_answers = work / "floor.json"
            floor_answers.write_text(json.dumps(capture(reference, run_token)))
            floor_process = floor(floor_answers, work / "floor.log")
            processes.append(floor_process)
            floor_process.wait_until_ready()
            floor_target = Target("floor", floor_process, reference.authorization, reference.calls,
                                  available=dict(reference.available))
            everyone = [*targets, floor_target]
            calls = [c.name for c in reference.calls]

            scripts: dict[tuple[str, str], Path] = {}
            for index, target in enumerate(everyone):
                for spec in target.calls:
                    scripts[target.name, spec.name] = write_script(
                        work / f"t{index}-{spec.name.replace(' ', '_')}.lua", spec, target.authorization, run_token)

            def measure(target: Target, call: str, connections: int, seconds: float, warm_up: bool = False) -> Measured:
                spec = next(c for c in target.calls if c.name == call)
                return wrk.run(target.process.base_url + spec.path, scripts[target.name, call], connections,
                               max(seconds, spec.min_seconds), target.process.group, allow_empty=warm_up)

            log("Warm-up")
            for target in everyone:
                for call in calls:
                    if target.available.get(call):
                        measure(target, call, CONNECTIONS[0], mode.warmup, warm_up=True)
            run_rounds(everyone, calls, mode, measure, log)

            # Memory after many requests: a fresh service on the first data set, recycling off so that
            # the same two workers serve every request, GetOrder at 64 connections.
            log(f"Memory: up to {mode.rss_requests:,} GetOrder requests (at most {mode.rss_seconds:.0f} s), "
                "worker recycling off")
            first_plan = next(iter(plans.values()))
            memory_process = service("memory", first_plan.database_url, work / "memory.log",
                                     gunicorn_args="--max-requests 0")
            processes.append(memory_process)
            memory_process.wait_until_ready()
            get_order = reference.calls[0]
            script = write_script(work / "memory.lua", get_order, reference.authorization, run_token)
            rss_before = memory_process.worker_rss_mb()
            # wrk runs for its whole duration even once its threads stop, so load in short runs
            # until the count is reached (or the bound passes).
            chunks: list[Measured] = []
            while sum(c.requests for c in chunks) < mode.rss_requests:
                left = mode.rss_seconds - sum(c.seconds for c in chunks)
                if left < 1:
                    break
                chunks.append(wrk.run(memory_process.base_url + get_order.path, script, CONNECTIONS[1],
                                      min(MEMORY_CHUNK_SECONDS, left), memory_process.group))
            memory = combined(chunks)
            rss_after = memory_process.worker_rss_mb()
            log(f"  {memory.requests:,} requests in {memory.seconds:.0f} s; worker RSS {rss_before} -> {rss_after} MB")

            memory_process.stop()

            # Where the time goes, in process: every call on the first data set, and IssueRefund (the
            # write) on each PostgreSQL one.
            log("Profiles (in process)")
            # UpsertOrders (100 orders a request) is profiled by --profile-writes, with fewer requests.
            profiles = profile_calls(first_plan.database_url, reference.name, reference.calls,
                                     reference.authorization, run_token,
                                     names=tuple(c.name for c in reference.calls if c.name not in UPSERT_CALLS))
            for (kind, size), plan in plans.items():
                target = direct[kind, size]
                if kind == "postgresql" and target is not reference:
                    profiles += profile_calls(plan.database_url, target.name, target.calls, target.authorization,
                                              run_token, names=("IssueRefund",))
            for found in profiles:
                log(f"  {found.target:<16} {found.call:<22} {found.cpu_ms:6.2f} ms CPU per request in process")

            machine = report.machine(plans, load_at_start)
            elapsed = time.monotonic() - began
            text = report.render(mode, machine, targets, floor_target, calls, CONNECTIONS,
                                 report.MemoryRun(memory, rss_before, rss_after), data_seconds, elapsed, profiles,
                                 [*ingest_rows, coverage_row()])
            if ingest_section:
                text = ingest.replace_section(text, ingest_section)
            # The single-write section (--profile-writes, dated) is kept from the file written before.
            kept_writes = report.section_of(args.out.read_text(), report.WRITES_HEADING) if args.out.exists() else None
            if kept_writes:
                text = report.replace_section(text, report.WRITES_HEADING, kept_writes)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(text)
            log(f"Wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out} "
                f"in {elapsed / 60:.1f} min")
            return 0
        finally:
            wrk.stop()
            for process in reversed(processes):
                process.stop()
            for bouncer in bouncers:
                bouncer.stop()


#: The calls --profile-writes measures: every writing call the benchmark sends.
WRITING_CALLS = (*HTTP_WRITES, *ONCE_WRITES)
UPSERT_CALLS = ("UpsertOrders", "JSON UpsertOrders")


def upsert_requests(requests: int) -> int:
    return max(requests // 10, 10)


#: The size of the data set --profile-writes builds afresh each time (its pools must hold enough
#: orders for each once-per-order call: warm-up, one request, the timed and the profiled runs).
WRITES_SIZE = 40_000
#: The in-process application's return window for CreateReturn: the demo orders were delivered up to
#: a year before today, beyond the default 30 days (SOAP_ORDERS_RETURN_WINDOW_DAYS allows up to 3650).
WRITES_SETTINGS = {"return_window_days": 3650}
SCOPES = ("orders:read", "orders:act", "erp")


def profile_writes(mode: Mode, args: argparse.Namespace, log: Any) -> int:
    """--profile-writes: each writing call sent through the application in this process, timed, its
    statements counted, then profiled by CPU time (waits on the database left out), on a data set of
    each database built afresh so that every request makes a real change (the calls that can be
    made once per order each get orders of their own)."""
    kinds = ("sqlite", "postgresql") if os.environ.get("SOAP_ORDERS_BENCH_DATABASE_URL") and not args.no_postgres \
        and not mode.quick else ("sqlite",)
    run_token = time.strftime("%Y%m%d%H%M%S")
    load_at_start = os.getloadavg()
    found_all: list[Any] = []
    needed = 21 + 2 * args.profile_requests  # profile.profile_calls: warm-up, one request, timed, profiled
    for kind in kinds:
        plan = dataset.prepare(kind, WRITES_SIZE, ROOT / "var" / "bench", os.environ.get("SOAP_ORDERS_BENCH_DATABASE_URL"),
                               rebuild=True, log=log, name="writes")
        pools = dataset.pools(plan.database_url, once=needed)
        short = {name: len(pool) for name, pool in (("CancelOrder", pools.cancel), ("CancelOrderLines", pools.cancel_lines),
                                                     ("RecordShipment (new shipment)", pools.ship),
                                                     ("CreateReturn and IssueReplacement", pools.delivered[:needed]),
                                                     ("UpdateReturn", pools.returns)) if len(pool) < needed}
        if short:
            raise RuntimeError(f"the {WRITES_SIZE:,}-order data set has too few orders for {short} "
                               f"({needed} each needed; lower --profile-requests)")
        client = f"bench-{run_token}"
        secret = add_client(plan.database_url, client, SCOPES, digest=False)
        authorization = "Basic " + base64.b64encode(f"{client}:{secret}".encode()).decode()
        name = f"{'SQLite' if kind == 'sqlite' else 'PostgreSQL'} {report.count(WRITES_SIZE)}"
        calls = calls_for(plan, pools)
        # An UpsertOrders request writes 80 or 100 orders: a tenth as many requests.
        upserts = profile_calls(plan.database_url, name, calls, authorization, f"{run_token}-u",
                                names=UPSERT_CALLS, threads=False, requests=upsert_requests(args.profile_requests),
                                cpu_timer=True, layers=30, settings=WRITES_SETTINGS)
        others = profile_calls(plan.database_url, name, calls, authorization, run_token,
                               names=tuple(c for c in WRITING_CALLS if c not in UPSERT_CALLS), threads=False,
                               requests=args.profile_requests, cpu_timer=True, layers=30, settings=WRITES_SETTINGS)
        for found in sorted([*upserts, *others], key=lambda p: WRITING_CALLS.index(p.call)):
            found_all.append(found)
            sent = upsert_requests(args.profile_requests) if found.call in UPSERT_CALLS else args.profile_requests
            log(f"\n{found.call} on {found.target}: {found.cpu_ms:.2f} ms CPU per request, "
                f"{found.statements:.1f} statements and {found.function_calls:,.0f} Python function calls per "
                f"request ({sent} requests)")
            log("  statements of one request:")
            for number, statement in enumerate(found.one_request, 1):
                log(f"    {number:2}. {statement}")
            log("  by time with callees:")
            for spot in found.cumulative:
                log(f"    {100 * spot.total_share:5.1f}%  {100 * spot.own_share:5.1f}% own  {spot.function}")
            log("  by own time:")
            for spot in found.hotspots:
                log(f"    {100 * spot.own_share:5.1f}%  {spot.function}")
        dataset.drop(kind, WRITES_SIZE, ROOT / "var" / "bench", os.environ.get("SOAP_ORDERS_BENCH_DATABASE_URL"),
                     name="writes")
    section = report.writes_section(found_all, args.profile_requests, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                    (load_at_start[0], os.getloadavg()[0]), coverage())
    before = args.out.read_text() if args.out.exists() else "# Benchmark results\n"
    text = report.replace_section(before, report.WRITES_HEADING, section)
    args.out.write_text(report.replace_target_rows(text, [coverage_row()], report.COVERAGE_PREFIX))
    log(f"Wrote the single-write section of {args.out}")
    return 0


def coverage() -> list[tuple[str, str, str]]:
    """Every writing operation of the contract: (operation, how it is measured, why)."""
    once_why = "can be made once per order: distinct orders of a data set built afresh"
    rows = [(name, "over HTTP (rounds) and in process", "repeatable, a real change every time")
            for name in HTTP_WRITES if not name.startswith("JSON ")]
    rows += [(name, "in process only (`--profile-writes`)", once_why) for name in ONCE_WRITES]
    rows += [(name, "not measured", why) for name, why in NOT_MEASURED]
    return rows


def coverage_row() -> report.TargetRow:
    left_out = [name for name, why in NOT_MEASURED]
    return report.TargetRow(
        f"{report.COVERAGE_PREFIX} every writing operation measured, over HTTP or in process",
        f"over HTTP: {', '.join(n for n in HTTP_WRITES)}; in process only: {', '.join(ONCE_WRITES)}; "
        f"not measured: {'; '.join(left_out)}", not left_out, f"{report.WRITES_PROFILE}: which and why")


def run_rounds(everyone: list[Target], calls: list[str], mode: Mode, measure: Any, log: Any) -> None:
    """Each round loads every call at each connection count on every target, the targets' order
    rotating from round to round."""
    for round_number in range(mode.rounds):
        log(f"Round {round_number + 1} of {mode.rounds}")
        order = everyone[round_number % len(everyone):] + everyone[:round_number % len(everyone)]
        for call in calls:
            for connections in CONNECTIONS:
                for target in order:
                    if not target.available.get(call):
                        continue
                    spec = next(c for c in target.calls if c.name == call)
                    if spec.connections and connections not in spec.connections:
                        continue
                    result = measure(target, call, connections, mode.seconds)
                    target.results.setdefault((call, connections), []).append(result)
                    target.rss_mb.extend(target.process.worker_rss_mb())
                    log(f"  {target.name:<16} {call:<18} c={connections:<3} {result.rate:8.1f} req/s  "
                        f"p50 {result.p50_ms:7.1f} ms  p99 {result.p99_ms:7.1f} ms  "
                        f"cpu/req {result.cpu_ms_per_request:6.2f} ms  failed {result.failed}")


def _pooled_only(mode: Mode, args: argparse.Namespace, targets: list[Target], wrk: Wrk, work: Path, run_token: str,
                 plans: dict[tuple[str, int], dataset.Plan], load_at_start: tuple[float, float, float], began: float,
                 data_seconds: float, log: Any) -> int:
    """--pgbouncer-only: the pooled calls on each PostgreSQL data set, directly and through PgBouncer."""
    scripts = {(target.name, spec.name): write_script(work / f"p{index}-{spec.name.replace(' ', '_')}.lua", spec,
                                                      target.authorization, run_token)
               for index, target in enumerate(targets) for spec in target.calls}

    def measure(target: Target, call: str, connections: int, seconds: float, warm_up: bool = False) -> Measured:
        path = next(c.path for c in target.calls if c.name == call)
        return wrk.run(target.process.base_url + path, scripts[target.name, call], connections, seconds,
                       target.process.group, allow_empty=warm_up)

    log("Warm-up")
    for target in targets:
        for call in POOLED_CALLS:
            if target.available.get(call):
                measure(target, call, CONNECTIONS[0], mode.warmup, warm_up=True)
    run_rounds(targets, list(POOLED_CALLS), mode, measure, log)
    elapsed = time.monotonic() - began
    text = report.render_pooled_only(mode, report.machine(plans, load_at_start), targets, CONNECTIONS,
                                     data_seconds, elapsed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    log(f"Wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out} in {elapsed / 60:.1f} min")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        print("Interrupted; every server and load the benchmark started is stopped.", file=sys.stderr)
        sys.exit(130)
