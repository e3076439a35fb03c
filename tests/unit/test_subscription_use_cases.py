"""Subscription use cases: success, each rejection, not found, replay, conflict; events and audit
records; the ERP's upsert and its merge. Over the in-memory stores: what is decided is the point
here (tests/integration/test_repository_contract.py holds those stores to the SQL ones;
tests/integration/test_subscriptions.py stores subscriptions in SQLite and PostgreSQL, and
tests/contract/test_subscriptions.py runs the operations on a real server over both)."""

from __future__ import annotations

import copy
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from soap_orders.domain.errors import (
    IdempotencyConflict,
    SubscriptionNotFound,
    ValidationError,
)
from soap_orders.domain.orders import Reason
from soap_orders.domain.recurrence import Interval
from soap_orders.domain.subscriptions import (
    CancelReason,
    ChargeStatus,
    Frequency,
)
from soap_orders.domain.subscriptions import (
    SubscriptionOutcome as O,
)
from soap_orders.domain.subscriptions import (
    SubscriptionReasonCode as R,
)
from soap_orders.domain.subscriptions import (
    SubscriptionStatus as S,
)
from soap_orders.ingest import subscriptions as upserts
from soap_orders.service import subscriptions as uc
from soap_orders.service.idempotency import Caller
from tests.in_memory import InMemory

DG = Caller("dg", "203.0.113.7")
ERP = Caller("erp")
NOW = datetime(2026, 2, 10, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def deps() -> InMemory:
    return InMemory()


def clock_at(moment: datetime = NOW):
    return lambda: moment


def sub_record(sid: str = "SUB-100", email: str = "Ann.Lee@example.com", **overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "SubscriptionId": sid,
        "Name": "Coffee club",
        "Status": "ACTIVE",
        "CreatedAt": "2026-01-20T09:00:00Z",
        "StartDate": "2026-01-31",
        "Currency": "EUR",
        "Price": "24.00",
        "NextOrderDate": "2026-02-28",
        "LastOrderDate": "2026-01-31",
        "Customer": {"Email": email, "FirstName": "Ann", "LastName": "Lee"},
        "ShippingAddress": {"Name": "Ann Lee", "Line1": "1 Rue de Rivoli", "City": "Paris", "PostalCode": "75001",
                            "CountryCode": "FR"},
        "Frequency": {"Interval": "MONTH", "IntervalCount": 1},
        "Items": [{"Sku": "COF-1", "Name": "Coffee beans 500 g", "Quantity": 2, "UnitPrice": "12.00",
                   "ImageUrl": "https://img.example.com/cof-1.jpg"}],
        "Charges": [{"ChargeId": "CH-1", "Amount": "24.00", "ChargedAt": "2026-01-31T08:00:00Z",
                     "OrderNumber": "SO-1"}],
        "Orders": [{"OrderNumber": "SO-1", "OrderDate": "2026-01-31"}],
    }
    record.update(overrides)
    return record


def seed(deps, *records: dict[str, Any]) -> None:
    results = upserts.upsert_subscriptions(deps.uow(), list(records), clock_at(datetime(2026, 2, 1, tzinfo=timezone.utc)),
                                      ERP)
    assert {r.outcome for r in results} == {"CREATED"}


def events_of(deps, sid: str) -> list[tuple[str, dict[str, Any]]]:
    rows = [e for e in deps.feed() if e.subscription_id == sid]
    assert all(e.order_number is None for e in rows)
    return [(e.type, e.details) for e in rows]


def audit_of(deps, sid: str) -> list[tuple[str, str, str | None]]:
    with deps.uow() as uow:
        return [(a.operation, a.outcome, a.client) for a in uow.audit.for_subscription(sid)]


# ---------------------------------------------------------------------- reads


def test_round_trip_and_reads(deps):
    seed(deps, sub_record("SUB-1"), sub_record("SUB-2", CreatedAt="2026-01-25T09:00:00Z"),
         sub_record("SUB-3", email="someone@example.com"))
    sub = uc.get_subscription(deps.uow(), " SUB-1 ", clock_at())
    assert sub.customer.email == "Ann.Lee@example.com" and sub.frequency.interval is Interval.MONTH
    assert sub.items[0].unit_price == Decimal("12.00") and sub.charges[0].charged_at.tzinfo is not None
    assert sub.order_numbers == ["SO-1"] and sub.next_order_date == date(2026, 2, 28)
    assert uc.get_subscription(deps.uow(), "SUB-1", clock_at(), email=" ann.lee@EXAMPLE.com").subscription_id == "SUB-1"
    with pytest.raises(SubscriptionNotFound):
        uc.get_subscription(deps.uow(), "SUB-1", clock_at(), email="someone@example.com")
    with pytest.raises(SubscriptionNotFound):
        uc.get_subscription(deps.uow(), "SUB-404", clock_at())
    page = uc.find_subscriptions_by_email(deps.uow(), uc.FindSubscriptionsByEmail("ANN.LEE@example.com", page_size=1),
                                          clock_at())
    assert [s.subscription_id for s in page.subscriptions] == ["SUB-2"] and page.total_count == 2 and page.has_more
    second = uc.find_subscriptions_by_email(
        deps.uow(), uc.FindSubscriptionsByEmail("ann.lee@example.com", page_size=1, page_number=2), clock_at())
    assert [s.subscription_id for s in second.subscriptions] == ["SUB-1"] and not second.has_more
    none = uc.find_subscriptions_by_email(
        deps.uow(), uc.FindSubscriptionsByEmail("ann.lee@example.com", status=S.PAUSED), clock_at())
    assert none.subscriptions == [] and none.total_count == 0
    with pytest.raises(ValidationError):
        uc.find_subscriptions_by_email(deps.uow(), uc.FindSubscriptionsByEmail("x@y.z", page_size=101), clock_at())


def test_reads_show_a_pause_that_ran_out_as_active(deps):
    seed(deps, sub_record("SUB-P"))
    uc.pause_subscription(deps.uow(), uc.PauseSubscription("SUB-P", "p-1", until=date(2026, 3, 1)), clock_at(), DG)
    later = clock_at(datetime(2026, 3, 2, tzinfo=timezone.utc))
    assert uc.get_subscription(deps.uow(), "SUB-P", later).status is S.ACTIVE
    assert uc.get_subscription(deps.uow(), "SUB-P", clock_at()).status is S.PAUSED  # a read stores nothing


# ---------------------------------------------------------------------- actions


def test_cancel_success_replay_conflict_and_already_cancelled(deps):
    seed(deps, sub_record())
    command = uc.CancelSubscription("SUB-100", "c-1", CancelReason.TOO_EXPENSIVE, note=" Found cheaper ")
    first = uc.cancel_subscription(deps.uow(), command, clock_at(), DG)
    assert (first.outcome, first.reason_code) == (O.CANCELLED, R.NONE)
    assert first.subscription.status is S.CANCELLED and first.subscription.cancel_note == "Found cheaper"
    replay = uc.cancel_subscription(deps.uow(), command, clock_at(datetime(2026, 2, 11, tzinfo=timezone.utc)), DG)
    assert replay.outcome is O.CANCELLED and replay.message == first.message
    assert replay.subscription.cancelled_at == NOW
    with pytest.raises(IdempotencyConflict):
        uc.cancel_subscription(deps.uow(), uc.CancelSubscription("SUB-100", "c-1", CancelReason.OTHER), clock_at(), DG)
    with pytest.raises(IdempotencyConflict):  # the same id for another operation
        uc.skip_next_order(deps.uow(), uc.SkipNextOrder("SUB-100", "c-1"), clock_at(), DG)
    again = uc.cancel_subscription(deps.uow(), uc.CancelSubscription("SUB-100", "c-2", CancelReason.OTHER),
                                   clock_at(), DG)
    assert (again.outcome, again.reason_code) == (O.ALREADY_CANCELLED, R.ALREADY_CANCELLED)
    stored = uc.get_subscription(deps.uow(), "SUB-100", clock_at())
    assert stored.status is S.CANCELLED and stored.cancel_reason is CancelReason.TOO_EXPENSIVE
    assert [name for name, _ in events_of(deps, "SUB-100")] == ["SubscriptionUpserted", "SubscriptionCancelled"]
    assert audit_of(deps, "SUB-100") == [
        ("UpsertSubscription", "CREATED", "erp"), ("CancelSubscription", "CANCELLED/NONE", "dg"),
        ("CancelSubscription", "ALREADY_CANCELLED/ALREADY_CANCELLED", "dg"),
    ]


def test_not_found_stores_nothing_and_may_be_retried(deps):
    command = uc.SkipNextOrder("SUB-LATER", "s-1")
    with pytest.raises(SubscriptionNotFound):
        uc.skip_next_order(deps.uow(), command, clock_at(), DG)
    seed(deps, sub_record("SUB-LATER"))
    assert uc.skip_next_order(deps.uow(), command, clock_at(), DG).outcome is O.SKIPPED


def test_cancel_at_period_end_then_the_period_ends(deps):
    seed(deps, sub_record())
    result = uc.cancel_subscription(
        deps.uow(), uc.CancelSubscription("SUB-100", "c-1", CancelReason.MOVING, at_period_end=True), clock_at(), DG)
    assert result.outcome is O.CANCELLATION_SCHEDULED and result.subscription.cancel_effective_date == date(2026, 2, 28)
    assert result.subscription.next_order_date is None
    # The next action after the end date finds it cancelled, and the change feed says so.
    after = clock_at(datetime(2026, 3, 1, 9, tzinfo=timezone.utc))
    refused = uc.skip_next_order(deps.uow(), uc.SkipNextOrder("SUB-100", "s-1"), after, DG)
    assert (refused.outcome, refused.reason_code) == (O.REJECTED, R.ALREADY_CANCELLED)
    assert [name for name, _ in events_of(deps, "SUB-100")][-2:] == [
        "SubscriptionCancellationScheduled", "SubscriptionCancelled"]


def test_pause_resume_and_their_rejections(deps):
    seed(deps, sub_record())
    paused = uc.pause_subscription(deps.uow(), uc.PauseSubscription("SUB-100", "p-1", cycles=2), clock_at(), DG)
    assert paused.outcome is O.PAUSED and paused.subscription.next_order_date == date(2026, 4, 30)
    again = uc.pause_subscription(deps.uow(), uc.PauseSubscription("SUB-100", "p-2", until=date(2026, 5, 1)),
                                  clock_at(), DG)
    assert (again.outcome, again.reason_code) == (O.REJECTED, R.ALREADY_PAUSED)
    charge = uc.record_charge(deps.uow(), uc.RecordCharge("SUB-100", "ch-x", "CH-2", Decimal("24.00"), NOW,
                                                          order_number="SO-2"), clock_at(), ERP)
    assert (charge.outcome, charge.reason_code) == (O.REJECTED, R.NOT_ACTIVE)
    resumed = uc.resume_subscription(deps.uow(), uc.ResumeSubscription("SUB-100", "r-1"),
                                     clock_at(datetime(2026, 3, 5, tzinfo=timezone.utc)), DG)
    assert resumed.outcome is O.RESUMED and resumed.subscription.next_order_date == date(2026, 3, 31)
    not_paused = uc.resume_subscription(deps.uow(), uc.ResumeSubscription("SUB-100", "r-2"), clock_at(), DG)
    assert (not_paused.outcome, not_paused.reason_code) == (O.REJECTED, R.NOT_PAUSED)
    with pytest.raises(ValidationError) as caught:
        uc.pause_subscription(deps.uow(), uc.PauseSubscription("SUB-100", "p-3", until=date(2026, 1, 1)), clock_at(),
                              DG)
    assert caught.value.field == "PauseUntil"
    too_long = uc.pause_subscription(deps.uow(), uc.PauseSubscription("SUB-100", "p-4", until=date(2027, 6, 1)),
                                     clock_at(), DG)
    assert too_long.reason_code is R.PAUSE_TOO_LONG
    assert [name for name, _ in events_of(deps, "SUB-100")] == [
        "SubscriptionUpserted", "SubscriptionPaused", "SubscriptionResumed"]


def test_change_plan_skip_and_charge(deps):
    seed(deps, sub_record())
    items = (uc.PlanItem("COF-2", "Decaf 1 kg", 1, Decimal("30.00")),)
    changed = uc.change_subscription_plan(
        deps.uow(), uc.ChangeSubscriptionPlan("SUB-100", "pl-1", items=items, price=Decimal("30.00"),
                                              frequency=Frequency(Interval.WEEK, 2)), clock_at(), DG)
    assert changed.outcome is O.PLAN_CHANGED and changed.subscription.next_order_date == date(2026, 2, 14)
    assert changed.subscription.pending_change is not None
    replay = uc.change_subscription_plan(
        deps.uow(), uc.ChangeSubscriptionPlan("SUB-100", "pl-1", items=items, price=Decimal("30.0"),
                                              frequency=Frequency(Interval.WEEK, 2)), clock_at(), DG)
    assert replay.subscription.pending_change.price == Decimal("30.00")  # same request, however written
    stored = uc.get_subscription(deps.uow(), "SUB-100", clock_at())
    assert stored.pending_change.items[0].sku == "COF-2" and stored.price == Decimal("24.00")
    skipped = uc.skip_next_order(deps.uow(), uc.SkipNextOrder("SUB-100", "s-1"), clock_at(), DG)
    assert skipped.outcome is O.SKIPPED and skipped.subscription.next_order_date == date(2026, 2, 28)
    charged_at = datetime(2026, 2, 28, 6, tzinfo=timezone.utc)
    charge = uc.record_charge(deps.uow(), uc.RecordCharge("SUB-100", "ch-2", "CH-2", Decimal("30.00"), charged_at,
                                                          order_number="SO-2"),
                              clock_at(datetime(2026, 2, 28, 7, tzinfo=timezone.utc)), ERP)
    assert charge.outcome is O.CHARGE_RECORDED and charge.charge.charge_id == "CH-2"
    stored = uc.get_subscription(deps.uow(), "SUB-100", clock_at())
    assert stored.price == Decimal("30.00") and [i.sku for i in stored.items] == ["COF-2"]
    assert stored.pending_change is None and stored.next_order_date == date(2026, 3, 14)
    assert stored.order_numbers == ["SO-1", "SO-2"] and stored.last_order_date == date(2026, 2, 28)
    march = clock_at(datetime(2026, 3, 1, tzinfo=timezone.utc))
    duplicate = uc.record_charge(deps.uow(), uc.RecordCharge("SUB-100", "ch-3", "CH-2", Decimal("30.00"), charged_at,
                                                             order_number="SO-3"), march, ERP)
    assert duplicate.reason_code is R.DUPLICATE_CHARGE
    failed = uc.record_charge(deps.uow(), uc.RecordCharge("SUB-100", "ch-4", "CH-3", Decimal("30.00"), charged_at,
                                                          status=ChargeStatus.FAILED), march, ERP)
    assert failed.subscription.status is S.PAST_DUE


def test_refund_a_charge_in_part_then_too_much_then_unknown(deps):
    seed(deps, sub_record())
    part = uc.refund_subscription_charge(
        deps.uow(), uc.RefundSubscriptionCharge("SUB-100", "f-1", "CH-1", Reason.DAMAGED, Decimal("10.00"), "Torn bag"),
        clock_at(), DG)
    assert part.outcome is O.REFUNDED and part.refund.amount == Decimal("10.00")
    assert part.subscription.charges[0].status is ChargeStatus.PARTIALLY_REFUNDED
    replay = uc.refund_subscription_charge(
        deps.uow(), uc.RefundSubscriptionCharge("SUB-100", "f-1", "CH-1", Reason.DAMAGED, Decimal(10), "Torn bag"),
        clock_at(), DG)
    assert replay.refund.refund_id == part.refund.refund_id
    too_much = uc.refund_subscription_charge(
        deps.uow(), uc.RefundSubscriptionCharge("SUB-100", "f-2", "CH-1", Reason.DAMAGED, Decimal("14.01")),
        clock_at(), DG)
    assert (too_much.outcome, too_much.reason_code) == (O.REJECTED, R.EXCEEDS_REFUNDABLE)
    unknown = uc.refund_subscription_charge(
        deps.uow(), uc.RefundSubscriptionCharge("SUB-100", "f-3", "CH-9", Reason.DAMAGED), clock_at(), DG)
    assert unknown.reason_code is R.UNKNOWN_CHARGE
    rest = uc.refund_subscription_charge(
        deps.uow(), uc.RefundSubscriptionCharge("SUB-100", "f-4", "CH-1", Reason.DAMAGED), clock_at(), DG)
    assert rest.refund.amount == Decimal("14.00")
    stored = uc.get_subscription(deps.uow(), "SUB-100", clock_at())
    assert stored.charges[0].refunded_amount == Decimal("24.00") and len(stored.refunds) == 2
    assert stored.refunded_at == NOW
    refunds = [p for name, p in events_of(deps, "SUB-100") if name == "SubscriptionChargeRefunded"]
    assert [p["amount"] for p in refunds] == ["10.00", "14.00"] and refunds[0]["request_id"] == "f-1"


def test_bad_requests_are_refused_before_anything_is_stored(deps):
    seed(deps, sub_record())
    with pytest.raises(ValidationError) as caught:
        uc.skip_next_order(deps.uow(), uc.SkipNextOrder("SUB-100", " "), clock_at(), DG)
    assert caught.value.field == "RequestId"
    with pytest.raises(ValidationError) as caught:
        uc.refund_subscription_charge(
            deps.uow(), uc.RefundSubscriptionCharge("SUB-100", "f-1", "CH-1", Reason.OTHER, Decimal("1.001")),
            clock_at(), DG)
    assert "1.001" not in caught.value.message
    # The failed request stored nothing: its id is free for a good request.
    ok = uc.refund_subscription_charge(
        deps.uow(), uc.RefundSubscriptionCharge("SUB-100", "f-1", "CH-1", Reason.OTHER, Decimal("1.00")), clock_at(), DG)
    assert ok.outcome is O.REFUNDED


# ---------------------------------------------------------------------- the ERP


def test_upsert_results_per_document(deps):
    bad_price = sub_record("SUB-B", Price="twelve")
    secret_bad = sub_record("SUB-C", Customer={"Email": "not-an-email-SECRET"})
    results = upserts.upsert_subscriptions(deps.uow(), [sub_record("SUB-A"), bad_price, secret_bad, sub_record("SUB-A"),
                                                   "nonsense"], clock_at(), ERP)
    assert [(r.index, r.subscription_id, r.outcome, r.reason_code) for r in results] == [
        (1, "SUB-A", "CREATED", "NONE"), (2, "SUB-B", "REJECTED", "INVALID_DOCUMENT"),
        (3, "SUB-C", "REJECTED", "INVALID_DOCUMENT"), (4, "SUB-A", "REJECTED", "DUPLICATE_IN_BATCH"),
        (5, None, "REJECTED", "INVALID_DOCUMENT"),
    ]
    assert results[1].message.startswith("Price:") and "twelve" not in results[1].message
    assert "SECRET" not in results[2].message and "Email" in results[2].message
    again = upserts.upsert_subscriptions(deps.uow(), [sub_record("SUB-A"), sub_record("SUB-A", Name="Coffee club XL")][:1],
                                    clock_at(), ERP)
    assert [r.outcome for r in again] == ["UNCHANGED"]
    updated = upserts.upsert_subscriptions(deps.uow(), [sub_record("SUB-A", Name="Coffee club XL")], clock_at(), ERP)
    assert [r.outcome for r in updated] == ["UPDATED"]
    assert uc.get_subscription(deps.uow(), "SUB-A", clock_at()).name == "Coffee club XL"
    with pytest.raises(ValidationError):
        upserts.upsert_subscriptions(deps.uow(), [sub_record(f"SUB-{i}") for i in range(101)], clock_at(), ERP)
    with pytest.raises(SubscriptionNotFound):
        uc.get_subscription(deps.uow(), "SUB-B", clock_at())


def test_upsert_with_a_request_id_runs_once(deps):
    first = upserts.upsert_subscriptions(deps.uow(), [sub_record("SUB-R")], clock_at(), ERP, request_id="batch-1")
    replay = upserts.upsert_subscriptions(deps.uow(), [sub_record("SUB-R")], clock_at(), ERP, request_id="batch-1")
    assert [r.outcome for r in first] == [r.outcome for r in replay] == ["CREATED"]
    # A batch whose rejected document has no subscription id replays the same results.
    batch = [sub_record("SUB-R2"), "nonsense", {"Name": "no id"}]
    first = upserts.upsert_subscriptions(deps.uow(), batch, clock_at(), ERP, request_id="batch-2")
    replay = upserts.upsert_subscriptions(deps.uow(), batch, clock_at(), ERP, request_id="batch-2")
    assert replay == first
    assert [(r.subscription_id, r.outcome) for r in replay] == [("SUB-R2", "CREATED"), (None, "REJECTED"),
                                                               (None, "REJECTED")]
    with pytest.raises(IdempotencyConflict):
        upserts.upsert_subscriptions(deps.uow(), [sub_record("SUB-R", Name="Other")], clock_at(), ERP, request_id="batch-1")


def test_what_was_done_through_the_service_survives_an_upsert(deps):
    seed(deps, sub_record("SUB-M1"), sub_record("SUB-M2"), sub_record("SUB-M3"))
    uc.refund_subscription_charge(
        deps.uow(), uc.RefundSubscriptionCharge("SUB-M1", "m-f", "CH-1", Reason.DAMAGED, Decimal("5.00")), clock_at(), DG)
    uc.skip_next_order(deps.uow(), uc.SkipNextOrder("SUB-M1", "m-s"), clock_at(), DG)
    uc.pause_subscription(deps.uow(), uc.PauseSubscription("SUB-M2", "m-p", until=date(2026, 5, 10)), clock_at(), DG)
    uc.cancel_subscription(deps.uow(), uc.CancelSubscription("SUB-M3", "m-c", CancelReason.QUALITY), clock_at(), DG)
    # The ERP sends its own, stale, copies: nothing refunded, not skipped, active.
    renamed = [sub_record(sid, Name="Coffee club 2026") for sid in ("SUB-M1", "SUB-M2", "SUB-M3")]
    results = upserts.upsert_subscriptions(deps.uow(), renamed, clock_at(), ERP)
    assert [(r.outcome, r.reason_code) for r in results] == [
        ("UPDATED", "NONE"), ("UPDATED", "NONE"), ("REJECTED", "CONTRADICTS_SERVICE")]
    assert results[2].message.startswith("Status:")
    m1 = uc.get_subscription(deps.uow(), "SUB-M1", clock_at())
    assert m1.name == "Coffee club 2026" and m1.charges[0].refunded_amount == Decimal("5.00")
    assert len(m1.refunds) == 1 and m1.next_order_date == date(2026, 3, 31)
    m2 = uc.get_subscription(deps.uow(), "SUB-M2", clock_at())
    assert m2.status is S.PAUSED and m2.paused_until == date(2026, 5, 10) and m2.next_order_date == date(2026, 5, 31)
    m3 = uc.get_subscription(deps.uow(), "SUB-M3", clock_at())
    assert m3.status is S.CANCELLED and m3.name == "Coffee club"  # refused: left as it was
    # The refund balance still holds after the upsert: at most 19.00 is left of CH-1.
    over = uc.refund_subscription_charge(
        deps.uow(), uc.RefundSubscriptionCharge("SUB-M1", "m-f2", "CH-1", Reason.DAMAGED, Decimal("19.01")),
        clock_at(), DG)
    assert over.reason_code is R.EXCEEDS_REFUNDABLE
    # The ERP ending it agrees with the cancellation and is taken.
    ended = copy.deepcopy(sub_record("SUB-M3", Status="CANCELLED", CancelledAt="2026-02-11T00:00:00Z",
                                     CancelReason="OTHER", NextOrderDate=None))
    assert [r.outcome for r in upserts.upsert_subscriptions(deps.uow(), [ended], clock_at(), ERP)] == ["UNCHANGED"]
    m3 = uc.get_subscription(deps.uow(), "SUB-M3", clock_at())
    assert m3.cancel_reason is CancelReason.QUALITY and m3.cancelled_at == NOW


def test_service_owned_fields_cannot_be_sent_by_the_erp(deps):
    record = sub_record("SUB-S", Refunds=[])
    results = upserts.upsert_subscriptions(deps.uow(), [record], clock_at(), ERP)
    assert results[0].outcome == "REJECTED" and results[0].message.startswith("Refunds:")
