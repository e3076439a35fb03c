"""Order records (the import format) for arranging tests."""

from __future__ import annotations

import copy
import itertools
from datetime import date, datetime, timedelta, timezone
from typing import Any

from soap_orders.bootstrap import Dependencies
from soap_orders.documents.records import order_from_record
from soap_orders.service import orders as use_cases
from soap_orders.service import subscriptions as subscription_use_cases

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
        example("SO-100172", "sakura.patel@example.com", CreatedAt="2026-03-08T11:00:00Z", Lines=[
            {"LineNumber": 1, "Sku": "COF-WHB", "Name": "Whole Bean Coffee", "Quantity": 2, "UnitPrice": "10.00",
             "Status": "PROCESSING"},
            {"LineNumber": 2, "Sku": "RZB", "Name": "Safety Razor Blades (20 Pack)", "Quantity": 2,
             "UnitPrice": "2.75", "Status": "PROCESSING"},
        ]),
    )


# ---------------------------------------------------------------------- subscriptions


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
    results = subscription_use_cases.upsert_subscriptions(deps.uow(), records, deps.clock)
    assert [r.result.value for r in results] == ["CREATED"] * len(records), results
    return [r["SubscriptionId"] for r in records]


def store_example_subscriptions(deps: Dependencies) -> None:
    """The subscriptions the request examples in wsdl/examples/ name, of two demo customers: one
    per example, so that the examples do not depend on the order they run in."""
    people = {"olivia": ("olivia.murphy@example.com", "Olivia", "Murphy"),
              "louis": ("louis.novak@example.com", "Louis", "Novak")}

    def example(number: int, who: str, **overrides: Any) -> dict[str, Any]:
        email, first, last = people[who]
        return subscription_record(f"SUB-{100000 + number}", email,
                                   Customer={"Email": email, "FirstName": first, "LastName": last}, **overrides)

    paused_until = datetime.now(timezone.utc).date() + timedelta(days=20)
    cancelled = {"Status": "CANCELLED", "CancelledAt": "2026-01-10T10:00:00Z", "CancelReason": "TOO_EXPENSIVE",
                 "NextOrderDate": None}
    store_subscriptions(
        deps,
        example(1, "olivia", Name="Razor blades every month"),
        example(2, "olivia", Name="Shaving cream every 2 months", Frequency={"Interval": "MONTH", "IntervalCount": 2}),
        example(3, "louis"),
        example(4, "louis", Status="PAUSED", PausedAt="2026-01-05T10:00:00Z", PausedUntil=paused_until.isoformat(),
                NextOrderDate=None),
        example(5, "louis"),
        example(6, "louis"),
        example(7, "louis", **cancelled),
        example(8, "louis"),
        example(9, "louis"),
        example(10, "louis"),
    )
