"""The stores of ``service.ports`` behave alike in memory (``adapters.memory``) and over SQL (a
SQLite file, and PostgreSQL when configured): the same checks run against each, so the use-case
tests that run in memory test what the service does with the real stores."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from soap_orders.adapters.memory import MemoryStore
from soap_orders.bootstrap import build_dependencies
from soap_orders.domain.clients import ApiClient, Scope
from soap_orders.domain.orders import Customer, OrderStatus, Return, ReturnStatus
from soap_orders.domain.retention import Kept
from soap_orders.domain.subscriptions import SubscriptionStatus
from soap_orders.service.ports import (
    AuditRecord,
    OrderQuery,
    OutboxMessage,
    RelayRecord,
    StoredResult,
    StoredToken,
    SubscriptionQuery,
    TrackingQuery,
    UnitOfWork,
)
from tests.conftest import _database
from tests.server import settings_for_tests
from tests.unit.factories import add_shipment, cancel, make_order
from tests.unit.subscription_factories import make_subscription

T0 = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)

Stores = Callable[[], UnitOfWork]


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def uow(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stores]:
    """Begins a unit of work over empty stores of one kind."""
    if request.param == "memory":
        yield MemoryStore().uow
        return
    deps = build_dependencies(settings_for_tests(_database(request.param, tmp_path, "contract")))
    yield deps.uow
    deps.engine.dispose()


def store_orders(uow: Stores, *orders: Any) -> None:
    with uow() as u:
        for order in orders:
            u.orders.add(order)
        u.commit()


# ---------------------------------------------------------------------- transactions


def test_only_what_is_committed_is_kept(uow):
    store_orders(uow, make_order(order_number="A-1"))
    with uow() as u:
        u.orders.add(make_order(order_number="A-2"))  # never committed
    with uow() as u:
        u.orders.add(make_order(order_number="A-3"))
        u.rollback()
        u.orders.add(make_order(order_number="A-4"))
        u.commit()
    with uow() as u:
        assert u.orders.count() == 2
        assert sorted(u.orders.get_many(["A-1", "A-2", "A-3", "A-4"])) == ["A-1", "A-4"]
        assert u.orders.get("A-2") is None


def test_a_change_made_after_the_unit_of_work_is_not_stored(uow):
    store_orders(uow, make_order(order_number="B-1"))
    with uow() as u:
        order = u.orders.get("B-1")
        assert order is not None
        u.commit()
    order.status = OrderStatus.CANCELLED
    with uow() as u:
        again = u.orders.get("B-1")
        assert again is not None and again.status == OrderStatus.PROCESSING and again is not order


def test_a_change_of_a_loaded_order_is_stored_on_commit_with_its_events_in_the_feed(uow):
    store_orders(uow, make_order(order_number="C-1"), make_order(order_number="C-2"))
    with uow() as u:
        assert u.events.after(0, 100) == []  # adding orders records no event by itself
        order = u.orders.get("C-1", for_update=True)
        assert order is not None and u.orders.get("C-1") is order
        cancel(order)
        u.act_as("dg")
        u.commit()
    with uow() as u:
        stored = u.orders.get("C-1")
        assert stored is not None and stored.status == OrderStatus.CANCELLED and stored.events == []
        assert u.orders.get("C-2").status == OrderStatus.PROCESSING  # type: ignore[union-attr]
        feed = u.events.after(0, 100)
    assert feed and {e.type for e in feed} >= {"OrderCancelled"}
    assert all(e.order_number == "C-1" and e.client == "dg" and e.subscription_id is None for e in feed)
    assert [e.event_id for e in feed] == sorted({e.event_id for e in feed})
    assert all(e.request_id == "REQ-CANCEL-1" for e in feed if e.type == "OrderCancelled")
    with uow() as u:
        assert u.events.after(feed[0].event_id, 100) == feed[1:]
        assert u.events.after(0, 1) == feed[:1]


# ---------------------------------------------------------------------- finding orders


def test_find_by_email_ignores_case_filters_and_pages_newest_first(uow):
    ann = Customer("Ann.Lee@example.com", "Ann", "Lee")
    store_orders(
        uow,
        make_order(order_number="E-1", customer=ann, created_at=T0),
        make_order(order_number="E-2", customer=ann, created_at=T0 + timedelta(days=2)),
        make_order(order_number="E-3", customer=ann, created_at=T0 + timedelta(days=1), status=OrderStatus.SHIPPED),
        make_order(order_number="E-4", customer=ann, created_at=T0 + timedelta(days=2)),  # same time as E-2
        make_order(order_number="E-5", customer=Customer("bob@example.com"), created_at=T0),
    )
    with uow() as u:
        found, total = u.orders.find_by_email(OrderQuery("ann.lee@EXAMPLE.com"))
        assert ([o.order_number for o in found], total) == (["E-4", "E-2", "E-3", "E-1"], 4)
        found, total = u.orders.find_by_email(OrderQuery("ann.lee@example.com", limit=2, offset=1))
        assert ([o.order_number for o in found], total) == (["E-2", "E-3"], 4)
        assert u.orders.find_by_email(OrderQuery("ann.lee@example.com", offset=4)) == ([], 4)
        found, total = u.orders.find_by_email(OrderQuery("ann.lee@example.com", status=OrderStatus.SHIPPED))
        assert ([o.order_number for o in found], total) == (["E-3"], 1)
        day = T0.date()
        found, _ = u.orders.find_by_email(OrderQuery("ann.lee@example.com", placed_from=day + timedelta(days=1),
                                                     placed_to=day + timedelta(days=1)))
        assert [o.order_number for o in found] == ["E-3"]
        found, _ = u.orders.find_by_email(OrderQuery("ann.lee@example.com", placed_to=date.max))
        assert len(found) == 4
        assert u.orders.find_by_email(OrderQuery("nobody@example.com")) == ([], 0)


def test_find_by_tracking_number_looks_at_shipments_and_returns_in_any_case(uow):
    shipped = make_order(order_number="F-1", created_at=T0)
    add_shipment(shipped).tracking_number = "TRK-Aa1"
    returned = make_order(order_number="F-2", created_at=T0 + timedelta(hours=1),
                          customer=Customer("other@example.com"))
    returned.returns.append(Return("RMA-1", ReturnStatus.REQUESTED, created_at=T0, return_tracking_number="trk-aA1"))
    store_orders(uow, shipped, returned, make_order(order_number="F-3"))
    with uow() as u:
        found, total = u.orders.find_by_tracking_number(TrackingQuery("TRK-AA1"))
        assert ([o.order_number for o in found], total) == (["F-2", "F-1"], 2)
        found, total = u.orders.find_by_tracking_number(TrackingQuery("trk-aa1", email="ADA@example.com"))
        assert ([o.order_number for o in found], total) == (["F-1"], 1)
        assert u.orders.find_by_tracking_number(TrackingQuery("TRK-AA1", limit=1, offset=1))[0][0].order_number == "F-1"
        assert u.orders.find_by_tracking_number(TrackingQuery("none")) == ([], 0)


# ---------------------------------------------------------------------- documents


def fingerprints(uow: Stores, *numbers: str) -> dict[str, str]:
    with uow() as u:
        return u.orders.feed_fingerprints(numbers)


@pytest.mark.parametrize("for_update", [False, True], ids=["read", "locked"])
def test_a_committed_order_has_its_document_and_keeps_a_remembered_fingerprint_until_it_changes(uow, for_update):
    """Read first, or locked first (as every change does: a unit of work that will write)."""
    store_orders(uow, make_order(order_number="G-1"))
    with uow() as u:
        assert u.orders.without_current_document(10) == []
        assert u.orders.feed_fingerprints(["G-1", "G-404"]) == {}
    with uow() as u:
        u.orders.get("G-1", for_update=for_update)
        u.orders.remember_fingerprint("G-1", "fp-1")
        u.commit()
        kept = u.orders.written_document(u.orders.get("G-1"))  # type: ignore[arg-type]
    assert fingerprints(uow, "G-1") == {"G-1": "fp-1"}
    with uow() as u:
        assert u.orders.written_document(u.orders.get("G-1", for_update=for_update)) is None  # type: ignore[arg-type]
        u.commit()  # read, unchanged: the fingerprint stays, the document is the one kept
        assert u.orders.written_document(u.orders.get("G-1")) == kept  # type: ignore[arg-type]
    assert fingerprints(uow, "G-1") == {"G-1": "fp-1"}
    with uow() as u:
        u.orders.get("G-1", for_update=for_update)
        u.orders.remember_fingerprint("G-1", "fp-2")  # unchanged, merged from another record
        u.commit()
    assert fingerprints(uow, "G-1") == {"G-1": "fp-2"}
    with uow() as u:
        cancel(u.orders.get("G-1", for_update=for_update))  # type: ignore[arg-type]
        u.commit()
        changed = u.orders.written_document(u.orders.get("G-1"))  # type: ignore[arg-type]
    assert changed is not None and changed != kept
    assert fingerprints(uow, "G-1") == {}
    assert fingerprints(uow) == {}
    with uow() as u:
        assert u.orders.without_current_document(10) == []
    with uow() as u:
        cancelled = u.orders.get("G-1", for_update=for_update)
        assert cancelled is not None and cancelled.status == OrderStatus.CANCELLED
        add_shipment(cancelled)
        u.orders.remember_fingerprint("G-1", "fp-3")  # changed, by merging a record
        u.commit()
        shipped = u.orders.written_document(cancelled)
    assert shipped is not None and shipped != changed
    assert fingerprints(uow, "G-1") == {"G-1": "fp-3"}
    with uow() as u:
        assert [s.shipment_id for s in u.orders.get("G-1").shipments] == ["SH-1"]  # type: ignore[union-attr]
        assert u.orders.without_current_document(10) == []


def test_orders_queued_new_are_stored_whole_on_commit_with_their_documents_events_and_fingerprints(uow):
    first, shipped = make_order(order_number="N-1"), make_order(order_number="N-2")
    add_shipment(shipped)
    with uow() as u:
        assert u.orders.get_many(["N-1", "N-2"], for_update=True) == {}
        u.orders.add_new(make_order(order_number="N-3"))
        u.orders.remember_fingerprint("N-3", "fp-3")
        u.rollback()  # forgets what was queued
        u.orders.get_many(["N-1", "N-2"], for_update=True)
        u.orders.add_new(first)
        u.orders.add_new(shipped)
        u.orders.remember_fingerprint("N-2", "fp-2")
        cancel(first)  # what is stored is the order as it is at commit
        u.act_as("erp")
        u.commit()
        written = u.orders.written_document(first)
        assert written is not None and '"Status":"CANCELLED"' in written.json
    with uow() as u:
        found = u.orders.get_many(["N-1", "N-2", "N-3"])
        assert sorted(found) == ["N-1", "N-2"] and u.orders.count() == 2
        assert found["N-1"].status == OrderStatus.CANCELLED
        assert [(s.shipment_id, [(i.sku, i.quantity) for i in s.items]) for s in found["N-2"].shipments] == [
            (s.shipment_id, [(i.sku, i.quantity) for i in s.items]) for s in shipped.shipments]
        assert [line.sku for line in found["N-2"].lines] == [line.sku for line in shipped.lines]
        assert u.orders.without_current_document(10) == []
        assert u.orders.feed_fingerprints(["N-1", "N-2", "N-3"]) == {"N-2": "fp-2"}
        feed = u.events.after(0, 100)
    assert feed and {(e.order_number, e.client) for e in feed} == {("N-1", "erp")}


# ---------------------------------------------------------------------- idempotency, clients, tokens


def test_a_request_id_is_claimed_once_and_then_answers_what_was_stored(uow):
    with uow() as u:
        assert u.idempotency.claim("dg", "r-1", "CancelOrder", "fp", T0) is None
    with uow() as u:  # that claim was never committed
        assert u.idempotency.claim("dg", "r-1", "CancelOrder", "fp", T0) is None
        u.idempotency.complete("dg", "r-1", {"Outcome": "CANCELLED"})
        u.commit()
    with uow() as u:
        assert u.idempotency.claim("dg", "r-1", "Other", "fp2", T0) == StoredResult("CancelOrder", "fp", {"Outcome": "CANCELLED"})
        assert u.idempotency.claim("erp", "r-1", "CancelOrder", "fp", T0) is None  # per client


def test_clients_are_listed_by_name_and_a_change_of_one_is_kept(uow):
    with uow() as u:
        for name in ("zed", "amy"):
            u.clients.add(ApiClient(name, frozenset({Scope.READ}), "hash", T0))
        u.commit()
    with uow() as u:
        assert [c.name for c in u.clients.list()] == ["amy", "zed"]
        assert u.clients.get("nobody") is None
        amy = u.clients.get("amy", for_update=True)
        assert amy is not None
        amy.disabled = True
        u.commit()
    with uow() as u:
        assert u.clients.get("amy").disabled is True  # type: ignore[union-attr]
        assert u.clients.get("zed").disabled is False  # type: ignore[union-attr]


def test_tokens_are_revoked_one_by_one_or_per_client_and_purged_a_day_after_expiry(uow):
    scopes = frozenset({Scope.READ})
    with uow() as u:
        u.tokens.add("d-1", StoredToken("access", "amy", scopes, T0 + timedelta(hours=1)))
        u.tokens.add("d-2", StoredToken("refresh", "amy", scopes, T0 + timedelta(days=30)))
        u.tokens.add("d-3", StoredToken("access", "zed", scopes, T0 - timedelta(days=2)))
        u.commit()
    with uow() as u:
        assert u.tokens.get("d-1") == StoredToken("access", "amy", scopes, T0 + timedelta(hours=1))
        u.tokens.revoke("d-1")
        u.tokens.purge_expired(T0)
        u.commit()
    with uow() as u:
        assert [u.tokens.get(d).revoked for d in ("d-1", "d-2")] == [True, False]  # type: ignore[union-attr]
        assert u.tokens.get("d-3") is None
        u.tokens.revoke_client("amy")
        u.commit()
    with uow() as u:
        assert u.tokens.get("d-2").revoked is True  # type: ignore[union-attr]
        assert u.tokens.get("d-404", for_update=True) is None


def test_a_nonce_is_used_once_until_it_may_be_forgotten(uow):
    with uow() as u:
        assert u.nonces.use("n-1", "amy", T0, T0 + timedelta(minutes=10)) is True
        assert u.nonces.use("n-1", "amy", T0, T0 + timedelta(minutes=10)) is False
        u.commit()
    with uow() as u:
        assert u.nonces.use("n-1", "zed", T0 + timedelta(minutes=5), T0 + timedelta(minutes=15)) is False
        assert u.nonces.use("n-1", "zed", T0 + timedelta(minutes=11), T0 + timedelta(minutes=21)) is True


def test_failures_are_counted_per_key_since_a_moment_and_cleared(uow):
    with uow() as u:
        for minutes, key in ((0, "addr:1.2.3.4"), (1, "addr:1.2.3.4"), (2, "client:amy@1.2.3.4"),
                             (3, "client:amy@5.6.7.8"), (4, "client:amy"), (5, "client:amyx@1.2.3.4")):
            u.failures.add(key, T0 + timedelta(minutes=minutes))
        u.commit()
    with uow() as u:
        keys = ["addr:1.2.3.4", "client:amy@1.2.3.4", "addr:9.9.9.9"]
        assert u.failures.counts(keys, T0) == {"addr:1.2.3.4": 2, "client:amy@1.2.3.4": 1}
        assert u.failures.counts(keys, T0 + timedelta(minutes=1)) == {"addr:1.2.3.4": 1, "client:amy@1.2.3.4": 1}
        assert u.failures.clear_client("amy") == 3
        assert u.failures.clear("addr:1.2.3.4") == 2
        assert u.failures.clear("addr:1.2.3.4") == 0
        assert u.failures.counts(["client:amyx@1.2.3.4"], T0) == {"client:amyx@1.2.3.4": 1}
        u.failures.add("addr:1.2.3.4", T0 + timedelta(days=2))  # forgets those over a day old
        assert u.failures.counts(["client:amyx@1.2.3.4"], T0) == {}


def test_audit_records_are_found_per_order_and_per_subscription_in_order(uow):
    records = [AuditRecord(T0 + timedelta(minutes=i), "dg", "10.0.0.1", "CancelOrder", number, f"r-{i}", "OK",
                           {"i": i}, sid)
               for i, (number, sid) in enumerate([("H-1", None), (None, "S-1"), ("H-1", None), ("H-2", None)])]
    with uow() as u:
        u.audit.add(records[0])
        u.audit.add_many(records[1:])
        u.commit()
    with uow() as u:
        assert u.audit.for_order("H-1") == [records[0], records[2]]
        assert u.audit.for_subscription("S-1") == [records[1]]
        assert u.audit.for_order("H-404") == []


# ---------------------------------------------------------------------- the outbox and its relays


def message(number: str, event_type: str = "Delivered", minutes: int = 0) -> OutboxMessage:
    return OutboxMessage(number, event_type, f"{number}-{event_type}-{minutes}", {"order": number},
                         T0 + timedelta(minutes=minutes))


def test_the_outbox_leases_due_rows_in_order_and_a_row_waits_behind_its_orders_earlier_one(uow):
    later = T0 + timedelta(hours=1)
    with uow() as u:
        u.outbox.add([message("J-1"), message("J-1", minutes=1), message("J-2", minutes=2),
                      message("J-3", "Held", minutes=3), message("J-3", minutes=4)])
        u.commit()
    with uow() as u:
        claimed = u.outbox.claim(later, 10, later + timedelta(minutes=5), "relay-a", ["Delivered"])
        u.commit()
    # J-1's second row waits behind its first; J-3's row does not wait behind a type not claimed.
    assert [(e.order_number, e.external_id) for e in claimed] == [("J-1", "J-1-Delivered-0"),
                                                                  ("J-2", "J-2-Delivered-2"),
                                                                  ("J-3", "J-3-Delivered-4")]
    first, second, third = (e.id for e in claimed)
    with uow() as u:  # leased rows are not leased again while the lease runs
        assert u.outbox.claim(later, 10, later + timedelta(minutes=5), "relay-b", ["Delivered"]) == []
        assert u.outbox.mark_sent(first, "relay-b", later, 200) is False  # another relay's lease
        assert u.outbox.mark_sent(first, "relay-a", later, 200) is True
        assert u.outbox.mark_sent(first, "relay-a", later, 200) is False  # no longer pending
        assert u.outbox.mark_retry(second, "relay-a", later, later + timedelta(minutes=1), 503, "x" * 3000) is True
        assert u.outbox.mark_dead(third, "relay-a", later, 400, "refused") is True
        u.commit()
    with uow() as u:
        entries = {e.id: e for e in u.outbox.entries(None, 10)}
        assert [e.state for e in u.outbox.entries(None, 10)] == ["SENT", "PENDING", "PENDING", "PENDING", "DEAD"]
        assert (entries[first].attempts, entries[first].sent_at, entries[first].last_status) == (1, later, 200)
        assert (entries[second].attempts, len(entries[second].last_error or "")) == (1, 2000)
        assert [e.id for e in u.outbox.entries("DEAD", 10)] == [third]
        assert len(u.outbox.entries(None, 2)) == 2
        stats = u.outbox.stats(later)
        assert stats.counts == {"PENDING": 3, "SENT": 1, "DEAD": 1, "SKIPPED": 0}
        assert [(p.event_type, p.count, p.oldest) for p in stats.pending] == [
            ("Delivered", 2, T0 + timedelta(minutes=1)), ("Held", 1, T0 + timedelta(minutes=3))]
        assert (stats.oldest_pending, stats.last_delivery) == (T0 + timedelta(minutes=1), later)
        assert u.outbox.requeue_dead(None, later) == 1
        assert u.outbox.skip(["Held"], later, "no flow") == {"Held": 1}
        u.commit()
    with uow() as u:
        # The retried row is due again after its next attempt time; the requeued one at once.
        retried = u.outbox.claim(later + timedelta(minutes=2), 10, later + timedelta(minutes=9), "relay-c",
                                 ["Delivered", "Held"])
        # J-1's second row no longer waits: its first was sent.
        assert [e.order_number for e in retried] == ["J-1", "J-2", "J-3"]
        assert [e.id for e in retried][1:] == [second, third]
        assert [e.attempts for e in retried] == [0, 1, 0]
        assert u.outbox.release("relay-c") == 3
        assert u.outbox.release("relay-c") == 0
        assert u.outbox.prune(later) == 0
        assert u.outbox.prune(later + timedelta(seconds=1)) == 2  # the SENT row and the SKIPPED one
        assert [e.state for e in u.outbox.entries(None, 10)] == ["PENDING", "PENDING", "PENDING"]
        assert u.outbox.claim(later, 10, later, "relay-d", []) == []


def relay(relay_id: str, expires_in: timedelta, **fields: Any) -> RelayRecord:
    return RelayRecord(relay_id, "host", 42, T0, T0, T0 + expires_in, ("Delivered",), **fields)


def test_relays_register_beat_deliver_stop_and_are_forgotten_after_they_expire(uow):
    with uow() as u:
        u.outbox.register_relay(relay("r-1", timedelta(minutes=1), skip_types=("Held",)))
        u.outbox.register_relay(relay("r-2", timedelta(minutes=1)))
        u.outbox.register_relay(relay("r-3", timedelta(minutes=1)))
        u.commit()
    with uow() as u:
        assert u.outbox.beat_relay("r-1", T0 + timedelta(minutes=1), T0 + timedelta(minutes=5)) is True
        assert u.outbox.beat_relay("r-404", T0, T0) is False
        u.outbox.note_delivery("r-2", T0 + timedelta(seconds=30))
        u.outbox.note_delivery("r-3", T0 + timedelta(seconds=20))
        u.outbox.stop_relay("r-3", T0 + timedelta(seconds=40))
        u.commit()
    with uow() as u:
        stats = u.outbox.stats(T0 + timedelta(minutes=2))
        assert [r.relay_id for r in stats.relays] == ["r-1"]
        assert stats.relays[0].skip_types == ("Held",) and stats.handled_types() == {"Delivered", "Held"}
        assert stats.last_delivery == T0 + timedelta(seconds=30)
        # r-2 and r-3 expired; r-2 delivered last, so it is kept.
        assert u.outbox.prune_relays(T0 + timedelta(minutes=2)) == 1
        u.commit()
    with uow() as u:
        assert sorted(r.relay_id for r in u.outbox.stats(T0).relays) == ["r-1", "r-2"]


# ---------------------------------------------------------------------- personal data, retention


def test_personal_data_is_found_by_email_and_rewritten_where_it_is_copied(uow):
    ann = Customer("ann@example.com", "Ann", "Lee")
    older = make_order(order_number="K-1", customer=ann, created_at=T0)
    newer = make_order(order_number="K-2", customer=Customer("ANN@example.com"), created_at=T0 + timedelta(days=1))
    store_orders(uow, older, newer, make_order(order_number="K-3"))
    with uow() as u:
        u.subscriptions.add(make_subscription(subscription_id="KS-1", customer=ann))
        for number in ("K-1", "K-3"):
            cancel(u.orders.get(number))  # type: ignore[arg-type]
        u.audit.add_many([AuditRecord(T0, "dg", None, "CancelOrder", n, None, "OK", {"email": "ann@example.com"})
                          for n in ("K-1", "K-3")])
        u.outbox.add([message("K-1"), message("K-3")])
        u.idempotency.claim("dg", "r-k", "Find", "fp", T0)
        u.idempotency.complete("dg", "r-k", {"Email": "Ann@Example.com"})
        u.idempotency.claim("dg", "r-other", "Find", "fp", T0)
        u.idempotency.complete("dg", "r-other", {"Email": "bob@example.com"})
        u.commit()

    def gone(value: dict[str, Any]) -> dict[str, Any]:
        return {key: "gone" for key in value}

    with uow() as u:
        assert u.privacy.order_numbers_for("Ann@example.com") == ["K-2", "K-1"]
        assert u.privacy.subscription_ids_for("ann@EXAMPLE.com") == ["KS-1"]
        about = u.privacy.events_about(["K-1"], ["KS-1"])
        assert about and {e.order_number for e in about} == {"K-1"}
        assert u.privacy.events_about([], []) == []
        assert u.privacy.rewrite_events(["K-1"], [], gone) == len(about)
        assert u.privacy.rewrite_audit_details(["K-1"], [], gone) == 1
        assert u.privacy.rewrite_notifications(["K-1"], lambda payload, error: (gone(payload), "gone")) == 1
        assert u.privacy.rewrite_notifications([], lambda payload, error: (gone(payload), "gone")) == 0
        assert u.privacy.rewrite_stored_answers(["ann@example.com", ""], gone) == 1
        assert u.privacy.rewrite_stored_answers([], gone) == 0
        u.commit()
    with uow() as u:
        assert all(set(e.details.values()) == {"gone"} for e in u.privacy.events_about(["K-1"], []))
        assert all(set(e.details.values()) != {"gone"} for e in u.privacy.events_about(["K-3"], []))
        assert [r.details for r in u.audit.for_order("K-1")] == [{"email": "gone"}]
        assert [r.details for r in u.audit.for_order("K-3")] == [{"email": "ann@example.com"}]
        assert [(e.payload, e.last_error) for e in u.outbox.entries(None, 10)] == [
            ({"order": "gone"}, "gone"), ({"order": "K-3"}, None)]
        assert u.idempotency.claim("dg", "r-k", "Find", "fp", T0).result == {"Email": "gone"}  # type: ignore[union-attr]
        assert u.idempotency.claim("dg", "r-other", "Find", "fp", T0).result == {"Email": "bob@example.com"}  # type: ignore[union-attr]


def test_retention_counts_and_deletes_the_oldest_records_of_a_kind_first(uow):
    with uow() as u:
        u.audit.add_many([AuditRecord(T0 + timedelta(days=d), "dg", None, "Op", f"L-{d}", None, "OK") for d in (2, 0, 1, 5)])
        for d in (3, 0, 1):
            u.idempotency.claim("dg", f"r-{d}", "Op", "fp", T0 + timedelta(days=d))
        u.outbox.add([message("L-1"), message("L-2", minutes=1), message("L-3", minutes=2)])
        u.commit()
    with uow() as u:
        claimed = u.outbox.claim(T0 + timedelta(days=1), 10, T0 + timedelta(days=2), "relay", ["Delivered"])
        u.outbox.mark_sent(claimed[1].id, "relay", T0, 200)
        u.outbox.mark_sent(claimed[0].id, "relay", T0 + timedelta(days=1), 200)
        u.commit()
    cutoff = T0 + timedelta(days=3)
    with uow() as u:
        assert [u.retention.count(kind, cutoff) for kind in Kept] == [3, 0, 2, 2]
        assert u.retention.delete(Kept.AUDIT, cutoff, 2) == 2
        assert [r.order_number for r in u.audit.for_order("L-2") + u.audit.for_order("L-5")] == ["L-2", "L-5"]
        assert u.audit.for_order("L-0") == u.audit.for_order("L-1") == []
        assert u.retention.delete(Kept.IDEMPOTENCY, cutoff, 1) == 1
        assert u.idempotency.claim("dg", "r-0", "Op", "fp", cutoff) is None  # the oldest went
        assert u.retention.delete(Kept.DELIVERED_NOTIFICATIONS, T0 + timedelta(hours=1), 10) == 1
        assert [e.order_number for e in u.outbox.entries(None, 10)] == ["L-1", "L-3"]
        assert u.retention.count(Kept.EVENTS, cutoff) == 0


# ---------------------------------------------------------------------- subscriptions


def test_subscriptions_are_found_by_email_newest_first_and_their_changes_enter_the_feed(uow):
    ann = Customer("ann@example.com", "Ann", "Lee")
    with uow() as u:
        u.subscriptions.add(make_subscription(subscription_id="S-1", customer=ann))
        u.subscriptions.add(make_subscription(subscription_id="S-2", customer=Customer("ANN@example.com"),
                                              created_at=datetime(2026, 1, 21, tzinfo=timezone.utc)))
        u.subscriptions.add(make_subscription(subscription_id="S-3", customer=Customer("bob@example.com")))
        u.commit()
    with uow() as u:
        found, total = u.subscriptions.find_by_email(SubscriptionQuery("Ann@Example.com"))
        assert ([s.subscription_id for s in found], total) == (["S-2", "S-1"], 2)
        assert u.subscriptions.find_by_email(SubscriptionQuery("ann@example.com", limit=1, offset=1))[0][0].subscription_id == "S-1"
        assert u.subscriptions.find_by_email(SubscriptionQuery("ann@example.com", status=SubscriptionStatus.PAUSED)) == ([], 0)
        assert sorted(u.subscriptions.get_many(["S-1", "S-3", "S-404"])) == ["S-1", "S-3"]
        assert u.subscriptions.get_many([]) == {}
        subscription = u.subscriptions.get("S-1", for_update=True)
        assert subscription is not None
        subscription.pause(now=datetime(2026, 2, 10, tzinfo=timezone.utc), request_id="r-pause", cycles=1)
        u.act_as("dg")
        u.commit()
    with uow() as u:
        assert u.subscriptions.get("S-1").status == SubscriptionStatus.PAUSED  # type: ignore[union-attr]
        feed = u.events.after(0, 10)
    assert feed and all(e.subscription_id == "S-1" and e.order_number is None and e.client == "dg" for e in feed)
