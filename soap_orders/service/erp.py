"""Use cases the ERP integrates with beside the upsert: reading the change feed with a cursor."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain import limits
from ..domain.errors import ValidationError
from .ports import StoredEvent, UnitOfWork

#: The most events one read of the feed returns.
MAX_EVENTS = 1000


@dataclass(frozen=True)
class GetOrderEvents:
    after_event_id: int = 0
    max_events: int = 100


@dataclass(frozen=True)
class EventPage:
    events: list[StoredEvent]
    #: The cursor to keep: the last id returned (the one asked after when none were).
    last_event_id: int
    has_more: bool


def get_order_events(uow: UnitOfWork, query: GetOrderEvents) -> EventPage:
    """Every change made through the service after ``after_event_id``, oldest first: an ERP keeps
    the last id it applied and asks for what follows, so it applies each change exactly once. Ids
    only grow, and a change is readable only once it is committed with all changes before it."""
    if not 0 <= query.after_event_id <= limits.MAX_EVENT_ID:
        raise ValidationError("AfterEventId must be a whole number of at least 0.", "AfterEventId")
    if not 1 <= query.max_events <= MAX_EVENTS:
        raise ValidationError(f"MaxEvents must be between 1 and {MAX_EVENTS}.", "MaxEvents")
    with uow:
        events = uow.events.after(query.after_event_id, query.max_events + 1)
    more = len(events) > query.max_events
    events = events[: query.max_events]
    return EventPage(events, events[-1].event_id if events else query.after_event_id, more)
