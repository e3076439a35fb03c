"""bench/results.md: the machine, the method in one paragraph, and the tables."""

from __future__ import annotations

import math
import os
import platform
import sqlite3
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text

from soap_orders import gunicorn_conf
from soap_orders.adapters.database import create_database_engine

from .load import Measured


@dataclass(frozen=True)
class TargetRow:
    """One row of the targets table: the target, this run's figures, whether they meet it (None:
    not measured in this run) and, for a missed one, where the profile of what remains is."""

    what: str
    measured: str
    met: bool | None
    where: str = ""

    def line(self) -> str:
        met = "not measured" if self.met is None else "yes" if self.met else "**no**"
        return f"| {self.what} | {self.measured} | {met} | {self.where if self.met is False else ''} |"


#: Where the profiles of what remains are, by section of the results file.
PROFILES = "[Where the time goes](#where-the-time-goes-in-process)"
WRITES_PROFILE = "[Single writes](#single-writes-in-process)"
INGEST_PROFILE = "[Ingest](#ingest): where a first import's time goes"
MEMORY = "[Worker memory](#worker-memory)"
TARGETS_HEADING = "## Targets"
TARGETS_HEAD = ("| target | this run | met | profile of what remains |", "|---|---|---|---|")


@dataclass(frozen=True)
class MemoryRun:
    measured: Measured
    rss_before: list[float]
    rss_after: list[float]


def count(size: int) -> str:
    if size >= 1_000_000 and size % 1_000_000 == 0:
        return f"{size // 1_000_000}M"
    if size >= 1000 and size % 1000 == 0:
        return f"{size // 1000}k"
    return str(size)


def machine(plans: dict[tuple[str, int], Any], load_at_start: tuple[float, float, float]) -> dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False).stdout.splitlines()
    info = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "memory": f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB",
        "kernel": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "wrk": wrk[0].split(" [")[0] if wrk else "unknown",
        # Other work on the machine competes with the load: the 1-minute load average says how much.
        "load average (1 min) at start / end": f"{load_at_start[0]:.1f} / {os.getloadavg()[0]:.1f}",
    }
    for (kind, _), plan in plans.items():
        if kind == "postgresql":
            engine = create_database_engine(plan.database_url)
            try:
                with engine.connect() as connection:
                    info["PostgreSQL"] = str(connection.execute(text("SHOW server_version")).scalar_one()).split()[0]
            finally:
                engine.dispose()
            break
    return info


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def _ratio(value: float, floor: float) -> str:
    if not floor or math.isnan(value) or math.isnan(floor):
        return "-"
    ratio = value / floor
    if ratio < 1:
        return f"{ratio:.3f}"
    return f"{ratio:.2f}" if ratio < 10 else f"{ratio:.0f}"


def _num(value: float, digits: int = 0) -> str:
    return "-" if math.isnan(value) else f"{value:,.{digits}f}"


@dataclass(frozen=True)
class _Figures:
    rate: float
    p50: float
    p99: float
    cpu: float
    wrk: float
    failed: int
    requests: int

    @classmethod
    def of(cls, runs: list[Measured]) -> _Figures:
        return cls(
            rate=_median([r.rate for r in runs]), p50=_median([r.p50_ms for r in runs]),
            p99=_median([r.p99_ms for r in runs]), cpu=_median([r.cpu_ms_per_request for r in runs]),
            wrk=_median([r.wrk_share for r in runs]), failed=sum(r.failed for r in runs),
            requests=sum(r.requests for r in runs),
        )


def render(mode: Any, info: dict[str, str], targets: list[Any], floor: Any, calls: list[str],
           connections: tuple[int, ...], memory: MemoryRun, data_seconds: float, elapsed: float,
           profiles: list[Any] | None = None, extra_rows: list[TargetRow] | None = None) -> str:
    out: list[str] = []
    add = out.append
    add(f"# Benchmark results ({'quick' if mode.quick else 'full'} run)")
    add("")
    add("Produced by `make bench" + (" BENCH_ARGS='--quick'" if mode.quick else "") + "`; see README, \"Benchmarks\", "
        "for the method.")
    add("")
    add("| machine | |")
    add("|---|---|")
    for key, value in info.items():
        add(f"| {key} | {value} |")
    add("")
    add(f"Service: `soap-orders serve` (gunicorn with `soap_orders/gunicorn_conf.py`: 2 gthread workers, "
        f"{gunicorn_conf.threads} threads each), "
        f"HTTP Basic. Load: wrk, 2 threads, {mode.rounds} rounds of {mode.seconds:g} s per call, target and "
        f"connection count, targets interleaved; figures are medians over the rounds. The floor is gunicorn with "
        f"the same configuration answering with the service's precomputed bytes. Data sets: "
        f"{', '.join(t.name for t in targets)}. Whole run {elapsed / 60:.1f} min, of which "
        f"{data_seconds:.0f} s preparing data sets.")
    add("")
    add("Ratios are to the floor at the same call and connection count: for req/s higher is better, for latency "
        "and CPU lower is better. *CPU/req* is the server's process group's user+system CPU over the load divided "
        "by the requests answered; *wrk CPU* is the load generator's share of the machine's CPU during the load; "
        "*failed* counts socket errors, timeouts and answers that were not HTTP 200 (or did not hold the call's "
        "expected outcome: REFUNDED, ADDRESS_CHANGED, SHIPMENT_RECORDED, or all of an UpsertOrders batch CREATED) "
        "over all rounds. Every writing request makes a real change: IssueRefund refunds 0.01, "
        "ChangeShippingAddress sets an address whose first line holds the request's own id, RecordShipment gives "
        "a shipment a new tracking number, and each UpsertOrders request creates new orders (100 over JSON, 80 "
        "over SOAP, whose requests may hold at most 5,000 XML elements; demo orders, the ERP's fields only, "
        "numbered from the request's own id). UpsertOrders is loaded at 8 connections only, at least 10 s a "
        "load.")
    add("")
    out.extend(_targets(targets, floor, connections, memory, mode, extra_rows or []))
    add("## Every call")
    add("")
    add("| call | target | conns | req/s | × floor | p50 ms | × floor | p99 ms | × floor | CPU/req ms | × floor "
        "| wrk CPU | failed |")
    add("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for call in calls:
        for target in [*targets, floor]:
            if call not in {c.name for c in target.calls}:
                continue  # not measured on this target (only some calls go through PgBouncer)
            if not target.available.get(call):
                if target is not floor:
                    add(f"| {call} | {target.name} | | not available | | | | | | | | | |")
                continue
            for conns in connections:
                runs = target.results.get((call, conns), [])
                if not runs:
                    continue  # not loaded at this connection count (UpsertOrders: 8 only)
                f = _Figures.of(runs)
                base = _Figures.of(floor.results.get((call, conns), []))
                add(f"| {call} | {target.name} | {conns} | {_num(f.rate, 1 if f.rate < 100 else 0)} "
                    f"| {_ratio(f.rate, base.rate)} "
                    f"| {_num(f.p50, 1)} | {_ratio(f.p50, base.p50)} | {_num(f.p99, 1)} | {_ratio(f.p99, base.p99)} "
                    f"| {_num(f.cpu, 2)} | {_ratio(f.cpu, base.cpu)} | {f.wrk:.0%} | {f.failed} |")
    add("")
    add("## Worker memory")
    add("")
    add(f"RSS of each gunicorn worker, sampled after every load (workers are recycled after "
        f"{gunicorn_conf.max_requests:,} ± {gunicorn_conf.max_requests_jitter:,} requests, as configured).")
    add("")
    add("| target | median MB | max MB | max × floor |")
    add("|---|---:|---:|---:|")
    floor_max = max(floor.rss_mb, default=math.nan)
    for target in [*targets, floor]:
        rss = target.rss_mb
        add(f"| {target.name} | {_num(_median(rss), 1)} | {_num(max(rss, default=math.nan), 1)} "
            f"| {_ratio(max(rss, default=math.nan), floor_max)} |")
    add("")
    m = memory.measured
    reached = "reached" if m.requests >= mode.rss_requests else f"not reached within the {mode.rss_seconds:.0f} s bound"
    add(f"After many requests, recycling off (`--max-requests 0`), GetOrder at 64 connections on {targets[0].name}: "
        f"{m.requests:,} requests in {m.seconds:.0f} s ({mode.rss_requests:,} {reached}; {m.failed} failed); "
        f"worker RSS {', '.join(_num(x, 1) for x in memory.rss_before)} MB at start, "
        f"**{', '.join(_num(x, 1) for x in memory.rss_after)} MB** after.")
    add("")
    by_kind: dict[str, dict[str, Any]] = {}
    for target in targets:
        kind, _, size = target.name.partition(" ")
        by_kind.setdefault(kind, {})[size] = target
    pairs = [(kind, sizes) for kind, sizes in by_kind.items() if len(sizes) >= 2]
    if pairs:
        add("## FindOrdersByEmail (20 orders) at 1M orders against 10k")
        add("")
        add("| database | conns | p50 ms at 10k | p50 ms at 1M | 1M / 10k | within 1.5× |")
        add("|---|---:|---:|---:|---:|---|")
        for kind, sizes in pairs:
            small, large = sizes.get("10k"), sizes.get("1M")
            if small is None or large is None:
                continue
            for conns in connections:
                a = _Figures.of(small.results.get(("FindOrdersByEmail", conns), [])).p50
                b = _Figures.of(large.results.get(("FindOrdersByEmail", conns), [])).p50
                ratio = b / a if a else math.nan
                add(f"| {kind} | {conns} | {_num(a, 1)} | {_num(b, 1)} | {_num(ratio, 2)} "
                    f"| {'yes' if ratio <= 1.5 else 'no'} |")
        add("")
    out.extend(_pooled(targets, connections))
    if profiles:
        out.extend(_profiles(profiles))
    return "\n".join(out)


#: A target measured through PgBouncer is named after the direct one with this suffix.
POOLED = " via PgBouncer"


def _pooled(targets: list[Any], connections: tuple[int, ...]) -> list[str]:
    """Each call measured through PgBouncer beside the same call on the same data set, direct."""
    by_name = {t.name: t for t in targets}
    pairs = [(by_name[t.name.removesuffix(POOLED)], t) for t in targets
             if t.name.endswith(POOLED) and t.name.removesuffix(POOLED) in by_name]
    if not pairs:
        return []
    lines = ["## Through PgBouncer (transaction pooling)", "",
             "The same service and data set reached directly and through PgBouncer (Debian's `pgbouncer`, "
             "`pool_mode = transaction`, at most 10 server connections for the two workers' pools, "
             "`SOAP_ORDERS_DATABASE_POOL_MODE=transaction`). *CPU/req* is the service's processes only; "
             "PgBouncer's own CPU is not in it. *× direct* is through PgBouncer divided by direct.", "",
             "| call | data set | conns | direct req/s | PgBouncer req/s | × direct | direct p50 ms | PgBouncer p50 ms "
             "| direct p99 ms | PgBouncer p99 ms | direct CPU/req ms | PgBouncer CPU/req ms | failed |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for plain, pooled in pairs:
        for call in (c.name for c in pooled.calls):
            if not (plain.available.get(call) and pooled.available.get(call)):
                continue
            for conns in connections:
                a = _Figures.of(plain.results.get((call, conns), []))
                b = _Figures.of(pooled.results.get((call, conns), []))
                lines.append(f"| {call} | {plain.name} | {conns} | {_num(a.rate)} | {_num(b.rate)} "
                             f"| {_num(b.rate / a.rate if a.rate else math.nan, 2)} | {_num(a.p50, 1)} | {_num(b.p50, 1)} "
                             f"| {_num(a.p99, 1)} | {_num(b.p99, 1)} | {_num(a.cpu, 2)} | {_num(b.cpu, 2)} "
                             f"| {a.failed} / {b.failed} |")
    lines.append("")
    return lines


def render_pooled_only(mode: Any, info: dict[str, str], targets: list[Any], connections: tuple[int, ...],
                       data_seconds: float, elapsed: float) -> str:
    """``--pgbouncer-only``: the machine and the side-by-side table."""
    out = ["# Benchmark results (PostgreSQL, direct and through PgBouncer)", "",
           "Produced by `make bench BENCH_ARGS='--pgbouncer-only'`; see README, \"Benchmarks\".", "",
           "| machine | |", "|---|---|", *(f"| {key} | {value} |" for key, value in info.items()), "",
           f"Service: `soap-orders serve` (2 gthread workers, {gunicorn_conf.threads} threads each), HTTP Basic. "
           f"Load: wrk, 2 threads, {mode.rounds} rounds of {mode.seconds:g} s per call, target and connection "
           f"count, targets interleaved; figures are medians over the rounds. No floor, memory run or profiles in "
           f"this mode. Whole run {elapsed / 60:.1f} min, of which {data_seconds:.0f} s preparing data sets.", ""]
    out.extend(_pooled(targets, connections))
    return "\n".join(out)


#: The rate targets: (what, call, connection counts, data sets, least ratio to the floor's req/s, profile).
RATE_TARGETS = (
    ("GetOrder over SOAP at least 0.6x the floor", "GetOrder", None, 0.6),
    ("GetOrder over JSON at least 0.6x the floor", "JSON GetOrder", None, 0.6),
    ("FindOrdersByEmail (20 orders) over SOAP at least 0.3x the floor", "FindOrdersByEmail", None, 0.3),
    ("FindOrdersByEmail (20 orders) over JSON at least 0.3x the floor", "JSON FindOrdersByEmail", None, 0.3),
    ("IssueRefund on PostgreSQL at least 0.2x the floor", "IssueRefund", "PostgreSQL", 0.2),
)
P99_TARGET_MS = 40.0
FIND_GROWTH = 1.5
RSS_TARGET_MB = 150.0
#: UpsertOrders: the connection count of the target and its least orders per second.
UPSERT_CONNECTIONS, UPSERT_TARGET = 8, 2000.0
UPSERT_CALLS = ("UpsertOrders", "JSON UpsertOrders")


def upsert_batches() -> dict[str, int]:
    """Orders per request of each UpsertOrders call the benchmark sends."""
    from . import writes

    return {"UpsertOrders": writes.soap_batch(), "JSON UpsertOrders": writes.UPSERT_BATCH}


def _where(call: str) -> str:
    if call in ("IssueRefund", *UPSERT_CALLS):
        return f"{WRITES_PROFILE}: {call.removeprefix('JSON ')}; {PROFILES}"
    return f"{PROFILES}: {call}"


def upsert_rows(targets: list[Any], batches: dict[str, int]) -> list[TargetRow]:
    """UpsertOrders, over SOAP and JSON, on PostgreSQL (direct) at 8 connections: orders per second
    (requests per second x the orders of a request, ``batches``) against 2,000."""
    rows = []
    for call in UPSERT_CALLS:
        batch = batches[call]
        refused = " (100 demo orders are more XML elements than a request may hold)" if batch < 100 else ""
        what = (f"{call}, {batch} new orders a request{refused}, on PostgreSQL at {UPSERT_CONNECTIONS} connections: "
                f"at least {UPSERT_TARGET:,.0f} orders/s")
        found = []
        for target in targets:
            if target.name.endswith(POOLED) or not target.available.get(call):
                continue
            rate = _Figures.of(target.results.get((call, UPSERT_CONNECTIONS), [])).rate
            if not math.isnan(rate):
                found.append((target.name, rate))
        postgres = [(name, rate) for name, rate in found if name.startswith("PostgreSQL")]
        if not postgres:
            others = "; ".join(f"{name}: {rate * batch:,.0f} orders/s" for name, rate in found)
            rows.append(TargetRow(what, "not measured on PostgreSQL in this run" + (f" ({others})" if others else ""),
                                  None))
            continue
        worst = min(rate for _, rate in postgres)
        measured = "; ".join(f"{rate * batch:,.0f} orders/s ({rate:,.1f} req/s × {batch}, {name}), "
                             f"{rate * batch / UPSERT_TARGET:.2f}x the target" for name, rate in postgres)
        rows.append(TargetRow(what, measured, worst * batch >= UPSERT_TARGET, _where(call)))
    return rows


def _targets(targets: list[Any], floor: Any, connections: tuple[int, ...], memory: MemoryRun, mode: Any,
             extra_rows: list[TargetRow]) -> list[str]:
    """Each target, with the figures of this run that decide it."""
    rows: list[TargetRow] = []
    for what, call, kind, least in RATE_TARGETS:
        ratios = []
        for target in targets:
            if kind and not target.name.startswith(kind) or not target.available.get(call):
                continue
            for conns in connections:
                rate = _Figures.of(target.results.get((call, conns), [])).rate
                base = _Figures.of(floor.results.get((call, conns), [])).rate
                if base and not math.isnan(rate):
                    ratios.append((rate / base, f"{target.name}, {conns} conns"))
        if not ratios:
            if kind:
                rows.append(TargetRow(what, f"not measured in this run (no {kind} data set)", None))
            continue
        low, high = min(ratios), max(ratios)
        rows.append(TargetRow(what, f"{low[0]:.3f}x ({low[1]}) to {high[0]:.3f}x ({high[1]})", low[0] >= least,
                              _where(call)))
    p99s = [(_Figures.of(t.results.get(("GetOrder", connections[-1]), [])).p99, t.name) for t in targets]
    p99s = [p for p in p99s if not math.isnan(p[0])]
    if p99s:
        worst, best = max(p99s), min(p99s)
        rows.append(TargetRow(f"GetOrder p99 at {connections[-1]} connections at most {P99_TARGET_MS:.0f} ms",
                              f"{_num(best[0], 1)} ms ({best[1]}) to {_num(worst[0], 1)} ms ({worst[1]})",
                              worst[0] <= P99_TARGET_MS, _where("GetOrder")))
    growth = []
    by_name = {t.name: t for t in targets}
    for name, target in by_name.items():
        kind, _, size = name.partition(" ")
        small = by_name.get(f"{kind} 10k")
        if size != "1M" or small is None:
            continue
        for conns in connections:
            a = _Figures.of(small.results.get(("FindOrdersByEmail", conns), [])).p50
            b = _Figures.of(target.results.get(("FindOrdersByEmail", conns), [])).p50
            if a and not math.isnan(a) and not math.isnan(b):
                growth.append((b / a, f"{kind}, {conns} conns"))
    if growth:
        worst_growth = max(growth)
        rows.append(TargetRow(f"FindOrdersByEmail p50 at 1M orders within {FIND_GROWTH}x of 10k",
                              f"at most {worst_growth[0]:.2f}x ({worst_growth[1]})", worst_growth[0] <= FIND_GROWTH,
                              _where("FindOrdersByEmail")))
    reached = memory.measured.requests >= mode.rss_requests
    top = max(memory.rss_after, default=math.nan)
    rows.append(TargetRow(f"Worker RSS at most {RSS_TARGET_MB:.0f} MB after {mode.rss_requests:,} requests",
                          f"{_num(top, 1)} MB after {memory.measured.requests:,} requests",
                          reached and top <= RSS_TARGET_MB, MEMORY))
    rows += upsert_rows(targets, upsert_batches())
    rows += extra_rows
    return targets_section(rows)


def targets_section(rows: list[TargetRow]) -> list[str]:
    lines = [TARGETS_HEADING, "", *TARGETS_HEAD, *(row.line() for row in rows), ""]
    if any(row.met is False for row in rows):
        lines += ["Where the time goes for the targets missed: the section named in the last column (the "
                  "in-process profiles); what was tried: README, \"Benchmarks\".", ""]
    return lines


def replace_target_rows(document: str, rows: list[TargetRow], prefix: str) -> str:
    """``document`` with the rows of its targets table whose target starts with ``prefix`` replaced
    by ``rows`` (a targets section is added when it has none)."""
    lines = document.splitlines()
    if TARGETS_HEADING not in lines:
        return document.rstrip("\n") + "\n\n" + "\n".join(targets_section(rows)) + "\n"
    start = lines.index(TARGETS_HEADING)
    table = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("|"))
    end = next((i for i in range(table, len(lines)) if not lines[i].startswith("|")), len(lines))
    kept = [line for line in lines[table:end] if not line.startswith(f"| {prefix}")]
    if kept[0] != TARGETS_HEAD[0]:  # a table written before the last column was added
        kept = [*TARGETS_HEAD, *(line + " |" for line in kept[2:])]
    body = [*kept, *(row.line() for row in rows)]
    return "\n".join([*lines[:table], *body, *lines[end:]]) + "\n"


def _profiles(profiles: list[Any]) -> list[str]:
    lines = ["## Where the time goes (in process)", "",
             "Each call sent through the whole web application in the benchmark's own process (access log, "
             "metrics, endpoint, use case, database; no HTTP), on the data set named: *CPU/req* timed without "
             "the profiler, then the functions where most of the profiled time is spent, in the function itself "
             "(*own*) and with what it calls (*with callees*), and the service's own functions by the time spent "
             "in them and below.", ""]
    threaded = [p for p in profiles if p.threaded_cpu_ms]
    if threaded:
        counts = [count for count, _ in threaded[0].threaded_cpu_ms]
        lines += ["The same requests sent from several threads at once, as a worker's threads send them: CPU ms "
                  "per request. The growth is what handing the one interpreter lock between threads costs, at "
                  "every call that releases it (SQLite, lxml, sockets, the log file).", "",
                  "| call | target | " + " | ".join(f"{c} thread{'s' if c > 1 else ''}" for c in counts) + " |",
                  "|---|---|" + "---:|" * len(counts)]
        lines += [f"| {p.call} | {p.target} | " + " | ".join(f"{ms:.2f}" for _, ms in p.threaded_cpu_ms) + " |"
                  for p in threaded]
        lines.append("")
    for found in profiles:
        statements = f", {found.statements:.1f} SQL statements" if found.statements else ""
        lines += [f"### {found.call} on {found.target}: {found.cpu_ms:.2f} ms CPU per request{statements}", "",
                  "| function | own | with callees |", "|---|---:|---:|"]
        lines += [f"| `{h.function}` | {h.own_share:.1%} | {h.total_share:.1%} |" for h in found.hotspots]
        lines += ["", "The service's own functions by time with what they call (its layers):", "",
                  "| function | with callees |", "|---|---:|"]
        lines += [f"| `{h.function}` | {h.total_share:.1%} |" for h in found.layers]
        lines.append("")
    return lines


WRITES_HEADING = "## Single writes (in process)"


COVERAGE_PREFIX = "Writes:"


def writes_section(profiles: list[Any], requests: int, when: str, load: tuple[float, float],
                   coverage: list[tuple[str, str, str]] | None = None) -> list[str]:
    """The section ``--profile-writes`` keeps in the results file: which writing operations are
    measured how (``coverage``: operation, how, why), each writing call's cost in process, the
    statements of one request, and the service's layers by CPU time."""
    sizes = sorted({p.target.rpartition(" ")[2] for p in profiles})
    lines = [WRITES_HEADING, "",
             f"`python -m tests.bench --profile-writes` ({when}; 1-minute load average {load[0]:.1f} at the start, "
             f"{load[1]:.1f} at the end): each writing call sent {requests} times (UpsertOrders, whose requests carry "
             f"80 or 100 orders each, {max(requests // 10, 10)} times) through the whole web application "
             f"in the benchmark's process (no HTTP) on a data set of {', '.join(sizes) or 'N'} orders built afresh for "
             "the run (and removed after it), so that every request makes a real change: the calls that can be made "
             "once per order each get orders of their own, the others carry the request's own id (see *Every call* "
             "for what each changes). The in-process application has a return window of 3650 days "
             "(`SOAP_ORDERS_RETURN_WINDOW_DAYS`), since the demo orders were delivered up to a year ago. *CPU/req* "
             "is this process's CPU time; the machine's other work moves it by 10-20% from run to run, so "
             "*function calls/req* (Python calls made, counted by the profiler) is given as the measure of work "
             "that does not move. *Statements/req* are the SQL statements sent (a `before_cursor_execute` "
             "listener; SQLite's `BEGIN IMMEDIATE` is one). UpsertOrders' figures are per request: 100 orders over "
             "JSON, 80 over SOAP (100 demo orders are more XML elements than the service accepts in one request).",
             ""]
    if coverage:
        lines += ["Every writing operation of the contract, and how it is measured:", "",
                  "| operation | measured | why |", "|---|---|---|",
                  *(f"| {name} | {how} | {why} |" for name, how, why in coverage), ""]
    lines += ["| call | target | CPU/req ms | statements/req | function calls/req |", "|---|---|---:|---:|---:|"]
    lines += [f"| {p.call} | {p.target} | {p.cpu_ms:.2f} | {p.statements:.1f} | {p.function_calls:,.0f} |"
              for p in profiles]
    lines.append("")
    for found in profiles:
        lines += [f"### {found.call} on {found.target}: the statements of one request", ""]
        lines += [f"{number}. `{statement}`" for number, statement in enumerate(found.one_request, 1)]
        lines += ["", "The service's own functions by CPU time with what they call:", "",
                  "| function | with callees |", "|---|---:|"]
        lines += [f"| `{h.function}` | {h.total_share:.1%} |" for h in found.layers]
        lines.append("")
    return lines


def replace_section(document: str, heading: str, section: list[str]) -> str:
    """``document`` with its section under ``heading`` replaced by ``section`` (or ``section`` added)."""
    lines = document.splitlines()
    try:
        start = lines.index(heading)
    except ValueError:
        return document.rstrip("\n") + "\n\n" + "\n".join(section)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join([*lines[:start], *section, *lines[end:]]) + "\n"


def section_of(document: str, heading: str) -> list[str] | None:
    """The lines of ``document``'s section under ``heading``, if it has one."""
    lines = document.splitlines()
    if heading not in lines:
        return None
    start = lines.index(heading)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start:end]
