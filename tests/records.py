"""Order records (the import format) for arranging tests."""

from __future__ import annotations

import copy
import itertools
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
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

    razors = shipped(example("SO-100003", olivia, CreatedAt="2026-02-20T16:45:00Z"), status="DELIVERED")
    razors["Shipments"][0].update(Status="DELIVERED", DeliveredAt="2026-02-23T11:02:00Z")
    razors["Lines"][0].update(Sku="RZB", Name="Safety Razor Blades (20 Pack)")
    razors["Shipments"][0]["Items"][0]["Sku"] = "RZB"
    def priced(record: dict[str, Any], currency: str, shipping: str,
               lines: tuple[tuple[str, str, int, str], ...]) -> dict[str, Any]:
        """The record with these lines (SKU, name, quantity, unit price) and totals that agree."""
        record["Lines"] = [
            {"LineNumber": n, "Sku": sku, "Name": name, "Quantity": quantity, "UnitPrice": price,
             "Status": record["Lines"][0]["Status"]}
            for n, (sku, name, quantity, price) in enumerate(lines, start=1)
        ]
        subtotal = sum(Decimal(price) * quantity for _, _, quantity, price in lines)
        record.update(Currency=currency, Subtotal=f"{subtotal:.2f}", ShippingTotal=shipping,
                      Total=f"{subtotal + Decimal(shipping):.2f}")
        return record

    def sent(record: dict[str, Any], shipped_at: str, delivered_at: str | None, address: dict[str, str],
             tracking: str = "RM123456789GB") -> dict[str, Any]:
        """The record shipped at ``shipped_at`` (delivered at ``delivered_at``) to ``address``, with
        expected dates that agree."""
        record = delivered(record, at=delivered_at) if delivered_at else shipped(record)
        day = shipped_at[:10]
        record.update(ExpectedShipDate=day, ExpectedDeliveryDate=(delivered_at or shipped_at)[:10])
        record["ShippingAddress"] = {"Name": record["ShippingAddress"]["Name"], **address}
        record["Shipments"][0].update(ShippedAt=shipped_at, ExpectedDeliveryDate=record["ExpectedDeliveryDate"],
                                      TrackingNumber=tracking, TrackingUrl=f"https://track.example.com/{tracking}")
        return record

    london = {"Line1": "57 Mill Lane", "City": "London", "PostalCode": "SW11 1BC", "CountryCode": "GB"}
    brooklyn = {"Line1": "119 Main Street", "Line2": "Unit 14", "City": "Brooklyn", "Region": "NY",
                "PostalCode": "11249", "CountryCode": "US"}

    # The orders of the examples of the order actions (each example acts on its own order).
    by_tracking = sent(example("SO-100006", "arjun.anderson@example.com", CreatedAt="2025-12-02T14:10:00Z"),
                       "2025-12-03T16:00:00Z", "2025-12-05T10:31:00Z", london, tracking="AN202786838GB")
    moving = priced(example("SO-100177", "lea.becker@example.com", CreatedAt="2025-12-29T18:05:00Z",
                            ExpectedShipDate="2026-01-05", ExpectedDeliveryDate="2026-01-08"), "EUR", "4.90",
                    (("KNIT-BRG-L", "Merino Knit Burgundy L", 2, "59.00"),))
    moving["ShippingAddress"] = {"Name": "Lea Becker", "Line1": "Lindenallee 41", "City": "Berlin", "Region": "Berlin",
                                 "PostalCode": "10115", "CountryCode": "DE"}
    boots = priced(example("SO-100175", "grace.smith@example.com", CreatedAt="2025-12-30T20:45:00Z",
                           ExpectedShipDate="2026-01-02", ExpectedDeliveryDate="2026-01-06"), "USD", "0.00",
                   (("MUG-CHR", "Charcoal Mug", 1, "16.00"), ("BOOT-BRN-44", "Brown Leather Boots 44", 2, "145.00")))
    boots["ShippingAddress"] = {"Name": "Grace Smith", **brooklyn}
    cables = priced(example("SO-100002", "oliver.walker@example.com", CreatedAt="2025-11-14T09:12:00Z"), "GBP", "3.95",
                    (("BTL-STL", "Steel Bottle", 1, "18.00"), ("CBL", "USB-C Cable 1m", 3, "9.00")))
    cables = sent(cables, "2025-11-15T11:00:00Z", "2025-11-17T13:40:00Z",
                  {**london, "Line1": "91 Church Lane", "PostalCode": "SW11 2HT"}, tracking="8344978690")
    parka = priced(example("SO-100012", "grace.smith@example.com", CreatedAt="2025-12-10T08:30:00Z"), "USD", "6.00",
                   (("PLW-NAT", "Linen Pillowcase Natural", 1, "32.00"), ("SOAP-CIT", "Citrus Soap", 1, "7.00"),
                    ("PKA-OLV-L", "Olive Parka L", 1, "189.00")))
    parka = sent(parka, "2025-12-11T15:00:00Z", "2025-12-15T16:20:00Z", brooklyn, tracking="232805983246")
    speaker = priced(example("SO-100008", "ethan.visser@example.com", CreatedAt="2025-07-16T11:00:00Z"), "GBP", "3.95",
                     (("SPK-RED", "Bluetooth Speaker Red", 1, "49.00"), ("MUG-SPK", "Speckled Mug", 1, "14.00")))
    speaker = sent(speaker, "2025-07-17T15:31:34Z", "2025-07-19T09:57:46Z",
                   {"Line1": "149 High Street", "Line2": "Flat 34", "City": "Edinburgh", "Region": "Scotland",
                    "PostalCode": "EH3 0GH", "CountryCode": "GB"}, tracking="LP341685878GB")
    speaker = with_return(speaker, "RT-100008-1")
    speaker["Returns"][0].update(Reason="Colour differs from the photo", CreatedAt="2025-07-28T05:55:12Z")
    # The privacy examples, each of its own customer: one to forget (refunded in full, with the
    # refund's note), one whose data is exported, and one with a return still open (a refusal).
    boots_refunded = priced(example("SO-100095", "haruto.tanaka@example.com", CreatedAt="2025-11-12T06:16:47Z"),
                            "GBP", "0.00", (("BOOT-TAN-43", "Suede Chelsea Boots - Tan, 43", 1, "145.00"),))
    boots_refunded = sent(boots_refunded, "2025-11-13T10:00:00Z", "2025-11-15T12:00:00Z",
                          {**london, "Line1": "47 Church Lane", "PostalCode": "SW11 6VC"}, tracking="RM583920175GB")
    boots_refunded.update(FinancialStatus="REFUNDED", Refunds=[{
        "RefundId": "RF-100095-1", "Amount": "145.00", "Reason": "DAMAGED", "Status": "COMPLETED",
        "CreatedAt": "2025-11-20T09:00:00Z", "Note": "Sole came apart; Haruto sent photos from home",
    }])
    jumper = priced(example("SO-100096", "kenji.jones@example.com", CreatedAt="2025-11-12T11:09:01Z"), "GBP", "0.00",
                    (("KNIT-NVY-S", "Merino Crew Neck Jumper - Navy, S", 1, "79.00"),))
    jumper = sent(jumper, "2025-11-13T09:30:00Z", "2025-11-14T15:05:00Z",
                  {**london, "Line1": "122 Mill Lane", "Line2": "Unit 23", "PostalCode": "SW11 2PT"},
                  tracking="RM448120937GB")
    charger = priced(example("SO-100048", "bram.moreau@example.com", CreatedAt="2025-09-17T22:21:29Z"), "EUR", "4.90",
                     (("CHG", "65 W USB-C Charger", 1, "45.00"),))
    charger = with_return(sent(charger, "2025-09-18T10:00:00Z", "2025-09-20T11:00:00Z", brooklyn, tracking="9400111"),
                          "RT-100048-1", status="LABEL_CREATED", tracking="RR482913057GB")
    blanket = sent(priced(example("SO-100084", "bram.moreau@example.com", CreatedAt="2025-10-31T20:15:08Z"), "EUR",
                          "4.90", (("THR-TEA", "Wool Throw Blanket - Teal", 1, "89.00"),)),
                   "2025-11-01T10:00:00Z", "2025-11-03T12:00:00Z", brooklyn, tracking="9400112")
    store(
        deps,
        by_tracking, moving, boots, cables, parka, speaker, boots_refunded, jumper, charger, blanket,
        shipped(example("SO-100137", louis, CreatedAt="2026-03-01T10:00:00Z")),
        example("SO-100164", "emily.lefebvre@example.com", CreatedAt="2026-03-05T09:30:00Z"),
        razors,
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
