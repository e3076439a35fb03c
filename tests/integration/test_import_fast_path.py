"""The importer's fast path on a real SQLite file and PostgreSQL: a record whose fingerprint is stored
beside an order that nothing has changed since is counted unchanged without being merged, and the
fast path leaves the same orders, documents, events and notifications as merging every record."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select

from soap_orders.adapters.orm import flow_outbox, order_documents, order_events, orders
from soap_orders.bootstrap import Dependencies, build_dependencies
from soap_orders.documents.records import order_from_record, order_to_record
from soap_orders.domain.orders import Reason
from soap_orders.ingest import files
from soap_orders.ingest import orders as upserts
from soap_orders.ingest.files import import_file
from soap_orders.service import orders as use_cases
from tests.conftest import _database
from tests.records import erp_fields_only, order_record, shipped
from tests.server import settings_for_tests

DG = use_cases.Caller("dg", "127.0.0.1")
EXAMPLES = itertools.count(1)
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)


def write_jsonl(path: Path, *records: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


class Statements:
    """The SQL statements sent while the block runs."""

    def __init__(self, deps: Dependencies) -> None:
        self.engine = deps.engine
        self.sent: list[str] = []

    def _listener(self, *args: Any) -> None:
        self.sent.append(args[2])

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._listener)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._listener)

    def reading_orders_whole(self) -> list[str]:
        return [s for s in self.sent if "order_lines" in s or "FOR UPDATE" in s.upper()]

    def writes(self) -> list[str]:
        return [s for s in self.sent if s.split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]


def fingerprint_of(deps: Dependencies, number: str) -> str | None:
    with deps.engine.connect() as connection:
        return connection.execute(
            select(order_documents.c.feed_fingerprint).join(orders, orders.c.id == order_documents.c.order_id)
            .where(orders.c.order_number == number)
        ).scalar_one()


def test_an_unchanged_reimport_reads_only_fingerprints(deps: Dependencies, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", *(order_record(f"FP-{i}") for i in range(5)))
    assert import_file(deps, path).created == 5

    with Statements(deps) as seen:
        report = import_file(deps, path, batch_size=2)

    assert (report.created, report.updated, report.unchanged, report.errors) == (0, 0, 5, [])
    assert seen.reading_orders_whole() == [] and seen.writes() == []
    # One query for the first batch; the records found unchanged, the rest at once (up to LOOK_UP).
    assert len([s for s in seen.sent if "feed_fingerprint" in s]) == 2
    monkeypatch.setattr(files, "LOOK_UP", 2)
    with Statements(deps) as again:
        assert import_file(deps, path, batch_size=1).unchanged == 5
    assert len([s for s in again.sent if "feed_fingerprint" in s]) == 3


def test_a_changed_record_is_merged_and_the_others_skipped(deps: Dependencies, tmp_path: Path) -> None:
    records = [order_record(f"FC-{i}") for i in range(3)]
    import_file(deps, write_jsonl(tmp_path / "a.jsonl", *records))
    records[1] = shipped(records[1])

    with Statements(deps) as seen:
        report = import_file(deps, write_jsonl(tmp_path / "b.jsonl", *records))

    assert (report.created, report.updated, report.unchanged, report.errors) == (0, 1, 2, [])
    assert seen.reading_orders_whole() != []
    assert use_cases.get_order(deps.uow(), "FC-1").status.value == "SHIPPED"
    # The next re-import of the same file skips all three.
    with Statements(deps) as again:
        report = import_file(deps, write_jsonl(tmp_path / "b.jsonl", *records))
    assert (report.unchanged, again.reading_orders_whole()) == (3, [])


def test_after_a_service_refund_the_same_record_is_merged_again_and_the_refund_kept(
        deps: Dependencies, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", order_record("FR-1"))
    import_file(deps, path)
    assert fingerprint_of(deps, "FR-1") is not None
    command = use_cases.IssueRefund("FR-1", "fr-1", Reason.DAMAGED, amount=Decimal("5.00"))
    assert use_cases.issue_refund(deps.uow(), command, deps.clock, DG).outcome.value == "REFUNDED"
    assert fingerprint_of(deps, "FR-1") is None  # the service's change clears it

    with Statements(deps) as seen:
        report = import_file(deps, path)

    assert (report.updated, report.unchanged, report.errors) == (0, 1, [])
    assert seen.reading_orders_whole() != []  # merged in full, not skipped
    assert use_cases.get_order(deps.uow(), "FR-1").refunded_amount == Decimal("5.00")
    assert fingerprint_of(deps, "FR-1") is not None  # and vouched for again
    with Statements(deps) as again:
        assert import_file(deps, path).unchanged == 1
    assert again.reading_orders_whole() == []


def test_a_record_whose_line_state_was_derived_is_skipped_when_fed_again(deps: Dependencies, tmp_path: Path) -> None:
    # What an ERP sends: no per-line state; the parcel says the lines are shipped.
    record = erp_fields_only(shipped(order_record("FS-1")))
    path = write_jsonl(tmp_path / "a.jsonl", record)
    first = import_file(deps, path)
    assert (first.created, first.errors) == (1, [])
    assert [n for n in first.notices if "STATE_DERIVED" in n.message]  # derived, not taken as said
    assert fingerprint_of(deps, "FS-1") is not None
    stored = order_to_record(use_cases.get_order(deps.uow(), "FS-1"))

    with Statements(deps) as seen:
        report = import_file(deps, path)

    assert (report.created, report.updated, report.unchanged, report.errors) == (0, 0, 1, [])
    assert seen.reading_orders_whole() == [] and seen.writes() == []  # by the fast path
    assert order_to_record(use_cases.get_order(deps.uow(), "FS-1")) == stored


def test_a_refused_record_is_refused_again_not_skipped(deps: Dependencies, tmp_path: Path) -> None:
    good = order_record("FX-1")
    import_file(deps, write_jsonl(tmp_path / "a.jsonl", good))
    bad = dict(good, Currency="USD", Total="-1.00")
    path = write_jsonl(tmp_path / "b.jsonl", bad)
    first, second = import_file(deps, path), import_file(deps, path)
    assert len(first.errors) == len(second.errors) == 1
    assert first.errors[0].message == second.errors[0].message


def test_a_record_sent_twice_in_one_batch_is_merged_in_file_order(deps: Dependencies, tmp_path: Path) -> None:
    base = order_record("FD-1")
    import_file(deps, write_jsonl(tmp_path / "a.jsonl", base))
    moved = order_record("FD-1")
    moved["ShippingAddress"]["Line1"] = "2 Rue du Louvre"
    # The stored fingerprint is base's: the later base in the file must still be merged after the
    # moved one (the ERP's later record wins), not skipped as unchanged.
    report = import_file(deps, write_jsonl(tmp_path / "b.jsonl", moved, base))
    assert (report.updated, report.unchanged, report.errors) == (2, 0, [])
    assert use_cases.get_order(deps.uow(), "FD-1").shipping_address.line1 == "1 Rue de Rivoli"


def test_changed_records_wait_across_batches_and_keep_the_files_order(deps: Dependencies, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "LOOK_UP", 2)  # fingerprints asked two records at a time
    records = [order_record(f"FW-{i}") for i in range(6)]
    import_file(deps, write_jsonl(tmp_path / "a.jsonl", *records))
    moved = order_record("FW-0")
    moved["ShippingAddress"]["Line1"] = "2 Rue du Louvre"
    shipped_3 = shipped(records[3])
    # Read two at a time: FW-0 moved waits to be merged; its unchanged twin, read later, must not
    # be skipped (it comes after the move in the file); the two changes are merged together.
    feed = write_jsonl(tmp_path / "b.jsonl", moved, records[1], records[0], shipped_3, records[2], records[4])

    with Statements(deps) as seen:
        report = import_file(deps, feed, batch_size=2)

    assert (report.updated, report.unchanged, report.errors) == (3, 3, [])
    assert use_cases.get_order(deps.uow(), "FW-0").shipping_address.line1 == "1 Rue de Rivoli"
    assert use_cases.get_order(deps.uow(), "FW-3").status.value == "SHIPPED"
    locking = [s for s in seen.sent if "FOR UPDATE" in s.upper()]
    if deps.engine.dialect.name == "postgresql":
        assert len(locking) == 1  # one merge transaction of the three, not one per batch read


# ---------------------------------------------------------------------- the same state as merging every record


def _variant(number: str, kind: int) -> dict[str, Any]:
    record = order_record(number)
    if kind == 1:
        record["ShippingAddress"]["Line1"] = "2 Rue du Louvre"
    elif kind == 2:
        record = shipped(record)
    elif kind == 3:
        record["Customer"]["FirstName"] = "Anne"
    elif kind == 4:
        record = erp_fields_only(shipped(record))  # its lines' state derived from its parcel
    return record


feeds = st.lists(
    st.tuples(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 4)), min_size=1, max_size=6), st.booleans()),
    min_size=1, max_size=4,
)


@pytest.fixture
def twin(database_url: str, tmp_path: Path) -> Iterator[Dependencies]:
    """A second empty database of the same kind, merged record by record."""
    kind = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    url = _database(kind, tmp_path / "twin", "twin") if kind == "sqlite" else _twin_postgres()
    dependencies = build_dependencies(settings_for_tests(url), clock=lambda: NOW)
    yield dependencies
    dependencies.engine.dispose()


def _twin_postgres() -> str:
    from tests.conftest import PG_SCHEMA, _fresh_postgres, _migrated, _postgres_url

    base = _postgres_url()
    assert base is not None
    return _migrated(_fresh_postgres(base, PG_SCHEMA + "_twin"))


def _snapshot(deps: Dependencies, prefix: str) -> dict[str, Any]:
    with deps.engine.connect() as connection:
        documents = dict(connection.execute(
            select(orders.c.order_number, order_documents.c.xml).join(order_documents)
            .where(orders.c.order_number.like(prefix + "%"))).all())
        events = connection.execute(
            select(order_events.c.order_number, order_events.c.event_type, order_events.c.payload)
            .where(order_events.c.order_number.like(prefix + "%")).order_by(order_events.c.id)).all()
        queued = connection.execute(
            select(flow_outbox.c.order_number, flow_outbox.c.event_type)
            .where(flow_outbox.c.order_number.like(prefix + "%")).order_by(flow_outbox.c.id)).all()
    # Each order's events in order (a batch appends its orders' events order by order).
    by_order: dict[str, list[Any]] = {}
    for number, kind, payload in events:
        by_order.setdefault(number, []).append((kind, payload))
    found = {"documents": documents, "events": by_order, "outbox": sorted(tuple(q) for q in queued)}
    # The service names its refunds at random: the same refund has another id in each database.
    return json.loads(re.sub(r"RF-[0-9A-F]{16}", "RF-?", json.dumps(found, sort_keys=True, default=str)))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(feeds, st.sampled_from([3, 4, files.LOOK_UP]))
def test_the_fast_path_leaves_what_merging_every_record_leaves(
        deps: Dependencies, twin: Dependencies, tmp_path: Path, steps: list[tuple[list[tuple[int, int]], bool]],
        look_up: int) -> None:
    fast = dataclasses.replace(deps, clock=lambda: NOW)
    prefix = f"FP{next(EXAMPLES)}-"  # each example its own orders
    for step, (picks, refund_between) in enumerate(steps):
        records = [_variant(f"{prefix}{number}", kind) for number, kind in picks]
        with mock.patch.object(files, "LOOK_UP", look_up):  # fingerprints asked a batch at a time, or more
            report = import_file(fast, write_jsonl(tmp_path / "feed.jsonl", *records), batch_size=3)
        slow = [upserts.upsert_orders(twin.uow(), [order_from_record(r)], twin.clock) for r in records]
        assert report.created + report.updated + report.unchanged + len(report.errors) == len(records)
        assert (report.created, report.updated, report.unchanged) == (
            sum(s.created for s in slow), sum(s.updated for s in slow), sum(s.unchanged for s in slow))
        if refund_between:
            number = f"{prefix}{picks[0][0]}"
            for target in (fast, twin):
                command = use_cases.IssueRefund(number, f"r-{prefix}{step}", Reason.DAMAGED, amount=Decimal("1.00"))
                use_cases.issue_refund(target.uow(), command, target.clock, DG)
        assert _snapshot(fast, prefix) == _snapshot(twin, prefix)
