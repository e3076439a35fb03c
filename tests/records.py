"""Order records (the import format) for arranging tests."""

from __future__ import annotations

import copy
import itertools
from datetime import date, datetime, timedelta, timezone
from typing import Any

from soap_orders.bootstrap import Dependencies
from soap_orders.documents.records import order_from_record
from soap_orders.ingest import orders as upserts
from soap_orders.ingest import subscriptions as subscription_upserts

_numbers = itertools.count(1)


#: ``make run``'s demo data: ``soap-orders demo-data --if-empty --orders 200 --seed 1``.
DEMO_ORDERS, DEMO_SEED = 200, 1


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_numbers):05d}"


def order_record(number: str | None = None, email: str = "ann.lee@example.com", **overrides: Any) -> dict[str, Any]:
    """A paid, processing EUR order with two lines: 2 x 10.00 + 1 x 5.50, shipping 4.50 -> 30.00."""
    record: dict[str, Any] = {
        "OrderNumber": number or unique("T"),
        "OrderType": "STANDARD",
        "Channel": "WEB",
        "Status": "PROCESSING",
        "FinancialStatus": "PAID",
        "CreatedAt": "2026-03-01T10:00:00Z",
        "Currency": "EUR",
        "Subtotal": "25.50",
        "ShippingTotal": "4.50",
        "TaxTotal": "0.00",
        "DiscountTotal": "0.00",
        "Total": "30.00",
        "ExpectedShipDate": "2026-03-03",
        "ExpectedDeliveryDate": "2026-03-06",
        "Customer": {"Email": email, "FirstName": "Ann", "LastName": "Lee", "Phone": "+33 1 23 45 67 89"},
        "ShippingAddress": {
            "Name": "Ann Lee", "Line1": "1 Rue de Rivoli", "City": "Paris", "PostalCode": "75001",
            "CountryCode": "FR",
        },
        "Lines": [
            {"LineNumber": 1, "Sku": "MUG-RED", "Name": "Red mug", "Quantity": 2, "UnitPrice": "10.00",
             "ImageUrl": "https://cdn.example.com/mug-red.jpg", "Status": "PROCESSING"},
            {"LineNumber": 2, "Sku": "TEA-001", "Name": "Green tea", "Quantity": 1, "UnitPrice": "5.50",
             "Status": "PROCESSING"},
        ],
    }
    record.update(copy.deepcopy(overrides))
    return record


#: The item element of each list of the order document.
SOAP_WRAPPERS = {"Lines": "Line", "Shipments": "Shipment", "Returns": "Return", "Refunds": "Refund", "Items": "Item",
                 "ReplacementOrderNumbers": "OrderNumber"}


def soap_wrapped(value: Any) -> Any:
    """A record's lists in SOAP's form, as zeep takes them: ``{"Lines": {"Line": [...]}}``; nothing
    is added (what the record leaves out, the SOAP document leaves out)."""
    if not isinstance(value, dict):
        return value
    return {key: {SOAP_WRAPPERS[key]: [soap_wrapped(item) for item in items]} if key in SOAP_WRAPPERS
            else soap_wrapped(items) for key, items in value.items()}


def erp_fields_only(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with only what an ERP knows: no per-line state (Status, quantities), nothing the
    service computes, no empty lists."""
    record = copy.deepcopy(record)
    for name in ("RefundedAmount", "RefundableAmount", "ShippedAt"):
        record.pop(name, None)
    for line in record.get("Lines", ()):
        for name in ("LineTotal", "Status", "QuantityShipped", "QuantityCancelled", "QuantityRefunded",
                     "QuantityReturned", "QuantityReplaced"):
            line.pop(name, None)
    for name in ("Shipments", "Returns", "Refunds"):
        if not record.get(name, True):
            del record[name]
    return record


def shipped(record: dict[str, Any], *, status: str = "SHIPPED") -> dict[str, Any]:
    record = copy.deepcopy(record)
    record["Status"] = status
    for line in record["Lines"]:
        line["Status"] = "SHIPPED"
        line["QuantityShipped"] = line["Quantity"]
    record["Shipments"] = [{
        "ShipmentId": f"SH-{record['OrderNumber']}", "CarrierName": "Royal Mail", "CarrierCode": "royalmail",
        "TrackingNumber": "RM123456789GB", "TrackingUrl": "https://track.example.com/RM123456789GB",
        "Status": "IN_TRANSIT", "ShippedAt": "2026-03-02T08:00:00Z", "ExpectedDeliveryDate": "2026-03-05",
        "Items": [{"Sku": line["Sku"], "Quantity": line["Quantity"]} for line in record["Lines"]],
    }]
    return record


def delivered(record: dict[str, Any], *, at: str = "2026-03-04T12:00:00Z") -> dict[str, Any]:
    """The record shipped in one parcel that arrived ``at``."""
    record = shipped(record, status="DELIVERED")
    for line in record["Lines"]:
        line["Status"] = "DELIVERED"
    record["Shipments"][0].update(Status="DELIVERED", DeliveredAt=at)
    return record


def with_return(record: dict[str, Any], return_id: str, *, status: str = "REQUESTED",
                items: tuple[tuple[int, int], ...] = ((1, 1),), tracking: str | None = None) -> dict[str, Any]:
    """The record with a return of ``items`` (line number, quantity) counted as being returned."""
    record = copy.deepcopy(record)
    lines = {line["LineNumber"]: line for line in record["Lines"]}
    for number, quantity in items:
        lines[number]["QuantityReturned"] = lines[number].get("QuantityReturned", 0) + quantity
    entry: dict[str, Any] = {
        "ReturnId": return_id, "Status": status, "Reason": "SIZE", "CreatedAt": "2026-03-05T09:00:00Z",
        "Items": [{"Sku": lines[n]["Sku"], "Quantity": q, "LineNumber": n} for n, q in items],
    }
    if tracking is not None:
        entry.update(ReturnTrackingNumber=tracking, CarrierCode="royalmail")
    record["Returns"] = [*record.get("Returns", []), entry]
    return record


def store(deps: Dependencies, *records: dict[str, Any]) -> list[str]:
    """Upsert the records; returns their order numbers."""
    upserts.upsert_orders(deps.uow(), [order_from_record(r) for r in records], deps.clock)
    return [r["OrderNumber"] for r in records]


def store_example_orders(deps: Dependencies) -> None:
    """``make run``'s demo orders (200 orders, seed 1): the orders the request examples in
    wsdl/examples/ and the README name, in the state that gives the answers shown there (and on the
    service page). tests/unit/test_examples_match_demo_data.py checks the requests against them."""
    from soap_orders.demo import write_demo_data

    write_demo_data(deps, DEMO_ORDERS, DEMO_SEED, if_empty=True)


def subscription_record(sid: str | None = None, email: str = "ann.lee@example.com", *, today: date | None = None,
                        **overrides: Any) -> dict[str, Any]:
    """An ACTIVE monthly subscription (the ERP's form) charged once a month ago, its next order
    two weeks from ``today`` (the real date by default: a live server uses the real clock)."""
    today = today or datetime.now(timezone.utc).date()
    last = today - timedelta(days=16)
    record: dict[str, Any] = {
        "SubscriptionId": sid or unique("SUB"),
        "Name": "Coffee club",
        "Status": "ACTIVE",
        "CreatedAt": f"{(last - timedelta(days=1)).isoformat()}T09:00:00Z",
        "StartDate": last.isoformat(),
        "Currency": "EUR",
        "Price": "24.00",
        "NextOrderDate": (today + timedelta(days=14)).isoformat(),
        "LastOrderDate": last.isoformat(),
        "Customer": {"Email": email, "FirstName": "Ann", "LastName": "Lee"},
        "ShippingAddress": {"Name": "Ann Lee", "Line1": "1 Rue de Rivoli", "City": "Paris", "PostalCode": "75001",
                            "CountryCode": "FR"},
        "Frequency": {"Interval": "MONTH", "IntervalCount": 1},
        "Items": [{"Sku": "COF-1", "Name": "Coffee beans 500 g", "Quantity": 2, "UnitPrice": "12.00",
                   "ImageUrl": "https://img.example.com/cof-1.jpg"}],
        "Charges": [{"ChargeId": "CH-1", "Amount": "24.00", "ChargedAt": f"{last.isoformat()}T08:00:00Z",
                     "OrderNumber": "SO-1"}],
        "Orders": [{"OrderNumber": "SO-1", "OrderDate": last.isoformat()}],
    }
    record.update(overrides)
    return record


def store_subscriptions(deps: Dependencies, *records: dict[str, Any]) -> list[str]:
    """Upsert subscription records as the ERP would; returns their ids."""
    results = subscription_upserts.upsert_subscriptions(deps.uow(), records, deps.clock)
    assert [r.outcome.value for r in results] == ["CREATED"] * len(records), results
    return [r["SubscriptionId"] for r in records]


def store_example_subscriptions(deps: Dependencies) -> None:
    """``make run``'s demo subscriptions (those of the first demo customers, dated from today), which
    the subscription examples name, one subscription per example so that their order does not
    matter."""
    from soap_orders.demo import generate_records
    from soap_orders.demo.subscriptions import store_demo_subscriptions

    store_demo_subscriptions(deps, DEMO_SEED, generate_records(DEMO_ORDERS, DEMO_SEED))
