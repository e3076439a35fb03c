"""New orders written set-based (``adapters.new_orders``) against the per-record path (each order added
to the ORM's unit of work), on a real SQLite file and PostgreSQL: random feeds of new, changed,
unchanged and refused records, fed again and acted on between feeds, leave the same rows in every
table of orders (their children, documents, events, notifications, audit records), the same
fingerprints and the same per-record results. Only surrogate ids differ (and the ids the service
draws at random for its refunds)."""

from __future__ import annotations

import copy
import dataclasses
import functools
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
from sqlalchemy import Table, select

from soap_orders.adapters import orm
from soap_orders.bootstrap import Dependencies, build_dependencies
from soap_orders.demo.records import generate_records
from soap_orders.domain.errors import DomainError
from soap_orders.domain.orders import Reason
from soap_orders.ingest import batches
from soap_orders.ingest import orders as upserts
from soap_orders.ingest.files import import_file
from soap_orders.service import orders as use_cases
from tests.conftest import _database
from tests.records import erp_fields_only, order_record, shipped
from tests.server import settings_for_tests

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)
EXAMPLES = itertools.count(1)
DG = use_cases.Caller("dg", "127.0.0.1")
#: Orders a feed picks from; the demo's are of every kind (shipped, returned, refunded, replaced...).
POOL = 6


@pytest.fixture
def per_record(database_url: str, tmp_path: Path) -> Iterator[Dependencies]:
    """A second empty database of the same kind, fed through the per-record path."""
    if database_url.startswith("postgresql"):
        from tests.conftest import PG_SCHEMA, _fresh_postgres, _migrated, _postgres_url

        base = _postgres_url()
        assert base is not None
        url = _migrated(_fresh_postgres(base, PG_SCHEMA + "_per_record"))
    else:
        url = _database("sqlite", tmp_path / "per-record", "per-record")
    dependencies = build_dependencies(settings_for_tests(url), clock=lambda: NOW)
    yield dependencies
    dependencies.engine.dispose()


def _pool(prefix: str, seed: int) -> list[dict[str, Any]]:
    """``POOL`` demo records renumbered under ``prefix`` (their links to each other too)."""
    found = list(generate_records(POOL, seed))
    names = {record["OrderNumber"]: f"{prefix}{i}" for i, record in enumerate(found)}
    text = json.dumps(found)
    for old, new in names.items():
        text = text.replace(f'"{old}"', f'"{new}"')
    return list(json.loads(text))


def _variant(pool: list[dict[str, Any]], number: int, kind: int) -> dict[str, Any]:
    record = copy.deepcopy(pool[number])
    if kind == 1:
        record["ShippingAddress"]["Line1"] = "2 Rue du Louvre"
    elif kind == 2:
        record["Customer"]["FirstName"] = "Anne"
    elif kind == 3:
        record["Total"] = "-1.00"  # refused
    elif kind == 4:
        record = erp_fields_only(record)  # what the service computes left out
    elif kind == 5:
        record = shipped(order_record(record["OrderNumber"]))  # another order under the same number
    return record


def _rows(deps: Dependencies, prefix: str) -> dict[str, list[Any]]:
    """Every row of the tables an upsert writes, for the orders of ``prefix``: surrogate ids are
    left out, a row's parent is named by its business key, and the rows of each parent come in id
    order (the order they are read back in)."""
    o, lines, shipments, items = orm.orders, orm.order_lines, orm.shipments, orm.shipment_items
    returns, return_items = orm.returns, orm.return_items
    mine = o.c.order_number.like(prefix + "%")

    def columns(table: Table, *skip: str) -> list[Any]:
        return [c for c in table.columns if c.name not in ("id", *skip)]

    queries = {
        "orders": select(*columns(o)).where(mine).order_by(o.c.order_number),
        "documents": select(o.c.order_number, *columns(orm.order_documents, "order_id"))
        .join(orm.order_documents).where(mine).order_by(o.c.order_number),
        **{table.name: select(o.c.order_number, *columns(table, "order_id")).join(table).where(mine)
           .order_by(o.c.order_number, table.c.id) for table in (lines, shipments, returns, orm.refunds)},
        "shipment_items": select(o.c.order_number, shipments.c.shipment_id, *columns(items, "shipment_pk"))
        .select_from(items.join(shipments).join(o)).where(mine)
        .order_by(o.c.order_number, shipments.c.id, items.c.id),
        "return_items": select(o.c.order_number, returns.c.return_id, *columns(return_items, "return_pk"))
        .select_from(return_items.join(returns).join(o)).where(mine)
        .order_by(o.c.order_number, returns.c.id, return_items.c.id),
        **{table.name: select(*columns(table)).where(table.c.order_number.like(prefix + "%"))
           .order_by(table.c.order_number, table.c.id)
           for table in (orm.order_events, orm.flow_outbox, orm.audit_records)},
    }
    with deps.engine.connect() as connection:
        found = {name: [list(row) for row in connection.execute(query)] for name, query in queries.items()}
    # The service names its refunds at random: the same refund has another id in each database.
    return json.loads(re.sub(r"RF-[0-9A-F]{16}", "RF-?", json.dumps(found, default=str)))


def _import_per_record(deps: Dependencies, path: Path, batch_size: int) -> Any:
    with mock.patch.object(batches, "upsert_orders", functools.partial(upserts.upsert_orders, set_based=False)):
        return import_file(deps, path, batch_size=batch_size)


def _summary(report: Any) -> tuple[Any, ...]:
    return (report.created, report.updated, report.unchanged, report.errors, report.notices)


feeds = st.lists(
    st.tuples(
        st.lists(st.tuples(st.integers(0, POOL - 1), st.integers(0, 5)), min_size=1, max_size=8),
        st.integers(1, 4),  # the batch size
        st.booleans(),  # a refund through the service after the feed
    ),
    min_size=1, max_size=3,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), steps=feeds)
def test_new_orders_written_set_based_leave_what_the_per_record_path_leaves(
        deps: Dependencies, per_record: Dependencies, tmp_path: Path, seed: int,
        steps: list[tuple[list[tuple[int, int]], int, bool]]) -> None:
    fast = dataclasses.replace(deps, clock=lambda: NOW)
    prefix = f"SB{next(EXAMPLES)}-"  # each example its own orders
    pool = _pool(prefix, seed)
    for step, (picks, batch_size, refund_after) in enumerate(steps):
        feed = tmp_path / "feed.jsonl"
        feed.write_text("".join(json.dumps(_variant(pool, n, kind)) + "\n" for n, kind in picks), encoding="utf-8")
        report = import_file(fast, feed, batch_size=batch_size)
        reference = _import_per_record(per_record, feed, batch_size)
        assert _summary(report) == _summary(reference)
        if refund_after:
            number = f"{prefix}{picks[0][0]}"
            outcomes = []
            for target in (fast, per_record):
                command = use_cases.IssueRefund(number, f"r-{prefix}{step}", Reason.DAMAGED, amount=Decimal("1.00"))
                try:
                    outcomes.append(use_cases.issue_refund(target.uow(), command, target.clock, DG).outcome)
                except DomainError as error:  # the order was never stored, say
                    outcomes.append(error.code)
            assert outcomes[0] == outcomes[1]
        assert _rows(fast, prefix) == _rows(per_record, prefix)


def test_a_first_import_writes_the_new_orders_without_the_orm(deps: Dependencies, tmp_path: Path) -> None:
    """The set-based path is the one taken: a batch of new orders is one INSERT per table on SQLite,
    not one per order; on PostgreSQL no INSERT of orders, lines or documents at all (they are copied
    in), their ids drawn in one query per table. Every order, child and document is there afterwards."""
    from sqlalchemy import event

    records = [dict(r) for r in _pool("SBW-", 3)]
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    sent: list[str] = []
    given: list[Any] = []

    def listener(*args: Any) -> None:
        sent.append(args[2])
        given.append(args[3])

    event.listen(deps.engine, "before_cursor_execute", listener)
    try:
        report = import_file(deps, feed, batch_size=len(records))
    finally:
        event.remove(deps.engine, "before_cursor_execute", listener)
    assert (report.created, report.errors) == (len(records), [])
    inserts = [s.split("(")[0].split()[-1].strip('"') for s in sent if s.lstrip().upper().startswith("INSERT")]
    if deps.engine.dialect.name == "postgresql":
        assert [inserts.count(table) for table in ("orders", "order_documents", "order_lines")] == [0, 0, 0]
        drawn = [parameters["pg_get_serial_sequence_1"] for statement, parameters in zip(sent, given, strict=True)
                 if "pg_get_serial_sequence" in statement]
        parents = ["orders"] + [table for table, key in (("shipments", "Shipments"), ("returns", "Returns"))
                                if any(r.get(key) for r in records)]
        assert drawn == parents
    else:
        assert inserts.count("orders") == 1 and inserts.count("order_documents") == 1
        assert inserts.count("order_lines") == 1
    rows = _rows(deps, "SBW-")
    assert len(rows["orders"]) == len(rows["documents"]) == len(records)
    assert len(rows["order_lines"]) == sum(len(r["Lines"]) for r in records)
    assert len(rows["order_events"]) == len(records)  # one OrderUpserted each


def test_a_refused_copy_is_answered_as_sqlalchemys_error_and_writes_nothing(deps: Dependencies, tmp_path: Path) -> None:
    """On PostgreSQL the new orders are copied in through the driver: an error there is raised as
    SQLAlchemy's (what the service maps, as for every statement it sends), and the transaction it
    was in leaves nothing behind."""
    if deps.engine.dialect.name != "postgresql":
        pytest.skip("COPY is PostgreSQL's; SQLite's rows go through SQLAlchemy's executemany")
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm import Session

    from soap_orders.adapters import new_orders

    records = [dict(r) for r in _pool("SBC-", 1)]
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps(records[0]) + "\n", encoding="utf-8")
    assert import_file(deps, feed).created == 1
    number = records[0]["OrderNumber"]
    with Session(deps.engine) as session:
        stored = dict(session.execute(select(orm.orders).where(orm.orders.c.order_number == number)).mappings().one())
        second = {**stored, "id": stored["id"] + 1_000_000}  # a new row, but for an order number taken
        with pytest.raises(IntegrityError):
            new_orders._copy(session, orm.orders, [second])
        session.rollback()
    with Session(deps.engine) as session:
        assert session.scalar(select(orm.orders.c.id).where(orm.orders.c.id == second["id"])) is None
        assert [r.id for r in session.execute(select(orm.orders.c.id).where(orm.orders.c.order_number == number))] \
            == [stored["id"]]
