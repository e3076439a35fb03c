"""The demo data generator: reproducible, valid, and as varied as a real shop's orders."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from soap_orders.demo import ANCHOR, generate_records
from soap_orders.documents.records import order_from_record
from soap_orders.domain.orders import FinancialStatus, OrderStatus

SEEDS = (1, 2, 3)
AMOUNT_FIELDS = ("Subtotal", "ShippingTotal", "TaxTotal", "DiscountTotal", "Total")


@pytest.fixture(scope="module", params=SEEDS)
def records(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    """200 orders of one seed: enough for every status to appear."""
    return list(generate_records(200, request.param))


def _refunded(record: dict[str, Any]) -> Decimal:
    return sum((Decimal(r["Amount"]) for r in record["Refunds"] if r["Status"] != "FAILED"), Decimal(0))


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_same_seed_gives_identical_records() -> None:
    assert list(generate_records(60, 7)) == list(generate_records(60, 7))


def test_different_seeds_give_different_records() -> None:
    assert list(generate_records(60, 7)) != list(generate_records(60, 8))


@pytest.mark.parametrize("count", [1, 2, 7, 45, 200])
@pytest.mark.parametrize("seed", [0, 1, 42, 2026])
def test_every_record_is_a_valid_order(count: int, seed: int) -> None:
    generated = list(generate_records(count, seed))
    assert len(generated) == count
    for record in generated:
        order_from_record(record)


def test_order_numbers_are_unique_and_sequential(records: list[dict[str, Any]]) -> None:
    assert [r["OrderNumber"] for r in records] == [f"SO-{100_001 + i}" for i in range(len(records))]


def test_order_numbers_follow_creation_time(records: list[dict[str, Any]]) -> None:
    created = [_time(r["CreatedAt"]) for r in records]
    assert created == sorted(created)
    assert (ANCHOR - created[0]).days > 90


def test_every_status_and_financial_status_appears(records: list[dict[str, Any]]) -> None:
    assert {r["Status"] for r in records} == {s.value for s in OrderStatus}
    assert {r["FinancialStatus"] for r in records} == {s.value for s in FinancialStatus}


def test_order_types_and_channels_vary(records: list[dict[str, Any]]) -> None:
    assert len({r["OrderType"] for r in records}) >= 4
    assert len({r["Channel"] for r in records}) >= 4


def test_customers_place_several_orders_each(records: list[dict[str, Any]]) -> None:
    per_email = Counter(r["Customer"]["Email"].lower() for r in records)
    assert 2.2 <= len(records) / len(per_email) <= 4
    assert max(per_email.values()) >= 4
    for email in per_email:
        assert re.fullmatch(r"[a-z]+\.[a-z]+\d*@example\.com", email)


def test_some_emails_are_written_in_mixed_case(records: list[dict[str, Any]]) -> None:
    emails = [r["Customer"]["Email"] for r in records]
    assert any(email != email.lower() for email in emails)


def test_one_customer_keeps_one_name(records: list[dict[str, Any]]) -> None:
    names: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for r in records:
        customer = r["Customer"]
        names[customer["Email"].lower()].add((customer["FirstName"], customer["LastName"]))
    assert all(len(found) == 1 for found in names.values())


def test_currency_matches_the_country(records: list[dict[str, Any]]) -> None:
    expected = {"GB": "GBP", "US": "USD", "DE": "EUR", "FR": "EUR", "NL": "EUR", "IE": "EUR", "JP": "JPY"}
    for r in records:
        assert expected[r["ShippingAddress"]["CountryCode"]] == r["Currency"]
    assert {"GBP", "USD", "EUR", "JPY"} <= {r["Currency"] for r in records}


def test_jpy_amounts_have_no_decimals(records: list[dict[str, Any]]) -> None:
    jpy = [r for r in records if r["Currency"] == "JPY"]
    assert jpy
    for r in jpy:
        amounts = [r[name] for name in AMOUNT_FIELDS]
        amounts += [line["UnitPrice"] for line in r["Lines"]] + [refund["Amount"] for refund in r["Refunds"]]
        assert all(re.fullmatch(r"\d+", amount) for amount in amounts), r["OrderNumber"]


def test_other_amounts_have_two_decimals(records: list[dict[str, Any]]) -> None:
    for r in records:
        if r["Currency"] != "JPY":
            assert all(re.fullmatch(r"\d+\.\d\d", r[name]) for name in AMOUNT_FIELDS)


def test_totals_add_up(records: list[dict[str, Any]]) -> None:
    for r in records:
        lines = sum((Decimal(line["UnitPrice"]) * line["Quantity"] for line in r["Lines"]), Decimal(0))
        assert lines == Decimal(r["Subtotal"])
        total = Decimal(r["Subtotal"]) + Decimal(r["ShippingTotal"]) + Decimal(r["TaxTotal"]) - Decimal(
            r["DiscountTotal"]
        )
        assert total == Decimal(r["Total"])
        assert 1 <= len(r["Lines"]) <= 5


def test_lines_have_products_and_images(records: list[dict[str, Any]]) -> None:
    for r in records:
        skus = [line["Sku"] for line in r["Lines"]]
        assert len(set(skus)) == len(skus)
        for line in r["Lines"]:
            assert line["ImageUrl"].startswith("https://cdn.example.com/")
            assert line["Name"]


def _shipped_quantities(record: dict[str, Any]) -> Counter[str]:
    shipped: Counter[str] = Counter()
    for shipment in record["Shipments"]:  # every parcel carries its items, from its label on
        for item in shipment["Items"]:
            shipped[item["Sku"]] += item["Quantity"]
    return shipped


def test_shipped_and_delivered_orders_ship_every_line(records: list[dict[str, Any]]) -> None:
    for r in records:
        if r["Status"] not in ("SHIPPED", "DELIVERED"):
            continue
        assert _shipped_quantities(r) == Counter({line["Sku"]: line["Quantity"] for line in r["Lines"]})
        for line in r["Lines"]:
            assert line["QuantityShipped"] == line["Quantity"]
        for shipment in r["Shipments"]:
            assert shipment["CarrierName"] and shipment["CarrierCode"] and shipment["TrackingNumber"]
            assert shipment["TrackingNumber"] in shipment["TrackingUrl"]
            if shipment["Status"] == "LABEL_CREATED":  # packed, waiting for the carrier: not left yet
                assert "ShippedAt" not in shipment and r["Status"] == "SHIPPED"
                continue
            assert _time(shipment["ShippedAt"]) >= _time(r["CreatedAt"])
            if r["Status"] == "DELIVERED":
                assert shipment["Status"] == "DELIVERED"
                assert _time(shipment["DeliveredAt"]) > _time(shipment["ShippedAt"])
        if r["Status"] == "SHIPPED":
            assert any(s["Status"] != "DELIVERED" for s in r["Shipments"])


def test_partially_shipped_orders_have_split_shipments(records: list[dict[str, Any]]) -> None:
    partial = [r for r in records if r["Status"] == "PARTIALLY_SHIPPED"]
    assert partial
    for r in partial:
        shipped = _shipped_quantities(r)
        assert 0 < len(shipped) < len(r["Lines"])
        for line in r["Lines"]:
            assert line["QuantityShipped"] == shipped.get(line["Sku"], 0)
            assert (line["Status"] in ("SHIPPED", "DELIVERED")) == (line["QuantityShipped"] > 0)
        assert r["ExpectedShipDate"]


def test_some_orders_ship_in_several_parcels() -> None:
    generated = list(generate_records(200, 1))
    assert any(len(r["Shipments"]) > 1 for r in generated)


def test_parcels_in_trouble_appear() -> None:
    statuses = {s["Status"] for seed in SEEDS for r in generate_records(200, seed) for s in r["Shipments"]}
    assert {"IN_TRANSIT", "DELAYED", "OUT_FOR_DELIVERY", "EXCEPTION"} <= statuses


def test_open_orders_have_expected_dates(records: list[dict[str, Any]]) -> None:
    for r in records:
        if r["Status"] in ("PENDING", "PROCESSING", "ON_HOLD", "PARTIALLY_SHIPPED"):
            assert r["ExpectedShipDate"] <= r["ExpectedDeliveryDate"]
        if r["Status"] == "SHIPPED":
            assert r["ExpectedDeliveryDate"]


def test_returns_on_delivered_orders(records: list[dict[str, Any]]) -> None:
    with_returns = [r for r in records if r["Returns"]]
    assert with_returns
    for r in with_returns:
        assert r["Status"] == "DELIVERED"
        for ret in r["Returns"]:
            assert ret["Items"] and ret["WarehouseStatus"] and ret["RefundStatus"]
            if ret["Status"] != "REQUESTED":
                assert ret["ReturnTrackingNumber"] and ret["LabelUrl"].startswith("https://")
    assert any(ret.get("ReturnTrackingNumber") for r in with_returns for ret in r["Returns"])


def test_refunds_agree_with_financial_status(records: list[dict[str, Any]]) -> None:
    seen = Counter(r["FinancialStatus"] for r in records if r["Refunds"])
    assert seen["PARTIALLY_REFUNDED"] and seen["REFUNDED"]
    for r in records:
        refunded, total = _refunded(r), Decimal(r["Total"])
        if r["FinancialStatus"] == "PARTIALLY_REFUNDED":
            assert 0 < refunded < total
        elif r["FinancialStatus"] == "REFUNDED":
            assert refunded == total
        else:
            assert not r["Refunds"]


def test_refund_ids_are_unique_across_orders(records: list[dict[str, Any]]) -> None:
    ids = [refund["RefundId"] for r in records for refund in r["Refunds"]]
    assert len(ids) == len(set(ids))


def test_cancelled_orders(records: list[dict[str, Any]]) -> None:
    cancelled = [r for r in records if r["Status"] == "CANCELLED"]
    assert cancelled
    for r in cancelled:
        assert r["CancelledAt"] and r["CancelReason"]
        assert not r["Shipments"]
        for line in r["Lines"]:
            assert line["Status"] == "CANCELLED"
            assert line["QuantityCancelled"] == line["Quantity"]
        assert r["FinancialStatus"] in ("VOIDED", "REFUNDED")
        if r["FinancialStatus"] == "REFUNDED":
            assert _refunded(r) == Decimal(r["Total"])


def test_every_moment_is_before_the_anchor(records: list[dict[str, Any]]) -> None:
    for r in records:
        moments = [r["CreatedAt"], r["UpdatedAt"], r.get("CancelledAt")]
        moments += [s.get(k) for s in r["Shipments"] for k in ("ShippedAt", "DeliveredAt")]
        moments += [x["CreatedAt"] for x in r["Returns"] + r["Refunds"]]
        for moment in filter(None, moments):
            assert _time(r["CreatedAt"]) <= _time(moment) < ANCHOR
