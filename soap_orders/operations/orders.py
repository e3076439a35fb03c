"""The order operations: finding and reading orders, cancelling and refunding them."""

from __future__ import annotations

from dataclasses import dataclass

from ..documents import Field
from ..documents import orders as d
from ..documents.records import Rendered
from ..domain.clients import Scope
from ..domain.orders import Order
from ..service import orders as use_cases
from .base import Call, Operation, action

ACTION_ANSWER = (
    Field("Outcome", d.OUTCOME, required=True),
    Field("ReasonCode", d.REASON_CODE, required=True),
    Field("Message", d.MESSAGE, required=True),
    Field("Order", d.ORDER, attr="answered_order", required=True),
)


@dataclass(frozen=True)
class OrderAnswer:
    order: Order | Rendered


def _find(call: Call, query: use_cases.FindOrdersByEmail) -> use_cases.OrderPage:
    return use_cases.find_orders_by_email(call.uow(), query, call.services.documents)


def _get(call: Call, query: use_cases.GetOrder) -> OrderAnswer:
    return OrderAnswer(use_cases.get_order_document(call.services.documents, call.uow(), query.order_number,
                                                    query.email))


PAGE_ANSWER = (
    Field("Orders", d.ORDERS, required=True),
    Field("TotalCount", d.COUNT, required=True),
    # Not PageNumber and PageSize: wrapper-style code generators (JAX-WS, .NET) map request and
    # response members to one method's parameters, so they must not share names.
    Field("CurrentPage", d.PAGE_NUMBER, attr="page_number", required=True),
    Field("ItemsPerPage", d.PAGE_SIZE, attr="page_size", required=True),
    Field("HasMore", d.BOOLEAN, required=True),
)


FIND_ORDERS_BY_EMAIL = Operation(
    scope=Scope.READ,
    request=(
        Field("Email", d.EMAIL, required=True),
        Field("Status", d.ORDER_STATUS),
        Field("PlacedFrom", d.SEARCH_DATE),
        Field("PlacedTo", d.SEARCH_DATE),
        Field("PageSize", d.PAGE_SIZE, default=20),
        Field("PageNumber", d.PAGE_NUMBER, default=1),
    ),
    command=use_cases.FindOrdersByEmail,
    answer=PAGE_ANSWER,
    run=_find,
    doc="""A customer's orders by email (trimmed, case-insensitive), newest first, one page at a time.
    Status, PlacedFrom and PlacedTo (UTC dates, inclusive) narrow the search. No match is an
    empty Orders list, not a fault.""",
)

GET_ORDER = Operation(
    scope=Scope.READ,
    also=(Scope.ERP,),
    request=(
        Field("OrderNumber", d.ORDER_NUMBER, required=True),
        Field("Email", d.EMAIL),
    ),
    command=use_cases.GetOrder,
    answer=(Field("Order", d.ORDER, required=True),),
    run=_get,
    doc="""One order by its number. When Email is given it must be the customer's; otherwise the
    answer is the same Client.OrderNotFound fault as for an unknown number. An ERP client (scope
    erp) may read the orders it feeds, with what the service derived and did on them.""",
)

CANCEL_ORDER = Operation(
    scope=Scope.ACT,
    request=(
        Field("OrderNumber", d.ORDER_NUMBER, required=True),
        Field("RequestId", d.REQUEST_ID, required=True),
        Field("Reason", d.REASON, required=True),
        Field("Note", d.NOTE),
    ),
    command=use_cases.CancelOrder,
    answer=ACTION_ANSWER,
    run=action(use_cases.cancel_order),
    doc="""Cancel an order while nothing has shipped. A paid order is refunded in full, an
    authorised one voided. Outcome is CANCELLED, ALREADY_CANCELLED or REJECTED (ReasonCode
    ALREADY_SHIPPED). The same RequestId replays the first result.""",
)

ISSUE_REFUND = Operation(
    scope=Scope.ACT,
    request=(
        Field("OrderNumber", d.ORDER_NUMBER, required=True),
        Field("RequestId", d.REQUEST_ID, required=True),
        Field("Reason", d.REASON, required=True),
        Field("Amount", d.POSITIVE_AMOUNT),
        Field("Lines", d.REFUND_LINES),
        Field("Note", d.NOTE),
    ),
    command=use_cases.IssueRefund,
    answer=(
        *ACTION_ANSWER[:3],
        Field("Refund", d.REFUND),
        Field("RefundableAmount", d.AMOUNT, required=True),
        ACTION_ANSWER[3],
    ),
    run=action(use_cases.issue_refund),
    doc="""Refund an Amount, or Lines (each by LineNumber or Sku, with a Quantity), or, given
    neither, the whole refundable balance. Outcome is REFUNDED or REJECTED with a ReasonCode
    (NOT_PAID, NOTHING_REFUNDABLE, EXCEEDS_REFUNDABLE, EXCEEDS_LINE_QUANTITY, UNKNOWN_LINE).
    The same RequestId replays the first result.""",
)

OPERATIONS = (FIND_ORDERS_BY_EMAIL, GET_ORDER, CANCEL_ORDER, ISSUE_REFUND)
