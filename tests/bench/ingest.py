"""The ingest runs of ``make bench``: ``soap-orders import`` of demo orders against its own floor.

For each database and size: a fresh database, ``soap-orders demo-data --jsonl`` writes the file,
then the real command (``soap-orders import``, a subprocess, as an ERP team runs it) imports it
three times: the first import, a re-import of the same file (nothing changed), and a re-import
of a copy in which 1% of the orders have a changed shipping address. Each is reported as a ratio
to the time ``json.loads`` takes to parse the same file (read line by line, as the importer
does), measured in the same run, before and after the imports (the smaller is kept); the peak
RSS of the import process is reported beside it.
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
#: The targets of issue 20, as ratios to the parse floor.
TARGETS = {"first import": 15.0, "re-import, unchanged": 3.0, "re-import, 1% changed": 5.0}


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


def _command(args: list[str], url: str, log_path: Path) -> tuple[float, float, int, str]:
    """Run ``soap-orders ARGS``: (seconds, peak RSS in MB, exit status, last line of stdout)."""
    env = {**os.environ, "SOAP_ORDERS_DATABASE_URL": url, "SOAP_ORDERS_SECRET_KEY": "bench-ingest-" + "k" * 40}
    with log_path.open("wb") as errors, tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen([str(BIN / "soap-orders"), *args], stdout=out, stderr=errors,
                                   stdin=subprocess.DEVNULL, env=env)
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        lines = out.read().decode("utf-8", "replace").strip().splitlines()
    return seconds, usage.ru_maxrss / 1024, process.returncode, lines[-1] if lines else ""


def run(kinds: tuple[str, ...], sizes: tuple[int, ...], bench_url: str | None,
        log: Callable[[str], Any] = print, import_args: tuple[str, ...] = ()) -> list[IngestRun]:
    results: list[IngestRun] = []
    with tempfile.TemporaryDirectory(prefix="soap-orders-ingest-") as scratch:
        work = Path(scratch)
        for size in sizes:
            feed, changed = work / f"orders-{size}.jsonl", work / f"orders-{size}-changed.jsonl"
            subprocess.run([str(BIN / "soap-orders"), "demo-data", "--orders", str(size), "--seed", "7",
                            "--jsonl", str(feed)], check=True, stdout=subprocess.DEVNULL)
            count = changed_copy(feed, changed)
            log(f"Ingest {size:,} orders ({feed.stat().st_size / 1e6:.0f} MB; {count:,} changed in the third run)")
            for kind in kinds:
                url = fresh_database(kind, work, bench_url)
                subprocess.run([str(BIN / "soap-orders"), "db", "upgrade"], check=True, stdout=subprocess.DEVNULL,
                               env={**os.environ, "SOAP_ORDERS_DATABASE_URL": url})
                floor_before = parse_floor(feed)
                empty = work / "empty.jsonl"
                empty.write_bytes(b"")
                startup = min(_command(["import", str(empty)], url, work / "import.log")[0] for _ in range(3))
                timings = []
                for label, path in (("first import", feed), ("re-import, unchanged", feed),
                                    ("re-import, 1% changed", changed)):
                    seconds, rss, status, summary = _command(["import", *import_args, str(path)], url,
                                                              work / "import.log")
                    if not summary:
                        raise RuntimeError(f"soap-orders import answered nothing (status {status}): "
                                           + (work / "import.log").read_text()[-2000:])
                    timings.append((label, seconds, rss, status, summary))
                floor = min(floor_before, parse_floor(feed))
                for label, seconds, rss, status, summary in timings:
                    measured = IngestRun(kind, size, label, seconds, floor, rss, summary, status, startup)
                    results.append(measured)
                    log(f"  {_name(kind):<10} {label:<22} {seconds:8.1f} s  {measured.rate:8.0f} orders/s  "
                        f"{measured.ratio:6.1f}x parse ({floor:.2f} s; {measured.net_ratio:.1f}x without the {startup:.1f} s "
                        f"start-up)  RSS {rss:.0f} MB  {summary}")
                drop_database(kind, bench_url)
    return results


def machine_state(load_at_start: tuple[float, float, float], began: float) -> str:
    return (f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} in {(time.monotonic() - began) / 60:.1f} min; "
            f"load average (1 min) at start / end {load_at_start[0]:.1f} / {os.getloadavg()[0]:.1f} "
            f"on {os.cpu_count()} cores.")


def _name(kind: str) -> str:
    return "SQLite" if kind == "sqlite" else "PostgreSQL"


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
             "spreads thinner; *RSS* the import process's peak. *met* judges the whole time.", "",
             "| store | orders | run | s | orders/s | × parse | net × parse | target | met | peak RSS MB | result |",
             "|---|---:|---|---:|---:|---:|---:|---:|---|---:|---|"]
    for found in results:
        target = TARGETS[found.label]
        met = "yes" if found.ratio <= target and found.status == 0 else "**no**"
        lines.append(f"| {_name(found.kind)} | {found.size:,} | {found.label} | {found.seconds:.1f} | "
                     f"{found.rate:,.0f} | {found.ratio:.1f} | {found.net_ratio:.1f} | {target:g} | {met} | {found.peak_rss_mb:.0f} | "
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
