"""The retention policy: what ``soap-orders prune`` may delete, and the dispute window it keeps."""

from __future__ import annotations

from datetime import datetime, timezone

from soap_orders.domain.retention import DISPUTE_WINDOW_DAYS, Kept, RetentionPolicy

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def test_the_defaults_keep_audit_and_events_beyond_the_dispute_window():
    policy = RetentionPolicy()
    assert policy.shorter_than_disputes() == []
    assert min(policy.days(Kept.AUDIT), policy.days(Kept.EVENTS)) > DISPUTE_WINDOW_DAYS
    assert policy.cutoff(Kept.IDEMPOTENCY, NOW) == datetime(2025, 12, 1, 12, 0, tzinfo=timezone.utc)
    assert policy.cutoff(Kept.DELIVERED_NOTIFICATIONS, NOW) == datetime(2026, 2, 22, 12, 0, tzinfo=timezone.utc)


def test_each_kind_has_its_own_period():
    policy = RetentionPolicy(audit_days=1, events_days=2, idempotency_days=3, delivered_notifications_days=4)
    assert [policy.days(kind) for kind in Kept] == [1, 2, 3, 4]
    assert policy.shorter_than_disputes() == [Kept.AUDIT, Kept.EVENTS]
    assert RetentionPolicy(events_days=DISPUTE_WINDOW_DAYS).shorter_than_disputes() == []
