"""How long the records that only grow are kept, and what ``soap-orders prune`` may delete.

Orders themselves, with their refunds, returns and shipments, are never pruned: they are the
money. What grows beside them is pruned by age:

- audit records (who changed what, from where) and the order event log (the ERP's change feed):
  kept two years by default, longer than the longest card-scheme dispute window (540 days after
  the transaction), so the evidence of who refunded or cancelled an order outlives any chargeback
  about it;
- idempotency records (the stored first answer to each RequestId): kept 90 days, so a client
  retrying a call with the same RequestId within that time gets the first answer replayed instead
  of the action repeated (consumers retry within minutes);
- delivered notifications (outbox rows SENT to the consumer's flows, or SKIPPED by the operator):
  kept 7 days by default, as the relay already does (SOAP_ORDERS_DG_RETENTION_DAYS); pending and
  DEAD ones are never pruned.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

#: The longest time after a card transaction a chargeback may be raised (Visa and Mastercard).
DISPUTE_WINDOW_DAYS = 540


class Kept(str, enum.Enum):
    """The kinds of records pruned by age."""

    AUDIT = "audit records"
    EVENTS = "order events"
    IDEMPOTENCY = "idempotency records"
    DELIVERED_NOTIFICATIONS = "delivered notifications"


@dataclass(frozen=True)
class RetentionPolicy:
    """Days each kind of record is kept."""

    audit_days: int = 730
    events_days: int = 730
    idempotency_days: int = 90
    delivered_notifications_days: int = 7

    def days(self, kind: Kept) -> int:
        return {
            Kept.AUDIT: self.audit_days,
            Kept.EVENTS: self.events_days,
            Kept.IDEMPOTENCY: self.idempotency_days,
            Kept.DELIVERED_NOTIFICATIONS: self.delivered_notifications_days,
        }[kind]

    def cutoff(self, kind: Kept, now: datetime) -> datetime:
        """Records of ``kind`` from before this moment may be deleted."""
        return now - timedelta(days=self.days(kind))

    def shorter_than_disputes(self) -> list[Kept]:
        """The kinds that keep the evidence of money decisions for less than the dispute window."""
        return [kind for kind in (Kept.AUDIT, Kept.EVENTS) if self.days(kind) < DISPUTE_WINDOW_DAYS]
