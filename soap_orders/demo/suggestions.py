"""What to suggest trying against demo data: customer emails with several orders and one order
per kind of call worth making (cancellable, refundable, on its way). Made from the orders just
written, or, when the database already held orders, from the demo's orders as they stand now, so
a second ``make run`` still has something to offer."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..domain.orders import FinancialStatus, Order, OrderStatus
from ..service.ports import UnitOfWork

_WORDING = {
    "cancel": "  CancelOrder        {} (PROCESSING, PAID: can be cancelled)",
    "refund": "  IssueRefund        {} (DELIVERED, PAID: can be refunded)",
    "track": "  GetOrder           {} (SHIPPED: parcel on its way)",
}


@dataclass
class Suggestions:
    """Collects suggestions from orders seen one by one, in order-number order."""

    emails: Counter[str] = field(default_factory=Counter)
    picks: dict[str, str] = field(default_factory=dict)  # kind of call -> order number

    def see(self, order: Order) -> None:
        self.emails[order.customer.email.lower()] += 1
        paid = order.financial_status is FinancialStatus.PAID
        if "cancel" not in self.picks and paid and order.status is OrderStatus.PROCESSING and not order.shipments:
            self.picks["cancel"] = order.order_number
        elif "refund" not in self.picks and paid and order.status is OrderStatus.DELIVERED:
            self.picks["refund"] = order.order_number
        elif "track" not in self.picks and order.status is OrderStatus.SHIPPED:
            self.picks["track"] = order.order_number

    def lines(self) -> list[str]:
        """Up to three emails, then one order per kind of call."""
        out = [
            f"  FindOrdersByEmail  {email} ({n} order{'s' if n != 1 else ''})"
            for email, n in self.emails.most_common(3)
        ]
        return out + [_WORDING[kind].format(number) for kind, number in sorted(self.picks.items())]


def suggestions(orders: Iterable[Order]) -> list[str]:
    """Suggestion lines from ``orders``, whatever order they come in."""
    collected = Suggestions()
    for order in sorted(orders, key=lambda o: o.order_number):
        collected.see(order)
    return collected.lines()


def suggestions_from_store(uow: Callable[[], UnitOfWork], order_numbers: list[str]) -> list[str]:
    """Suggestion lines from the stored orders among ``order_numbers`` (the demo data's numbers)."""
    with uow() as unit:
        return suggestions(unit.orders.get_many(order_numbers).values())
