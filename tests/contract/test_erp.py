"""The ERP side over real HTTP, SOAP (zeep) and JSON (requests), on SQLite and PostgreSQL: a batch
upsert that merges and never erases, result per document, replay and conflict; and the change
feed read with a cursor, each change once, in order."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest
import requests
import zeep
from click.testing import CliRunner
from lxml import etree

from soap_orders.cli import main
from tests.contract.clients import make_client
from tests.records import (
    delivered,
    erp_fields_only,
    order_record,
    shipped,
    soap_wrapped,
    subscription_record,
    unique,
    with_return,
)
from tests.server import add_client

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def erp_credentials(server) -> tuple[str, str]:
    name = unique("erp")
    return name, add_client(server.database_url, name, ("erp",))


@pytest.fixture(scope="module")
def erp(server, erp_credentials) -> zeep.Client:
    return make_client(server, "basic", erp_credentials)


@pytest.fixture(scope="module")
def actor_credentials(server) -> tuple[str, str]:
    """A client of the consumer's kind: it reads and acts, but is not the ERP."""
    name = unique("actor")
    return name, add_client(server.database_url, name, ("orders:read", "orders:act"))


@pytest.fixture(scope="module")
def actor(server, actor_credentials) -> zeep.Client:
    return make_client(server, "basic", actor_credentials)


def post_json(server, credentials, operation: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{server.base_url}/json/{operation}", json=body, auth=credentials, timeout=20)


def soap_orders(erp: zeep.Client, *records: dict[str, Any]) -> Any:
    """Order records as an ERP sends them in UpsertOrders: each an OrderInput of the record's own
    fields, nothing added."""
    order_type = erp.get_type("{urn:soap-orders:orders:v1}OrderInput")
    return {"Order": [order_type(**soap_wrapped(record)) for record in records]}


def test_a_batch_creates_updates_and_refuses_each_document_on_its_own(server, erp_credentials):
    good, other = order_record(unique("ERP")), order_record(unique("ERP"))
    bad = order_record(unique("ERP"), Total="99.99")  # does not add up
    first = post_json(server, erp_credentials, "UpsertOrders", {"RequestId": unique("rq"), "Orders": [good, bad, other]})
    assert first.status_code == 200, first.text
    answer = first.json()
    assert [(r["Outcome"], r["ReasonCode"]) for r in answer["Results"]] == [
        ("CREATED", "NONE"), ("REJECTED", "INVALID_DOCUMENT"), ("CREATED", "NONE")]
    assert "99.99" not in answer["Results"][1]["Message"]
    assert (answer["CreatedCount"], answer["RejectedCount"]) == (2, 1)
    changed = copy.deepcopy(good)
    changed["Customer"]["FirstName"] = "Anna"
    second = post_json(server, erp_credentials, "UpsertOrders", {"RequestId": unique("rq"), "Orders": [changed, other]})
    assert [r["Outcome"] for r in second.json()["Results"]] == ["UPDATED", "UNCHANGED"]


def test_an_upsert_never_erases_a_refund_made_through_the_service(server, erp, actor, erp_credentials):
    record = order_record(unique("ERP"))
    body = {"RequestId": unique("rq"), "Orders": [record]}
    assert post_json(server, erp_credentials, "UpsertOrders", body).json()["Results"][0]["Outcome"] == "CREATED"
    refunded = actor.service.IssueRefund(OrderNumber=record["OrderNumber"], RequestId=unique("rq"), Reason="DAMAGED")
    assert refunded.Outcome == "REFUNDED"
    again = erp.service.UpsertOrders(RequestId=unique("rq"), Orders=soap_orders(erp, record))
    assert again.Results.Result[0].Outcome in ("UPDATED", "UNCHANGED")
    second = actor.service.IssueRefund(OrderNumber=record["OrderNumber"], RequestId=unique("rq"), Reason="DAMAGED")
    assert (second.Outcome, second.ReasonCode) == ("REJECTED", "NOTHING_REFUNDABLE")
    lower = order_record(record["OrderNumber"], Total="10.00", Subtotal="5.50",
                         Lines=[record["Lines"][1]])  # drops the refunded line
    refused = post_json(server, erp_credentials, "UpsertOrders", {"RequestId": unique("rq"), "Orders": [lower]})
    assert refused.json()["Results"][0]["Outcome"] == "REJECTED"
    assert actor.service.GetOrder(OrderNumber=record["OrderNumber"]).RefundedAmount == Decimal("30.00")


@pytest.mark.parametrize("settled", ["REJECTED", "REFUNDED"])
def test_an_erp_return_settled_through_the_service_survives_every_stale_copy(server, erp, actor, erp_credentials,
                                                                               settled, tmp_path):
    """The ERP reported RT-E1 as RECEIVED; UpdateReturn settled it; the ERP's earlier copy comes back
    over SOAP, over JSON with an unrelated change and through `soap-orders import`: the return keeps
    the service's outcome and no second refund can be issued for it."""
    number = unique("ERP")
    record = with_return(delivered(order_record(number)), "RT-E1", status="RECEIVED")
    created = post_json(server, erp_credentials, "UpsertOrders", {"RequestId": unique("rq"), "Orders": [record]})
    assert created.json()["Results"][0]["Outcome"] == "CREATED", created.text
    done = erp.service.UpdateReturn(OrderNumber=number, RequestId=unique("rq"), ReturnId="RT-E1", Status=settled)
    assert (done.Outcome, done.ReasonCode) == ("RETURN_UPDATED", "NONE")
    refunded = actor.service.GetOrder(OrderNumber=number).RefundedAmount
    assert refunded == (Decimal("10.00") if settled == "REFUNDED" else Decimal("0.00"))

    over_soap = erp.service.UpsertOrders(RequestId=unique("rq"), Orders=soap_orders(erp, record))
    assert over_soap.Results.Result[0].Outcome in ("UPDATED", "UNCHANGED")
    changed = copy.deepcopy(record)
    changed["ExpectedDeliveryDate"] = "2026-03-07"
    over_json = post_json(server, erp_credentials, "UpsertOrders", {"RequestId": unique("rq"), "Orders": [changed]})
    assert over_json.json()["Results"][0]["Outcome"] == "UPDATED", over_json.text
    feed = tmp_path / "erp.jsonl"
    feed.write_text(json.dumps(record) + "\n")
    imported = CliRunner().invoke(main, ["import", str(feed)], env={"SOAP_ORDERS_DATABASE_URL": server.database_url})
    assert imported.exit_code == 0, imported.output

    order = actor.service.GetOrder(OrderNumber=number)
    (kept,) = order.Returns.Return
    assert (kept.ReturnId, kept.Status) == ("RT-E1", settled)
    again = erp.service.UpdateReturn(OrderNumber=number, RequestId=unique("rq"), ReturnId="RT-E1", Status="REFUNDED")
    assert (again.Outcome, again.ReasonCode) == ("REJECTED", "INVALID_TRANSITION")
    assert order.RefundedAmount == refunded and order.ExpectedDeliveryDate.isoformat() == "2026-03-06"


COMPUTED = {"RefundedAmount", "RefundableAmount", "LineTotal", "QuantityShipped", "QuantityCancelled",
            "QuantityRefunded", "QuantityReturned", "Returns", "Refunds"}


def test_upsert_orders_needs_only_the_erps_own_fields_over_soap_and_json(server, erp, erp_credentials):
    over_soap = erp_fields_only(order_record(unique("ERP")))
    parcel = erp_fields_only(shipped(order_record(unique("ERP"))))
    over_json = erp_fields_only(order_record(unique("ERP")))
    orders = soap_orders(erp, over_soap, parcel)
    message = erp.create_message(erp.service, "UpsertOrders", RequestId=unique("rq"), Orders=orders)
    sent = {etree.QName(node).localname for node in message.iter() if isinstance(node.tag, str)}
    assert not sent & COMPUTED and "Shipments" in sent
    assert all(line.find("{urn:soap-orders:orders:v1}Status") is None
               for line in message.iter("{urn:soap-orders:orders:v1}Line"))
    answer = erp.service.UpsertOrders(RequestId=unique("rq"), Orders=orders)
    # The parcel's record says nothing of its lines' state: what follows from its parcel is stored, and said.
    assert [(r.Outcome, r.ReasonCode) for r in answer.Results.Result] == [("CREATED", "NONE"),
                                                                          ("CREATED", "STATE_DERIVED")]
    by_json = post_json(server, erp_credentials, "UpsertOrders", {"RequestId": unique("rq"), "Orders": [over_json]})
    assert by_json.json()["Results"][0]["Outcome"] == "CREATED", by_json.text
    for record in (over_soap, over_json):
        order = erp.service.GetOrder(OrderNumber=record["OrderNumber"])
        assert (order.RefundedAmount, order.RefundableAmount) == (Decimal("0.00"), Decimal("30.00"))
        assert [(line.LineTotal, line.Status, line.QuantityShipped) for line in order.Lines.Line] == [
            (Decimal("20.00"), "PENDING", 0), (Decimal("5.50"), "PENDING", 0)]
    shipped_order = erp.service.GetOrder(OrderNumber=parcel["OrderNumber"])
    [stored] = shipped_order.Shipments.Shipment
    assert [(item.Sku, item.Quantity) for item in stored.Items.Item] == [("MUG-RED", 2), ("TEA-001", 1)]
    assert shipped_order.Status == "SHIPPED"
    assert [(line.Status, line.QuantityShipped) for line in shipped_order.Lines.Line] == [("SHIPPED", 2), ("SHIPPED", 1)]


def test_an_order_sent_back_as_get_order_answers_it_is_still_accepted(server, erp, erp_credentials):
    record = order_record(unique("ERP"))
    post_json(server, erp_credentials, "UpsertOrders", {"RequestId": unique("rq"), "Orders": [record]})
    full = post_json(server, erp_credentials, "GetOrder", {"OrderNumber": record["OrderNumber"]}).json()["Order"]
    assert COMPUTED - {"Returns", "Refunds"} <= set(full) | set(full["Lines"][0])
    again = erp.service.UpsertOrders(RequestId=unique("rq"), Orders=soap_orders(erp, full))
    assert [(r.Outcome, r.ReasonCode) for r in again.Results.Result] == [("UNCHANGED", "NONE")]


def test_both_batches_answer_in_one_shape_and_one_vocabulary(server, erp, erp_credentials):
    orders = post_json(server, erp_credentials, "UpsertOrders", {"RequestId": unique("rq"), "Orders": [
        order_record(unique("ERP")), order_record(unique("ERP"), Currency="EURO")]}).json()
    subscriptions = post_json(server, erp_credentials, "UpsertSubscriptions", {"RequestId": unique("rq"), "Subscriptions": [
        subscription_record(unique("SUB")), subscription_record(unique("SUB"), Status="CANCELLED", NextOrderDate=None)]}).json()
    for body, identifier, field in ((orders, "OrderNumber", "Currency"), (subscriptions, "SubscriptionId", "CancelledAt")):
        assert list(body) == ["Results", "CreatedCount", "UpdatedCount", "UnchangedCount", "RejectedCount"]
        created, refused = body["Results"]
        assert list(created) == ["Index", identifier, "Outcome", "ReasonCode", "Message"]
        assert list(refused) == ["Index", identifier, "Outcome", "ReasonCode", "Message", "Field"]
        assert [(r["Index"], r["Outcome"], r["ReasonCode"]) for r in body["Results"]] == [
            (1, "CREATED", "NONE"), (2, "REJECTED", "INVALID_DOCUMENT")]
        assert (refused["Field"], body["CreatedCount"], body["RejectedCount"]) == (field, 1, 1)
    over_soap = erp.service.UpsertOrders(RequestId=unique("rq"), Orders=soap_orders(
        erp, order_record(unique("ERP")), order_record(unique("ERP"), Total="99.99")))
    assert [(r.Index, r.Outcome, r.ReasonCode) for r in over_soap.Results.Result] == [
        (1, "CREATED", "NONE"), (2, "REJECTED", "INVALID_DOCUMENT")]
    assert (over_soap.CreatedCount, over_soap.UpdatedCount, over_soap.UnchangedCount, over_soap.RejectedCount) == (
        1, 0, 0, 1)


def test_the_same_request_id_replays_and_other_documents_conflict(server, erp_credentials):
    request_id = unique("rq")
    record = order_record(unique("ERP"))
    first = post_json(server, erp_credentials, "UpsertOrders", {"RequestId": request_id, "Orders": [record]})
    replay = post_json(server, erp_credentials, "UpsertOrders", {"RequestId": request_id, "Orders": [record]})
    assert replay.json() == first.json()
    other = post_json(server, erp_credentials, "UpsertOrders",
                      {"RequestId": request_id, "Orders": [order_record(unique("ERP"))]})
    assert other.status_code == 409 and other.json()["ErrorCode"] == "IDEMPOTENCY_CONFLICT"


def test_more_than_a_hundred_documents_or_none_is_a_validation_error(server, erp_credentials):
    for orders in ([], [order_record(f"B-{i}") for i in range(101)]):
        answer = post_json(server, erp_credentials, "UpsertOrders", {"RequestId": unique("rq"), "Orders": orders})
        assert answer.status_code == 400 and answer.json()["ErrorCode"] == "VALIDATION_ERROR"


def test_erp_operations_need_the_erp_scope(server, actor, actor_credentials):
    fault = pytest.raises(zeep.exceptions.Fault, actor.service.GetOrderEvents)
    assert fault.value.code.endswith("Client.Forbidden")
    answer = post_json(server, actor_credentials, "UpsertOrders", {"RequestId": "x", "Orders": [order_record()]})
    assert answer.status_code == 403


def test_the_change_feed_is_read_with_a_cursor_each_change_once_in_order(server, erp, actor, erp_credentials,
                                                                        actor_credentials):
    start = erp.service.GetOrderEvents(AfterEventId=0, MaxEvents=1000)
    cursor = start.LastEventId
    while start.HasMore:
        start = erp.service.GetOrderEvents(AfterEventId=cursor, MaxEvents=1000)
        cursor = start.LastEventId
    record = order_record(unique("FEED"))
    post_json(server, erp_credentials, "UpsertOrders", {"RequestId": unique("rq"), "Orders": [record]})
    refund_id = unique("rq")
    actor.service.IssueRefund(OrderNumber=record["OrderNumber"], RequestId=refund_id, Reason="DAMAGED", Amount=Decimal("5"))
    actor.service.CancelOrder(OrderNumber=record["OrderNumber"], RequestId=unique("rq"), Reason="CUSTOMER")
    seen = []
    while True:
        page = erp.service.GetOrderEvents(AfterEventId=cursor, MaxEvents=2)
        events = page.Events.Event if page.Events else []
        seen += [e for e in events if e.OrderNumber == record["OrderNumber"]]
        assert all(e.EventId > cursor for e in events)
        cursor = page.LastEventId
        if not page.HasMore:
            break
    assert [e.Type for e in seen] == ["OrderUpserted", "RefundIssued", "OrderCancelled"]
    refund = seen[1]
    assert (refund.RequestId, refund.Client) == (refund_id, actor_credentials[0])
    details = {d.Name: d.Value for d in refund.Details.Detail}
    assert details["Amount"] == "5.00" and details["Currency"] == "EUR"
    assert seen[0].Client == erp_credentials[0]
    as_json = post_json(server, erp_credentials, "GetOrderEvents", {"AfterEventId": seen[0].EventId - 1, "MaxEvents": 3})
    assert [e["Type"] for e in as_json.json()["Events"]][:1] == ["OrderUpserted"]
    empty = erp.service.GetOrderEvents(AfterEventId=cursor)
    assert (empty.LastEventId, empty.HasMore) == (cursor, False)


def test_an_erp_client_reads_back_the_order_and_subscription_it_feeds(server, erp, actor, erp_credentials):
    record = order_record(unique("ERP"))
    post_json(server, erp_credentials, "UpsertOrders", {"RequestId": unique("rq"), "Orders": [record]})
    actor.service.IssueRefund(OrderNumber=record["OrderNumber"], RequestId=unique("rq"), Reason="DAMAGED",
                              Amount=Decimal("5"))
    read = erp.service.GetOrder(OrderNumber=record["OrderNumber"])
    assert (read.OrderNumber, read.RefundedAmount) == (record["OrderNumber"], Decimal("5.00"))
    assert [r.Amount for r in read.Refunds.Refund] == [Decimal("5.00")]
    as_json = post_json(server, erp_credentials, "GetOrder", {"OrderNumber": record["OrderNumber"]})
    assert as_json.status_code == 200 and as_json.json()["Order"]["RefundedAmount"] == "5.00"
    subscription = subscription_record(unique("SUB"))
    fed = post_json(server, erp_credentials, "UpsertSubscriptions",
                    {"RequestId": unique("rq"), "Subscriptions": [subscription]})
    assert fed.status_code == 200, fed.text
    got = erp.service.GetSubscription(SubscriptionId=subscription["SubscriptionId"])
    assert (got.SubscriptionId, got.Price) == (subscription["SubscriptionId"], Decimal("24.00"))
    got_json = post_json(server, erp_credentials, "GetSubscription", {"SubscriptionId": subscription["SubscriptionId"]})
    assert got_json.json()["Subscription"]["Name"] == subscription["Name"]


def test_an_erp_client_does_not_search_by_customer(server, erp, erp_credentials):
    fault = pytest.raises(zeep.exceptions.Fault, erp.service.FindOrdersByEmail, Email="ann.lee@example.com")
    assert fault.value.code.endswith("Client.Forbidden")
    for operation, body in (("FindSubscriptionsByEmail", {"Email": "ann.lee@example.com"}),
                            ("FindOrdersByTrackingNumber", {"TrackingNumber": "1Z999"})):
        assert post_json(server, erp_credentials, operation, body).status_code == 403


def test_inconsistent_documents_are_refused_by_field_and_rule_over_soap_and_json(server, erp, erp_credentials):
    """A parcel of a SKU on no line, a DELIVERED order with no parcel, CountryCode UK: each refused on
    its own, named by its field and reason code, nothing stored; the good one beside them is created."""
    good = erp_fields_only(shipped(order_record(unique("ERP"))))
    stray = erp_fields_only(shipped(order_record(unique("ERP"))))
    stray["Shipments"][0]["Items"][0]["Sku"] = "NOT-ON-ORDER"
    no_parcel = erp_fields_only(order_record(unique("ERP"), Status="DELIVERED"))
    uk = erp_fields_only(order_record(unique("ERP")))
    uk["ShippingAddress"]["CountryCode"] = "UK"
    answer = erp.service.UpsertOrders(RequestId=unique("rq"), Orders=soap_orders(erp, good, stray, no_parcel, uk))
    assert [(r.Outcome, r.ReasonCode, r.Field) for r in answer.Results.Result] == [
        ("CREATED", "STATE_DERIVED", "Lines[1].QuantityShipped"),
        ("REJECTED", "UNKNOWN_SKU", "Shipments[1].Items[1].Sku"),
        ("REJECTED", "AHEAD_OF_PARCELS", "Status"),
        ("REJECTED", "INVALID_COUNTRY", "ShippingAddress.CountryCode"),
    ]
    assert "NOT-ON-ORDER" not in answer.Results.Result[1].Message and "GB" in answer.Results.Result[3].Message
    by_json = post_json(server, erp_credentials, "UpsertOrders", {"RequestId": unique("rq"), "Orders": [no_parcel]})
    assert [(r["Outcome"], r["ReasonCode"]) for r in by_json.json()["Results"]] == [("REJECTED", "AHEAD_OF_PARCELS")]
    missing = post_json(server, erp_credentials, "GetOrder", {"OrderNumber": no_parcel["OrderNumber"]})
    assert missing.status_code == 404, missing.text


def test_an_update_under_another_orders_number_is_refused_unless_the_erp_means_it(server, erp, erp_credentials):
    stored = order_record(unique("ERP"))
    post_json(server, erp_credentials, "UpsertOrders", {"RequestId": unique("rq"), "Orders": [stored]})
    other = order_record(stored["OrderNumber"], email="bo.brown@example.com", Currency="GBP",
                         Customer={"Email": "bo.brown@example.com", "FirstName": "Bo", "LastName": "Brown"})
    for line in other["Lines"]:
        line["Sku"] = "OTHER-" + line["Sku"]

    refused = erp.service.UpsertOrders(RequestId=unique("rq"), Orders=soap_orders(erp, erp_fields_only(other)))
    assert [(r.Outcome, r.ReasonCode) for r in refused.Results.Result] == [("REJECTED", "IDENTITY_CHANGED")]
    kept = erp.service.GetOrder(OrderNumber=stored["OrderNumber"])
    assert (kept.Currency, kept.Customer.Email) == ("EUR", "ann.lee@example.com")

    meant = erp.service.UpsertOrders(RequestId=unique("rq"),
                                     Orders=soap_orders(erp, {**erp_fields_only(other), "ReplaceIdentity": True}))
    assert [r.Outcome for r in meant.Results.Result] == ["UPDATED"]
    now = post_json(server, erp_credentials, "GetOrder", {"OrderNumber": stored["OrderNumber"]}).json()["Order"]
    assert (now["Currency"], now["Customer"]["Email"]) == ("GBP", "bo.brown@example.com")
    assert "ReplaceIdentity" not in now
