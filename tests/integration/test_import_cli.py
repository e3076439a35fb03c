"""``soap-orders import`` run as a user runs it (a subprocess) on a real SQLite file and PostgreSQL:
``--dry-run`` says what an import would do and writes nothing; every import ends with its refusals
counted by reason."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from soap_orders.adapters.orm import (
    audit_records,
    order_documents,
    order_events,
    orders,
)
from soap_orders.bootstrap import Dependencies
from soap_orders.domain.orders import Reason, RefundLineRequest
from soap_orders.ingest.files import import_file
from soap_orders.service import orders as use_cases
from tests.records import order_record, shipped
from tests.server import TEST_SECRET_KEY

SOAP_ORDERS = str(Path(sys.executable).with_name("soap-orders"))


def write_jsonl(path: Path, *lines: dict[str, Any] | str) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines),
                    encoding="utf-8")
    return path


def run_import(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "SOAP_ORDERS_DATABASE_URL": database_url,
           "SOAP_ORDERS_SECRET_KEY": TEST_SECRET_KEY}
    return subprocess.run([SOAP_ORDERS, "import", *args], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=120)


def everything_stored(deps: Dependencies) -> tuple[Any, ...]:
    with deps.engine.connect() as connection:
        return (
            connection.execute(select(orders.c.order_number, orders.c.status).order_by(orders.c.order_number)).all(),
            connection.execute(select(order_documents.c.xml, order_documents.c.feed_fingerprint)
                               .order_by(order_documents.c.order_id)).all(),
            connection.execute(select(func.count()).select_from(order_events)).scalar_one(),
            connection.execute(select(func.count()).select_from(audit_records)).scalar_one(),
        )


def test_a_dry_run_reports_what_an_import_would_do_and_writes_nothing(
        database_url: str, deps: Dependencies, tmp_path: Path) -> None:
    import_file(deps, write_jsonl(tmp_path / "before.jsonl", order_record("DR-UPD"), order_record("DR-SAME")))
    feed = write_jsonl(
        tmp_path / "feed.jsonl",
        order_record("DR-NEW"),
        shipped(order_record("DR-UPD")),
        order_record("DR-SAME"),
        dict(order_record("DR-BAD"), Currency="EURO"),
    )
    before = everything_stored(deps)

    dry = run_import(database_url, "--dry-run", str(feed))

    assert dry.returncode == 1, dry.stderr  # a record would fail
    assert dry.stdout.splitlines()[-2:] == [
        "Refused by reason: INVALID_DOCUMENT 1.",
        "Dry run, nothing was written: 1 created, 1 updated, 1 unchanged, 1 failed.",
    ]
    assert "feed.jsonl:4: " in dry.stderr and "EURO" not in dry.stderr
    assert everything_stored(deps) == before
    assert use_cases.get_order(deps.uow(), "DR-UPD").status.value == "PROCESSING"

    real = run_import(database_url, str(feed))

    assert real.stdout.splitlines()[-2:] == [
        "Refused by reason: INVALID_DOCUMENT 1.",
        "1 created, 1 updated, 1 unchanged, 1 failed.",
    ]
    assert use_cases.get_order(deps.uow(), "DR-UPD").status.value == "SHIPPED"
    assert use_cases.get_order(deps.uow(), "DR-NEW").order_number == "DR-NEW"


def test_every_import_counts_its_refusals_by_reason(database_url: str, deps: Dependencies, tmp_path: Path) -> None:
    import_file(deps, write_jsonl(tmp_path / "before.jsonl", shipped(order_record("RR-1"))))
    command = use_cases.IssueRefund("RR-1", "rr-1", Reason.DAMAGED,
                                    lines=(RefundLineRequest(quantity=1, line_number=2),))
    assert use_cases.issue_refund(deps.uow(), command, deps.clock,
                                  use_cases.Caller("dg", "127.0.0.1")).outcome.value == "REFUNDED"
    without_line_2 = shipped(order_record("RR-1"))
    without_line_2.update(Lines=without_line_2["Lines"][:1], Subtotal="20.00", Total="24.50")
    feed = write_jsonl(
        tmp_path / "feed.jsonl",
        "{not json",
        dict(order_record("RR-2"), Currency="EURO"),
        without_line_2,
        dict(order_record("RR-3"), Total="-1"),
        order_record("RR-4"),
    )

    done = run_import(database_url, str(feed))

    assert done.returncode == 1
    assert done.stdout.splitlines()[-2:] == [
        "Refused by reason: INVALID_DOCUMENT 2, LINE_REFUNDED 1, UNREADABLE 1.",
        "1 created, 0 updated, 0 unchanged, 4 failed.",
    ]


def test_an_import_with_nothing_refused_prints_no_refusals(database_url: str, tmp_path: Path) -> None:
    done = run_import(database_url, str(write_jsonl(tmp_path / "feed.jsonl", order_record("OK-1"))))
    assert (done.returncode, done.stdout.splitlines()) == (0, ["1 created, 0 updated, 0 unchanged, 0 failed."])


PROGRESS_LINE = re.compile(r"^import: [\d,]+ records \(\d+% of the file\), [\d,]+/s, \d+ failed, ETA \d+[smh]")


def stored_count(deps: Dependencies) -> int:
    with deps.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(orders)).scalar_one()


def test_a_long_import_not_on_a_terminal_writes_a_progress_line_now_and_then(
        database_url: str, tmp_path: Path) -> None:
    feed = write_jsonl(tmp_path / "feed.jsonl", *(order_record(f"PG-{i}") for i in range(400)))
    done = run_import(database_url, "--batch-size", "20", "--progress-every", "0.1", str(feed))
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines and all(PROGRESS_LINE.match(line) for line in lines), lines
    assert "\r" not in done.stderr  # a log gets whole lines, not a redrawn terminal line


def test_ctrl_c_stops_after_the_records_read_and_a_rerun_goes_on(
        database_url: str, deps: Dependencies, tmp_path: Path) -> None:
    total = 1500
    feed = write_jsonl(tmp_path / "feed.jsonl", *(order_record(f"CC-{i}") for i in range(total)))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "SOAP_ORDERS_DATABASE_URL": database_url,
           "SOAP_ORDERS_SECRET_KEY": TEST_SECRET_KEY}
    process = subprocess.Popen([SOAP_ORDERS, "import", "--batch-size", "50", "--progress-every", "0.1", str(feed)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                               text=True, env=env)
    try:
        assert process.stderr is not None
        while True:  # until some records are done
            line = process.stderr.readline()
            assert line, "the import ended before it showed progress"
            if PROGRESS_LINE.match(line) and not line.startswith("import: 0 records"):
                break
        process.send_signal(signal.SIGINT)
        out, _err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 130
    stopped = re.fullmatch(r"(\d+) created, 0 updated, 0 unchanged, 0 failed "
                           r"\(stopped early; run the import again to go on\)\.", out.splitlines()[-1])
    assert stopped, out
    written = int(stopped.group(1))
    assert 0 < written < total and stored_count(deps) == written  # every record reported is stored

    again = run_import(database_url, str(feed))

    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1] == f"{total - written} created, 0 updated, {written} unchanged, 0 failed."
    assert stored_count(deps) == total


def test_a_json_lines_import_loads_neither_spyne_nor_zeep(database_url: str, deps: Dependencies, tmp_path: Path) -> None:
    # The command as installed, with what it loaded looked at when it is done: reading JSON Lines
    # needs neither the SOAP stack nor its client, only an XML document needs the schema.
    feed = write_jsonl(tmp_path / "a.jsonl", order_record("ST-1"))
    script = ("import atexit, sys\n"
              "atexit.register(lambda: print('loaded:', sorted({m.split('.')[0] for m in sys.modules} & {'spyne', 'zeep'})))\n"
              "from soap_orders.cli import main\n"
              "sys.argv = ['soap-orders', 'import', sys.argv[1]]\n"
              "main()\n")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "SOAP_ORDERS_DATABASE_URL": database_url,
           "SOAP_ORDERS_SECRET_KEY": TEST_SECRET_KEY}
    done = subprocess.run([sys.executable, "-c", script, str(feed)], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "1 created" in done.stdout and "loaded: []" in done.stdout
    assert use_cases.get_order(deps.uow(), "ST-1").order_number == "ST-1"
