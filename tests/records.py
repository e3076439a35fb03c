"""Order records (the import format) for arranging tests."""

from __future__ import annotations

import copy
import itertools
from typing import Any

from soap_orders.bootstrap import Dependencies
from soap_orders.documents.records import order_from_record
from soap_orders.service import orders as use_cases

_numbers = itertools.count(1)


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
    use_cases.upsert_orders(deps.uow(), [order_from_record(r) for r in records], deps.clock)
    return [r["OrderNumber"] for r in records]


def store_example_orders(deps: Dependencies) -> None:
    """Orders with the numbers and emails of ``make run``'s demo data (200 orders, seed 1), so the
    request examples work there too (tests/unit/test_examples_match_demo_data.py checks that)."""
    louis, olivia = "louis.novak@example.com", "olivia.murphy@example.com"

    def example(number: str, email: str, **overrides: Any) -> dict[str, Any]:
        first, last = (part.capitalize() for part in email.split("@")[0].split("."))
        record = order_record(number, email, **overrides)
        record["Customer"].update(FirstName=first, LastName=last)
        record["ShippingAddress"]["Name"] = f"{first} {last}"
        return record

    delivered = shipped(example("SO-100003", olivia, CreatedAt="2026-02-20T16:45:00Z"), status="DELIVERED")
    delivered["Shipments"][0].update(Status="DELIVERED", DeliveredAt="2026-02-23T11:02:00Z")
    delivered["Lines"][0].update(Sku="RZB", Name="Safety Razor Blades (20 Pack)")
    delivered["Shipments"][0]["Items"][0]["Sku"] = "RZB"
    store(
        deps,
        shipped(example("SO-100137", louis, CreatedAt="2026-03-01T10:00:00Z")),
        example("SO-100164", "emily.lefebvre@example.com", CreatedAt="2026-03-05T09:30:00Z"),
        delivered,
        example("SO-100004", olivia, CreatedAt="2026-01-11T08:15:00Z", Status="DELIVERED"),
        example("SO-100005", olivia, CreatedAt="2026-03-07T19:20:00Z", Status="PENDING", FinancialStatus="AUTHORIZED"),
    )
