"""The benchmark's report: the rows of its targets table, from measured figures, and the request
bodies of its writing calls (the benchmark itself is run by ``make bench``, never by the tests)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tests.bench import ingest, report, writes
from tests.bench.load import Measured, operation


def _run(kind: str, size: int, label: str, seconds: float, rss: float = 80.0, *, stopped: bool = False,
         floor: float = 1.0) -> ingest.IngestRun:
    return ingest.IngestRun(kind, size, label, seconds, floor, rss, "done.", -9 if stopped else 0, 0.5, stopped)


def _rows(results: list[ingest.IngestRun]) -> dict[str, tuple[str, bool | None]]:
    return {what: (measured, met) for what, measured, met in ingest.target_rows(results)}


def _row(rows: dict[str, tuple[str, bool | None]], part: str) -> tuple[str, bool | None]:
    (found,) = [value for what, value in rows.items() if part in what]
    return found


def test_the_large_import_and_its_memory_are_targets_of_their_own():
    rows = _rows([_run("sqlite", 20_000, "first import", 10.0),
                  _run("postgresql", 1_000_000, "first import", 290.0, rss=310.0, floor=20.0),
                  _run("postgresql", 1_000_000, "re-import, unchanged", 2.0, rss=120.0, floor=20.0)])
    measured, met = _row(rows, "1M orders imported on PostgreSQL in under 5 minutes")
    assert met is True and measured.startswith("4.8 min")
    measured, met = _row(rows, "peak RSS")
    assert met is False and "310 MB" in measured and "first import" in measured
    measured, met = _row(rows, "first import at most 15x")
    assert met is True and measured == "10.0x (SQLite 20k) to 14.5x (PostgreSQL 1M)"


def test_a_slow_large_import_misses_and_a_stopped_one_is_a_lower_bound():
    rows = _rows([_run("postgresql", 1_000_000, "first import", 301.0)])
    assert _row(rows, "under 5 minutes") == ("5.0 min (3,322 orders/s)", False)
    rows = _rows([_run("postgresql", 1_000_000, "first import", 3700.0, stopped=True)])
    measured, met = _row(rows, "under 5 minutes")
    assert met is False and measured == "stopped after 61.7 min"
    measured, met = _row(rows, "first import at most 15x")
    assert met is False and "more than 3700.0x (stopped)" in measured


def test_targets_a_run_did_not_reach_say_not_measured():
    rows = _rows([_run("sqlite", 20_000, "first import", 10.0, rss=95.0)])
    assert _row(rows, "under 5 minutes")[1] is None
    measured, met = _row(rows, "peak RSS")
    assert met is None and "95 MB for 20,000 orders" in measured
    assert _row(rows, "unchanged at most 3x") == ("not measured in this run", None)
    section = "\n".join(ingest.render([_run("sqlite", 20_000, "first import", 10.0)], "Measured now."))
    assert "| not measured |" in section and "| yes |" in section


@dataclass
class _Target:
    name: str
    results: dict[tuple[str, int], list[Measured]]
    available: dict[str, bool] = field(default_factory=dict)


def _measured(requests_per_second: float) -> Measured:
    return Measured(requests=int(requests_per_second * 5), seconds=5.0, p50_ms=1.0, p99_ms=2.0, failed=0,
                    server_cpu_s=1.0, wrk_cpu_s=0.1)


def _target(name: str, rates: dict[str, float]) -> Any:
    return _Target(name, {(call, 8): [_measured(rate)] for call, rate in rates.items()},
                   {call: True for call in rates})


def test_upsert_orders_is_judged_in_orders_per_second_on_postgresql_at_8_connections():
    targets = [_target("SQLite 10k", {"UpsertOrders": 90.0, "JSON UpsertOrders": 90.0}),
               _target("PostgreSQL 10k", {"UpsertOrders": 30.0, "JSON UpsertOrders": 25.0}),
               _target("PostgreSQL 1M", {"UpsertOrders": 20.0, "JSON UpsertOrders": 21.0}),
               _target("PostgreSQL 10k via PgBouncer", {"UpsertOrders": 1.0})]
    soap, json = report.upsert_rows(targets, {"UpsertOrders": 80, "JSON UpsertOrders": 100})
    assert soap.met is False and json.met is True
    assert "80 new orders a request" in soap.what and "more XML elements" in soap.what
    assert soap.what.endswith("on PostgreSQL at 8 connections: at least 2,000 orders/s")
    assert "2,400 orders/s (30.0 req/s × 80, PostgreSQL 10k), 1.20x the target" in soap.measured
    assert "1,600 orders/s (20.0 req/s × 80, PostgreSQL 1M), 0.80x the target" in soap.measured
    assert "SQLite" not in soap.measured and "PgBouncer" not in soap.measured
    assert "Single writes" in soap.line() and "2,100 orders/s" in json.measured
    assert json.line().endswith("| yes |  |")  # met: no profile pointed to


def test_upsert_orders_without_postgresql_is_not_measured():
    (soap, _) = report.upsert_rows([_target("SQLite 10k", {"UpsertOrders": 50.0})],
                                   {"UpsertOrders": 100, "JSON UpsertOrders": 100})
    assert soap.met is None and "SQLite 10k: 5,000 orders/s" in soap.measured
    assert soap.line().endswith("| not measured |  |")


def test_a_missed_target_points_to_its_profile():
    missed = report.TargetRow("t", "m", False, report.WRITES_PROFILE)
    assert missed.line() == f"| t | m | **no** | {report.WRITES_PROFILE} |"
    assert report.TargetRow("t", "m", True, report.WRITES_PROFILE).line() == "| t | m | yes |  |"
    section = report.targets_section([missed])
    assert section[:4] == [report.TARGETS_HEADING, "", *report.TARGETS_HEAD]
    assert any("targets missed" in line for line in section)


def test_target_rows_are_replaced_in_place_and_an_older_table_gains_the_last_column():
    document = "\n".join(["# Results", "", "## Targets", "", "| target | this run | met |", "|---|---|---|",
                          "| GetOrder | 0.3x | **no** |", "| Ingest: old | 99x | **no** |", "", "## Every call", ""])
    rows = [report.TargetRow("Ingest: first import", "20x", False, report.INGEST_PROFILE)]
    replaced = report.replace_target_rows(document, rows, "Ingest:")
    table = [line for line in replaced.splitlines() if line.startswith("|")]
    assert table == [*report.TARGETS_HEAD, "| GetOrder | 0.3x | **no** | |",
                     f"| Ingest: first import | 20x | **no** | {report.INGEST_PROFILE} |"]
    assert "## Every call" in replaced
    again = report.replace_target_rows(replaced, [report.TargetRow("Ingest: first import", "14x", True)], "Ingest:")
    assert [line for line in again.splitlines() if "Ingest:" in line] == ["| Ingest: first import | 14x | yes |  |"]
    added = report.replace_target_rows("# Results\n", rows, "Ingest:")
    assert report.TARGETS_HEADING in added.splitlines() and "| Ingest: first import | 20x |" in added


def test_the_single_writes_section_says_how_each_writing_operation_is_measured():
    coverage = [("UpsertOrders", "over HTTP (rounds) and in process", "repeatable"),
                ("ForgetCustomer", "not measured", "irreversible")]
    section = report.writes_section([], 400, "now", (1.0, 2.0), coverage)
    assert "| ForgetCustomer | not measured | irreversible |" in section
    assert section[0] == report.WRITES_HEADING and "40 times" in section[2]


def test_every_upsert_request_creates_new_orders_numbered_from_its_own_id():
    records = writes.upsert_records("RUN-1-7")
    assert len(records) == writes.UPSERT_BATCH == 100
    numbers = [r["OrderNumber"] for r in records]
    assert len(set(numbers)) == 100 and all(n.startswith("UP-RUN-1-7-") for n in numbers)
    assert all("RefundableAmount" not in r for r in records)  # the ERP's fields only
    body = writes.upsert_json("@RID@")
    assert body.count("@RID@") == 101  # the RequestId and every order number


def test_the_soap_upsert_batch_is_the_most_the_service_accepts_in_one_request():
    from soap_orders.xmlsafe import MAX_ELEMENTS

    batch = writes.soap_batch()
    assert 0 < batch <= writes.UPSERT_BATCH

    def elements(xml: str) -> int:
        return len(re.findall(r"<(?![/?])", xml))

    assert elements(writes.upsert_soap("x", writes.ENVELOPE, batch)) <= MAX_ELEMENTS
    if batch < writes.UPSERT_BATCH:
        assert elements(writes.upsert_soap("x", writes.ENVELOPE, batch + 1)) > MAX_ELEMENTS


def test_the_floor_answers_a_writing_call_by_its_operation():
    assert operation(writes.cancel_soap("SO-1", "x", writes.ENVELOPE).encode()) == b"o:CancelOrder"
    assert operation(writes.address_soap("SO-1", "x", writes.ENVELOPE).encode()) == b"o:ChangeShippingAddress"
    assert operation(b'{"OrderNumber": "SO-1"}') == b""
