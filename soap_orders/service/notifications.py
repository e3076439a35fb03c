"""Queue proactive notifications for the consumer's flows in the transaction of the change.

Every use case that changes shipments, line stock or returns calls ``queue_flow_events`` inside its
unit of work, with the order as it was before the change and as it is now, before committing:

    before = notified(order)          # what notifications compare, as it is before the change
    ... change ``order`` ...
    queue_flow_events(uow, before, order, now)
    uow.commit()

Every notification is queued, whatever the process that makes the change knows of flow ids: the
outbox rows commit (or roll back) with the change, and the relay, which has the flow ids, decides
what to send (``service.relay``). Here too: what ``soap-orders outbox`` shows, and the warnings an
instance gives at start when notifications wait and no relay delivers them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from ..domain.errors import OrderNotFound, ValidationError
from ..domain.notifications import (
    FlowEvent,
    FlowEventType,
    Notified,
    flow_events,
    sample_event,
)
from ..domain.orders import Order
from .ports import OutboxEntry, OutboxMessage, OutboxStats, UnitOfWork

#: The configured flow id of each event type (the relay's settings).
FlowRoutes = Mapping[FlowEventType, str]


def queue_flow_events(uow: UnitOfWork, before: Order | Notified, after: Order, now: datetime) -> list[FlowEvent]:
    """Write an outbox row for every event of the change; returns those events."""
    queued = flow_events(before, after)
    if queued:
        uow.outbox.add([
            OutboxMessage(
                order_number=event.order_number,
                event_type=event.event_type.value,
                external_id=event.external_id,
                payload=event.content(),
                created_at=now,
            )
            for event in queued
        ])
    return queued


def test_event_body(uow: UnitOfWork, order_number: str, kind: FlowEventType, flows: FlowRoutes,
                    now: datetime) -> dict[str, Any]:
    """The body of a one-off test notification of type ``kind`` about a stored order, for the
    configured flow of that type (``soap-orders outbox send-test``). Nothing is queued."""
    flow = flows.get(kind)
    if not flow:
        raise ValidationError(f"No flow id is configured for {kind.value} events.", "Type")
    with uow:
        order = uow.orders.get(order_number.strip())
    if order is None:
        raise OrderNotFound()
    return sample_event(order, kind, now).body(flow)


# ---------------------------------------------------------------------- operating the outbox

OUTBOX_STATES = ("PENDING", "SENT", "DEAD", "SKIPPED")
#: How long notifications may wait, by default, before instances and ``outbox status`` warn.
DEFAULT_WARN_AFTER = timedelta(minutes=10)


def outbox_status(uow: UnitOfWork, now: datetime) -> OutboxStats:
    """Rows per state, pending ones per type, the running relays and the last delivery."""
    with uow:
        return uow.outbox.stats(now)


def delivery_warnings(stats: OutboxStats, now: datetime, warn_after: timedelta = DEFAULT_WARN_AFTER) -> list[str]:
    """What an operator must be told about notifications that have waited ``warn_after`` or more:
    no relay is running; a type no running relay has a flow id for (held); or relays running but
    none delivering (the consumer's API is down or refusing). Empty when nothing waits that long."""
    waiting = [p for p in stats.pending if now - p.oldest >= warn_after]
    if not waiting:
        return []
    last = "never" if stats.last_delivery is None else f"{duration(now - stats.last_delivery)} ago"
    if not stats.relays:
        count = sum(p.count for p in stats.pending)
        oldest = min(p.oldest for p in waiting)
        return [f"{count} notification(s) are waiting, the oldest for {duration(now - oldest)}, and no relay is "
                f"running (last delivery: {last}). Run `soap-orders relay` with the flow ids "
                "(SOAP_ORDERS_DG_FLOW_*) in its environment."]
    warnings = []
    handled = stats.handled_types()
    for p in waiting:
        if p.event_type not in handled:
            warnings.append(
                f"{p.count} {p.event_type} notification(s) are held, the oldest for {duration(now - p.oldest)}: "
                f"no running relay has a flow id for them. Set SOAP_ORDERS_DG_FLOW_{p.event_type.upper()} "
                f"for the relay, or skip them (SOAP_ORDERS_DG_SKIP, or `soap-orders outbox skip --type "
                f"{p.event_type.replace('_', '-')}`).")
    sent = [p for p in waiting if p.event_type in handled]
    if sent and (stats.last_delivery is None or now - stats.last_delivery >= warn_after):
        oldest = min(p.oldest for p in sent)
        warnings.append(
            f"{sum(p.count for p in sent)} notification(s) are waiting, the oldest for {duration(now - oldest)}, "
            f"and no relay has delivered one for a while (last delivery: {last}). See `soap-orders outbox "
            "list --state pending` for the last answers (is the consumer's API reachable?).")
    return warnings


def duration(delta: timedelta) -> str:
    """``45 s``, ``12 min``, ``3 h``, ``2 days``: how long, to the unit an operator reads."""
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def skip_pending(uow: UnitOfWork, kind: FlowEventType, now: datetime) -> int:
    """Make the PENDING events of type ``kind`` SKIPPED (never sent), as the operator asked
    (``soap-orders outbox skip``); returns how many. Events a relay is sending are left alone."""
    with uow:
        skipped = uow.outbox.skip([kind.value], now, "skipped by the operator (soap-orders outbox skip)")
        uow.commit()
    return sum(skipped.values())


def list_outbox(uow: UnitOfWork, state: str | None = None, limit: int = 50) -> list[OutboxEntry]:
    if state is not None and state not in OUTBOX_STATES:
        raise ValidationError("State must be one of: " + ", ".join(OUTBOX_STATES) + ".", "State")
    with uow:
        return uow.outbox.entries(state, limit)


def retry_dead(uow: UnitOfWork, entry_ids: list[int] | None, now: datetime) -> int:
    """Queue DEAD rows again (the given ones, or all when ``entry_ids`` is None), due now, with
    their attempts reset; returns how many were queued."""
    with uow:
        count = uow.outbox.requeue_dead(entry_ids, now)
        uow.commit()
    return count
