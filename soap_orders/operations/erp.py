"""The operations ERP systems integrate with: feeding orders in, and reading back what changed."""

from __future__ import annotations

from ..documents import Field
from ..documents import orders as d
from ..domain.clients import Scope
from ..ingest import orders as order_cases
from ..service import erp as use_cases
from .base import Call, Operation


def _upsert(call: Call, command: order_cases.UpsertOrders) -> order_cases.UpsertReport:
    return order_cases.upsert_records(call.uow(), command.orders, call.clock, call.caller,
                                      request_id=command.request_id)


def _events(call: Call, query: use_cases.GetOrderEvents) -> use_cases.EventPage:
    return use_cases.get_order_events(call.uow(), query)


UPSERT_ORDERS = Operation(
    scope=Scope.ERP,
    request=(
        Field("RequestId", d.REQUEST_ID, required=True),
        Field("Orders", d.ORDERS_IN, required=True, raw=True),
    ),
    command=order_cases.UpsertOrders,
    answer=(
        Field("Results", d.UPSERT_RESULTS, attr="results", required=True),
        *d.UPSERT_COUNTS,
    ),
    run=_upsert,
    doc="""Create or update up to 100 orders from the ERP, each an OrderInput: the ERP's own data, where
    what the service computes or defaults (RefundedAmount, RefundableAmount, LineTotal, per-line
    Status and quantities, empty Shipments, Returns and Refunds) may be left out; an Order as GetOrder
    answers it is accepted too (its computed figures are ignored). An update merges: what the ERP owns is taken,
    what was done through the service (refunds, cancellations, returns, address changes,
    replacements) is kept, and a document that contradicts it is REJECTED with a ReasonCode and a
    message naming the field. Each document has its own Result (CREATED, UPDATED, UNCHANGED,
    REJECTED); one bad document never blocks the others. The same RequestId replays the first
    results.""",
)

GET_ORDER_EVENTS = Operation(
    scope=Scope.ERP,
    request=(
        Field("AfterEventId", d.EVENT_ID, default=0),
        Field("MaxEvents", d.MAX_EVENTS, default=100),
    ),
    command=use_cases.GetOrderEvents,
    answer=(
        Field("Events", d.EVENTS, required=True),
        Field("LastEventId", d.EVENT_ID, required=True),
        Field("HasMore", d.BOOLEAN, required=True),
    ),
    run=_events,
    doc="""The change feed: every change made through the service after AfterEventId (cancellations,
    refunds, line cancellations, address changes, returns, replacements, shipments, upserts),
    oldest first, each with its EventId, time, order, type, RequestId, client and details. Keep
    LastEventId and ask again with it: each change is read exactly once, in order; ids only grow
    and a change is never skipped by one committed later.""",
)

OPERATIONS = (UPSERT_ORDERS, GET_ORDER_EVENTS)
