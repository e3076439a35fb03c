"""Queue proactive notifications for the consumer's flows in the transaction of the change.

Every use case that changes shipments, line stock or returns calls ``queue_flow_events`` inside its
unit of work, with the order as it was before the change and as it is now, before committing:

    before = snapshot(order)          # or the stored order, when it is replaced wholesale
    ... change ``order`` ...
    queue_flow_events(uow, before, order, flows, now)
    uow.commit()

The outbox rows commit (or roll back) with the change; the relay posts them later.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..domain.errors import OrderNotFound, ValidationError
from ..domain.notifications import FlowEvent, FlowEventType, flow_events, sample_event
from ..domain.orders import Order
from .ports import OutboxEntry, OutboxMessage, OutboxStats, UnitOfWork

#: The configured flow id of each event type; a type that is absent is not queued.
FlowRoutes = Mapping[FlowEventType, str]


def queue_flow_events(
    uow: UnitOfWork, before: Order, after: Order, flows: FlowRoutes, now: datetime
) -> list[FlowEvent]:
    """Write an outbox row for every event of the change that has a flow; returns those events."""
    queued = [event for event in flow_events(before, after) if flows.get(event.event_type)]
    if queued:
        uow.outbox.add([
            OutboxMessage(
                order_number=event.order_number,
                event_type=event.event_type.value,
                external_id=event.external_id,
                payload=event.body(flows[event.event_type]),
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

OUTBOX_STATES = ("PENDING", "SENT", "DEAD")


def outbox_status(uow: UnitOfWork) -> OutboxStats:
    """Rows per state and when the oldest PENDING row was queued."""
    with uow:
        return uow.outbox.stats()


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
