"""The order operations beyond cancel and refund: address change, line cancellation, replacement,
returns (created by the caller, moved on by the warehouse), shipments recorded by the ERP, and finding
orders by tracking number."""

from __future__ import annotations

from ..documents import Field
from ..documents import orders as d
from ..domain.clients import Scope
from ..service import order_actions as use_cases
from ..service.orders import ActionResult, OrderPage
from .base import Call, Operation, action
from .orders import ACTION_ANSWER, PAGE_ANSWER

OUTCOME, REASON_CODE, MESSAGE, ORDER = ACTION_ANSWER


def _find_by_tracking(call: Call, query: use_cases.FindOrdersByTrackingNumber) -> OrderPage:
    return use_cases.find_orders_by_tracking_number(call.uow(), query)


def _create_return(call: Call, command: use_cases.CreateReturn) -> ActionResult:
    return use_cases.create_return(call.uow(), command, call.clock, call.caller, call.settings.return_window_days)


FIND_ORDERS_BY_TRACKING_NUMBER = Operation(
    scope=Scope.READ,
    request=(
        Field("TrackingNumber", d.IDENTIFIER, required=True),
        Field("Email", d.EMAIL),
        Field("PageSize", d.PAGE_SIZE, default=20),
        Field("PageNumber", d.PAGE_NUMBER, default=1),
    ),
    command=use_cases.FindOrdersByTrackingNumber,
    answer=PAGE_ANSWER,
    run=_find_by_tracking,
    doc="""The orders whose shipment or return carries this tracking number (exact, any case), newest
    first, one page at a time. When Email is given, only that customer's orders. No match is an
    empty Orders list, not a fault.""",
)

CHANGE_SHIPPING_ADDRESS = Operation(
    scope=Scope.ACT,
    request=(
        Field("OrderNumber", d.ORDER_NUMBER, required=True),
        Field("RequestId", d.REQUEST_ID, required=True),
        Field("ShippingAddress", d.ADDRESS, attr="address", required=True),
    ),
    command=use_cases.ChangeShippingAddress,
    answer=ACTION_ANSWER,
    run=action(use_cases.change_shipping_address),
    doc="""Replace the shipping address while nothing has shipped. Name, Line1, City and CountryCode
    (ISO 3166-1 alpha-2) are required, and PostalCode where the country uses one. Outcome is
    ADDRESS_CHANGED or REJECTED (ReasonCode ALREADY_SHIPPED, ALREADY_CANCELLED). The old address
    is kept in the change feed and the audit trail. The same RequestId replays the first result.""",
)

CANCEL_ORDER_LINES = Operation(
    scope=Scope.ACT,
    request=(
        Field("OrderNumber", d.ORDER_NUMBER, required=True),
        Field("RequestId", d.REQUEST_ID, required=True),
        Field("Reason", d.REASON, required=True),
        Field("Lines", d.LINE_REQUESTS, required=True),
        Field("Note", d.NOTE),
    ),
    command=use_cases.CancelOrderLines,
    answer=(
        OUTCOME, REASON_CODE, MESSAGE,
        # Not "Lines": the request has Lines, and wrapper-style generators (wsimport, svcutil) make one
        # method of both, whose parameter names must differ.
        Field("LineResults", d.LINE_RESULTS, attr="lines", required=True),
        Field("Refund", d.REFUND),
        Field("ReleasedAmount", d.AMOUNT),
        Field("RefundableAmount", d.AMOUNT, required=True),
        ORDER,
    ),
    run=action(use_cases.cancel_order_lines),
    doc="""Cancel unshipped quantities of some lines (each by LineNumber or Sku). What was paid for
    them is refunded (Refund), or released when only authorised (ReleasedAmount); cancelling the
    last open quantity cancels the order. Each line has its own result in LineResults (ReasonCode
    NONE, ALREADY_SHIPPED, ALREADY_CANCELLED, EXCEEDS_LINE_QUANTITY, UNKNOWN_LINE). Outcome is
    LINES_CANCELLED, or REJECTED when nothing could be cancelled (ReasonCode ALREADY_CANCELLED for a
    cancelled order, else the first line's: ALREADY_SHIPPED, EXCEEDS_LINE_QUANTITY, UNKNOWN_LINE).
    The same RequestId replays the first result.""",
)

ISSUE_REPLACEMENT = Operation(
    scope=Scope.ACT,
    request=(
        Field("OrderNumber", d.ORDER_NUMBER, required=True),
        Field("RequestId", d.REQUEST_ID, required=True),
        Field("Reason", d.REPLACEMENT_REASON, required=True),
        Field("Lines", d.LINE_REQUESTS, required=True),
        Field("Note", d.NOTE),
    ),
    command=use_cases.IssueReplacement,
    answer=(
        OUTCOME, REASON_CODE, MESSAGE,
        Field("ReplacementOrderNumber", d.ORDER_NUMBER),
        ORDER,
    ),
    run=action(use_cases.issue_replacement),
    doc="""Send shipped items again at no charge: a new order of type REPLACEMENT whose number is in
    ReplacementOrderNumber, linked both ways (ReplacementOrderNumbers on the original,
    ReplacesOrderNumber on the new one). Per line, replacements never exceed what shipped. Outcome
    is REPLACEMENT_ISSUED or REJECTED (ReasonCode NOT_SHIPPED, EXCEEDS_REPLACEABLE, UNKNOWN_LINE).
    The same RequestId replays the first result.""",
)

CREATE_RETURN = Operation(
    scope=Scope.ACT,
    request=(
        Field("OrderNumber", d.ORDER_NUMBER, required=True),
        Field("RequestId", d.REQUEST_ID, required=True),
        Field("Reason", d.RETURN_REASON, required=True),
        Field("Lines", d.LINE_REQUESTS, required=True),
        Field("ReturnTrackingNumber", d.IDENTIFIER),
        Field("CarrierCode", d.IDENTIFIER),
        Field("LabelUrl", d.URL),
        Field("Note", d.NOTE),
    ),
    command=use_cases.CreateReturn,
    answer=(
        OUTCOME, REASON_CODE, MESSAGE,
        Field("ReturnId", d.IDENTIFIER),
        ORDER,
    ),
    run=_create_return,
    doc="""Open a return (RMA) for delivered items within the return window, never more than was
    delivered minus what is already being returned. A return tracking number, carrier and label
    URL bought by the caller may be given. Outcome is RETURN_CREATED (the new ReturnId) or
    REJECTED (ReasonCode NOT_DELIVERED, OUTSIDE_RETURN_WINDOW, EXCEEDS_RETURNABLE, UNKNOWN_LINE).
    The same RequestId replays the first result.""",
)

UPDATE_RETURN = Operation(
    scope=Scope.ERP,
    request=(
        Field("OrderNumber", d.ORDER_NUMBER, required=True),
        Field("RequestId", d.REQUEST_ID, required=True),
        Field("ReturnId", d.IDENTIFIER, required=True),
        Field("Status", d.RETURN_UPDATE, required=True),
        Field("Note", d.NOTE),
    ),
    command=use_cases.UpdateReturn,
    answer=(
        OUTCOME, REASON_CODE, MESSAGE,
        Field("Refund", d.REFUND),
        ORDER,
    ),
    run=action(use_cases.update_return),
    doc="""For the warehouse: move a return to RECEIVED, INSPECTED, REFUNDED (its lines are refunded
    by the same rule as IssueRefund) or REJECTED. Outcome is RETURN_UPDATED or REJECTED (ReasonCode
    UNKNOWN_RETURN, INVALID_TRANSITION, or, when refunding, the refund rule's NOT_PAID,
    NOTHING_REFUNDABLE, EXCEEDS_LINE_QUANTITY, UNKNOWN_LINE). The same RequestId replays the first
    result.""",
)

RECORD_SHIPMENT = Operation(
    scope=Scope.ERP,
    request=(
        Field("OrderNumber", d.ORDER_NUMBER, required=True),
        Field("RequestId", d.REQUEST_ID, required=True),
        Field("Shipment", d.SHIPMENT_INPUT, required=True),
    ),
    command=use_cases.RecordShipment,
    answer=ACTION_ANSWER,
    run=action(use_cases.record_shipment),
    doc="""For the ERP: create a shipment, or update the one with the same ShipmentId (fields left out
    keep their values; Items left out or empty keep the items, so a new status alone is enough). Items name order lines by Sku; a new shipment's
    quantities, or an updated one's increase, never exceed what is unshipped (bought minus shipped
    minus cancelled). Lines become SHIPPED when all their items not cancelled have shipped and
    DELIVERED when the shipments carrying them are; the order becomes PARTIALLY_SHIPPED, SHIPPED or
    DELIVERED accordingly. Outcome is SHIPMENT_RECORDED or REJECTED (ReasonCode EXCEEDS_UNSHIPPED,
    LINE_CANCELLED, UNKNOWN_LINE, ALREADY_CANCELLED). A shipment becoming DELAYED or DELIVERED is
    announced to the consumer. The same RequestId replays the first result.""",
)

OPERATIONS = (
    FIND_ORDERS_BY_TRACKING_NUMBER,
    CHANGE_SHIPPING_ADDRESS,
    CANCEL_ORDER_LINES,
    ISSUE_REPLACEMENT,
    CREATE_RETURN,
    UPDATE_RETURN,
    RECORD_SHIPMENT,
)
