"""Reading an order's number from the bytes of its JSON line, without parsing the line: a record
whose fingerprint is stored beside that number is counted unchanged at the cost of a digest.

Lines whose number cannot be read that way for sure (escaped keys or numbers, the key twice,
subscriptions) are parsed as before; lines that are not valid JSON are refused at their line as
before. Each feed is imported both ways and must leave the same orders, documents, events,
notifications and fingerprints, and report the same, as importing it record by record with
every line parsed (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from soap_orders.adapters.orm import (
    flow_outbox,
    order_documents,
    order_events,
    orders,
    subscriptions,
)
from soap_orders.bootstrap import Dependencies, build_dependencies
from soap_orders.documents.records import RecordError, order_from_record
from soap_orders.ingest import files, jsonl
from soap_orders.ingest.files import import_file
from soap_orders.ingest.jsonl import number_in_line
from soap_orders.ingest.report import ImportReport
from tests.conftest import _database
from tests.records import order_record, shipped, subscription_record
from tests.server import settings_for_tests

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
PREFIXES = itertools.count(1)


def line(record: dict[str, Any], **dumps: Any) -> bytes:
    return json.dumps(record, **dumps).encode()


def moved(record: dict[str, Any], street: str = "2 Rue du Louvre") -> dict[str, Any]:
    record = json.loads(json.dumps(record))
    record["ShippingAddress"]["Line1"] = street
    return record


def read_whole(raw: bytes) -> Any:
    """What parsing the line reads, or None when it is not JSON."""
    try:
        return json.loads(raw)
    except ValueError:
        return None


def valid_order(record: Any) -> bool:
    try:
        order_from_record(record)
    except RecordError:
        return False
    return True


# ---------------------------------------------------------------------- the number read from the bytes


def _cases() -> list[tuple[str, bytes, str | None]]:
    a = order_record("RN-A")
    plain = line(a)
    escaped_key = plain.replace(b'"OrderNumber"', b'"Order\\u004eumber"')
    nested = moved(a)
    nested["ShippingAddress"]["OrderNumber"] = "RN-B"
    wrapped = dict(a, ReplacementOrderNumbers={"OrderNumber": ["RN-B"]})
    return [
        ("plain", plain, "RN-A"),
        ("compact", line(a, separators=(",", ":")), "RN-A"),
        ("spaced", line(a, separators=(" , ", " : ")), "RN-A"),
        ("tabs and newlines", plain.replace(b'{"OrderNumber": ', b'{\t"OrderNumber"\r\n:\t'), "RN-A"),
        ("not first", line(dict(reversed(list(a.items())))), "RN-A"),
        ("padded number", plain.replace(b'"RN-A"', b'"  RN-A "'), "  RN-A "),
        ("non-ASCII number", line(order_record("RN-É"), ensure_ascii=False), "RN-É"),
        ("escaped number", line(order_record("RN-É")), None),
        ("number with an escaped letter", plain.replace(b'"RN-A"', b'"RN-\\u0041"'), None),
        ("escaped key", escaped_key, None),
        ("escaped key, a nested plain one", line(nested).replace(b'{"OrderNumber"', b'{"Order\\u004eumber"', 1), None),
        ("key twice", plain[:-1] + b', "OrderNumber": "RN-B"}', None),
        ("key twice, the second escaped", plain[:-1] + b', "Order\\u004eumber": "RN-B"}', None),
        ("escaped name elsewhere", line(dict(a, Customer=dict(a["Customer"], LastName="Lé"))), "RN-A"),
        ("nested and wrapped key", line(wrapped), None),
        ("key as a value", line(dict(a, CancelReason="OrderNumber")), None),
        ("escaped quote before the key", plain.replace(b'{"OrderNumber"', b'{"x\\"OrderNumber"'), None),
        ("number not a string", plain.replace(b'"RN-A"', b"17"), None),
        ("not JSON, number looks read", plain[:200], "RN-A"),
        ("not JSON, but the key", b'{"OrderNumber": "RN-A", "Currency": }', "RN-A"),
        ("a list of one order", b"[" + plain + b"]", "RN-A"),
        ("invalid UTF-8 in the number", plain.replace(b'"RN-A"', b'"RN-\xff"'), None),
        ("subscription", line(subscription_record("RN-SUB")), None),
        ("escaped subscription key", line(dict(a, SubscriptionId="RN-S")).replace(
            b'"SubscriptionId"', b'"Subscription\\u0049d"'), None),
    ]


@pytest.mark.parametrize(("name", "raw", "expected"), _cases(), ids=[case[0] for case in _cases()])
def test_the_number_read_from_the_bytes(name: str, raw: bytes, expected: str | None) -> None:
    assert number_in_line(raw) == expected
    whole = read_whole(raw)
    if expected is not None and valid_order(whole):
        # Of a valid order record, the number read from the bytes is the one parsing reads.
        assert whole["OrderNumber"] == expected


#: JSON text built piece by piece, so that keys can be doubled and spelled with escapes.
_KEYS = st.sampled_from(['"OrderNumber"', '"Order\\u004eumber"', '"\\u004FrderNumber"', '"SubscriptionId"',
                         '"Subscription\\u0049d"', '"x"', '"x\\"OrderNumber"', '"\\u0022"'])
_SCALARS = st.sampled_from(['"A-1"', '"B-2"', '"A-1"', '"B-2"', '"A\\u002d1"', '" A-1 "', '"OrderNumber"',
                            '"\\"OrderNumber\\""', '"\\u00e9"', "1", "null", "[]"])
_SPACE = st.sampled_from(["", " ", "\t", "\r\n"])


def _objects(values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    members = st.tuples(_SPACE, _KEYS, _SPACE, _SPACE, values).map(lambda m: f"{m[0]}{m[1]}{m[2]}:{m[3]}{m[4]}")
    return st.lists(members, max_size=4).map(lambda items: "{" + ",".join(items) + "}")


_VALUES = st.recursive(_SCALARS, lambda inner: _objects(inner) | st.lists(inner, max_size=3).map(
    lambda items: "[" + ",".join(items) + "]"), max_leaves=10)


@settings(max_examples=500, deadline=None)
@given(_objects(_VALUES))
def test_a_number_read_from_the_bytes_is_the_one_json_reads(text: str) -> None:
    raw = text.encode()
    number = number_in_line(raw)
    whole = read_whole(raw)
    if number is None or not isinstance(whole, dict):
        return
    # Of any JSON object (not only a valid order), the number read is the one parsing reads, when
    # the object has a number at its top; and it is never a subscription.
    assert "SubscriptionId" not in whole
    if isinstance(whole.get("OrderNumber"), str):
        assert whole["OrderNumber"] == number


# ---------------------------------------------------------------------- the same as record by record


@pytest.fixture
def twin(database_url: str, tmp_path: Path) -> Iterator[Dependencies]:
    """A second empty database of the same kind, fed record by record, every line parsed."""
    if database_url.startswith("postgresql"):
        from tests.conftest import PG_SCHEMA, _fresh_postgres, _migrated, _postgres_url

        base = _postgres_url()
        assert base is not None
        url = _migrated(_fresh_postgres(base, PG_SCHEMA + "_rough"))
    else:
        url = _database("sqlite", tmp_path / "twin", "twin")
    dependencies = build_dependencies(settings_for_tests(url), clock=lambda: NOW)
    yield dependencies
    dependencies.engine.dispose()


def _snapshot(deps: Dependencies, prefix: str) -> dict[str, Any]:
    with deps.engine.connect() as connection:
        documents = [tuple(row) for row in connection.execute(
            select(orders.c.order_number, order_documents.c.xml, order_documents.c.feed_fingerprint)
            .join(order_documents).where(orders.c.order_number.like(prefix + "%")).order_by(orders.c.order_number))]
        events = [tuple(row) for row in connection.execute(
            select(order_events.c.order_number, order_events.c.event_type, order_events.c.payload)
            .where(order_events.c.order_number.like(prefix + "%")).order_by(order_events.c.id))]
        queued = sorted(tuple(row) for row in connection.execute(
            select(flow_outbox.c.order_number, flow_outbox.c.event_type)
            .where(flow_outbox.c.order_number.like(prefix + "%"))))
        held = sorted(tuple(row) for row in connection.execute(
            select(subscriptions.c.subscription_id).where(subscriptions.c.subscription_id.like(prefix + "%"))))
    by_order: dict[str, list[Any]] = {}
    for number, kind, payload in events:
        by_order.setdefault(number, []).append((kind, payload))
    found = {"documents": documents, "events": by_order, "outbox": queued, "subscriptions": held}
    return json.loads(json.dumps(found, sort_keys=True, default=str))


def _said(report: ImportReport) -> tuple[Any, ...]:
    return (report.created, report.updated, report.unchanged,
            [(p.line, p.message, p.reason) for p in report.errors], [(p.line, p.message, p.reason) for p in report.notices])


class Feeds:
    """Each file imported into ``deps`` as the importer reads it, and into ``twin`` one record per
    batch with every line parsed; the two must report and leave the same."""

    def __init__(self, deps: Dependencies, twin: Dependencies, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                 prefix: str, look_up: int) -> None:
        self.deps, self.twin, self.tmp_path, self.monkeypatch, self.prefix = deps, twin, tmp_path, monkeypatch, prefix
        self.look_up = look_up

    def feed(self, *lines: bytes, newline: bytes = b"\n", head: bytes = b"") -> ImportReport:
        path = self.tmp_path / "feed.jsonl"
        path.write_bytes(head + b"".join(raw + newline for raw in lines))
        with self.monkeypatch.context() as patched:
            patched.setattr(files, "LOOK_UP", self.look_up)
            report = import_file(self.deps, path, batch_size=3)
        with self.monkeypatch.context() as patched:
            patched.setattr(jsonl, "number_in_line", lambda raw: None)
            by_record = import_file(self.twin, path, batch_size=1)
        assert _said(report) == _said(by_record)
        assert _snapshot(self.deps, self.prefix) == _snapshot(self.twin, self.prefix)
        return report


@pytest.fixture(params=[3, files.LOOK_UP], ids=["look-up-3", "look-up-default"])
def feeds(request: pytest.FixtureRequest, deps: Dependencies, twin: Dependencies, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Feeds:
    """Fingerprints asked of a batch of records at a time, or of every record of these feeds at once."""
    return Feeds(dataclasses.replace(deps, clock=lambda: NOW), twin, tmp_path, monkeypatch, f"RR{next(PREFIXES)}-",
                 request.param)


def test_awkward_lines_leave_and_report_what_parsing_every_line_does(feeds: Feeds) -> None:
    p = feeds.prefix
    a, b, c, d = (order_record(p + name) for name in "ABCD")
    first = feeds.feed(*(line(r) for r in (a, b, c, d)))
    assert (first.created, first.errors) == (4, [])

    nested = moved(d)
    nested["Customer"]["OrderNumber"] = p + "A"
    report = feeds.feed(
        line(a),  # after a byte order mark: unchanged
        # JSON keeps the last of a key given twice: this is a change of B, not of C.
        line(moved(c))[:-1] + b', "Order\\u004eumber": "' + (p + "B").encode() + b'"}',
        line(b),  # B as stored, after its change: merged after it, not skipped
        line(dict(c, Status="ON_HOLD")).replace(f'"{p}C"'.encode(), f'"{p}\\u0043"'.encode()),
        b'{"OrderNumber": "' + (p + "D").encode() + b'", "Currency": ',  # not JSON
        line(d, separators=(" , ", " : ")),
        line(nested).replace(b'{"OrderNumber"', b'{"Order\\u004eumber"'),  # refused: the key is no field of it
        line(dict(a, ReplacementOrderNumbers={"OrderNumber": []})),
        line(subscription_record(p + "SUB", today=NOW.date())),
        line(moved(b, "3 Rue Cler")).replace(f'"{p}B"'.encode(), f'"  {p}B "'.encode()),
        line(b),  # B as stored once more, after a change under its number written with spaces
        head=b"\xef\xbb\xbf", newline=b"\r\n",
    )
    assert [problem.line for problem in report.errors] == [5, 7]
    assert report.errors[0].message == "not valid JSON"
    assert report.unchanged >= 1 and report.updated >= 3


def test_a_record_repeated_in_a_batch_and_across_batches(feeds: Feeds) -> None:
    p = feeds.prefix
    records = [order_record(f"{p}{i}") for i in range(5)]
    feeds.feed(*(line(r) for r in records))
    one, two = records[0], records[1]
    report = feeds.feed(
        # Three at a time: one's change waits to be merged when one as stored is read, in the next
        # batch; then two's change and two as stored in two batches; then one changed and as
        # stored in one batch.
        line(moved(one)), line(records[2]), line(records[3]),
        line(one), line(records[4]), line(shipped(two)),
        line(two), line(moved(one, "4 Rue Cler")), line(one),
    )
    assert (report.errors, report.unchanged) == ([], 4)  # 2, 3, 4, and two as stored after it shipped
    # And the same file again: what it leaves now is vouched for, nothing is merged twice.
    again = feeds.feed(*(line(r) for r in records))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)


def test_line_endings_and_blank_space_around_records(feeds: Feeds) -> None:
    p = feeds.prefix
    records = [order_record(f"{p}{i}") for i in range(4)]
    feeds.feed(*(line(r) for r in records))
    report = feeds.feed(b"  " + line(records[0]) + b" \t", b"", line(records[1]), b"   ", line(records[2]),
                        line(shipped(records[3])), newline=b"\r\n", head=b"\xef\xbb\xbf")
    assert (report.unchanged, report.updated, report.errors) == (3, 1, [])


def test_a_changed_record_with_a_spaced_number_is_not_overtaken(feeds: Feeds) -> None:
    p = feeds.prefix
    a = order_record(p + "A")
    feeds.feed(line(a))
    spaced = line(moved(a)).replace(f'"{p}A"'.encode(), f'" {p}A"'.encode())
    report = feeds.feed(spaced, line(a))
    assert (report.updated, report.unchanged) == (2, 0)


def test_fingerprints_are_asked_of_many_numbers_at_once(deps: Dependencies, tmp_path: Path) -> None:
    odd = ['RQ-"1"', "RQ-{2,3}", "RQ-'4'", "RQ-5\\", "RQ-NULL"]
    path = tmp_path / "a.jsonl"
    path.write_text("".join(json.dumps(order_record(n)) + "\n" for n in odd), encoding="utf-8")
    assert import_file(deps, path).created == len(odd)
    asked = [f"RQ-{i}" for i in range(1900)] + odd + ["RQ-{2}", "RQ-NUL"]

    with deps.uow() as uow:
        found = uow.orders.feed_fingerprints(asked)

    assert sorted(found) == sorted(odd)
    assert all(len(fingerprint) == 64 for fingerprint in found.values())
