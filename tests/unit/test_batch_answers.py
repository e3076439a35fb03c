"""UpsertOrders and UpsertSubscriptions answer in one shape and one vocabulary: the same elements
(only the id a document claims differs), the same Outcome and ReasonCode types, reason codes of
one side kept; and results kept in 1.3's form (``Result``, ``INVALID_RECORD``, no ``Index``) still
replay, in today's form."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from soap_orders.domain.upserts import UpsertOutcome, UpsertReasonCode
from soap_orders.ingest.orders import _upsert_report_from_record
from soap_orders.ingest.subscriptions import _upsert_result

ROOT = Path(__file__).resolve().parents[2]
XS = "{http://www.w3.org/2001/XMLSchema}"


def _sequence(schema: etree._Element, type_name: str) -> list[tuple[str, str | None]]:
    node = schema.find(f"{XS}complexType[@name='{type_name}']/{XS}sequence")
    assert node is not None, type_name
    return [(element.get("name"), element.get("type")) for element in node.iterfind(f"{XS}element")]


def test_the_wsdl_answers_both_batches_alike():
    schema = etree.parse(str(ROOT / "wsdl" / "orders.wsdl")).find(
        f".//{XS}schema[@targetNamespace='urn:soap-orders:orders:v1']")
    orders, subscriptions = _sequence(schema, "UpsertResult"), _sequence(schema, "SubscriptionUpsertResult")
    assert [name for name, _ in orders] == ["Index", "OrderNumber", "Outcome", "ReasonCode", "Message", "Field"]
    assert [name for name, _ in subscriptions] == ["Index", "SubscriptionId", "Outcome", "ReasonCode", "Message", "Field"]
    assert [kind for name, kind in orders if name not in ("OrderNumber",)] == [
        kind for name, kind in subscriptions if name not in ("SubscriptionId",)]
    assert dict(orders)["ReasonCode"] == "tns:UpsertReasonCode"
    counts = ["CreatedCount", "UpdatedCount", "UnchangedCount", "RejectedCount"]
    assert [n for n, _ in _sequence(schema, "UpsertOrdersResponse")] == ["Results", *counts]
    assert [n for n, _ in _sequence(schema, "UpsertSubscriptionsResponse")] == ["Results", *counts]
    assert schema.find(f"{XS}simpleType[@name='SubscriptionUpsertReasonCode']") is None
    codes = {e.get("value") for e in schema.iterfind(f"{XS}simpleType[@name='UpsertReasonCode']//{XS}enumeration")}
    assert codes == {code.value for code in UpsertReasonCode}
    assert {"INVALID_DOCUMENT", "DUPLICATE_IN_BATCH", "CONTRADICTS_SERVICE", "LINE_REFUNDED",
            "PERSONAL_DATA_FORGOTTEN"} <= codes and "INVALID_RECORD" not in codes


def test_a_subscription_result_kept_in_the_earlier_form_replays_in_todays():
    refused = _upsert_result({"Index": 2, "SubscriptionId": "SUB-1", "Result": "REJECTED",
                              "ReasonCode": "INVALID_RECORD", "Message": "Price: must be a decimal number"})
    assert (refused.index, refused.outcome, refused.reason_code) == (2, UpsertOutcome.REJECTED,
                                                                      UpsertReasonCode.INVALID_DOCUMENT)
    created = _upsert_result({"Index": 1, "SubscriptionId": "SUB-2", "Result": "CREATED", "ReasonCode": "NONE"})
    assert (created.outcome, created.message) == (UpsertOutcome.CREATED, "The subscription was created.")


def test_an_order_batch_kept_without_indexes_replays_with_them():
    report = _upsert_report_from_record({"Results": [
        {"OrderNumber": "A-1", "Outcome": "CREATED", "ReasonCode": "NONE", "Message": "The order was created."},
        {"OrderNumber": None, "Outcome": "REJECTED", "ReasonCode": "INVALID_DOCUMENT", "Message": "Total: ...",
         "Field": "Total"},
    ]})
    assert [(r.index, r.order_number, r.outcome) for r in report.results] == [
        (1, "A-1", UpsertOutcome.CREATED), (2, None, UpsertOutcome.REJECTED)]
