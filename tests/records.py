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


def store(deps: Dependencies, *records: dict[str, Any]) -> list[str]:
    """Upsert the records; returns their order numbers."""
    use_cases.upsert_orders(deps.uow(), [order_from_record(r) for r in records], deps.clock)
    return [r["OrderNumber"] for r in records]
