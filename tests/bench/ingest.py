"""The ingest runs of ``make bench``: ``soap-orders import`` of demo orders against its own floor.

For each database and size: a fresh database, ``soap-orders demo-data --jsonl`` writes the file,
then the real command (``soap-orders import``, a subprocess, as an ERP team runs it) imports it
three times: the first import, a re-import of the same file (nothing changed), and a re-import
of a copy in which 1% of the orders have a changed shipping address. Each is reported as a ratio
to the time ``json.loads`` takes to parse the same file (read line by line, as the importer
does), measured in the same run, before and after the imports (the smaller is kept); the peak
RSS of the import process is reported beside it.

The runs stay bounded: ``demo-data --jsonl`` streams (a 1M-order file, about 2 GB, is written in
bounded memory), the changed copy exists only during the third import, the file and the SQLite
database are removed as soon as their runs are done, and an import that outlasts ``timeout``
seconds is stopped, reported as stopped, and the re-imports after an unfinished first import are
left out.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from soap_orders.adapters.database import normalize_url

BIN = Path(sys.executable).parent
SCHEMA = "soap_orders_ingest"
#: Every how many orders one is changed in the "1% changed" re-import.
CHANGE_EVERY = 100
#: The targets, as ratios to the parse floor.
TARGETS = {"first import": 15.0, "re-import, unchanged": 3.0, "re-import, 1% changed": 5.0}
#: A first import of this many orders on PostgreSQL within this many seconds.
LARGE_ORDERS, LARGE_SECONDS = 1_000_000, 300.0
#: The import's peak RSS for a file of LARGE_ORDERS orders, at most (MB).
LARGE_RSS_MB = 300.0
#: Each import command is stopped after this long (seconds) unless told otherwise.
TIMEOUT = 3600.0


@dataclass(frozen=True)
class IngestRun:
    kind: str  # "sqlite" or "postgresql"
    size: int
    label: str  # one of TARGETS
    seconds: float
    floor_seconds: float
    peak_rss_mb: float
    summary: str  # the command's last line: "N created, N updated, N unchanged, N failed."
    status: int
    #: The same command on an empty file (starting Python, importing the package, connecting).
    startup_seconds: float = 0.0
    #: Stopped when it outlasted the bound (its figures are a lower bound then).
    stopped: bool = False

    @property
    def finished(self) -> bool:
        return self.status == 0 and not self.stopped

    @property
    def ratio(self) -> float:
        return self.seconds / self.floor_seconds

    @property
    def net_ratio(self) -> float:
        """The ratio without the command's fixed start-up cost, which a larger file spreads thinner."""
        return max(self.seconds - self.startup_seconds, 0.0) / self.floor_seconds

    @property
    def rate(self) -> float:
        return self.size / self.seconds


def parse_floor(path: Path, repeats: int = 3) -> float:
    """The fastest of ``repeats`` reads of ``path`` parsing each line with ``json.loads``."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        with path.open("rb") as stream:
            for raw in stream:
                json.loads(raw)
        best = min(best, time.perf_counter() - started)
    return best


def changed_copy(source: Path, target: Path, every: int = CHANGE_EVERY) -> int:
    """Copy ``source`` with every ``every``-th order's shipping address changed; returns how many."""
    changed = 0
    with source.open("rb") as read, target.open("w", encoding="utf-8") as out:
        for number, raw in enumerate(read):
            if number % every == 0:
                record = json.loads(raw)
                record["ShippingAddress"]["Line1"] = "1 Changed Street"
                out.write(json.dumps(record) + "\n")
                changed += 1
            else:
                out.write(raw.decode("utf-8"))
    return changed


def fresh_database(kind: str, directory: Path, bench_url: str | None) -> str:
    if kind == "sqlite":
        path = directory / "ingest.sqlite3"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    assert bench_url is not None
    url = normalize_url(bench_url)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
    admin.dispose()
    return make_url(url).update_query_dict({"options": f"-csearch_path={SCHEMA}"}).render_as_string(hide_password=False)


def drop_database(kind: str, bench_url: str | None) -> None:
    if kind != "postgresql" or bench_url is None:
        return
    admin = create_engine(normalize_url(bench_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
    admin.dispose()


def _command(args: list[str], url: str, log_path: Path, timeout: float = TIMEOUT) -> tuple[float, float, int, str]:
    """Run ``soap-orders ARGS``: (seconds, peak RSS in MB, exit status, last line of stdout); a
    command still running after ``timeout`` seconds is killed (its status is then negative)."""
    env = {**os.environ, "SOAP_ORDERS_DATABASE_URL": url, "SOAP_ORDERS_SECRET_KEY": "bench-ingest-" + "k" * 40}
    with log_path.open("wb") as errors, tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen([str(BIN / "soap-orders"), *args], stdout=out, stderr=errors,
                                   stdin=subprocess.DEVNULL, env=env)
        # The kernel's high-water mark of the command's own memory (VmHWM starts afresh at exec;
        # the rusage of a child would count the benchmark's own memory, copied at fork).
        peak_kb = 0
        try:
            while process.poll() is None:
                peak_kb = max(peak_kb, _high_water_kb(process.pid))
                if time.perf_counter() - started > timeout:
                    process.kill()
                    process.wait()
                    break
                time.sleep(0.02)
        finally:
            if process.poll() is None:  # interrupted: never leave the import running
                process.kill()
                process.wait()
        seconds = time.perf_counter() - started
        out.seek(0)
        lines = out.read().decode("utf-8", "replace").strip().splitlines()
    return seconds, peak_kb / 1024, process.returncode, lines[-1] if lines else ""


def _high_water_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def run(kinds: tuple[str, ...], sizes: tuple[int, ...], bench_url: str | None,
        log: Callable[[str], Any] = print, import_args: tuple[str, ...] = (),
        profile: dict[str, list[tuple[str, float]]] | None = None, timeout: float = TIMEOUT) -> list[IngestRun]:
    """The ingest runs; with ``profile`` (a dict) the first size's file is profiled on each store
    into it too (by the store's name). Each import command is stopped after ``timeout`` seconds."""
    results: list[IngestRun] = []
    with tempfile.TemporaryDirectory(prefix="soap-orders-ingest-") as scratch:
        work = Path(scratch)
        for size in sizes:
            feed, changed = work / f"orders-{size}.jsonl", work / f"orders-{size}-changed.jsonl"
            started = time.perf_counter()
            subprocess.run([str(BIN / "soap-orders"), "demo-data", "--orders", str(size), "--seed", "7",
                            "--jsonl", str(feed)], check=True, stdout=subprocess.DEVNULL)
            log(f"Ingest {size:,} orders ({feed.stat().st_size / 1e6:.0f} MB, written by demo-data in "
                f"{time.perf_counter() - started:.0f} s)")
            if profile is not None and not profile:
                for kind in kinds:
                    shares = profile[_name(kind)] = profile_import(feed, work, kind=kind, bench_url=bench_url)
                    log(f"  profile, {_name(kind)}: "
                        + "; ".join(f"{label.split(' (')[0]} {share:.0%}" for label, share in shares))
            try:
                for kind in kinds:
                    results += _runs_on(kind, size, feed, changed, work, bench_url, log, import_args, timeout)
            finally:
                feed.unlink(missing_ok=True)
                changed.unlink(missing_ok=True)
    return results


def _runs_on(kind: str, size: int, feed: Path, changed: Path, work: Path, bench_url: str | None,
             log: Callable[[str], Any], import_args: tuple[str, ...], timeout: float) -> list[IngestRun]:
    """The three imports of ``feed`` on a fresh database of ``kind``, dropped afterwards."""
    url = fresh_database(kind, work, bench_url)
    try:
        subprocess.run([str(BIN / "soap-orders"), "db", "upgrade"], check=True, stdout=subprocess.DEVNULL,
                       env={**os.environ, "SOAP_ORDERS_DATABASE_URL": url})
        floor_before = parse_floor(feed)
        empty = work / "empty.jsonl"
        empty.write_bytes(b"")
        startup = min(_command(["import", str(empty)], url, work / "import.log")[0] for _ in range(3))
        timings = []
        for label in TARGETS:
            path = feed
            if label == "re-import, 1% changed":
                # Made only now and removed straight after: a 1M-order copy is another 2 GB.
                count = changed_copy(feed, changed)
                log(f"  {count:,} orders changed in the copy")
                path = changed
            try:
                seconds, rss, status, summary = _command(["import", *import_args, str(path)], url,
                                                          work / "import.log", timeout)
            finally:
                changed.unlink(missing_ok=True)
            stopped = seconds > timeout
            if not summary and not stopped:
                raise RuntimeError(f"soap-orders import answered nothing (status {status}): "
                                   + (work / "import.log").read_text()[-2000:])
            timings.append((label, seconds, rss, status, f"stopped after {timeout:.0f} s" if stopped else summary,
                            stopped))
            if stopped and label == "first import":
                log(f"  {_name(kind)} first import of {size:,} orders stopped after {timeout:.0f} s; "
                    "re-imports left out")
                break
        floor = min(floor_before, parse_floor(feed))
    finally:
        drop_database(kind, bench_url)
        if kind == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{work / 'ingest.sqlite3'}{suffix}").unlink(missing_ok=True)
    results = []
    for label, seconds, rss, status, summary, stopped in timings:
        measured = IngestRun(kind, size, label, seconds, floor, rss, summary, status, startup, stopped)
        results.append(measured)
        log(f"  {_name(kind):<10} {label:<22} {seconds:8.1f} s  {measured.rate:8.0f} orders/s  "
            f"{measured.ratio:6.1f}x parse ({floor:.2f} s; {measured.net_ratio:.1f}x without the {startup:.1f} s "
            f"start-up)  RSS {rss:.0f} MB  {summary}")
    return results


#: The layers of an import, by the function whose cumulative time is the layer's (profile_import).
LAYERS = (
    ("reading records into orders (documents.records.order_from_record)", "records.py", "order_from_record"),
    ("the domain's checks and merge (domain.merge.accept_new / merge_into)", "merge.py", "accept_new"),
    ("", "merge.py", "merge_into"),
    ("rendering the kept-written documents (documents.rendered.render_order)", "rendered.py", "render_order"),
    ("the ORM's flush (SQLAlchemy Session.flush: the INSERT and UPDATE statements)", "session.py", "flush"),
    ("writing new orders set-based (adapters.new_orders: multi-row INSERTs on SQLite, COPY on PostgreSQL)",
     "new_orders.py", "_insert"),
    ("", "new_orders.py", "_insert_returning"),
    ("the fingerprint query (ingest.orders.unchanged_records)", "orders.py", "unchanged_records"),
)


def profile_import(path: Path, work: Path, records: int = 1000, kind: str = "sqlite",
                   bench_url: str | None = None) -> list[tuple[str, float]]:
    """Where a first import's time goes: ``records`` orders of ``path`` imported in this process
    under cProfile into a fresh database of ``kind``; each layer's share of the whole (layers may
    nest: the flush runs inside the merge's reads), then what the layers leave."""
    import cProfile
    import pstats

    from soap_orders.adapters import migrate
    from soap_orders.adapters.database import create_database_engine
    from soap_orders.bootstrap import build_dependencies
    from soap_orders.ingest.files import import_file
    from tests.server import settings_for_tests

    sample = work / "profile.jsonl"
    with path.open("rb") as read, sample.open("wb") as out:
        for _ in range(records):
            out.write(read.readline())
    url = fresh_database(kind, work, bench_url)
    try:
        engine = create_database_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        deps = build_dependencies(settings_for_tests(url))
        profiler = cProfile.Profile()
        try:
            profiler.enable()
            import_file(deps, sample)
            profiler.disable()
        finally:
            deps.engine.dispose()
    finally:
        drop_database(kind, bench_url)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{work / 'ingest.sqlite3'}{suffix}").unlink(missing_ok=True)
        sample.unlink(missing_ok=True)
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    whole = max(cumulative for (_f, _l, name), (_c, _n, _t, cumulative, _callers) in stats.items()
                if name == "import_file")
    shares: dict[str, float] = {}
    label = ""
    for layer, filename, function in LAYERS:
        label = layer or label
        spent = sum(cumulative for (file, _line, name), (_c, _n, _t, cumulative, _callers) in stats.items()
                    if name == function and file.endswith(filename))
        shares[label] = shares.get(label, 0.0) + spent / whole
    shares[REST] = max(0.0, 1.0 - sum(shares.values()))
    return list(shares.items())


#: The last row of a profile: what no layer accounts for (reading the file, batching, the
#: transaction's other statements: events, audit records, commit).
REST = "the rest (reading the file, batching, events and audit records, the commit)"


def render_profile(profiles: dict[str, list[tuple[str, float]]]) -> list[str]:
    """The profile table of ``profiles`` (store name -> profile_import's shares), a column per store."""
    if not profiles:
        return []
    names = list(profiles)
    labels = list(dict.fromkeys(label for shares in profiles.values() for label, _ in shares))
    share = {(name, label): value for name, shares in profiles.items() for label, value in shares}
    return ["Where a first import's time goes (1,000 orders in process under cProfile, on a fresh database of "
            "each store; shares of the whole, the flush partly inside the others):", "",
            "| layer | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names),
            *(f"| {label} | " + " | ".join(f"{share[name, label]:.0%}" if (name, label) in share else "-"
                                            for name in names) + " |" for label in labels), ""]


def machine_state(load_at_start: tuple[float, float, float], began: float) -> str:
    return (f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} in {(time.monotonic() - began) / 60:.1f} min; "
            f"load average (1 min) at start / end {load_at_start[0]:.1f} / {os.getloadavg()[0]:.1f} "
            f"on {os.cpu_count()} cores.")


def _name(kind: str) -> str:
    return "SQLite" if kind == "sqlite" else "PostgreSQL"


def _count(size: int) -> str:
    return f"{size // 1_000_000}M" if size >= 1_000_000 and size % 1_000_000 == 0 else \
        f"{size // 1000}k" if size >= 1000 and size % 1000 == 0 else str(size)


def target_rows(results: list[IngestRun]) -> list[tuple[str, str, bool | None]]:
    """The ingest targets with the figures of ``results`` that decide them: (target, this run,
    met: True, False, or None when the run did not measure it)."""
    rows: list[tuple[str, str, bool | None]] = []
    for label, target in TARGETS.items():
        runs = [r for r in results if r.label == label]
        what = f"Ingest: {label} at most {target:g}x `json.loads` of the file"
        if not runs:
            rows.append((what, "not measured in this run", None))
            continue
        low = min(runs, key=lambda r: r.ratio)
        high = max(runs, key=lambda r: r.ratio)
        measured = f"{_ratio_text(low)} ({_name(low.kind)} {_count(low.size)})"
        if high is not low:
            measured += f" to {_ratio_text(high)} ({_name(high.kind)} {_count(high.size)})"
        rows.append((what, measured, all(r.finished and r.ratio <= target for r in runs)))
    large = [r for r in results if r.kind == "postgresql" and r.size == LARGE_ORDERS and r.label == "first import"]
    what = f"Ingest: {_count(LARGE_ORDERS)} orders imported on PostgreSQL in under {LARGE_SECONDS / 60:g} minutes"
    if large:
        run = large[0]
        measured = (f"stopped after {run.seconds / 60:.1f} min" if run.stopped else
                    f"{run.seconds / 60:.1f} min ({run.rate:,.0f} orders/s)")
        rows.append((what, measured, run.finished and run.seconds < LARGE_SECONDS))
    else:
        rows.append((what, f"not measured in this run (`--ingest-sizes` without {LARGE_ORDERS})", None))
    large = [r for r in results if r.size == LARGE_ORDERS]
    what = f"Ingest: peak RSS of `soap-orders import` under {LARGE_RSS_MB:.0f} MB for a {_count(LARGE_ORDERS)}-order file"
    if large:
        top = max(large, key=lambda r: r.peak_rss_mb)
        rows.append((what, f"at most {top.peak_rss_mb:.0f} MB ({_name(top.kind)}, {top.label})",
                     top.peak_rss_mb < LARGE_RSS_MB))
    else:
        smaller = max(results, key=lambda r: r.peak_rss_mb)
        rows.append((what, f"not measured in this run; at most {smaller.peak_rss_mb:.0f} MB for "
                     f"{smaller.size:,} orders", None))
    return rows


def _ratio_text(run: IngestRun) -> str:
    return f"more than {run.ratio:.1f}x (stopped)" if run.stopped else f"{run.ratio:.1f}x"


def met_text(met: bool | None) -> str:
    return "not measured" if met is None else "yes" if met else "**no**"


def render(results: list[IngestRun], machine_state: str) -> list[str]:
    """The "Ingest" section of the results file (markdown lines); ``machine_state`` says when it
    ran and the machine's load."""
    if not results:
        return []
    lines = ["## Ingest", "", machine_state, "",
             "`soap-orders import` of `soap-orders demo-data --jsonl` (a subprocess, default batch size), on a fresh "
             "database: the first import, the same file again, and a copy with 1% of the orders changed (their "
             "shipping address). *× parse* is the import's wall time over the time `json.loads` takes to parse "
             "the same file line by line, measured in the same run; *net* the same without the command's start-up "
             "(the same command on an empty file: Python, the package's imports, connecting), which a larger file "
             "spreads thinner; *RSS* the import process's peak (its VmHWM, read every 20 ms). *met* judges the whole "
             "time. An import that outlasts the bound (`--ingest-timeout`) is stopped and its figures are lower "
             "bounds.", "",
             "| target | this run | met |", "|---|---|---|",
             *(f"| {what} | {measured} | {met_text(met)} |" for what, measured, met in target_rows(results)), "",
             "| store | orders | run | s | orders/s | × parse | net × parse | target | met | peak RSS MB | result |",
             "|---|---:|---|---:|---:|---:|---:|---:|---|---:|---|"]
    for found in results:
        target = TARGETS[found.label]
        met = "yes" if found.ratio <= target and found.finished else "**no**"
        rate = "-" if found.stopped else f"{found.rate:,.0f}"
        ratio = f"> {found.ratio:.1f}" if found.stopped else f"{found.ratio:.1f}"
        lines.append(f"| {_name(found.kind)} | {found.size:,} | {found.label} | {found.seconds:.1f} | "
                     f"{rate} | {ratio} | {found.net_ratio:.1f} | {target:g} | {met} | {found.peak_rss_mb:.0f} | "
                     f"{found.summary} |")
    floors = sorted({(f.size, _name(f.kind), f.floor_seconds, f.startup_seconds) for f in results})
    lines += ["", "Parse floor (`json.loads`, measured beside each store's runs) and start-up: "
              + "; ".join(f"{size:,} orders {seconds:.2f} s, start-up {startup:.2f} s ({name})"
                          for size, name, seconds, startup in floors) + ".", ""]
    return lines


def replace_section(document: str, section: list[str]) -> str:
    """``document`` with its "## Ingest" section replaced by ``section`` (or ``section`` added)."""
    lines = document.splitlines()
    try:
        start = lines.index("## Ingest")
    except ValueError:
        return document.rstrip("\n") + "\n\n" + "\n".join(section)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join([*lines[:start], *section, *lines[end:]]) + "\n"
