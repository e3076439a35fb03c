"""What to suggest trying against demo data that is already in the database: customer emails with
several orders and order numbers in a state worth calling (cancellable, refundable, on its way),
read from the orders as they stand now, so a second ``make run`` still has something to offer."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .domain.orders import FinancialStatus, Order, OrderStatus


def suggestions(orders: list[Order]) -> list[str]:
    """Lines naming up to three emails and one order per kind of call, from ``orders``."""
    emails = Counter(order.customer.email.lower() for order in orders)
    out = [f"  FindOrdersByEmail  {email} ({n} order{'s' if n != 1 else ''})" for email, n in emails.most_common(3)]
    picks: dict[str, str] = {}
    for order in sorted(orders, key=lambda o: o.order_number):
        paid = order.financial_status is FinancialStatus.PAID
        if "cancel" not in picks and paid and order.status is OrderStatus.PROCESSING and not order.shipments:
            picks["cancel"] = order.order_number
        elif "refund" not in picks and paid and order.status is OrderStatus.DELIVERED:
            picks["refund"] = order.order_number
        elif "track" not in picks and order.status is OrderStatus.SHIPPED:
            picks["track"] = order.order_number
    wording = {
        "cancel": "  CancelOrder        {} (PROCESSING, PAID: can be cancelled)",
        "refund": "  IssueRefund        {} (DELIVERED, PAID: can be refunded)",
        "track": "  GetOrder           {} (SHIPPED: parcel on its way)",
    }
    return out + [wording[kind].format(number) for kind, number in sorted(picks.items())]


def suggestions_from_store(deps: Any, order_numbers: list[str]) -> list[str]:
    """Suggestions from the stored orders among ``order_numbers`` (the demo data's numbers)."""
    with deps.uow() as uow:
        found = uow.orders.get_many(order_numbers)
        return suggestions(list(found.values()))
