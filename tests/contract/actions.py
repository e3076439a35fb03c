"""What the SOAP and JSON contract tests of the order actions arrange and read back alike: orders
in the states the actions need, and the events and refunds an action left."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select

from soap_orders.adapters.orm import order_events, orders, refunds
from tests.records import delivered, order_record, shipped, with_return


def events_of(deps: Any, number: str) -> list[str]:
    """The events of the actions on the order (not of arranging it by import)."""
    with deps.engine.connect() as connection:
        return list(connection.execute(
            select(order_events.c.event_type)
            .where(order_events.c.order_number == number, order_events.c.event_type != "OrderUpserted")
            .order_by(order_events.c.id)
        ).scalars())


def refund_count(deps: Any, number: str) -> int:
    with deps.engine.connect() as connection:
        return int(connection.scalar(
            select(func.count()).select_from(refunds.join(orders)).where(orders.c.order_number == number)
        ))


def recently(days: int = 2) -> str:
    return (datetime.now(timezone.utc) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def returned(return_id: str, *, status: str = "REQUESTED", **overrides: Any) -> dict[str, Any]:
    return with_return(delivered(order_record(**overrides), at=recently()), return_id, status=status, items=((1, 2),))


def half_refunded(return_id: str) -> dict[str, Any]:
    """A received return of both items of line 1, one of which was refunded before."""
    record = returned(return_id, status="RECEIVED", FinancialStatus="PARTIALLY_REFUNDED",
                      Refunds=[{"RefundId": "RF-EARLIER", "Amount": "10.00", "Reason": "DAMAGED",
                                "Status": "COMPLETED", "CreatedAt": "2026-03-04T10:00:00Z"}])
    record["Lines"][0]["QuantityRefunded"] = 1
    return record


def foreign_item(return_id: str) -> dict[str, Any]:
    """A received return naming an item that is not part of the order (as an import may)."""
    record = returned(return_id, status="RECEIVED")
    record["Returns"][0]["Items"] = [{"Sku": "NOT-IN-ORDER", "Quantity": 1}]
    return record


def tracked(tracking: str, **overrides: Any) -> dict[str, Any]:
    record = shipped(order_record(**overrides))
    record["Shipments"][0]["TrackingNumber"] = tracking
    return record
