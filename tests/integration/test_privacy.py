"""Forgetting a customer and exporting what is held, through the use cases on a real SQLite file
and PostgreSQL: every copy of the personal data is found and replaced (a scan of every column of
every table of the live schema), money stays, the ERP's feed never brings the data back, the
request is idempotent, audited and refused while something is unsettled."""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from soap_orders import logs
from soap_orders.adapters import migrate
from soap_orders.adapters.orm import (
    audit_records,
    flow_outbox,
    idempotency_records,
    order_events,
)
from soap_orders.adapters.orm import orders as orders_table
from soap_orders.documents import records
from soap_orders.domain.errors import IdempotencyConflict
from soap_orders.domain.merge import UpsertOutcome, UpsertReasonCode
from soap_orders.domain.orders import (
    Address,
    Reason,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
)
from soap_orders.domain.privacy import PSEUDONYM_DOMAIN, ForgetOutcome, ForgetReasonCode
from soap_orders.domain.subscriptions import CancelReason
from soap_orders.domain.upserts import UpsertReasonCode as SubscriptionReasonCode
from soap_orders.ingest import orders as upserts
from soap_orders.ingest import subscriptions as subscription_upserts
from soap_orders.service import (
    order_actions,
    orders,
    privacy,
    subscriptions,
)
from soap_orders.service.orders import Caller
from tests.privacy import (
    copies_in_database,
    copies_in_text,
    person,
    personal_order,
    personal_subscription,
)
from tests.records import order_record, store, store_subscriptions, unique

DG = Caller("dg", "35.167.19.246")
DESK = Caller("privacy-desk", "10.0.0.7")


def forget(deps, email, request_id=None, **only):
    command = privacy.ForgetCustomer(email, request_id or unique("forget"), **only)
    return privacy.forget_customer(deps.uow(), command, deps.clock, DESK)


def export(deps, email):
    return privacy.export_customer_data(deps.uow(), privacy.ExportCustomerData(email), deps.clock)


def money_of(deps, number):
    order = orders.get_order(deps.uow(), number)
    return (order.subtotal, order.shipping_total, order.total, order.refunded_amount, order.refundable_amount,
            [(r.refund_id, r.amount, r.status) for r in order.refunds], [(line.sku, line.quantity, line.unit_price) for line in order.lines])


@pytest.fixture
def customer(deps):
    """A customer whose data the service has copied everywhere it does: two orders (one had its
    address changed, a refund with a note, a delayed parcel announced to DG whose answer quoted
    the name; the other a return whose label and reason name them), an active subscription, and
    another customer's order beside them."""
    who = person()
    active = order_record(unique("PRIV"), who.email, Customer=who.customer, ShippingAddress=who.address)
    returned = personal_order(who)
    store(deps, active, returned, order_record(unique("OTHER"), "someone.else@example.com"))
    sid, = store_subscriptions(deps, personal_subscription(who))
    number = active["OrderNumber"]
    moved = Address(f"{who.first_name} {who.last_name}", f"{who.token} Spinner's End", None, "Cokeworth", None,
                    "CW1 1AA", "GB", who.phone)
    answer = order_actions.change_shipping_address(
        deps.uow(), order_actions.ChangeShippingAddress(number, unique("move"), moved), deps.clock, DG)
    assert answer.outcome.value == "ADDRESS_CHANGED"
    answer = orders.issue_refund(deps.uow(), orders.IssueRefund(number, unique("refund"), Reason.DAMAGED,
                                                                Decimal("5.00"), note=who.note), deps.clock, DG)
    assert answer.outcome.value == "REFUNDED"
    parcel = Shipment("SH-" + number, ShipmentStatus.DELAYED, carrier_code="royalmail", tracking_number="RM1",
                      items=[ShipmentItem("MUG-RED", 2), ShipmentItem("TEA-001", 1)])
    answer = order_actions.record_shipment(deps.uow(), order_actions.RecordShipment(number, unique("ship"), parcel),
                                           deps.clock, DG)
    assert answer.outcome.value == "SHIPMENT_RECORDED"
    with deps.engine.begin() as connection:  # DG's flow refused it, quoting what it looked up
        done = connection.execute(update(flow_outbox).where(flow_outbox.c.order_number == number).values(
            state="DEAD", last_status=404, last_error=f'{{"error": "no conversation with {who.first_name} {who.last_name}"}}'))
        assert done.rowcount == 1
    return who, number, returned["OrderNumber"], sid


def settle(deps, number, sid, who):
    """The payment side settles the refund (an ERP document saying COMPLETED), DG cancels the subscription."""
    document = records.order_to_record(orders.get_order(deps.uow(), number))
    document["Refunds"][0]["Status"] = "COMPLETED"
    report = upserts.upsert_records(deps.uow(), [document], deps.clock)
    assert report.results[0].outcome is UpsertOutcome.UPDATED, report.results[0]
    cancelled = subscriptions.cancel_subscription(
        deps.uow(), subscriptions.CancelSubscription(sid, unique("cancel"), CancelReason.MOVING, note=who.note),
        deps.clock, DG)
    assert cancelled.outcome.value == "CANCELLED"


def test_nothing_is_forgotten_while_a_refund_is_pending_or_a_subscription_running(deps, customer):
    who, number, _returned, sid = customer
    before = copies_in_database(deps.engine, who)
    result = forget(deps, who.email)
    assert (result.outcome, result.reason_code) == (ForgetOutcome.REJECTED, ForgetReasonCode.UNSETTLED_REFUND)
    assert [(u.reason_code, u.order_number, u.subscription_id) for u in result.unsettled] == [
        (ForgetReasonCode.UNSETTLED_REFUND, number, None), (ForgetReasonCode.ACTIVE_SUBSCRIPTION, None, sid)]
    assert result.pseudonym is None and result.forgotten == privacy.ForgottenCounts()
    assert copies_in_database(deps.engine, who) == before  # nothing changed
    page = orders.find_orders_by_email(deps.uow(), orders.FindOrdersByEmail(who.email))
    assert page.total_count == 2


def test_forgetting_replaces_every_copy_and_keeps_the_money(deps, customer):
    who, number, returned, sid = customer
    settle(deps, number, sid, who)
    held = copies_in_database(deps.engine, who)
    # The scan sees every kind of copy before (so finding nothing afterwards means something).
    for place in ("orders.customer_email: email", "orders.ship_line1: address", "order_documents.xml: first name",
                  "order_documents.json: phone", "order_events.payload: address", "order_events.payload: note",
                  "audit_records.details: note", "flow_outbox.last_error: last name",
                  "idempotency_records.result: email", "refunds.note: note", "returns.label_url: first name",
                  "returns.reason: note", "subscriptions.customer_email: email", "subscriptions.cancel_note: note"):
        assert place in held, (place, held)
    exported = export(deps, who.email)
    assert ([o.order_number for o in exported.orders], [s.subscription_id for s in exported.subscriptions]) == (
        [returned, number], [sid])  # newest first: the same time, so the later one first
    assert "ShippingAddressChanged" in {event.type for event in exported.events}
    money = {n: money_of(deps, n) for n in (number, returned)}

    result = forget(deps, who.email.upper())  # any case
    assert (result.outcome, result.reason_code, result.unsettled) == (ForgetOutcome.FORGOTTEN, ForgetReasonCode.NONE, ())
    assert result.pseudonym is not None and result.pseudonym.endswith("@" + PSEUDONYM_DOMAIN)
    assert result.forgotten == privacy.ForgottenCounts(
        orders=2, subscriptions=1,
        change_feed_events=3,  # the address change, the refund's note, the cancellation's note
        audit_records=3,  # their audit details
        notifications=1,  # DG's answer quoting the name
        stored_answers=4,  # the answers of the address change, refund, shipment and cancellation
    )
    assert copies_in_database(deps.engine, who) == []
    assert {n: money_of(deps, n) for n in (number, returned)} == money

    assert orders.find_orders_by_email(deps.uow(), orders.FindOrdersByEmail(who.email)).total_count == 0
    assert subscriptions.find_subscriptions_by_email(
        deps.uow(), subscriptions.FindSubscriptionsByEmail(who.email), deps.clock).total_count == 0
    order = orders.get_order(deps.uow(), number)
    assert order.customer.email == result.pseudonym and order.customer.first_name is None
    assert order.shipping_address == Address(country_code="GB") and order.forgotten_at is not None
    after = export(deps, who.email)
    assert (list(after.orders), list(after.subscriptions), list(after.events)) == ([], [], [])
    # The pseudonym finds the forgotten records (for disputes), and the feed says what happened.
    assert orders.find_orders_by_email(deps.uow(), orders.FindOrdersByEmail(result.pseudonym)).total_count == 2
    with deps.engine.connect() as connection:
        feed = connection.execute(select(order_events.c.order_number, order_events.c.subscription_id,
                                         order_events.c.payload, order_events.c.client)
                                  .where(order_events.c.event_type == "CustomerForgotten")).all()
        audit = connection.execute(select(audit_records.c.order_number, audit_records.c.subscription_id,
                                          audit_records.c.outcome, audit_records.c.client)
                                   .where(audit_records.c.operation == "ForgetCustomer")
                                   .order_by(audit_records.c.id)).all()
    assert sorted((n or s) for n, s, _p, _c in feed) == sorted([number, returned, sid])
    assert all(p == {"request_id": p["request_id"], "pseudonym": result.pseudonym} and c == DESK.client
               for _n, _s, p, c in feed)
    assert [(n or s, o, c) for n, s, o, c in audit][-3:] == [
        (returned, "FORGOTTEN/NONE", DESK.client), (number, "FORGOTTEN/NONE", DESK.client),
        (sid, "FORGOTTEN/NONE", DESK.client)]
    # The other customer's order is untouched.
    assert orders.find_orders_by_email(deps.uow(), orders.FindOrdersByEmail("someone.else@example.com")).total_count >= 1


def test_the_same_request_id_replays_and_another_email_under_it_conflicts(deps, customer):
    who, number, _returned, sid = customer
    settle(deps, number, sid, who)
    request_id = unique("forget")
    first = forget(deps, who.email, request_id)
    again = forget(deps, f"  {who.email.lower()} ", request_id)
    assert again == first and first.outcome is ForgetOutcome.FORGOTTEN
    with pytest.raises(IdempotencyConflict):
        forget(deps, "someone.else@example.com", request_id)
    with pytest.raises(IdempotencyConflict):
        forget(deps, who.email, request_id, order_number=number)
    # A new request finds nothing left to forget.
    assert forget(deps, who.email).outcome is ForgetOutcome.NOTHING_TO_FORGET


def test_the_erp_feeding_the_old_documents_again_brings_nothing_back(deps, customer):
    who, number, returned, sid = customer
    settle(deps, number, sid, who)
    old_order = orders.get_order(deps.uow(), returned)
    old_document = records.order_to_record(old_order)
    old_subscription = personal_subscription(who, sid, Status="CANCELLED", CancelledAt="2026-01-10T10:00:00Z",
                                             CancelReason="MOVING", NextOrderDate=None, CancelNote=who.note)
    forgotten = forget(deps, who.email)
    assert forgotten.outcome is ForgetOutcome.FORGOTTEN

    # The nightly import (upsert_orders, as soap-orders import calls it) and UpsertOrders (records).
    imported = upserts.upsert_orders(deps.uow(), [records.order_from_record(old_document)], deps.clock)
    fed = upserts.upsert_records(deps.uow(), [{**old_document, "Status": "DELIVERED"}], deps.clock,
                                request_id=unique("erp"))
    for report in (imported, fed):
        (result,) = report.results
        assert result.outcome is UpsertOutcome.UNCHANGED and result.reason_code is UpsertReasonCode.PERSONAL_DATA_FORGOTTEN
    moved_on = {**old_document, "ExpectedDeliveryDate": "2026-03-09"}
    (result,) = upserts.upsert_records(deps.uow(), [moved_on], deps.clock).results
    assert (result.outcome, result.reason_code) == (UpsertOutcome.UPDATED, UpsertReasonCode.PERSONAL_DATA_FORGOTTEN)
    (sub_result,) = subscription_upserts.upsert_subscriptions(deps.uow(), [old_subscription], deps.clock)
    assert sub_result.reason_code is SubscriptionReasonCode.PERSONAL_DATA_FORGOTTEN
    assert copies_in_database(deps.engine, who) == []
    assert orders.get_order(deps.uow(), returned).customer.email == forgotten.pseudonym
    assert orders.get_order(deps.uow(), returned).expected_delivery_date.isoformat() == "2026-03-09"

    # A new order of the same person is a new relationship: stored, and found, as it comes.
    (new,) = store(deps, personal_order(who))
    page = orders.find_orders_by_email(deps.uow(), orders.FindOrdersByEmail(who.email))
    assert [o.order_number for o in page.orders] == [new]
    assert {place.split(".")[0] for place in copies_in_database(deps.engine, who)} <= {
        "orders", "order_documents", "returns", "order_events", "audit_records"}


def test_one_order_alone_can_be_forgotten(deps, customer):
    who, number, returned, _sid = customer
    assert forget(deps, who.email, order_number=number).outcome is ForgetOutcome.REJECTED  # its refund is pending
    result = forget(deps, who.email, order_number=returned)
    assert result.outcome is ForgetOutcome.FORGOTTEN
    assert (result.forgotten.orders, result.forgotten.subscriptions) == (1, 0)
    assert orders.get_order(deps.uow(), returned).customer.email == result.pseudonym
    page = orders.find_orders_by_email(deps.uow(), orders.FindOrdersByEmail(who.email))
    assert [o.order_number for o in page.orders] == [number]
    # Another customer's order, or one already forgotten, is nothing of this customer's.
    other, = store(deps, order_record(unique("OTHER"), "someone.else@example.com"))
    for wrong in (other, returned, "NO-SUCH-ORDER"):
        assert forget(deps, who.email, order_number=wrong).outcome is ForgetOutcome.NOTHING_TO_FORGET
    assert forget(deps, who.email, subscription_id="NO-SUCH-SUB").outcome is ForgetOutcome.NOTHING_TO_FORGET


def test_an_email_nothing_is_held_for(deps):
    result = forget(deps, "nobody.at.all@example.com")
    assert (result.outcome, result.forgotten) == (ForgetOutcome.NOTHING_TO_FORGET, privacy.ForgottenCounts())
    data = export(deps, "nobody.at.all@example.com")
    assert (list(data.orders), list(data.subscriptions), list(data.events)) == ([], [], [])
    assert data.generated_at <= deps.clock() + timedelta(seconds=1)


def test_a_forgotten_subscription_alone(deps):
    who = person()
    ended = personal_subscription(who, Status="EXPIRED", NextOrderDate=None)
    sid, = store_subscriptions(deps, ended)
    result = forget(deps, who.email, subscription_id=sid)
    assert (result.outcome, result.forgotten.subscriptions, result.forgotten.orders) == (ForgetOutcome.FORGOTTEN, 1, 0)
    assert copies_in_database(deps.engine, who) == []
    stored = subscriptions.get_subscription(deps.uow(), sid, deps.clock)
    assert stored.customer.email == result.pseudonym and stored.status.value == "EXPIRED"
    assert stored.shipping_address == Address(country_code="GB")


def test_a_logged_database_error_holds_no_customer_data(deps):
    """An unexpected database error is logged with its traceback. The statement's values are hidden
    by the engine; PostgreSQL's own DETAIL line quotes the failing row, and the log's scrubbing
    takes it out."""
    who = person()
    stream = io.StringIO()
    handler = logs.install_filters(logging.StreamHandler(stream))
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("tests.privacy.database_error")
    logger.addHandler(handler)
    try:
        with deps.engine.begin() as connection:
            connection.execute(insert(orders_table).values(order_number=None, customer_email=who.email,
                                                           customer_last_name=who.last_name))
    except IntegrityError:
        logger.exception("request rq-1: unexpected error in ForgetCustomer")
    finally:
        logger.removeHandler(handler)
    line = stream.getvalue()
    assert "IntegrityError" in line and "parameters hidden" in line
    if deps.engine.dialect.name == "postgresql":  # its error quoted the row, and the log does not
        assert f"DETAIL:  {logs.REDACTED}" in line
    assert copies_in_text(line, who) == []


def stored_answer(deps, request_id):
    with deps.engine.connect() as connection:
        return connection.execute(select(idempotency_records.c.result)
                                  .where(idempotency_records.c.request_id == request_id)).scalar_one()


def test_answers_are_kept_by_their_wire_names_and_earlier_rows_are_brought_to_them(deps, customer):
    """A ForgetCustomer answer is kept under its RequestId as the answer names its parts, and a
    replay reads it back whole: the refused one with what must be settled, the forgotten one with
    its counts. Rows kept by an earlier release (attribute names) are rewritten by migration 0015."""
    who, number, _returned, sid = customer
    refused_id = unique("forget")
    refused = forget(deps, who.email, refused_id)
    assert refused.outcome is ForgetOutcome.REJECTED and len(refused.unsettled) == 2
    kept = stored_answer(deps, refused_id)
    assert kept["Unsettled"] == [
        {"OrderNumber": number, "ReasonCode": "UNSETTLED_REFUND", "Message": refused.unsettled[0].message},
        {"SubscriptionId": sid, "ReasonCode": "ACTIVE_SUBSCRIPTION", "Message": refused.unsettled[1].message}]
    assert kept["Forgotten"] == {"Orders": 0, "Subscriptions": 0, "ChangeFeedEvents": 0, "AuditRecords": 0,
                                 "Notifications": 0, "StoredAnswers": 0}
    assert forget(deps, who.email, refused_id) == refused
    kept_refused = kept

    settle(deps, number, sid, who)
    forgotten_id = unique("forget")
    forgotten = forget(deps, who.email, forgotten_id)
    assert forgotten.outcome is ForgetOutcome.FORGOTTEN
    kept = stored_answer(deps, forgotten_id)
    assert (kept["Pseudonym"], kept["Forgotten"]["Orders"], kept["Unsettled"]) == (forgotten.pseudonym, 2, [])

    migrate.downgrade(deps.engine, "0014_derive_line_state")
    earlier = stored_answer(deps, refused_id)
    assert earlier["Forgotten"]["change_feed_events"] == 0 and earlier["Pseudonym"] is None
    assert earlier["Unsettled"][0] == {"order_number": number, "subscription_id": None,
                                       "reason_code": "UNSETTLED_REFUND", "message": refused.unsettled[0].message}
    migrate.upgrade(deps.engine)

    assert (stored_answer(deps, refused_id), stored_answer(deps, forgotten_id)) == (kept_refused, kept)
    assert forget(deps, who.email, refused_id) == refused
    assert forget(deps, who.email, forgotten_id) == forgotten
