"""Every subscription operation over real HTTP, on SQLite and PostgreSQL, both ways in: SOAP with
zeep and the JSON twin with requests. Success, each rejection, not found, replay, conflict and
scope. Bodies are written once in the JSON form; for zeep, lists get their wrapper elements."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import requests
import zeep
from sqlalchemy import func, select

from soap_orders.adapters.orm import audit_records, order_events, subscriptions
from soap_orders.documents import Document, ListOf
from soap_orders.operations import BY_NAME
from tests.contract.clients import make_client
from tests.records import store_subscriptions, subscription_record, unique
from tests.server import Server, add_client
from tests.xmltools import fault_detail

pytestmark = pytest.mark.slow

def today() -> date:
    """The real date now (read at each use: a run may pass midnight)."""
    return datetime.now(timezone.utc).date()


def _wrapped(document: Document, body: dict[str, Any]) -> dict[str, Any]:
    """The JSON form with each list inside its wrapper element, as zeep takes it."""
    out: dict[str, Any] = {}
    for name, value in body.items():
        kind = document.field(name).kind
        if isinstance(kind, ListOf):
            items = [_wrapped(kind.item, v) if isinstance(kind.item, Document) else v for v in value]
            out[name] = {kind.item_name: items}
        elif isinstance(kind, Document) and isinstance(value, dict):
            out[name] = _wrapped(kind, value)
        else:
            out[name] = value
    return out


def _plain(value: Any) -> Any:
    """zeep's answer in the JSON form: wrappers dropped, money and times as strings."""
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(next(iter(value.values())), list):
            return [_plain(v) for v in next(iter(value.values()))]
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


class Refused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Way:
    """One way in: ``call`` answers the JSON form, or raises Refused with the error code."""

    def __init__(self, server: Server, kind: str, credentials: tuple[str, str] | None = None) -> None:
        self.kind = kind
        if kind == "soap":
            self.client = make_client(server, "basic", credentials)
        else:
            self.session = requests.Session()
            self.session.auth = credentials or server.credentials
            self.base_url = server.base_url

    def call(self, operation: str, **body: Any) -> dict[str, Any]:
        if self.kind == "json":
            answer = self.session.post(f"{self.base_url}/json/{operation}", json=body, timeout=20)
            if answer.status_code != 200:
                error = answer.json()
                assert set(error) == {"ErrorCode", "Message", "Retryable"}
                expected = {"SUBSCRIPTION_NOT_FOUND": 404, "IDEMPOTENCY_CONFLICT": 409, "FORBIDDEN": 403,
                            "VALIDATION_ERROR": 400}.get(error["ErrorCode"])
                assert expected is None or answer.status_code == expected, answer.text
                raise Refused(error["ErrorCode"])
            return answer.json()
        document = BY_NAME[operation].request_document
        try:
            result = getattr(self.client.service, operation)(**_wrapped(document, body))
        except zeep.exceptions.Fault as fault:
            detail = fault_detail(fault.detail)
            code = detail["ErrorCode"]
            assert fault.code.endswith(_FAULT_CODES.get(code, "")), fault.code
            # What the published schema already rules out is refused before the use case runs.
            raise Refused("VALIDATION_ERROR" if code == "SCHEMA_VIOLATION" else code) from None
        plain = _plain(zeep.helpers.serialize_object(result, dict))
        answer = BY_NAME[operation].answer_document
        if len(answer.fields) == 1:
            plain = {answer.fields[0].name: plain}
        for field in answer.fields:  # the JSON form always has its lists
            if isinstance(field.kind, ListOf) and field.name not in plain:
                plain[field.name] = []
        return plain

    def refused(self, operation: str, **body: Any) -> str:
        with pytest.raises(Refused) as info:
            self.call(operation, **body)
        return info.value.code


_FAULT_CODES = {"SUBSCRIPTION_NOT_FOUND": "Client.SubscriptionNotFound",
                "IDEMPOTENCY_CONFLICT": "Client.IdempotencyConflict", "FORBIDDEN": "Client.Forbidden",
                "VALIDATION_ERROR": "Client.ValidationError", "SCHEMA_VIOLATION": "Client.ValidationError"}


@pytest.fixture(scope="module", params=["soap", "json"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def erp_credentials(server: Server) -> tuple[str, str]:
    return ("erp-feed", add_client(server.database_url, "erp-feed", ("erp",)))


@pytest.fixture(scope="module")
def dg_credentials(server: Server) -> tuple[str, str]:
    """The consumer's kind of client: it reads and acts, but is not the ERP."""
    return ("dg-subscriptions", add_client(server.database_url, "dg-subscriptions", ("orders:read", "orders:act")))


@pytest.fixture(scope="module")
def dg(server: Server, kind: str, dg_credentials: tuple[str, str]) -> Way:
    return Way(server, kind, dg_credentials)


@pytest.fixture(scope="module")
def erp(server: Server, kind: str, erp_credentials: tuple[str, str]) -> Way:
    return Way(server, kind, erp_credentials)


def new_subscription(deps: Any, email: str | None = None, **overrides: Any) -> str:
    email = email or f"{unique('sub')}@example.com"
    (sid,) = store_subscriptions(deps, subscription_record(unique("SUB"), email, **overrides))
    return sid


def rid(label: str) -> str:
    return unique(f"dg-{label}")


# ---------------------------------------------------------------------- reads


def test_find_by_email_pages_and_filters(dg, server_deps):
    email = f"{unique('find')}@example.com"
    first = new_subscription(server_deps, email, CreatedAt="2026-01-01T09:00:00Z")
    second = new_subscription(server_deps, email, CreatedAt="2026-01-02T09:00:00Z")
    cancelled = new_subscription(server_deps, email, CreatedAt="2026-01-03T09:00:00Z", Status="CANCELLED",
                                 CancelledAt="2026-01-04T09:00:00Z", NextOrderDate=None)
    page = dg.call("FindSubscriptionsByEmail", Email=f"  {email.upper()} ", PageSize=2)
    assert [s["SubscriptionId"] for s in page["Subscriptions"]] == [cancelled, second]
    assert (page["TotalCount"], page["CurrentPage"], page["ItemsPerPage"], page["HasMore"]) == (3, 1, 2, True)
    last = dg.call("FindSubscriptionsByEmail", Email=email, PageSize=2, PageNumber=2)
    assert [s["SubscriptionId"] for s in last["Subscriptions"]] == [first] and last["HasMore"] is False
    only = dg.call("FindSubscriptionsByEmail", Email=email, Status="CANCELLED")
    assert [s["SubscriptionId"] for s in only["Subscriptions"]] == [cancelled]
    nobody = dg.call("FindSubscriptionsByEmail", Email=f"{unique('nobody')}@example.com")
    assert nobody["Subscriptions"] == [] and nobody["TotalCount"] == 0
    assert dg.refused("FindSubscriptionsByEmail", Email=email, Status="SOMETIMES") == "VALIDATION_ERROR"


def test_get_subscription_shows_the_document(dg, server_deps):
    email = f"{unique('get')}@example.com"
    day = today()  # the record's dates and the expectation from one reading of the clock
    sid = new_subscription(server_deps, email, today=day)
    sub = dg.call("GetSubscription", SubscriptionId=sid, Email=email.upper())["Subscription"]
    assert sub["SubscriptionId"] == sid and sub["Status"] == "ACTIVE" and sub["Currency"] == "EUR"
    assert sub["Price"] == "24.00" and sub["Frequency"] == {"Interval": "MONTH", "IntervalCount": 1}
    assert sub["Items"][0]["Sku"] == "COF-1" and sub["Items"][0]["UnitPrice"] == "12.00"
    assert sub["Charges"][0]["ChargeId"] == "CH-1" and sub["Charges"][0]["Status"] == "PAID"
    assert [o["OrderNumber"] for o in sub["Orders"]] == ["SO-1"]
    assert sub["NextOrderDate"] == (day + timedelta(days=14)).isoformat()
    assert sub["ChargedAmount"] == "24.00" and sub["RefundedAmount"] == "0.00"
    assert not {"Refunds", "SkippedOrders", "PendingChange", "ServiceLifecycle"} & set(sub)
    assert dg.refused("GetSubscription", SubscriptionId=sid, Email="someone.else@example.com") == \
        "SUBSCRIPTION_NOT_FOUND"
    assert dg.refused("GetSubscription", SubscriptionId="SUB-NOPE") == "SUBSCRIPTION_NOT_FOUND"


# ---------------------------------------------------------------------- actions


def test_cancel_at_once_replay_conflict_and_already_cancelled(dg, server_deps):
    sid = new_subscription(server_deps)
    request = rid("cancel")
    done = dg.call("CancelSubscription", SubscriptionId=sid, RequestId=request, Reason="TOO_EXPENSIVE",
                   Note="Cheaper elsewhere")
    assert (done["Outcome"], done["ReasonCode"]) == ("CANCELLED", "NONE")
    assert done["Subscription"]["Status"] == "CANCELLED" and "NextOrderDate" not in done["Subscription"]
    assert done["Subscription"]["CancelReason"] == "TOO_EXPENSIVE" and "CancelledAt" in done["Subscription"]
    replay = dg.call("CancelSubscription", SubscriptionId=sid, RequestId=request, Reason="TOO_EXPENSIVE",
                     Note="Cheaper elsewhere")
    assert replay == done
    assert dg.refused("CancelSubscription", SubscriptionId=sid, RequestId=request, Reason="QUALITY") == \
        "IDEMPOTENCY_CONFLICT"
    again = dg.call("CancelSubscription", SubscriptionId=sid, RequestId=rid("cancel"), Reason="QUALITY")
    assert (again["Outcome"], again["ReasonCode"]) == ("ALREADY_CANCELLED", "ALREADY_CANCELLED")
    assert dg.refused("CancelSubscription", SubscriptionId="SUB-NOPE", RequestId=rid("c"), Reason="OTHER") == \
        "SUBSCRIPTION_NOT_FOUND"
    assert dg.refused("CancelSubscription", SubscriptionId=sid, RequestId=rid("c"), Reason="BORED") == \
        "VALIDATION_ERROR"


def test_cancel_at_period_end_then_actions_are_refused(dg, server_deps):
    day = today()
    sid = new_subscription(server_deps, today=day)
    done = dg.call("CancelSubscription", SubscriptionId=sid, RequestId=rid("end"), Reason="NO_LONGER_NEEDED",
                   AtPeriodEnd=True)
    assert (done["Outcome"], done["ReasonCode"]) == ("CANCELLATION_SCHEDULED", "NONE")
    sub = done["Subscription"]
    assert sub["Status"] == "ACTIVE" and sub["CancelAtPeriodEnd"] is True and "NextOrderDate" not in sub
    assert sub["CancelAt"] == (day + timedelta(days=14)).isoformat()
    for operation, extra in (("PauseSubscription", {"PauseCycles": 1}), ("SkipNextOrder", {}),
                             ("CancelSubscription", {"Reason": "OTHER", "AtPeriodEnd": True})):
        refused = dg.call(operation, SubscriptionId=sid, RequestId=rid("x"), **extra)
        assert (refused["Outcome"], refused["ReasonCode"]) == ("REJECTED", "CANCELLATION_SCHEDULED"), operation


def test_pause_for_cycles_then_resume(dg, server_deps):
    sid = new_subscription(server_deps)
    paused = dg.call("PauseSubscription", SubscriptionId=sid, RequestId=rid("pause"), PauseCycles=2)
    assert (paused["Outcome"], paused["ReasonCode"]) == ("PAUSED", "NONE")
    sub = paused["Subscription"]
    assert sub["Status"] == "PAUSED" and sub["PausedCycles"] == 2
    assert sub["NextOrderDate"] >= sub["PausedUntil"] > today().isoformat()
    again = dg.call("PauseSubscription", SubscriptionId=sid, RequestId=rid("pause"), PauseCycles=1)
    assert (again["Outcome"], again["ReasonCode"]) == ("REJECTED", "ALREADY_PAUSED")
    skipped = dg.call("SkipNextOrder", SubscriptionId=sid, RequestId=rid("skip"))
    assert (skipped["Outcome"], skipped["ReasonCode"]) == ("REJECTED", "NOT_ACTIVE")
    resumed = dg.call("ResumeSubscription", SubscriptionId=sid, RequestId=rid("resume"))
    assert (resumed["Outcome"], resumed["ReasonCode"]) == ("RESUMED", "NONE")
    assert resumed["Subscription"]["Status"] == "ACTIVE" and "PausedUntil" not in resumed["Subscription"]
    assert resumed["Subscription"]["NextOrderDate"] >= today().isoformat()
    not_paused = dg.call("ResumeSubscription", SubscriptionId=sid, RequestId=rid("resume"))
    assert (not_paused["Outcome"], not_paused["ReasonCode"]) == ("REJECTED", "NOT_PAUSED")


def test_pause_until_a_date_and_its_limits(dg, server_deps):
    sid = new_subscription(server_deps)
    too_long = dg.call("PauseSubscription", SubscriptionId=sid, RequestId=rid("p"),
                       PauseUntil=(today() + timedelta(days=400)).isoformat())
    assert (too_long["Outcome"], too_long["ReasonCode"]) == ("REJECTED", "PAUSE_TOO_LONG")
    assert dg.refused("PauseSubscription", SubscriptionId=sid, RequestId=rid("p"),
                      PauseUntil=today().isoformat()) == "VALIDATION_ERROR"
    assert dg.refused("PauseSubscription", SubscriptionId=sid, RequestId=rid("p"), PauseCycles=1,
                      PauseUntil=(today() + timedelta(days=20)).isoformat()) == "VALIDATION_ERROR"
    until = (today() + timedelta(days=40)).isoformat()
    paused = dg.call("PauseSubscription", SubscriptionId=sid, RequestId=rid("p"), PauseUntil=until)
    assert paused["Outcome"] == "PAUSED" and paused["Subscription"]["PausedUntil"] == until
    assert paused["Subscription"]["NextOrderDate"] >= until


def test_change_plan_and_unchanged_plan(dg, server_deps):
    sid = new_subscription(server_deps)
    same = dg.call("ChangeSubscriptionPlan", SubscriptionId=sid, RequestId=rid("plan"), Price="24.00")
    assert (same["Outcome"], same["ReasonCode"]) == ("REJECTED", "PLAN_UNCHANGED")
    request = rid("plan")
    body = {"SubscriptionId": sid, "RequestId": request, "Price": "30.00",
            "Items": [{"Sku": "COF-2", "Name": "Decaf 1 kg", "Quantity": 1, "UnitPrice": "30.00"}],
            "Frequency": {"Interval": "WEEK", "IntervalCount": 2}}
    changed = dg.call("ChangeSubscriptionPlan", **body)
    assert (changed["Outcome"], changed["ReasonCode"]) == ("PLAN_CHANGED", "NONE")
    assert "every 2 weeks" in changed["Message"]
    assert changed["Subscription"]["Price"] == "24.00"  # from the next cycle on
    assert dg.call("ChangeSubscriptionPlan", **{**body, "Price": "30.0"}) == changed  # same request
    assert dg.refused("ChangeSubscriptionPlan", **{**body, "Price": "31.00"}) == "IDEMPOTENCY_CONFLICT"
    assert dg.refused("ChangeSubscriptionPlan", SubscriptionId=sid, RequestId=rid("plan")) == "VALIDATION_ERROR"


def test_skip_next_order(dg, server_deps):
    sid = new_subscription(server_deps)
    skipped = dg.call("SkipNextOrder", SubscriptionId=sid, RequestId=rid("skip"))
    assert (skipped["Outcome"], skipped["ReasonCode"]) == ("SKIPPED", "NONE")
    assert skipped["Subscription"]["NextOrderDate"] > (today() + timedelta(days=14)).isoformat()
    cancelled = new_subscription(server_deps, Status="CANCELLED", CancelledAt="2026-01-04T09:00:00Z",
                                 NextOrderDate=None)
    refused = dg.call("SkipNextOrder", SubscriptionId=cancelled, RequestId=rid("skip"))
    assert (refused["Outcome"], refused["ReasonCode"]) == ("REJECTED", "ALREADY_CANCELLED")


def test_refund_a_charge_never_more_than_charged(dg, server_deps):
    sid = new_subscription(server_deps)
    request = rid("refund")
    part = dg.call("RefundSubscriptionCharge", SubscriptionId=sid, RequestId=request, ChargeId="CH-1",
                   Reason="DAMAGED", Amount="5.00")
    assert (part["Outcome"], part["ReasonCode"]) == ("REFUNDED", "NONE")
    assert part["Refund"]["Amount"] == "5.00" and part["Refund"]["ChargeId"] == "CH-1"
    charge = part["Subscription"]["Charges"][0]
    assert (charge["RefundedAmount"], charge["Status"]) == ("5.00", "PARTIALLY_REFUNDED")
    replay = dg.call("RefundSubscriptionCharge", SubscriptionId=sid, RequestId=request, ChargeId="CH-1",
                     Reason="DAMAGED", Amount="5")
    assert replay["Refund"]["RefundId"] == part["Refund"]["RefundId"]
    too_much = dg.call("RefundSubscriptionCharge", SubscriptionId=sid, RequestId=rid("refund"), ChargeId="CH-1",
                       Reason="DAMAGED", Amount="19.01")
    assert (too_much["Outcome"], too_much["ReasonCode"]) == ("REJECTED", "EXCEEDS_REFUNDABLE")
    unknown = dg.call("RefundSubscriptionCharge", SubscriptionId=sid, RequestId=rid("refund"), ChargeId="CH-9",
                      Reason="DAMAGED")
    assert (unknown["Outcome"], unknown["ReasonCode"]) == ("REJECTED", "UNKNOWN_CHARGE")
    rest = dg.call("RefundSubscriptionCharge", SubscriptionId=sid, RequestId=rid("refund"), ChargeId="CH-1",
                   Reason="OTHER")
    assert rest["Outcome"] == "REFUNDED" and rest["Refund"]["Amount"] == "19.00"
    assert rest["Subscription"]["Charges"][0]["Status"] == "REFUNDED"
    assert rest["Subscription"]["RefundedAmount"] == "24.00"
    nothing = dg.call("RefundSubscriptionCharge", SubscriptionId=sid, RequestId=rid("refund"), ChargeId="CH-1",
                      Reason="OTHER")
    assert (nothing["Outcome"], nothing["ReasonCode"]) == ("REJECTED", "NOTHING_REFUNDABLE")
    assert dg.refused("RefundSubscriptionCharge", SubscriptionId=sid, RequestId=request, ChargeId="CH-1",
                      Reason="DAMAGED", Amount="6.00") == "IDEMPOTENCY_CONFLICT"


def test_actions_write_events_and_audit_records(dg, server_deps):
    sid = new_subscription(server_deps)
    dg.call("SkipNextOrder", SubscriptionId=sid, RequestId=rid("skip"))
    with server_deps.engine.connect() as connection:
        events = connection.scalars(select(order_events.c.event_type).where(order_events.c.subscription_id == sid)
                                    .order_by(order_events.c.id)).all()
        audits = connection.execute(select(audit_records.c.operation, audit_records.c.outcome)
                                    .where(audit_records.c.subscription_id == sid)
                                    .order_by(audit_records.c.id)).all()
    assert events == ["SubscriptionUpserted", "SubscriptionOrderSkipped"]
    assert [tuple(a) for a in audits] == [("UpsertSubscription", "CREATED"), ("SkipNextOrder", "SKIPPED/NONE")]


# ---------------------------------------------------------------------- the ERP


def test_upsert_gives_a_result_per_document(erp, server_deps):
    new, other = unique("SUB"), unique("SUB")
    request = unique("erp-batch")
    inconsistent = subscription_record(other, Status="CANCELLED", NextOrderDate=None)  # no CancelledAt
    batch = [subscription_record(new), inconsistent, subscription_record(new)]
    answer = erp.call("UpsertSubscriptions", RequestId=request, Subscriptions=batch)
    results = [(r["Index"], r.get("SubscriptionId"), r["Outcome"], r["ReasonCode"]) for r in answer["Results"]]
    assert results == [(1, new, "CREATED", "NONE"), (2, other, "REJECTED", "INVALID_DOCUMENT"),
                       (3, new, "REJECTED", "DUPLICATE_IN_BATCH")]
    assert answer["Results"][1]["Message"].startswith("CancelledAt") and answer["Results"][1]["Field"] == "CancelledAt"
    assert answer["Results"][0]["Message"] == "The subscription was created." and "Field" not in answer["Results"][0]
    assert answer["Results"][2]["Field"] == "SubscriptionId"
    assert (answer["CreatedCount"], answer["UpdatedCount"], answer["UnchangedCount"], answer["RejectedCount"]) == (1, 0, 0, 2)
    assert erp.call("UpsertSubscriptions", RequestId=request, Subscriptions=batch) == answer  # replay
    assert erp.refused("UpsertSubscriptions", RequestId=request, Subscriptions=batch[:1]) == "IDEMPOTENCY_CONFLICT"
    same = erp.call("UpsertSubscriptions", RequestId=unique("erp"), Subscriptions=[subscription_record(new)])
    assert [r["Outcome"] for r in same["Results"]] == ["UNCHANGED"]
    renamed = erp.call("UpsertSubscriptions", RequestId=unique("erp"),
                       Subscriptions=[subscription_record(new, Name="Coffee club XL")])
    assert [r["Outcome"] for r in renamed["Results"]] == ["UPDATED"]


#: Concurrent UpsertSubscriptions requests in the race below, and the threads sending them.
RACING_BATCHES = 32


def test_concurrent_batches_creating_one_subscription_each_get_a_result_per_document(server, erp_credentials,
                                                                                     server_deps):
    """Every batch carries the same new subscription (each with a name of its own) and one new
    subscription nobody else sends: one batch creates the shared one and the others update it,
    each answering a result per document; nothing is refused and no batch's own one is lost."""
    shared = unique("SUB-RACE")
    own = [unique("SUB-OWN") for _ in range(RACING_BATCHES)]
    start = threading.Barrier(RACING_BATCHES)

    def send(index: int) -> requests.Response:
        batch = [subscription_record(shared, Name=f"Coffee club {index}"), subscription_record(own[index])]
        with requests.Session() as session:
            session.auth = erp_credentials
            start.wait(timeout=60)
            return session.post(f"{server.base_url}/json/UpsertSubscriptions", timeout=120,
                                json={"RequestId": unique("race"), "Subscriptions": batch})

    with ThreadPoolExecutor(max_workers=RACING_BATCHES) as pool:
        answers = list(pool.map(send, range(RACING_BATCHES)))
    assert [answer.status_code for answer in answers] == [200] * RACING_BATCHES, \
        [answer.text for answer in answers if answer.status_code != 200][:3]
    results = [[(r["Index"], r["SubscriptionId"], r["Outcome"]) for r in answer.json()["Results"]] for answer in answers]
    shared_results = sorted(batch[0][2] for batch in results)
    assert shared_results == ["CREATED"] + ["UPDATED"] * (RACING_BATCHES - 1)
    assert [batch[0][:2] for batch in results] == [(1, shared)] * RACING_BATCHES
    assert [batch[1] for batch in results] == [(2, sid, "CREATED") for sid in own]
    with server_deps.engine.connect() as connection:
        stored = Counter(connection.execute(select(subscriptions.c.subscription_id).where(
            subscriptions.c.subscription_id.in_([shared, *own]))).scalars())
        audited = connection.scalar(select(func.count()).select_from(audit_records).where(
            audit_records.c.subscription_id.in_([shared, *own])))
    assert stored == Counter([shared, *own])
    assert audited == 2 * RACING_BATCHES


def test_upsert_never_erases_what_was_done_through_the_service(dg, erp, server_deps):
    sid = new_subscription(server_deps)
    dg.call("RefundSubscriptionCharge", SubscriptionId=sid, RequestId=rid("r"), ChargeId="CH-1", Reason="DAMAGED",
            Amount="4.00")
    dg.call("CancelSubscription", SubscriptionId=sid, RequestId=rid("c"), Reason="QUALITY")
    stale = erp.call("UpsertSubscriptions", RequestId=unique("erp"), Subscriptions=[subscription_record(sid)])
    assert [(r["Outcome"], r["ReasonCode"]) for r in stale["Results"]] == [("REJECTED", "CONTRADICTS_SERVICE")]
    ended = subscription_record(sid, Status="CANCELLED", CancelledAt="2026-01-04T09:00:00Z", NextOrderDate=None,
                                Name="Coffee club (ended)")
    merged = erp.call("UpsertSubscriptions", RequestId=unique("erp"), Subscriptions=[ended])
    assert [r["Outcome"] for r in merged["Results"]] == ["UPDATED"]
    sub = dg.call("GetSubscription", SubscriptionId=sid)["Subscription"]
    assert sub["Name"] == "Coffee club (ended)" and sub["Charges"][0]["RefundedAmount"] == "4.00"
    assert sub["CancelReason"] == "QUALITY"


def test_record_charge_moves_the_schedule_on(erp, server_deps):
    sid = new_subscription(server_deps)
    request = unique("erp-charge")
    # A moment already past (a charge in the future is refused), whatever the hour of the run.
    charged = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=2)
    stamp = charged.isoformat().replace("+00:00", "Z")
    body = {"SubscriptionId": sid, "RequestId": request, "ChargeId": "CH-2", "Amount": "24.00",
            "ChargedAt": stamp, "Status": "PAID", "OrderNumber": "SO-2"}
    recorded = erp.call("RecordCharge", **body)
    assert (recorded["Outcome"], recorded["ReasonCode"]) == ("CHARGE_RECORDED", "NONE")
    assert recorded["Charge"]["ChargeId"] == "CH-2" and recorded["Charge"]["OrderNumber"] == "SO-2"
    sub = recorded["Subscription"]
    assert [o["OrderNumber"] for o in sub["Orders"]] == ["SO-1", "SO-2"] and sub["ChargedAmount"] == "48.00"
    assert sub["LastOrderDate"] == charged.date().isoformat() and sub["NextOrderDate"] > charged.date().isoformat()
    assert erp.call("RecordCharge", **body) == recorded
    assert erp.refused("RecordCharge", **{**body, "Amount": "25.00"}) == "IDEMPOTENCY_CONFLICT"
    duplicate = erp.call("RecordCharge", **{**body, "RequestId": unique("erp")})
    assert (duplicate["Outcome"], duplicate["ReasonCode"]) == ("REJECTED", "DUPLICATE_CHARGE")
    failed = erp.call("RecordCharge", SubscriptionId=sid, RequestId=unique("erp"), ChargeId="CH-3", Amount="24.00",
                      ChargedAt=stamp, Status="FAILED")
    assert failed["Outcome"] == "CHARGE_RECORDED" and failed["Subscription"]["Status"] == "PAST_DUE"
    cancelled = new_subscription(server_deps, Status="CANCELLED", CancelledAt="2026-01-04T09:00:00Z",
                                 NextOrderDate=None)
    refused = erp.call("RecordCharge", **{**body, "SubscriptionId": cancelled, "RequestId": unique("erp")})
    assert (refused["Outcome"], refused["ReasonCode"]) == ("REJECTED", "ALREADY_CANCELLED")
    assert erp.refused("RecordCharge", **{**body, "SubscriptionId": "SUB-NOPE", "RequestId": unique("erp")}) == \
        "SUBSCRIPTION_NOT_FOUND"


# ---------------------------------------------------------------------- scopes


def test_each_operation_needs_its_scope(dg, erp, server_deps):
    sid = new_subscription(server_deps)
    assert dg.refused("UpsertSubscriptions", RequestId=unique("x"),
                      Subscriptions=[subscription_record(unique("SUB"))]) == "FORBIDDEN"
    assert dg.refused("RecordCharge", SubscriptionId=sid, RequestId=unique("x"), ChargeId="CH-9", Amount="1.00",
                      ChargedAt="2026-01-01T00:00:00Z", Status="FAILED") == "FORBIDDEN"
    assert erp.refused("CancelSubscription", SubscriptionId=sid, RequestId=unique("x"), Reason="OTHER") == "FORBIDDEN"
    # An ERP client reads back the subscriptions it feeds, but may not search them by customer.
    assert erp.call("GetSubscription", SubscriptionId=sid)["Subscription"]["SubscriptionId"] == sid
    assert erp.refused("FindSubscriptionsByEmail", Email="someone@example.com") == "FORBIDDEN"
    with server_deps.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(audit_records)
                                 .where(audit_records.c.subscription_id == sid)) == 1  # the upsert only
