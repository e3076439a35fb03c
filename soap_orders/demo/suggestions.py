"""What to suggest trying once demo data is written: busy customers and orders fit for an action."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..domain.orders import FinancialStatus, Order, OrderStatus

_WORDING = {
    "cancel": "  CancelOrder        {} (PROCESSING, PAID: can be cancelled)",
    "refund": "  IssueRefund        {} (DELIVERED, PAID: can be refunded)",
    "track": "  GetOrder           {} (SHIPPED: parcel on its way)",
}


@dataclass
class Suggestions:
    emails: Counter[str] = field(default_factory=Counter)
    orders: dict[str, str] = field(default_factory=dict)  # label -> order number

    def see(self, order: Order) -> None:
        self.emails[order.customer.email.lower()] += 1
        label = None
        if order.status is OrderStatus.PROCESSING and order.financial_status is FinancialStatus.PAID:
            label = None if order.shipments else "cancel"
        elif order.status is OrderStatus.DELIVERED and order.financial_status is FinancialStatus.PAID:
            label = "refund"
        elif order.status is OrderStatus.SHIPPED:
            label = "track"
        if label and label not in self.orders:
            self.orders[label] = order.order_number

    def lines(self) -> list[str]:
        out = [
            f"  FindOrdersByEmail  {email} ({n} order{'s' if n != 1 else ''})"
            for email, n in self.emails.most_common(3)
        ]
        return out + [_WORDING[label].format(number) for label, number in sorted(self.orders.items())]
